"""Tests for reported_claims.download() against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import stat
import threading
import time
import zipfile
from pathlib import Path

import pytest

from reported_claims.client import fetch as dl
from reported_claims.client.fetch import MARKER, DownloadError, download

VERSION = "1.2.3"
TOP = f"reported-claims-{VERSION}"
ZIP_NAME = f"reported-claims-{VERSION}.zip"

DATA_FILES = {
    "data/claims.csv": b"id,text\nc1,hello\n",
    "data/entities.json": b"[]\n",
}


def descriptor(files: dict[str, bytes]) -> dict:
    """A datapackage.json whose resources give each file's hash and size, as a build does."""
    return {
        "name": "reported-claims",
        "version": VERSION,
        "resources": [
            {"name": path.rsplit("/", 1)[-1].replace(".", "-"), "path": path, "bytes": len(data),
             "hash": f"sha256:{hashlib.sha256(data).hexdigest()}"}
            for path, data in files.items()
        ],
    }


DATAPACKAGE = descriptor(DATA_FILES)
GOOD_FILES = {"datapackage.json": json.dumps(DATAPACKAGE).encode(), **DATA_FILES}


# --------------------------------------------------------------------------- server


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep test output quiet
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        slow = self.server.slow.get(self.path)
        if slow is not None:  # a byte at a time, each well within a socket timeout
            body, interval = slow
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(len(body)):
                try:
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                except OSError:
                    return  # the client gave up
                time.sleep(interval)
            return
        redirect = self.server.redirect.get(self.path)
        if redirect is not None:
            self.send_response(302)
            self.send_header("Location", redirect)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        truncate = self.server.truncate.get(self.path)
        if truncate is not None:
            body = truncate
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body) * 2))  # promise more
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


class Server:
    def __init__(self, root: Path):
        self.root = root
        handler = functools.partial(_Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.requests = []
        self.httpd.truncate = {}
        self.httpd.slow = {}
        self.httpd.redirect = {}
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/releases"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.running = True

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def stop(self) -> None:
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)
            self.running = False

    def release_dir(self, version: str = VERSION) -> Path:
        d = self.root / "releases" / f"v{version}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def publish(
        self,
        archive: bytes,
        *,
        version: str = VERSION,
        sums: str | None = None,
    ) -> Path:
        """Put an archive and its SHA256SUMS (correct unless given) on the server."""
        d = self.release_dir(version)
        name = f"reported-claims-{version}.zip"
        (d / name).write_bytes(archive)
        if sums is None:
            sums = (
                f"{hashlib.sha256(b'other').hexdigest()}  something-else.tar.gz\n"
                f"{hashlib.sha256(archive).hexdigest()}  {name}\n"
            )
        (d / "SHA256SUMS").write_text(sums)
        return d


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    srv = Server(root)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv("REPORTED_CLAIMS_BASE_URL", raising=False)
    monkeypatch.delenv("REPORTED_CLAIMS_CACHE", raising=False)


# --------------------------------------------------------------------------- archives


