"""Download, verify and cache a published release of the reported-claims data package.

A release is two assets under ``{base_url}/v{version}/``:

* ``reported-claims-{version}.zip``: the data package (``datapackage.json`` and
  ``data/...``), all under one top folder ``reported-claims-{version}/``;
* ``SHA256SUMS``: lines ``<sha256>  <filename>`` as written by ``sha256sum``.

:func:`download` fetches both, checks the archive's SHA-256, extracts it safely into
a temporary folder inside the cache and renames that folder into place as
``<cache>/<version>/``. A marker file, written last, marks a complete copy; once it
exists and the copy still matches the package's own hashes, later calls return the
cached folder without touching the network.

Everything a release holds is untrusted until checked: the download is bounded in size and
in time (one deadline for the whole transfer, redirects included), the archive must match
``SHA256SUMS``, every member is checked before anything is written, and every data file must
match the ``hash`` and ``bytes`` its ``datapackage.json`` gives, both before the copy is
installed and each time the cached copy is used.

This module imports only the standard library, ``platformdirs`` and the package's error root.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import math
import os
import re
import shutil
import socket
import stat
import struct
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import platformdirs

from reported_claims.errors import ReportedClaimsError

__all__ = ["DEFAULT_BASE_URL", "DownloadError", "download"]

DEFAULT_BASE_URL = "https://github.com/reported-claims/reported-claims/releases/download"
BASE_URL_ENV = "REPORTED_CLAIMS_BASE_URL"
CACHE_ENV = "REPORTED_CLAIMS_CACHE"

#: Largest archive we agree to download.
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
#: Largest SHA256SUMS file we agree to download.
MAX_SUMS_BYTES = 1024 * 1024
#: Most entries (files and folders) an archive may hold.
MAX_MEMBERS = 10_000
#: Most bytes an archive may expand to.
MAX_EXTRACTED_BYTES = 1024 * 1024 * 1024
#: Most folders deep a member may lie below the top folder.
MAX_DEPTH = 16
#: Longest member name, in characters (Windows' classic path limit, with room for the cache).
MAX_NAME_LENGTH = 200
#: Largest ``datapackage.json`` we agree to read.
MAX_DESCRIPTOR_BYTES = 16 * 1024 * 1024
#: Longest timeout accepted, in seconds: one day.
MAX_TIMEOUT = 24 * 60 * 60

#: Written last into a cached copy; its presence means the copy is complete and verified.
MARKER = ".reported-claims-complete"

_VERSION_RE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+", re.ASCII)
_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)
_CHUNK = 1024 * 1024
_TMP_PREFIX = ".tmp-"
_USER_AGENT = "reported-claims-download (Python urllib)"


class DownloadError(ReportedClaimsError):
    """A release could not be downloaded, verified or extracted.

    The message says what went wrong, where (the URL) and what to try next.
    """


def download(
    version: str,
    *,
    base_url: str | None = None,
    cache_dir: Path | None = None,
    timeout: float = 60,
) -> Path:
    """Return the folder holding ``datapackage.json`` for release ``version``.

    The release is downloaded, checked against its ``SHA256SUMS`` and extracted into
    ``<cache>/<version>/`` on first use; later calls check the cached files against the
    package's hashes and return that folder without any network access.

    :param version: the data version, ``MAJOR.MINOR.PATCH`` (no leading ``v``).
    :param base_url: where releases live; default ``$REPORTED_CLAIMS_BASE_URL`` or
        :data:`DEFAULT_BASE_URL`. Assets are read from ``{base_url}/v{version}/``.
    :param cache_dir: cache root; default ``$REPORTED_CLAIMS_CACHE`` or the user
        cache folder from ``platformdirs``.
    :param timeout: the most seconds each of the two downloads (``SHA256SUMS``, then the
        archive) may take in all, from connecting to the last byte; at most one day.
    :raises ValueError: ``version``, ``base_url``, ``cache_dir`` or ``timeout`` is
        malformed (raised before any file or network access).
    :raises DownloadError: the download, checksum check or extraction failed, or it took
        longer than ``timeout``. A failure never touches an existing verified cached copy
        and leaves no temporary files behind. A cached copy whose files no longer match
        the package's hashes is downloaded again; the error says so if that fails.
    """
    _check_version(version)
    _check_timeout(timeout)
    base = _resolve_base_url(base_url)
    root = _resolve_cache_root(cache_dir)
    dest = root / version

    damaged = _verify_cached(dest)
    if damaged is None:
        return dest
    try:
        return _download(version, base, root, dest, timeout)
    except DownloadError as exc:
        if damaged:
            raise DownloadError(f"the cached copy {dest} is damaged ({damaged}); {exc}") from exc
        raise


def _download(version: str, base: str, root: Path, dest: Path, timeout: float) -> Path:
    """Download, verify and install release ``version`` into ``dest``."""

    release_url = f"{base}/v{version}/"
    zip_name = f"reported-claims-{version}.zip"
    zip_url = release_url + zip_name
    sums_url = release_url + "SHA256SUMS"

    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"cannot create the cache folder {root}: {exc}. "
            f"Choose another one with cache_dir= or ${CACHE_ENV}."
        ) from exc

    sums = _fetch_bytes(sums_url, timeout=timeout, limit=MAX_SUMS_BYTES)
    expected = _expected_sha256(sums, zip_name, sums_url)

    archive: Path | None = None
    staging: Path | None = None
    try:
        with _writing_into(root):
            fd, name = tempfile.mkstemp(dir=root, prefix=_TMP_PREFIX, suffix=".zip")
        archive = Path(name)
        with _writing_into(root), os.fdopen(fd, "wb") as out:
            actual = _fetch_to_file(zip_url, out, timeout=timeout, limit=MAX_DOWNLOAD_BYTES)
        if actual != expected:
            raise DownloadError(
                f"checksum mismatch for {zip_url}: expected sha256 {expected}, "
                f"got {actual}. The download was corrupted or the release was "
                f"altered; nothing was cached. Try again, and report it if it persists."
            )

        with _writing_into(root):
            staging = Path(tempfile.mkdtemp(dir=root, prefix=_TMP_PREFIX))
        _extract(archive, staging, top=f"reported-claims-{version}", url=zip_url)
        descriptor_sha256 = _verify_package(staging, zip_url)
        marker = {"version": version, "url": zip_url, "sha256": actual,
                  "datapackage_sha256": descriptor_sha256}
        with _writing_into(root):
            (staging / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")
        if _install(staging, dest):
            staging = None  # renamed into place
        return dest
    finally:
        if archive is not None:
            _remove(archive)
        if staging is not None:
            _remove(staging)


# --------------------------------------------------------------------------- settings


def _check_version(version: object) -> None:
    if not isinstance(version, str) or not _VERSION_RE.fullmatch(version):
        hint = ""
        if isinstance(version, str) and version[:1] in ("v", "V"):
            hint = " (leave out the leading 'v')"
        raise ValueError(
            f"invalid version {version!r}: expected MAJOR.MINOR.PATCH, e.g. '1.2.3'{hint}"
        )


def _check_timeout(timeout: object) -> None:
    # bool is an int, and inf or a huge number overflows the socket layer's timeval.
    if (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout) or not 0 < timeout <= MAX_TIMEOUT):
        raise ValueError(
            f"timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT}, "
            f"got {timeout!r}"
        )


def _resolve_base_url(base_url: str | None) -> str:
    source = "base_url"
    if base_url is None:
        base_url = os.environ.get(BASE_URL_ENV) or None
        source = f"${BASE_URL_ENV}"
    if base_url is None:
        base_url = DEFAULT_BASE_URL
        source = "default"
    if not isinstance(base_url, str):
        raise ValueError(f"{source} must be a URL string, got {base_url!r}")
    if any(c.isspace() or not c.isprintable() for c in base_url):
        raise ValueError(f"{source} must not hold spaces or control characters: {base_url!r}")
    try:
        parts = urllib.parse.urlsplit(base_url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ValueError(f"{source} is not a valid URL ({exc}): {base_url!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http", "file"):
        raise ValueError(f"{source} must be an http(s) or file URL, got {base_url!r}")
    if scheme != "file" and not parts.hostname:
        raise ValueError(f"{source} has no host name: {base_url!r}")
    return base_url.rstrip("/")


def _resolve_cache_root(cache_dir: os.PathLike[str] | str | None) -> Path:
    if cache_dir is None:
        env = os.environ.get(CACHE_ENV)
        if env:
            return Path(env).expanduser()
        return Path(platformdirs.user_cache_path("reported-claims"))
    if not isinstance(cache_dir, (str, os.PathLike)) or not isinstance(os.fspath(cache_dir), str) \
            or "\0" in os.fspath(cache_dir):
        raise ValueError(f"cache_dir must be a folder path, got {cache_dir!r}")
    return Path(cache_dir).expanduser()


# --------------------------------------------------------------------------- network


class _Deadline:
    """One time limit for a whole transfer: when it passes, every socket it opened is shut.

    A socket timeout only bounds each read, so a server that sends a byte just before
    each one expires could hold a download forever; shutting the socket down wakes the
    blocked read at once, whether it waits for headers, a redirect or the body.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            if not self.expired:
                self._sockets.append(sock)
                return
        _shutdown(sock)

    def connection(self, base: type[http.client.HTTPConnection]):
        deadline = self

        class Connection(base):
            def connect(self) -> None:
                super().connect()
                deadline.track(self.sock)

        return Connection


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


