"""The index ingest compares an article with, kept between runs like a build cache.

Reading every record and archived text and indexing them is most of an ingest's time on a large
repository. The indexed records (``propose.Context``) are written to
``.cache/ingest-index-<key>.pickle`` in the repository, where the key is a hash of the content
of every file under ``records/`` and ``archive/`` and of the code that builds the index. A later
run with the same key reads the index instead. The file is sealed with this machine's key
(``repo.cache.seal``, kept outside the repository), so a truncated or altered file, or one made
elsewhere and committed, is ignored and never unpickled; a stale one has another key and is
removed when the new one is written.

The key is found the way git's index finds what changed: ``.cache/ingest-files.pickle``
(sealed too) keeps each file's size, modification and change times and inode with its content
hash, and the key they make. A file whose stat is as recorded keeps its recorded hash; any
other is read and hashed again, and the hashes stay the truth: a file touched but unchanged
gives the same key. A file modified less than ``RACY`` seconds before that record was written
is hashed again too, since a later change within the clock's resolution would not show. When
every file's stat is as recorded, and none is that recent, the recorded key is the key.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import Callable, Mapping, NamedTuple, Optional

import reported_claims
from reported_claims.check.quotes import ARCHIVE
from reported_claims.ingest.propose import Context
from reported_claims.repo.cache import seal, unseal
from reported_claims.repo.load import RECORDS, Dataset
from reported_claims.util.fs import atomic_write, remove

CACHE = ".cache"
PREFIX = "ingest-index-"
MANIFEST = "ingest-files.pickle"
RACY = 2
"""Seconds before the record of stats is written within which a file's stat is not trusted."""

Stat = tuple[str, int, int, int, int]
"""(relative path, size, mtime_ns, ctime_ns, inode) of a file."""


def _code_version() -> bytes:
    """A hash of the package's own source, so that any change to how records are read or indexed
    makes a new key."""
    h = hashlib.sha256(f"{sys.version_info[:2]} {pickle.HIGHEST_PROTOCOL}".encode())
    package = Path(reported_claims.__file__).parent
    for path in sorted(package.rglob("*.py")):
        h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.digest()


_BY_FOLDER = os.stat in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")
"""Whether a file can be looked up in its open folder (POSIX): resolving whole paths is half the
time of a stat."""


