"""The index ingest compares an article with, kept between runs like a build cache.

Reading every record and archived text and indexing them is most of an ingest's time on a large
repository. The indexed records (``propose.Context``) are written to
``.cache/ingest-index-<key>.pickle`` in the repository, where the key is a hash of the content
of every file under ``records/`` and ``archive/`` and of the code that builds the index. A later
run with the same key reads the index instead. The file starts with the SHA-256 of what follows,
so a truncated or altered file is detected and ignored; a stale one has another key and is
removed when the new one is written.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import Callable

import reported_claims
from reported_claims.check.quotes import ARCHIVE
from reported_claims.ingest.propose import Context
from reported_claims.repo.load import RECORDS, Dataset
from reported_claims.util.fs import atomic_write, remove

CACHE = ".cache"
PREFIX = "ingest-index-"
_DIGEST = hashlib.sha256().digest_size


def _code_version() -> bytes:
    """A hash of the package's own source, so that any change to how records are read or indexed
    makes a new key."""
    h = hashlib.sha256(f"{sys.version_info[:2]} {pickle.HIGHEST_PROTOCOL}".encode())
    package = Path(reported_claims.__file__).parent
    for path in sorted(package.rglob("*.py")):
        h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.digest()


def key(root: Path) -> str:
    """The content hash of ``records/`` and ``archive/`` under ``root`` and of the code."""
    h = hashlib.sha256(_code_version())
    for folder in (RECORDS, ARCHIVE):
        base = Path(root) / folder
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(dirpath) / name
                h.update(str(path.relative_to(root)).encode() + b"\0")
                try:
                    h.update(hashlib.sha256(path.read_bytes()).digest())
                except OSError:
                    h.update(b"unreadable")  # load reports it; the key still changes when it is fixed
    return h.hexdigest()[:32]


def _read(path: Path) -> Context | None:
    """The index in ``path``, or None when it is missing, truncated or altered."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    digest, payload = data[:_DIGEST], data[_DIGEST:]
    if len(digest) != _DIGEST or hashlib.sha256(payload).digest() != digest:
        return None
    try:
        ctx = pickle.loads(payload)
    except Exception:  # noqa: BLE001 - any failure to read it back means: build it again
        return None
    return ctx if isinstance(ctx, Context) else None


def _write(folder: Path, path: Path, ctx: Context) -> None:
    payload = pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        folder.mkdir(exist_ok=True)
        atomic_write(path, hashlib.sha256(payload).digest() + payload)
        for old in folder.glob(f"{PREFIX}*"):
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
    slim = Dataset(dataset.root, claims=dataset.claims, sources=dataset.sources, entities=dataset.entities,
                   vocabularies=dataset.vocabularies)
    ctx.dataset = slim
    _write(folder, path, ctx)
    return slim, ctx