def make_zip(
    files: dict[str, bytes] | None = None,
    *,
    top: str = TOP,
    extra: list[tuple[zipfile.ZipInfo | str, bytes]] = (),
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{top}/", b"")
        for name, data in (GOOD_FILES if files is None else files).items():
            zf.writestr(f"{top}/{name}", data)
        for info, data in extra:
            zf.writestr(info, data)
    return buf.getvalue()


def symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def cache_entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def assert_good_copy(path: Path, cache: Path) -> None:
    assert path == cache / VERSION
    assert json.loads((path / "datapackage.json").read_text()) == DATAPACKAGE
    assert (path / "data" / "claims.csv").read_bytes() == GOOD_FILES["data/claims.csv"]
    assert (path / "data" / "entities.json").read_bytes() == b"[]\n"
    assert (path / MARKER).is_file()
    assert not (path / TOP).exists()  # top folder stripped


# --------------------------------------------------------------------------- tests


def test_download_success_then_cache_hit_without_network(server, cache):
    archive = make_zip()
    server.publish(archive)

    path = download(VERSION, base_url=server.base_url, cache_dir=cache)

    assert_good_copy(path, cache)
    assert cache_entries(cache) == [VERSION]  # no temp files left behind
    assert server.requests == [
        f"/releases/v{VERSION}/SHA256SUMS",
        f"/releases/v{VERSION}/{ZIP_NAME}",
    ]
    marker = json.loads((path / MARKER).read_text())
    assert marker["sha256"] == hashlib.sha256(archive).hexdigest()

    # Second call: assets gone and server down, still served from the cache.
    for f in server.release_dir().iterdir():
        f.unlink()
    server.stop()
    again = download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert again == path
    assert_good_copy(again, cache)
    assert len(server.requests) == 2


def test_trailing_slash_and_binary_marker_in_sums(server, cache):
    archive = make_zip()
    server.publish(archive, sums=f"{hashlib.sha256(archive).hexdigest()} *{ZIP_NAME}\n")
    path = download(VERSION, base_url=server.base_url + "/", cache_dir=cache)
    assert_good_copy(path, cache)


def test_wrong_checksum_raises_and_caches_nothing(server, cache):
    archive = make_zip()
    wrong = hashlib.sha256(b"not the archive").hexdigest()
    server.publish(archive, sums=f"{wrong}  {ZIP_NAME}\n")

    with pytest.raises(DownloadError) as excinfo:
        download(VERSION, base_url=server.base_url, cache_dir=cache)

    message = str(excinfo.value)
    assert wrong in message
    assert hashlib.sha256(archive).hexdigest() in message
    assert f"{server.base_url}/v{VERSION}/{ZIP_NAME}" in message
    assert cache_entries(cache) == []


def test_missing_checksum_entry_raises(server, cache):
    server.publish(make_zip(), sums=f"{'0' * 64}  reported-claims-9.9.9.zip\n")
    with pytest.raises(DownloadError, match="no sha256 entry"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []
    assert f"/releases/v{VERSION}/{ZIP_NAME}" not in server.requests


def test_truncated_archive_with_matching_checksum(server, cache):
    archive = make_zip()
    truncated = archive[: len(archive) // 2]
    server.publish(truncated)  # SHA256SUMS matches the truncated bytes

    with pytest.raises(DownloadError, match="not a valid zip"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


def test_truncated_transfer(server, cache):
    archive = make_zip()
    server.publish(archive)
    server.httpd.truncate[f"/releases/v{VERSION}/{ZIP_NAME}"] = archive[:100]

    with pytest.raises(DownloadError, match="truncated download|failed after"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


def test_http_404(server, cache):
    with pytest.raises(DownloadError) as excinfo:
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert "404" in str(excinfo.value)
    assert f"{server.base_url}/v{VERSION}/SHA256SUMS" in str(excinfo.value)
    assert cache_entries(cache) == []


def test_connection_refused(server, cache):
    url = server.base_url
    server.stop()
    with pytest.raises(DownloadError, match="cannot reach"):
        download(VERSION, base_url=url, cache_dir=cache, timeout=5)


@pytest.mark.parametrize(
    "name",
    [
        "../evil",
        f"{TOP}/../evil",
        f"{TOP}/data/../../evil",
        "/tmp/evil",
        f"/{TOP}/evil",
        "C:/evil",
        f"{TOP}\\..\\evil",
        "other-top/evil",
        "evil",
        f"{TOP}/./evil",
    ],
)
def test_unsafe_member_names_rejected(server, cache, tmp_path, name):
    server.publish(make_zip(extra=[(name, b"pwned")]))

    with pytest.raises(DownloadError, match="unsafe archive member"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)

    assert cache_entries(cache) == []
    assert not (tmp_path / "evil").exists()
    assert not list(tmp_path.rglob("evil"))


def test_symlink_member_rejected(server, cache, tmp_path):
    server.publish(make_zip(extra=[(symlink_info(f"{TOP}/data/link"), b"/etc/passwd")]))

    with pytest.raises(DownloadError, match="symbolic link"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []
    assert not list(tmp_path.rglob("link"))


def test_special_file_member_rejected(server, cache):
    info = zipfile.ZipInfo(f"{TOP}/data/fifo")
    info.create_system = 3
    info.external_attr = (stat.S_IFIFO | 0o644) << 16
    server.publish(make_zip(extra=[(info, b"")]))
    with pytest.raises(DownloadError, match="not a regular file"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


def test_duplicate_member_rejected(server, cache):
    with pytest.warns(UserWarning, match="Duplicate name"):
        archive = make_zip(extra=[(f"{TOP}/data/claims.csv", b"second")])
    server.publish(archive)
    with pytest.raises(DownloadError, match="duplicate"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


def test_archive_without_datapackage_rejected(server, cache):
    server.publish(make_zip({"data/claims.csv": b"id\n"}))
    with pytest.raises(DownloadError, match="datapackage.json"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


def test_zip_bomb_total_size_rejected(server, cache, monkeypatch):
    monkeypatch.setattr(dl, "MAX_EXTRACTED_BYTES", 1024 * 1024)
    files = dict(GOOD_FILES)
    files["data/zeros.bin"] = bytes(4 * 1024 * 1024)  # compresses to a few KiB
    archive = make_zip(files)
    assert len(archive) < 64 * 1024
    server.publish(archive)
    with pytest.raises(DownloadError, match="expands to"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


def test_too_many_members_rejected(server, cache, monkeypatch):
    monkeypatch.setattr(dl, "MAX_MEMBERS", 20)
    files = dict(GOOD_FILES)
    files.update({f"data/f{i}.csv": b"x\n" for i in range(30)})
    server.publish(make_zip(files))
    with pytest.raises(DownloadError, match="entries, over the limit"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


def test_download_size_cap(server, cache, monkeypatch):
    monkeypatch.setattr(dl, "MAX_DOWNLOAD_BYTES", 100)
    server.publish(make_zip())
    with pytest.raises(DownloadError, match="limit"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


@pytest.mark.parametrize(
    "version",
    ["../x", "1.2", "v1.2.3", "1.2.3\n", "1.2.3-rc.1", "", " 1.2.3", "1.2.3/..",
     "\u0661.\u0662.\u0663", None, 123],
)
def test_bad_version_raises_before_any_io(server, cache, version):
    with pytest.raises(ValueError, match="invalid version"):
        download(version, base_url=server.base_url, cache_dir=cache)
    assert not cache.exists()
    assert server.requests == []


def test_corrupt_download_does_not_replace_good_cached_copy(server, cache):
    server.publish(make_zip())
    good = download(VERSION, base_url=server.base_url, cache_dir=cache)
    before = {p.relative_to(good): p.read_bytes() for p in good.rglob("*") if p.is_file()}

    # The release is now corrupt (garbage, wrong checksum): the cached copy stands.
    server.publish(b"garbage", sums=f"{'0' * 64}  {ZIP_NAME}\n")
    again = download(VERSION, base_url=server.base_url, cache_dir=cache)

    assert again == good
    after = {p.relative_to(good): p.read_bytes() for p in good.rglob("*") if p.is_file()}
    assert after == before
    assert cache_entries(cache) == [VERSION]


def test_incomplete_cached_copy_survives_failed_download_and_is_repaired(server, cache):
    # A copy without the marker (e.g. left by hand or damaged) is not trusted...
    partial = cache / VERSION
    (partial / "data").mkdir(parents=True)
    (partial / "datapackage.json").write_text("{}")

    # ...a failed download leaves it alone and adds no temp files...
    server.publish(make_zip()[:50])
    with pytest.raises(DownloadError):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert (partial / "datapackage.json").read_text() == "{}"
    assert cache_entries(cache) == [VERSION]

    # ...and a good download replaces it.
    server.publish(make_zip())
    path = download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert_good_copy(path, cache)
    assert cache_entries(cache) == [VERSION]


def test_install_keeps_copy_of_process_that_won_the_race(tmp_path):
    dest = tmp_path / VERSION
    dest.mkdir()
    theirs = b'{"theirs": true, "resources": []}'
    (dest / "datapackage.json").write_bytes(theirs)
    (dest / MARKER).write_text(json.dumps({"datapackage_sha256": hashlib.sha256(theirs).hexdigest()}))
    staging = tmp_path / ".tmp-ours"
    staging.mkdir()
    (staging / "datapackage.json").write_text('{"ours": true, "resources": []}')
    (staging / MARKER).write_text("{}")

    assert dl._install(staging, dest) is False
    assert json.loads((dest / "datapackage.json").read_text())["theirs"] is True


def test_base_url_and_cache_from_environment(server, tmp_path, monkeypatch):
    server.publish(make_zip())
    env_cache = tmp_path / "env-cache"
    monkeypatch.setenv("REPORTED_CLAIMS_BASE_URL", server.base_url)
    monkeypatch.setenv("REPORTED_CLAIMS_CACHE", str(env_cache))

    path = download(VERSION)

    assert_good_copy(path, env_cache)
    assert f"/releases/v{VERSION}/{ZIP_NAME}" in server.requests


def test_argument_overrides_environment(server, cache, monkeypatch):
    server.publish(make_zip())
    monkeypatch.setenv("REPORTED_CLAIMS_BASE_URL", "http://127.0.0.1:9/nowhere")
    path = download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert_good_copy(path, cache)


def test_default_cache_uses_platformdirs(monkeypatch, tmp_path):
    seen = []

    def fake_user_cache_path(appname):
        seen.append(appname)
        return tmp_path / "platform-cache"

    monkeypatch.setattr(dl.platformdirs, "user_cache_path", fake_user_cache_path)
    assert dl._resolve_cache_root(None) == tmp_path / "platform-cache"
    assert seen == ["reported-claims"]
    assert dl._resolve_base_url(None) == dl.DEFAULT_BASE_URL


def test_unsupported_base_url_scheme(cache):
    with pytest.raises(ValueError, match="http"):
        download(VERSION, base_url="ftp://example.org/x", cache_dir=cache)
    assert not cache.exists()
