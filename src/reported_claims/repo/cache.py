"""A local cache of record files read and validated, so that a second run reads only what changed.

It lives in ``.cache/`` at the repository's root (git-ignored) as one file: every entry
holds what ``repo.load`` made of one record file (kind, data, record, problems), keyed by the
SHA-256 of the file's bytes, and the whole is keyed by the code that made it (the reader,
the loader, the models and the versions of pydantic and PyYAML).

The entries are pickled, which only this machine may trust: the file is signed with an HMAC
whose key is kept outside the repository (the user's cache folder, created on first use). A
cache committed by someone else, edited, truncated, made by other code, or not signed with
this machine's key is ignored as a whole and rewritten; an entry is used only for a file
whose bytes hash to its key. Whatever the cache holds, the results are those of a full read.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from reported_claims.problems import Problem
from reported_claims.util import fs

FOLDER = ".cache"
NAME = "records.pickle"
MAGIC = b"reported-claims records cache 1\n"
_DIGEST = hashlib.sha256().digest_size


@dataclass(frozen=True)
class Entry:
    """What loading one record file gave, for the file whose bytes have ``digest``."""

    digest: str
    kind: Optional[str]
    data: object
    record: object
    problems: tuple[Problem, ...]
    refused: frozenset


def digest(data: bytes) -> str:
    """The key of a file's entry: the SHA-256 of its bytes."""
    return hashlib.sha256(data).hexdigest()


_CODE_KEY: Optional[bytes] = None


def code_key() -> bytes:
    """A hash of the code whose results the cache holds: change any of it and the cache is stale."""
    global _CODE_KEY
    if _CODE_KEY is None:
        import pydantic
        import pydantic_core
        import yaml

        from reported_claims._version import __version__

        here = Path(__file__).resolve().parent.parent  # the reported_claims package
        h = hashlib.sha256()
        for part in (__version__, pydantic.VERSION, pydantic_core.__version__, yaml.__version__,
                     sys.version, str(yaml.__with_libyaml__)):
            h.update(part.encode() + b"\0")
        sources = sorted([*here.joinpath("model").glob("*.py"), *here.joinpath("repo").glob("*.py"),
                          here / "problems.py", here / "errors.py"])
        for path in sources:
            h.update(path.relative_to(here).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        _CODE_KEY = h.digest()
    return _CODE_KEY


def seal(payload: bytes, key_folder: Optional[Path] = None) -> Optional[bytes]:
    """``payload`` signed with this machine's key, for a cache file; None when no key can be kept.

    Every cache of pickled data goes through ``seal`` and ``unseal``: a file that someone else
    made (committed to a pull request, say) is never unpickled."""
    secret = _secret(key_folder)
    return None if secret is None else hmac.new(secret, payload, hashlib.sha256).digest() + payload


def unseal(blob: bytes, key_folder: Optional[Path] = None) -> Optional[bytes]:
    """The payload of a file ``seal`` wrote on this machine; None for anything else."""
    secret = _secret(key_folder)
    signature, payload = blob[:_DIGEST], blob[_DIGEST:]
    if secret is None or len(signature) != _DIGEST:
        return None
    return payload if hmac.compare_digest(signature, hmac.new(secret, payload, hashlib.sha256).digest()) else None


def _secret(folder: Optional[Path] = None) -> Optional[bytes]:
    """This machine's signing key, made on first use; None when it cannot be kept."""
    if folder is None:
        import platformdirs

        folder = Path(platformdirs.user_cache_dir("reported-claims"))
    path = folder / "cache-key"
    try:
        key = path.read_bytes()
        if len(key) == 32:
            return key
    except OSError:
        pass
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Readable by its owner only from the start; linked into place so that two runs making
        # a key at once agree on the first one.
        tmp = folder / f".cache-key.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        key = path.read_bytes()
        return key if len(key) == 32 else None
    except OSError:
        return None


class Cache:
    """The entries of one repository's cache: read once, updated while loading, saved once."""

    def __init__(self, root: Path, key_folder: Optional[Path] = None):
        self.path = Path(root) / FOLDER / NAME
        self.secret = _secret(key_folder)
        self.entries: dict[str, Entry] = {}
        self.used: set[str] = set()
        self.changed = False
        self.hits = 0
        if self.secret is not None:
            self.entries = self._read()

    def _sign(self, payload: bytes) -> bytes:
        assert self.secret is not None
        return hmac.new(self.secret, code_key() + payload, hashlib.sha256).digest()

    def _read(self) -> dict[str, Entry]:
        try:
            blob = self.path.read_bytes()
        except OSError:
            return {}
        head, signature, payload = blob[:len(MAGIC)], blob[len(MAGIC):len(MAGIC) + _DIGEST], blob[len(MAGIC) + _DIGEST:]
        if head != MAGIC or not hmac.compare_digest(signature, self._sign(payload)):
            return {}  # not ours, not this code's, or altered: ignored and rewritten
        enabled = gc.isenabled()
        gc.disable()  # many small acyclic objects: the collector would only slow this down
        try:
            entries = pickle.loads(payload)
        except Exception:  # a signed payload this code cannot read: stale, not an error
            return {}
        finally:
            if enabled:
                gc.enable()
        return entries if isinstance(entries, dict) else {}

    def get(self, shown: str, file_digest: str) -> Optional[Entry]:
        """The entry of the file shown as ``shown`` if its bytes are still those it was made from."""
        entry = self.entries.get(shown)
        if entry is None or entry.digest != file_digest:
            return None
        self.used.add(shown)
        self.hits += 1
        return entry

    def put(self, shown: str, entry: Entry) -> None:
        self.entries[shown] = entry
        self.used.add(shown)
        self.changed = True

    def save(self) -> None:
        """Write the entries of the files met in this run, if anything changed; never fails the run."""
        if self.secret is None:
            return
        if not self.changed and self.used >= set(self.entries):
            return
        keep = {k: v for k, v in self.entries.items() if k in self.used}
        try:
            payload = pickle.dumps(keep, protocol=pickle.HIGHEST_PROTOCOL)
            self.path.parent.mkdir(exist_ok=True)
            ignore = self.path.parent / ".gitignore"
            if not ignore.exists():
                fs.atomic_write(ignore, b"# made by reported-claims: a local cache, never committed\n*\n")
            fs.atomic_write(self.path, MAGIC + self._sign(payload) + payload)
        except (OSError, pickle.PicklingError):
            pass  # a cache not written only costs the next run its time
