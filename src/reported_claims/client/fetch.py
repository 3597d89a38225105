"""Download, verify and cache a published release of the reported-claims data package.

A release is two assets under ``{base_url}/v{version}/``:

* ``reported-claims-{version}.zip``: the data package (``datapackage.json`` and
  ``data/...``), all under one top folder ``reported-claims-{version}/``;
* ``SHA256SUMS``: lines ``<sha256>  <filename>`` as written by ``sha256sum``.

:func:`download` fetches both, checks the archive's SHA-256, extracts it safely into
a temporary folder inside the cache and renames that folder into place as
``<cache>/<version>/``. A marker file, written last, marks a complete copy; once it
exists later calls return the cached folder without touching the network.

This module imports only the standard library and ``platformdirs``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import stat
import tempfile
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
    ``<cache>/<version>/`` on first use; later calls return that folder without any
    network access.

    :param version: the data version, ``MAJOR.MINOR.PATCH`` (no leading ``v``).
    :param base_url: where releases live; default ``$REPORTED_CLAIMS_BASE_URL`` or
        :data:`DEFAULT_BASE_URL`. Assets are read from ``{base_url}/v{version}/``.
    :param cache_dir: cache root; default ``$REPORTED_CLAIMS_CACHE`` or the user
        cache folder from ``platformdirs``.
    :param timeout: seconds to wait on each network operation.
    :raises ValueError: ``version``, ``base_url`` or ``timeout`` is malformed (raised
        before any file or network access).
    :raises DownloadError: the download, checksum check or extraction failed. A
        failure never touches an existing complete cached copy and leaves no
        temporary files behind.
    """
    _check_version(version)
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    base = _resolve_base_url(base_url)
    root = _resolve_cache_root(cache_dir)
    dest = root / version

    if _is_complete(dest):
        return dest

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
        fd, name = tempfile.mkstemp(dir=root, prefix=_TMP_PREFIX, suffix=".zip")
        archive = Path(name)
        with os.fdopen(fd, "wb") as out:
            actual = _fetch_to_file(zip_url, out, timeout=timeout, limit=MAX_DOWNLOAD_BYTES)
        if actual != expected:
            raise DownloadError(
                f"checksum mismatch for {zip_url}: expected sha256 {expected}, "
                f"got {actual}. The download was corrupted or the release was "
                f"altered; nothing was cached. Try again, and report it if it persists."
            )

        staging = Path(tempfile.mkdtemp(dir=root, prefix=_TMP_PREFIX))
        _extract(archive, staging, top=f"reported-claims-{version}", url=zip_url)
        (staging / MARKER).write_text(
            json.dumps({"version": version, "url": zip_url, "sha256": actual}) + "\n",
            encoding="utf-8",
        )
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


def _resolve_base_url(base_url: str | None) -> str:
    source = "base_url"
    if base_url is None:
        base_url = os.environ.get(BASE_URL_ENV) or None
        source = f"${BASE_URL_ENV}"
    if base_url is None:
        base_url = DEFAULT_BASE_URL
        source = "default"
    scheme = urllib.parse.urlsplit(base_url).scheme.lower()
    if scheme not in ("https", "http", "file"):
        raise ValueError(f"{source} must be an http(s) or file URL, got {base_url!r}")
    return base_url.rstrip("/")


def _resolve_cache_root(cache_dir: os.PathLike[str] | str | None) -> Path:
    if cache_dir is None:
        env = os.environ.get(CACHE_ENV)
        if env:
            return Path(env).expanduser()
        return Path(platformdirs.user_cache_path("reported-claims"))
    return Path(cache_dir).expanduser()


# --------------------------------------------------------------------------- network


def _open(url: str, timeout: float):
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (scheme checked)
    except urllib.error.HTTPError as exc:
        hint = (
            " Check that the version exists as a published release."
            if exc.code == 404
            else " Try again later."
        )
        raise DownloadError(f"HTTP {exc.code} {exc.reason} for {url}.{hint}") from exc
    except urllib.error.URLError as exc:
        raise DownloadError(
            f"cannot reach {url}: {exc.reason}. Check your network connection "
            f"or the base URL (base_url= or ${BASE_URL_ENV})."
        ) from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise DownloadError(f"cannot download {url}: {exc}") from exc