class _DeadlineHandler:
    def __init__(self, deadline: _Deadline):
        super().__init__()
        self.deadline = deadline

    def do_open(self, http_class, req, **kwargs):
        return super().do_open(self.deadline.connection(http_class), req, **kwargs)


class _HTTPHandler(_DeadlineHandler, urllib.request.HTTPHandler):
    pass


class _HTTPSHandler(_DeadlineHandler, urllib.request.HTTPSHandler):
    pass


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s), and never from https down to http."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old = urllib.parse.urlsplit(req.full_url).scheme.lower()
        new = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, newurl)).scheme.lower()
        if new not in ("http", "https") or (old == "https" and new != "https"):
            raise DownloadError(
                f"refusing the redirect from {req.full_url} to {newurl!r}: only https "
                f"(or http from http) is followed."
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _open(url: str, timeout: float, deadline: _Deadline):
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    opener = urllib.request.build_opener(
        _HTTPHandler(deadline), _HTTPSHandler(deadline), _RedirectHandler()
    )
    try:
        return opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        hint = (
            " Check that the version exists as a published release."
            if exc.code == 404
            else " Try again later."
        )
        raise DownloadError(f"HTTP {exc.code} {exc.reason} for {url}.{hint}") from exc
    except urllib.error.URLError as exc:
        if deadline.expired:
            raise _too_slow(url, deadline) from exc
        raise DownloadError(
            f"cannot reach {url}: {exc.reason}. Check your network connection "
            f"or the base URL (base_url= or ${BASE_URL_ENV})."
        ) from exc
    except (OSError, http.client.HTTPException, ValueError, OverflowError) as exc:
        if deadline.expired:
            raise _too_slow(url, deadline) from exc
        raise DownloadError(f"cannot download {url}: {exc}") from exc


def _too_slow(url: str, deadline: _Deadline) -> DownloadError:
    return DownloadError(
        f"download of {url} took longer than the {deadline.seconds:g}-second timeout; "
        f"try again, or pass a larger timeout=."
    )


def _bounded(read, limit: int, too_big: str):
    """The chunks ``read`` gives until it is exhausted; DownloadError(too_big) past ``limit`` bytes."""
    total = 0
    while chunk := read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise DownloadError(too_big)
        yield chunk


def _stream(url: str, timeout: float, limit: int, sink) -> tuple[int, str]:
    """Copy ``url`` into ``sink(chunk)`` within ``timeout`` seconds; return (bytes, sha256 hex)."""
    digest = hashlib.sha256()
    received = 0
    with _Deadline(timeout) as deadline:
        with _open(url, timeout, deadline) as response:
            length_header = response.headers.get("Content-Length")
            expected_length = None
            if length_header is not None and re.fullmatch(r"\s*[0-9]+\s*", length_header, re.ASCII):
                expected_length = int(length_header)
                if expected_length > limit:
                    raise DownloadError(
                        f"{url} is {expected_length} bytes, over the {limit}-byte limit; "
                        f"refusing to download it."
                    )
            # read1 returns what one read of the socket gives, where read(n) would wait for n.
            read = getattr(response, "read1", response.read)
            try:
                too_big = f"{url} is over the {limit}-byte limit; refusing to download it."
                for chunk in _bounded(read, limit, too_big):
                    if deadline.expired:
                        break
                    received += len(chunk)
                    digest.update(chunk)
                    sink(chunk)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if deadline.expired:
                    raise _too_slow(url, deadline) from exc
                raise DownloadError(
                    f"download of {url} failed after {received} bytes: {exc}. Try again."
                ) from exc
        if deadline.expired:
            raise _too_slow(url, deadline)
    if expected_length is not None and received != expected_length:
        raise DownloadError(
            f"truncated download of {url}: got {received} of {expected_length} bytes. "
            f"Try again."
        )
    return received, digest.hexdigest()


def _fetch_bytes(url: str, *, timeout: float, limit: int) -> bytes:
    parts: list[bytes] = []
    _stream(url, timeout, limit, parts.append)
    return b"".join(parts)


def _fetch_to_file(url: str, out, *, timeout: float, limit: int) -> str:
    return _stream(url, timeout, limit, out.write)[1]


def _expected_sha256(sums: bytes, filename: str, sums_url: str) -> str:
    try:
        text = sums.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DownloadError(f"{sums_url} is not a text SHA256SUMS file") from exc
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(None, 1)
        if len(fields) != 2 or not _SHA256_RE.fullmatch(fields[0]):
            continue
        name = fields[1].strip()
        if name.startswith("*"):  # sha256sum's binary-mode marker
            name = name[1:]
        if name.startswith("./"):
            name = name[2:]
        if name == filename:
            return fields[0].lower()
    raise DownloadError(
        f"{sums_url} has no sha256 entry for {filename}, so the archive cannot be "
        f"verified; nothing was downloaded. The release may be incomplete."
    )


# --------------------------------------------------------------------------- extraction

# Names Windows gives to devices, whatever their extension ("aux.csv" opens the device too).
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789\u00b9\u00b2\u00b3"}
)
_WINDOWS_FORBIDDEN = frozenset('<>:"|?*\\')