def _stats(root: str) -> list[Stat]:
    """The stat of every file under ``records/`` and ``archive/`` of ``root``, in path order;
    folders that are links are not entered, files that are links are followed, and a file that
    cannot be read is left to ``load`` (size -1: its hash is tried, and fails, every run)."""
    out: list[Stat] = []

    def walk(rel: str, path: str) -> None:
        try:
            folder = os.open(path, os.O_RDONLY | os.O_DIRECTORY) if _BY_FOLDER else None
        except OSError:
            return
        try:
            with os.scandir(path if folder is None else folder) as it:
                entries = list(it)
            for e in entries:
                name = f"{rel}/{e.name}"
                if e.is_dir(follow_symlinks=False):
                    walk(name, os.path.join(path, e.name))
                    continue
                try:
                    st = e.stat() if folder is None else os.stat(e.name, dir_fd=folder)
                    out.append((name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
                except OSError:
                    out.append((name, -1, 0, 0, 0))
        except OSError:
            return
        finally:
            if folder is not None:
                os.close(folder)

    for folder in (RECORDS, ARCHIVE):
        walk(folder, os.path.join(root, folder))
    out.sort()
    return out


def _hash(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return "unreadable"  # load reports it; the key still changes when it is fixed


class Manifest(NamedTuple):
    """What ``.cache/ingest-files.pickle`` holds: the stats and hashes the key was made from."""

    code: bytes
    stats: list[Stat]
    digests: list[str]
    key: str
    newest: int
    """The latest modification or change time of the files (ns)."""


def _read_manifest(path: Path) -> tuple[Optional[Manifest], int]:
    """The manifest in ``path`` and the time it was written (its file's mtime), or (None, 0)."""
    try:
        with open(path, "rb") as f:
            written = os.fstat(f.fileno()).st_mtime_ns
            data = f.read()
    except OSError:
        return None, 0
    payload = unseal(data)
    if payload is None:
        return None, 0
    try:
        manifest = Manifest(*pickle.loads(payload))
    except Exception:  # noqa: BLE001 - any failure to read it back means: hash the files again
        return None, 0
    return manifest, written


def key(root: Path) -> str:
    """The content hash of ``records/`` and ``archive/`` under ``root`` and of the code."""
    root = Path(root)
    code = _code_version()
    stats = _stats(str(root))
    path = root / CACHE / MANIFEST
    saved, written = _read_manifest(path)
    trusted_before = written - RACY * 10**9
    if saved is not None and saved.code == code and saved.newest < trusted_before and saved.stats == stats:
        return saved.key
    known = dict(zip(saved.stats, saved.digests)) if saved is not None else {}
    digests = []
    for st in stats:
        recorded = known.get(st)
        if recorded is not None and max(st[2], st[3]) < trusted_before and st[1] >= 0:
            digests.append(recorded)
        else:
            digests.append(_hash(str(root / st[0])))
    h = hashlib.sha256(code)
    for st, digest in zip(stats, digests):
        h.update(f"{st[0]}\0{digest}\0".encode())
    manifest = Manifest(code, stats, digests, h.hexdigest()[:32], max((max(st[2], st[3]) for st in stats), default=0))
    sealed = seal(pickle.dumps(tuple(manifest), protocol=pickle.HIGHEST_PROTOCOL))
    if sealed is not None:
        try:
            path.parent.mkdir(exist_ok=True)
            atomic_write(path, sealed)
        except OSError:
            pass  # a read-only checkout: every run hashes the files again
    return manifest.key


class Frozen(Mapping):
    """Records by id, each kept pickled until it is asked for: reading the cache back does not
    rebuild the thousands of records an article never matches."""

    def __init__(self, records: Mapping) -> None:
        self._pickled = {k: pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL) for k, v in records.items()}
        self._read: dict = {}

    def __getstate__(self) -> dict:
        return {"_pickled": self._pickled, "_read": {}}

    def __getitem__(self, key):
        if key not in self._read:
            self._read[key] = pickle.loads(self._pickled[key])
        return self._read[key]

    def __iter__(self):
        return iter(self._pickled)

    def __len__(self) -> int:
        return len(self._pickled)

    def __contains__(self, key) -> bool:
        return key in self._pickled


def _read(path: Path) -> Context | None:
    """The index in ``path``, or None when it is missing, truncated or altered."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    payload = unseal(data)
    if payload is None:
        return None
    enabled = gc.isenabled()
    gc.disable()  # a few large arrays and many small acyclic objects: collecting only costs time
    try:
        ctx = pickle.loads(payload)
    except Exception:  # noqa: BLE001 - any failure to read it back means: build it again
        return None
    finally:
        if enabled:
            gc.enable()
    return ctx if isinstance(ctx, Context) else None


def _write(folder: Path, path: Path, ctx: Context) -> None:
    sealed = seal(pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL))
    if sealed is None:
        return  # no key can be kept on this machine: ingest works, only without the saved index
    try:
        folder.mkdir(exist_ok=True)
        atomic_write(path, sealed)
        for old in folder.glob(f"{PREFIX}*.pickle"):
            if old != path:
                remove(old)
    except OSError:
        pass  # a read-only checkout: ingest works, only without the saved index


def cached_context(root: Path, build: Callable[[], tuple[Dataset, Context]]) -> tuple[Dataset, Context]:
    """The records and index of ``root``: from the cache when its key matches, else from ``build``
    (which loads and indexes them) and then saved."""
    root = Path(root)
    folder = root / CACHE
    path = folder / f"{PREFIX}{key(root)}.pickle"
    ctx = _read(path)
    if ctx is not None:
        return ctx.dataset, ctx
    dataset, ctx = build()
    ctx.dataset = Dataset(dataset.root, claims=Frozen(dataset.claims), sources=Frozen(dataset.sources),
                          entities=dataset.entities, vocabularies=dataset.vocabularies)
    _write(folder, path, ctx)
    return ctx.dataset, ctx
