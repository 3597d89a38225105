"""download() against hostile and broken servers, archives and caches, on 127.0.0.1 only.

Whatever a server or a cached copy holds, a download ends within its time limit, raises
DownloadError (a ReportedClaimsError) or ValueError for a bad argument, writes nothing
outside the cache and leaves no temporary folder behind.
"""

from __future__ import annotations

import hashlib
import json
import socket
import socketserver
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_download import (  # noqa: F401 - the fixtures server, cache and _no_env are used by name
    _no_env,
    cache,
    server,
    DATA_FILES, GOOD_FILES, TOP, VERSION, ZIP_NAME, Server, assert_good_copy, cache_entries,
    make_zip,
)

from reported_claims.client import fetch as dl
from reported_claims.client.fetch import MARKER, DownloadError, download
from reported_claims.errors import ReportedClaimsError

SUMS_PATH = f"/releases/v{VERSION}/SHA256SUMS"
ZIP_PATH = f"/releases/v{VERSION}/{ZIP_NAME}"


def test_download_error_is_a_reported_claims_error():
    assert issubclass(DownloadError, ReportedClaimsError)


# --------------------------------------------------------------------------- time


@pytest.mark.parametrize("path", [SUMS_PATH, ZIP_PATH], ids=["sums", "archive"])
def test_a_byte_every_half_second_does_not_beat_the_timeout(server, cache, path):
    archive = make_zip()
    server.publish(archive)
    body = (server.release_dir() / path.rsplit("/", 1)[-1]).read_bytes()
    server.httpd.slow[path] = (body, 0.5)

    start = time.monotonic()
    with pytest.raises(DownloadError, match="longer than the 1-second timeout"):
        download(VERSION, base_url=server.base_url, cache_dir=cache, timeout=1)
    assert time.monotonic() - start < 3
    assert cache_entries(cache) == []


class _SlowHeaders(socketserver.BaseRequestHandler):
    """Answers with a status line, then one header byte every half second, for ever."""

    def handle(self):
        self.request.recv(65536)
        try:
            self.request.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not self.server.done.is_set():
                self.request.sendall(b"a")
                time.sleep(0.5)
        except OSError:
            pass  # the client hung up, as it should


def test_slow_headers_do_not_beat_the_timeout(cache):
    tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SlowHeaders)
    tcp.daemon_threads = True
    tcp.done = threading.Event()
    thread = threading.Thread(target=tcp.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        start = time.monotonic()
        with pytest.raises(DownloadError, match="longer than the 1-second timeout"):
            download(VERSION, base_url=f"http://127.0.0.1:{tcp.server_address[1]}",
                     cache_dir=cache, timeout=1)
        assert time.monotonic() - start < 3
    finally:
        tcp.done.set()
        tcp.shutdown()
        tcp.server_close()
        thread.join(timeout=5)
    assert cache_entries(cache) == []


def test_redirect_within_the_server_is_followed(server, cache):
    server.publish(make_zip())
    moved = f"/releases/v{VERSION}/moved.zip"
    (server.release_dir() / "moved.zip").write_bytes((server.release_dir() / ZIP_NAME).read_bytes())
    server.httpd.redirect[ZIP_PATH] = moved
    path = download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert_good_copy(path, cache)
    assert moved in server.requests


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x"])
def test_redirect_off_http_is_refused(server, cache, target):
    server.publish(make_zip())
    server.httpd.redirect[SUMS_PATH] = target
    with pytest.raises(DownloadError, match="(?i)redirect"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


def test_redirect_to_an_impossible_port_is_a_download_error(server, cache):
    server.publish(make_zip())
    server.httpd.redirect[SUMS_PATH] = "http://127.0.0.1:99999/x"
    with pytest.raises(DownloadError):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 1e300, 0, -1, True, "5", None])
def test_bad_timeout_is_a_value_error_before_any_io(server, cache, timeout):
    with pytest.raises(ValueError, match="timeout"):
        download(VERSION, base_url=server.base_url, cache_dir=cache, timeout=timeout)
    assert not cache.exists()
    assert server.requests == []


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:99999/x", "http://", "https:///x",
                                      "http://127.0.0.1/a b", "http://127.0.0.1/\nx", 42])
def test_bad_base_url_is_a_value_error_before_any_io(cache, base_url):
    with pytest.raises(ValueError, match="base_url"):
        download(VERSION, base_url=base_url, cache_dir=cache)
    assert not cache.exists()