def _unsafe_part(part: str) -> str | None:
    """Why one component of a member name is unsafe to create on some system, or None."""
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in part):
        return "control character in name"
    if forbidden := sorted(_WINDOWS_FORBIDDEN.intersection(part)):
        return f"{''.join(forbidden)!r} in name, not allowed on Windows"
    if part[-1] in (" ", "."):
        return "name ends with a dot or a space, which Windows drops"
    if part.partition(".")[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        return "a device name on Windows"
    return None


def _member_parts(info: zipfile.ZipInfo, top: str, url: str) -> tuple[str, ...]:
    """Check one archive entry and return its path below ``top`` as parts."""
    name = info.filename

    def unsafe(why: str) -> DownloadError:
        return DownloadError(
            f"refusing to extract {url}: unsafe archive member {name!r} ({why}). "
            f"The archive is not a valid release; report it."
        )

    if "\\" in name or "\x00" in name:
        raise unsafe("backslash or NUL in name")
    if name.startswith("/") or re.match(r"[A-Za-z]:", name):
        raise unsafe("absolute path")
    if len(name) > MAX_NAME_LENGTH:
        raise unsafe(f"name longer than {MAX_NAME_LENGTH} characters")
    parts = name.rstrip("/").split("/") if name.rstrip("/") else []
    if not parts:
        raise unsafe("empty name")
    if any(part == ".." for part in parts):
        raise unsafe("'..' component")
    if any(part in ("", ".") for part in parts):
        raise unsafe("empty or '.' component")
    if parts[0] != top:
        raise unsafe(f"outside the top folder {top}/")
    if len(parts) - 1 > MAX_DEPTH:
        raise unsafe(f"more than {MAX_DEPTH} folders deep")
    for part in parts[1:]:
        if why := _unsafe_part(part):
            raise unsafe(why)
    if info.flag_bits & 0x1:
        raise unsafe("encrypted")
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        what = "symbolic link" if kind == stat.S_IFLNK else "not a regular file or folder"
        raise unsafe(what)
    if kind and (kind == stat.S_IFDIR) != info.is_dir():
        raise unsafe("file type does not match its name")
    return tuple(parts[1:])


def _extract(archive: Path, staging: Path, *, top: str, url: str) -> None:
    """Extract the release archive into ``staging``, dropping the top folder."""
    try:
        zf = zipfile.ZipFile(archive)
    except _CORRUPT as exc:
        raise DownloadError(
            f"{url} is not a valid zip archive ({exc}); it may be truncated. Try again."
        ) from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise DownloadError(
                f"refusing to extract {url}: {len(infos)} entries, over the limit of "
                f"{MAX_MEMBERS}."
            )
        declared = sum(info.file_size for info in infos)
        if declared > MAX_EXTRACTED_BYTES:
            raise DownloadError(
                f"refusing to extract {url}: it expands to {declared} bytes, over the "
                f"limit of {MAX_EXTRACTED_BYTES}."
            )

        files: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
        dirs: set[tuple[str, ...]] = set()
        seen: set[str] = set()
        for info in infos:
            parts = _member_parts(info, top, url)
            key = "/".join(parts).casefold()
            if key in seen and not info.is_dir():
                raise DownloadError(
                    f"refusing to extract {url}: duplicate member {info.filename!r}."
                )
            seen.add(key)
            if info.is_dir():
                if parts:
                    dirs.add(parts)
            else:
                if not parts:
                    raise DownloadError(f"refusing to extract {url}: {top} is not a folder.")
                files.append((info, parts))
            for i in range(1, len(parts)):
                dirs.add(parts[:i])
        file_keys = {"/".join(p).casefold() for _, p in files}
        if file_keys & {"/".join(p).casefold() for p in dirs}:
            raise DownloadError(
                f"refusing to extract {url}: a member is both a file and a folder."
            )
        if ("datapackage.json",) not in {p for _, p in files}:
            raise DownloadError(
                f"{url} has no {top}/datapackage.json; it is not a data package release."
            )
        if (MARKER,) in {p for _, p in files}:
            raise DownloadError(f"refusing to extract {url}: it holds {MARKER}.")

        try:
            _write_members(zf, staging, dirs, files, url)
        except OSError as exc:
            raise DownloadError(f"cannot extract {url} into the cache at {staging}: {exc}") from exc


def _write_members(zf: zipfile.ZipFile, staging: Path, dirs, files, url: str) -> None:
    base = staging.resolve()
    for parts in sorted(dirs, key=len):
        base.joinpath(*parts).mkdir(exist_ok=True)
    written = 0
    too_big = f"refusing to extract {url}: it expands to more than {MAX_EXTRACTED_BYTES} bytes."
    for info, parts in files:
        target = base.joinpath(*parts)
        if base not in target.resolve().parents:  # defence in depth
            raise DownloadError(f"refusing to extract {url}: {info.filename!r} escapes.")
        try:
            src = zf.open(info)
        except _CORRUPT as exc:
            raise _corrupt(url, info, exc) from exc
        with src, open(target, "xb") as dst:
            try:
                for chunk in _bounded(src.read, MAX_EXTRACTED_BYTES - written, too_big):
                    written += len(chunk)
                    dst.write(chunk)
            except DownloadError:
                raise
            except OSError:
                raise  # writing failed: the caller names the cache folder
            except _CORRUPT as exc:
                raise _corrupt(url, info, exc) from exc


# What zipfile raises for an archive that is damaged or crafted: besides BadZipFile, a bad
# CRC or header surfaces as zlib.error, EOFError, ValueError, OverflowError, struct.error...
_CORRUPT = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError,
            OverflowError, NotImplementedError, RuntimeError, struct.error, OSError)