def _bounded(read, limit: int, too_big: str):
    """The chunks ``read`` gives until it is exhausted; DownloadError(too_big) past ``limit`` bytes."""
    total = 0
    while chunk := read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise DownloadError(too_big)
        yield chunk


def _stream(url: str, timeout: float, limit: int, sink) -> tuple[int, str]:
    """Copy ``url`` into ``sink(chunk)``; return (byte count, sha256 hex)."""
    digest = hashlib.sha256()
    received = 0
    with _open(url, timeout) as response:
        length_header = response.headers.get("Content-Length")
        expected_length = None
        if length_header is not None and length_header.strip().isdigit():
            expected_length = int(length_header)
            if expected_length > limit:
                raise DownloadError(
                    f"{url} is {expected_length} bytes, over the {limit}-byte limit; "
                    f"refusing to download it."
                )
        try:
            too_big = f"{url} is over the {limit}-byte limit; refusing to download it."
            for chunk in _bounded(response.read, limit, too_big):
                received += len(chunk)
                digest.update(chunk)
                sink(chunk)
        except (OSError, http.client.HTTPException) as exc:
            raise DownloadError(
                f"download of {url} failed after {received} bytes: {exc}. Try again."
            ) from exc
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
    parts = name.rstrip("/").split("/") if name.rstrip("/") else []
    if not parts:
        raise unsafe("empty name")
    if any(part == ".." for part in parts):
        raise unsafe("'..' component")
    if any(part in ("", ".") for part in parts):
        raise unsafe("empty or '.' component")
    if parts[0] != top:
        raise unsafe(f"outside the top folder {top}/")
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
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
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

        base = staging.resolve()
        for parts in sorted(dirs, key=len):
            base.joinpath(*parts).mkdir(exist_ok=True)
        written = 0
        for info, parts in files:
            target = base.joinpath(*parts)
            if base not in target.resolve().parents:  # defence in depth
                raise DownloadError(f"refusing to extract {url}: {info.filename!r} escapes.")
            try:
                with zf.open(info) as src, open(target, "xb") as dst:
                    too_big = (f"refusing to extract {url}: it expands to more than "
                               f"{MAX_EXTRACTED_BYTES} bytes.")
                    for chunk in _bounded(src.read, MAX_EXTRACTED_BYTES - written, too_big):
                        written += len(chunk)
                        dst.write(chunk)
            except DownloadError:
                raise
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
                    RuntimeError) as exc:
                raise DownloadError(
                    f"{url} is corrupt: cannot read {info.filename!r} ({exc}). Try again."
                ) from exc


# --------------------------------------------------------------------------- cache


def _is_complete(folder: Path) -> bool:
    return (folder / MARKER).is_file() and (folder / "datapackage.json").is_file()


def _install(staging: Path, dest: Path) -> bool:
    """Rename ``staging`` to ``dest``; return False if a complete copy was already there.

    An incomplete ``dest`` (no marker: never written by this module, or damaged) is
    moved aside and removed first. If another process installed a complete copy in
    the meantime, theirs is kept and the caller removes ``staging``.
    """
    if _is_complete(dest):
        return False
    if dest.exists() or dest.is_symlink():
        aside = Path(tempfile.mkdtemp(dir=dest.parent, prefix=_TMP_PREFIX))
        try:
            os.replace(dest, aside / "old")
        except FileNotFoundError:
            pass  # someone else moved it already
        except OSError as exc:
            _remove(aside)
            if _is_complete(dest):
                return False
            raise DownloadError(f"cannot replace the incomplete cached copy {dest}: {exc}")
        _remove(aside)
    try:
        os.replace(staging, dest)
    except OSError as exc:
        if _is_complete(dest):
            return False  # another process won the race: keep theirs
        raise DownloadError(f"cannot move the download into the cache at {dest}: {exc}")
    return True


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass
