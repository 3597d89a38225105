"""The index ingest compares an article with, kept between runs like a build cache.

Reading every record and archived text and indexing them is most of an ingest's time on a large
repository. The indexed records (``propose.Context``) are written to
``.cache/ingest-index-<key>.pickle`` in the repository, where the key is a hash of the content
of every file under ``records/`` and ``archive/`` and of the code that builds the index. A later
run with the same key reads the index instead. The file is sealed with this machine's key
(``repo.cache.seal``, kept outside the repository), so a truncated or altered file, or one made
elsewhere and committed, is ignored and never unpickled; a stale one has another key and is
removed when the new one is written. ``.cache/ingest-files.json`` keeps each file's hash with its
size and modification time, so that an unchanged file is not read again to compute the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Callable, Mapping

import reported_claims
from reported_claims.check.quotes import ARCHIVE
from reported_claims.ingest.propose import Context
from reported_claims.repo.cache import seal, unseal
from reported_claims.repo.load import RECORDS, Dataset
from reported_claims.util.fs import atomic_write, remove

CACHE = ".cache"
PREFIX = "ingest-index-"
MANIFEST = "ingest-files.json"
RACY = 2


def _code_version() -> bytes:
    """A hash of the package's own source, so that any change to how records are read or indexed
    makes a new key."""
    h = hashlib.sha256(f"{sys.version_info[:2]} {pickle.HIGHEST_PROTOCOL}".encode())
    package = Path(reported_claims.__file__).parent
    for path in sorted(package.rglob("*.py")):
        h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.digest()


def _files(root: str, folders: list[str]) -> list[tuple[str, str]]:
    """(relative path, path) of every file under ``folders`` of ``root``, in order; links are
    not followed."""
    out: list[tuple[str, str]] = []
    for rel in folders:
        try:
            entries = sorted(os.scandir(os.path.join(root, rel)), key=lambda e: e.name)
        except OSError:
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                out += _files(root, [f"{rel}/{e.name}"])
            else:
                out.append((f"{rel}/{e.name}", e.path))
    return out


def _digests(root: Path, folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``records/`` and ``archive/``.

    Like git's index, a file whose size and modification time are those recorded in
    ``folder/ingest-files.json`` keeps its recorded hash instead of being read again, unless it
    was modified less than ``RACY`` seconds before that record was written (a later change
    within the clock's resolution would not show)."""
    manifest = folder / MANIFEST
    try:
        saved = json.loads(manifest.read_text(encoding="utf-8"))
        written, known = int(saved["written"]), dict(saved["files"])
    except (OSError, ValueError, KeyError, TypeError):
        written, known = 0, {}
    out: dict[str, str] = {}
    seen: dict[str, list] = {}
    changed = False
    trusted_before = written - RACY * 10**9
    for rel, full in _files(str(root), [RECORDS, ARCHIVE]):
        try:
            st = os.stat(full)
            entry = known.get(rel)
            if (isinstance(entry, list) and len(entry) == 3 and entry[:2] == [st.st_size, st.st_mtime_ns]
                    and st.st_mtime_ns < trusted_before):
                digest = entry[2]
            else:
                with open(full, "rb") as f:
                    digest, changed = hashlib.sha256(f.read()).hexdigest(), True
            seen[rel] = [st.st_size, st.st_mtime_ns, digest]
        except OSError:
            digest = "unreadable"  # load reports it; the key still changes when it is fixed
        out[rel] = digest
    if changed or set(seen) != set(known):
        try:
            folder.mkdir(exist_ok=True)
            atomic_write(manifest, json.dumps({"written": time.time_ns(), "files": seen}))
        except OSError:
            pass
    return out


def key(root: Path) -> str:
    """The content hash of ``records/`` and ``archive/`` under ``root`` and of the code."""
    root = Path(root)
    h = hashlib.sha256(_code_version())
    for rel, digest in _digests(root, root / CACHE).items():
        h.update(f"{rel}\0{digest}\0".encode())
    return h.hexdigest()[:32]


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
    try:
        ctx = pickle.loads(payload)
    except Exception:  # noqa: BLE001 - any failure to read it back means: build it again
        return None
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