def _corrupt(url: str, info: zipfile.ZipInfo, exc: BaseException) -> DownloadError:
    return DownloadError(f"{url} is corrupt: cannot read {info.filename!r} ({exc}). Try again.")


# --------------------------------------------------------------------------- cache


_HASHES = ("md5", "sha1", "sha256", "sha512")


def _verify_cached(folder: Path) -> str | None:
    """None when ``folder`` is a complete copy that still matches its hashes.

    Otherwise why not: ``""`` when there is no copy at all, else what is wrong with it.
    """
    try:
        if not (folder.exists() or folder.is_symlink()):
            return ""
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "it was not completely written"
    expected = marker.get("datapackage_sha256") if isinstance(marker, dict) else None
    if not isinstance(expected, str):
        return "it records no hash of its datapackage.json"
    try:
        if _verify_package(folder, str(folder)) != expected:
            return "datapackage.json was changed after download"
    except DownloadError as exc:
        return str(exc)
    return None


def _verify_package(folder: Path, where: str) -> str:
    """Check every local file of the package in ``folder`` against its ``hash`` and ``bytes``.

    Returns the SHA-256 of ``datapackage.json``, which no resource covers, for the marker.
    """
    descriptor_path = folder / "datapackage.json"
    try:
        if descriptor_path.is_symlink() or descriptor_path.stat().st_size > MAX_DESCRIPTOR_BYTES:
            raise DownloadError(
                f"{where}: datapackage.json is a link or over {MAX_DESCRIPTOR_BYTES} bytes."
            )
        raw = descriptor_path.read_bytes()
        descriptor = json.loads(raw)
    except OSError as exc:
        raise DownloadError(f"{where}: cannot read datapackage.json ({exc}).") from exc
    except ValueError as exc:
        raise DownloadError(f"{where}: datapackage.json is not valid JSON ({exc}).") from exc
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    if not isinstance(resources, list):
        raise DownloadError(f"{where}: datapackage.json lists no resources.")
    for resource in resources:
        _verify_resource(folder, resource, where)
    return hashlib.sha256(raw).hexdigest()