@pytest.mark.parametrize("cache_dir", [42, "a\0b", b"/tmp/x"])
def test_bad_cache_dir_is_a_value_error(server, cache_dir):
    with pytest.raises(ValueError, match="cache_dir"):
        download(VERSION, base_url=server.base_url, cache_dir=cache_dir)
    assert server.requests == []


def test_cache_dir_that_is_a_file_is_a_download_error(server, tmp_path):
    server.publish(make_zip())
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DownloadError, match="cache folder"):
        download(VERSION, base_url=server.base_url, cache_dir=blocker / "cache")


# --------------------------------------------------------------------------- verification


def test_release_whose_files_do_not_match_its_descriptor_is_refused(server, cache):
    files = dict(GOOD_FILES)
    files["data/claims.csv"] = b"id,text\nc1,HELLO\n"  # same size, other bytes
    server.publish(make_zip(files))
    with pytest.raises(DownloadError, match="'claims-csv' has sha256"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


@pytest.mark.parametrize("resource", [
    {"name": "r", "path": "data/claims.csv"},
    {"name": "r", "path": "data/claims.csv", "hash": "crc32:00000000"},
    {"name": "r", "path": "../outside.csv", "hash": "sha256:" + "0" * 64},
    {"name": "r", "path": "/etc/passwd", "hash": "sha256:" + "0" * 64},
    {"name": "r", "path": "data/missing.csv", "hash": "sha256:" + "0" * 64},
    {"name": "r", "path": "data/claims.csv", "bytes": "18",
     "hash": "sha256:" + hashlib.sha256(DATA_FILES["data/claims.csv"]).hexdigest()},
], ids=["no-hash", "unknown-algorithm", "dotdot", "absolute", "missing", "bytes-not-a-number"])
def test_release_with_an_unverifiable_resource_is_refused(server, cache, resource):
    package = {"name": "reported-claims", "resources": [resource]}
    files = {**DATA_FILES, "datapackage.json": json.dumps(package).encode()}
    server.publish(make_zip(files))
    with pytest.raises(DownloadError, match="resource 'r'"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


def test_md5_hash_without_prefix_and_a_listed_path_verify(server, cache):
    data = DATA_FILES["data/claims.csv"] + DATA_FILES["data/entities.json"]
    package = {"name": "reported-claims", "resources": [
        {"name": "both", "path": ["data/claims.csv", "data/entities.json"], "bytes": len(data),
         "hash": hashlib.md5(data).hexdigest()},  # noqa: S324 - Frictionless' default hash
        {"name": "inline", "data": [{"a": 1}]},
    ]}
    server.publish(make_zip({**DATA_FILES, "datapackage.json": json.dumps(package).encode()}))
    path = download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert (path / MARKER).is_file()


@pytest.mark.parametrize("edit", [
    lambda p: p.joinpath("data/claims.csv").write_bytes(b"id,text\nc1,HELLO\n"),
    lambda p: p.joinpath("data/claims.csv").write_bytes(b"id,text\nc1,hello\nc2,more\n"),
    lambda p: p.joinpath("data/claims.csv").unlink(),
    lambda p: p.joinpath("datapackage.json").write_text('{"resources": []}'),
    lambda p: p.joinpath(MARKER).write_text("{}"),
], ids=["same-size", "longer", "deleted", "descriptor", "marker"])
def test_cached_copy_edited_after_download_is_downloaded_again(server, cache, edit):
    server.publish(make_zip())
    path = download(VERSION, base_url=server.base_url, cache_dir=cache)
    edit(path)

    again = download(VERSION, base_url=server.base_url, cache_dir=cache)

    assert_good_copy(again, cache)
    assert server.requests.count(ZIP_PATH) == 2
    assert cache_entries(cache) == [VERSION]


def test_cached_copy_edited_and_no_network_is_refused_clearly(server, cache):
    server.publish(make_zip())
    path = download(VERSION, base_url=server.base_url, cache_dir=cache)
    path.joinpath("data/claims.csv").write_bytes(b"id,text\nc1,HELLO\n")
    server.stop()

    with pytest.raises(DownloadError, match=r"cached copy .* is damaged .*claims-csv.*cannot reach"):
        download(VERSION, base_url=server.base_url, cache_dir=cache, timeout=5)


def test_cached_copy_with_a_link_out_is_not_trusted(server, cache, tmp_path):
    server.publish(make_zip())
    path = download(VERSION, base_url=server.base_url, cache_dir=cache)
    outside = tmp_path / "outside.csv"
    outside.write_bytes(DATA_FILES["data/claims.csv"])
    path.joinpath("data/claims.csv").unlink()
    path.joinpath("data/claims.csv").symlink_to(outside)

    again = download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert not again.joinpath("data/claims.csv").is_symlink()
    assert server.requests.count(ZIP_PATH) == 2


# --------------------------------------------------------------------------- members


def test_member_two_thousand_folders_deep_leaves_nothing_behind(server, cache):
    deep = f"{TOP}/" + "d/" * 2000 + "x.csv"
    server.publish(make_zip(extra=[(deep, b"x")]))
    with pytest.raises(DownloadError, match="unsafe archive member"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


def test_member_just_too_deep_is_refused(server, cache):
    deep = f"{TOP}/" + "d/" * dl.MAX_DEPTH + "x.csv"
    server.publish(make_zip(extra=[(deep, b"x")]))
    with pytest.raises(DownloadError, match="folders deep"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


@pytest.mark.parametrize("name", [
    "CON", "con", "aux.csv", "NUL.txt", "COM1", "lpt9.tar.gz", "COM\u00b9", "CONIN$", "prn .csv",
    "a:b.csv", "stream.csv:hidden", 'quote".csv', "star*.csv", "pipe|.csv", "less<.csv",
    "trailing.", "trailing ", "tab\there.csv", "bell\x07.csv", "nel\x85.csv", "del\x7f.csv",
    "x" * 300,
])
@pytest.mark.parametrize("where", ["file", "folder"])
def test_member_names_unsafe_on_windows_are_refused(server, cache, tmp_path, name, where):
    member = f"{TOP}/data/{name}" if where == "file" else f"{TOP}/{name}/x.csv"
    server.publish(make_zip(extra=[(member, b"x")]))
    with pytest.raises(DownloadError, match="unsafe archive member"):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


@pytest.mark.parametrize("name", ["console.csv", "auxiliary.csv", "COM10", "nul-values.csv", "a.b.c"])
def test_names_that_only_resemble_devices_are_extracted(server, cache, name):
    server.publish(make_zip(extra=[(f"{TOP}/data/{name}", b"x")]))
    path = download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert (path / "data" / name).read_bytes() == b"x"


def test_archive_carrying_its_own_marker_is_refused(server, cache):
    server.publish(make_zip(extra=[(f"{TOP}/{MARKER}", b"{}")]))
    with pytest.raises(DownloadError, match=MARKER):
        download(VERSION, base_url=server.base_url, cache_dir=cache)
    assert cache_entries(cache) == []


MEMBER_NAME = st.one_of(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=40),
    st.sampled_from(["../x", "a/../../b", "d/" * 40 + "x", "/abs", "data/", "data", "CON/x",
                     "a\\b", "NUL", "x.", f"../{TOP}-evil/x", "datapackage.json/x", MARKER]),
)


# zipfile cuts a name at its first NUL, which can make two members one: that is tested too.
@pytest.mark.filterwarnings("ignore:Duplicate name")
@settings(max_examples=40, deadline=10_000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(MEMBER_NAME, min_size=1, max_size=3, unique=True))
def test_any_member_names_extract_or_raise_download_error(server, tmp_path_factory, names):
    cache = tmp_path_factory.mktemp("cache")
    around = set(cache.parent.iterdir())
    server.publish(make_zip(extra=[(f"{TOP}/{name}", b"x") for name in names]))
    try:
        path = download(VERSION, base_url=server.base_url, cache_dir=cache)
    except DownloadError:
        assert cache_entries(cache) == []
    else:
        assert cache_entries(cache) == [VERSION]
        assert all(p.resolve().is_relative_to(path.resolve()) for p in path.rglob("*"))
    assert set(cache.parent.iterdir()) == around


def test_connection_closed_mid_header_is_a_download_error(cache):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n")
        conn.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        with pytest.raises(DownloadError):
            download(VERSION, base_url=f"http://127.0.0.1:{listener.getsockname()[1]}",
                     cache_dir=cache, timeout=5)
    finally:
        thread.join(timeout=5)
        listener.close()
    assert cache_entries(cache) == []