def _verify_resource(folder: Path, resource: object, where: str) -> None:
    if not isinstance(resource, dict) or "path" not in resource:
        return  # inline data: nothing on disk to check
    paths = resource["path"] if isinstance(resource["path"], list) else [resource["path"]]
    name = resource.get("name", paths)

    def bad(why: str) -> DownloadError:
        return DownloadError(
            f"{where}: resource {name!r} {why}; the package does not match its own "
            f"datapackage.json."
        )

    if not all(isinstance(p, str) for p in paths):
        raise bad("has a path that is not text")
    if any(urllib.parse.urlsplit(p).scheme for p in paths):
        return  # a remote resource is not part of the download
    algorithm, _, expected = str(resource.get("hash", "")).rpartition(":")
    algorithm = algorithm.lower() or "md5"  # Frictionless: a bare hash is MD5
    if algorithm not in _HASHES or not re.fullmatch(r"[0-9a-fA-F]+", expected, re.ASCII):
        raise bad(f"has no usable hash ({resource.get('hash')!r})")
    size = resource.get("bytes")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int)):
        raise bad(f"has a byte count that is not a number ({size!r})")
    digest = hashlib.new(algorithm)
    total = 0
    base = folder.resolve()
    for path in paths:
        parts = PurePosixPath(path).parts
        if (not parts or PurePosixPath(path).is_absolute() or "\\" in path
                or any(part in ("..", ".") for part in parts)):
            raise bad(f"has an unsafe path {path!r}")
        target = folder.joinpath(*parts)
        try:
            if target.is_symlink() or base not in target.resolve().parents:
                raise bad(f"path {path!r} leaves the package")
            total += target.stat().st_size
            if size is not None and total > size:
                raise bad(f"is larger than its {size} bytes")
            with open(target, "rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
        except OSError as exc:
            raise bad(f"cannot be read ({exc})") from exc
    if size is not None and total != size:
        raise bad(f"is {total} bytes, not {size}")
    if digest.hexdigest() != expected.lower():
        raise bad(f"has {algorithm} {digest.hexdigest()}, not {expected.lower()}")


def _install(staging: Path, dest: Path) -> bool:
    """Rename ``staging`` to ``dest``; return False if a verified copy was already there.

    An incomplete or damaged ``dest`` (no marker, or files that no longer match their
    hashes) is moved aside and removed first. If another process installed a verified
    copy in the meantime, theirs is kept and the caller removes ``staging``.
    """
    if _verify_cached(dest) is None:
        return False
    if dest.exists() or dest.is_symlink():
        with _writing_into(dest.parent):
            aside = Path(tempfile.mkdtemp(dir=dest.parent, prefix=_TMP_PREFIX))
        try:
            os.replace(dest, aside / "old")
        except FileNotFoundError:
            pass  # someone else moved it already
        except OSError as exc:
            _remove(aside)
            if _verify_cached(dest) is None:
                return False
            raise DownloadError(f"cannot replace the incomplete cached copy {dest}: {exc}")
        _remove(aside)
    try:
        os.replace(staging, dest)
    except OSError as exc:
        if _verify_cached(dest) is None:
            return False  # another process won the race: keep theirs
        raise DownloadError(f"cannot move the download into the cache at {dest}: {exc}")
    return True


@contextlib.contextmanager
def _writing_into(folder: Path):
    """Turn a failure to write into the cache (full disk, permissions) into a DownloadError."""
    try:
        yield
    except OSError as exc:
        raise DownloadError(
            f"cannot write into the cache folder {folder}: {exc}. "
            f"Free some space, or choose another folder with cache_dir= or ${CACHE_ENV}."
        ) from exc


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass
