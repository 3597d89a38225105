"""A local cache of record files read and validated, so that a second run reads only what changed.

It lives in ``.cache/records.sqlite`` at the repository's root (git-ignored): one row a record
file, holding what ``repo.load`` made of it (kind, data, record, problems), keyed by the SHA-256
of the file's bytes, with what the rules across records look up in the other direction (the ids
it refers to, the words of a claim's statement), and the file's size, modification time and
inode when it was read. The whole is keyed by the code that made it (the reader, the loader, the
models and the rules within one record, and the versions of pydantic and PyYAML).

The entries are pickled, which only this machine may trust: every row is signed with an HMAC
whose key is kept outside the repository (the user's cache folder, created on first use), and so
is the index as a whole. A cache committed by someone else, edited, truncated, made by other
code, or not signed with this machine's key is ignored as a whole and rewritten; an entry is
used only for a file whose bytes hash to its key, or (``fresh``, for the files a one-file
validation draws on) whose size, time and inode are those it was read with, as git's index
trusts them. Whatever the cache holds, the results of a full read are those of a read without it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import marshal
import math
import os
import pickle
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

from reported_claims.model.graph import uses
from reported_claims.model.records import Claim
from reported_claims.problems import Problem
from reported_claims.util import fs
from reported_claims.util.collector import paused

FOLDER = ".cache"
NAME = "records.sqlite"
MAGIC = b"reported-claims records cache 2\n"
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
        h.update(sources_hash([*here.joinpath("model").glob("*.py"), *here.joinpath("repo").glob("*.py"),
                               here / "problems.py", here / "errors.py"]))
        _CODE_KEY = h.digest()
    return _CODE_KEY


def sources_hash(files: Iterable[Path]) -> bytes:
    """A hash of source files of the package (their paths within it and their bytes)."""
    here = Path(__file__).resolve().parent.parent  # the reported_claims package
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.relative_to(here).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.digest()


def trusted(stat: Stat, kept: Stat, read_ns: Optional[int]) -> bool:
    """Whether a file whose stat is ``stat`` is still the one read with ``kept`` at ``read_ns``:
    the same size, time and inode, and not modified within a time stamp's tick of being read
    (``racy``)."""
    return stat == kept and read_ns is not None and stat[1] < read_ns - racy(stat[1])


def racy(mtime_ns: int) -> int:
    """How long after a file's time stamp a read of it may not be its last state: a write in the
    same tick would leave the time as it was (git's "racy" case). ``RACY_NS`` where the time is in
    whole seconds (a file system that keeps no finer time, or one that rounds to two seconds);
    ``FINE_RACY_NS`` where it has a fraction of a second (the file system keeps the kernel's clock,
    whose ticks are a few milliseconds)."""
    return RACY_NS if mtime_ns % 1_000_000_000 == 0 else FINE_RACY_NS


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


Stat = tuple[int, int, int]
"""(size, modification time in ns, inode) of a file, as ``os.stat`` gives them."""

RACY_NS = 2_000_000_000
"""A file modified this close to when it was read may change again within the same time stamp
(git's "racy" case): its row is trusted by its hash only, never by its time (``racy``)."""
FINE_RACY_NS = 100_000_000
"""The same, for a file system whose time stamps have a fraction of a second: ten times the
coarsest tick of the kernel's clock (10 ms)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB);
CREATE TABLE IF NOT EXISTS files (
    shown TEXT PRIMARY KEY, digest TEXT NOT NULL, size INTEGER, mtime_ns INTEGER, ino INTEGER,
    read_ns INTEGER, kind TEXT, id TEXT, valid INTEGER, lname TEXT, mac BLOB NOT NULL, entry BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS refs (shown TEXT NOT NULL, target TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS words (shown TEXT NOT NULL, word TEXT NOT NULL);
"""

_INDEXES = (
    "CREATE INDEX IF NOT EXISTS files_id ON files (id)",
    "CREATE INDEX IF NOT EXISTS filesfolded_name ON files (lname)",
    "CREATE INDEX IF NOT EXISTS refs_target ON refs (target)",
    "CREATE INDEX IF NOT EXISTS refs_shown ON refs (shown)",
    "CREATE INDEX IF NOT EXISTS words_word ON words (word)",
    "CREATE INDEX IF NOT EXISTS words_shown ON words (shown)",
)
"""The indexes of what a one-file validation looks up. A database made by a run gets them once its
rows are in (``Cache.save``): a run filling a new database row by row would otherwise keep four
indexes in the order of ids and words, which costs it more than the rows (at 100,000 claims,
6.6 s against 2.6 s in all)."""


_LARGE = 1 << 20
"""From this many bytes, a value is signed and written in pieces rather than joined to its head."""

PAGE_SIZE = 16384
"""Bytes a page of the cache's database: an entry of a record with a few reports fits on one with others."""

WORDS_MIN = 0.7
"""Two claims are compared for near-duplicates only when this share (Jaccard) of the distinct
words of their statements is the same (``check.similar``)."""


def statement_words(statement: str) -> frozenset:
    """The distinct words of a statement, as near-duplicates are found by (rapidfuzz's default
    processing: lower case, no punctuation). Each word is interned: the statements of a repository
    share their words (900,000 words of 100,000 statements may be 20,000 strings)."""
    from rapidfuzz import utils  # of the build extra: only validation indexes statements

    return frozenset(map(sys.intern, utils.default_process(statement).split()))


def blocking_words(words: frozenset, count: dict[str, int]) -> list[str]:
    """The rarest words of a statement (by ``count``), so many that any statement sharing
    ``WORDS_MIN`` of its words with it holds one of them."""
    ranked = sorted(words, key=lambda w: (count.get(w, 0), w))
    return ranked[:len(ranked) - math.ceil(WORDS_MIN * len(ranked)) + 1]


@dataclass(frozen=True)
class Facts:
    """What the rules across records look up in the other direction, for one file's record."""

    refs: frozenset = frozenset()
    """The ids the record refers to."""
    words: frozenset = frozenset()
    """The words of a claim's statement, for its near-duplicates (none for a withdrawn claim)."""


_WINDOW = 2048
"""How many rows a run that reads every file reads ahead at once (``Cache.prefetch``)."""
_FLUSH = 2048
"""How many new entries a run keeps before it writes them (``Cache.put``)."""


class Cache:
    """One repository's cache: rows read when asked for, changes written once, by ``save``."""

    def __init__(self, root: Path, key_folder: Optional[Path] = None):
        self.path = Path(root) / FOLDER / NAME
        self.secret = _secret(key_folder)
        self.pending: dict[str, tuple[Entry, Optional[Stat], Facts, Optional[bytes]]] = {}
        self.used: set[str] = set()
        self.hits = 0
        self._rows: Optional[dict[str, tuple]] = None
        self._known: Optional[set[str]] = None
        """Every file the database had a row for when ``prefetch`` read their names."""
        self._last = ""
        """The last name of the window of rows ``prefetch`` read ahead."""
        self._writing = False
        """Whether this run's write transaction is open (entries are written as they come: ``put``)."""
        self._failed = False
        """Whether writing failed in this run: nothing more is written in it."""
        self.restat: dict[str, Stat] = {}
        """Files read again whose bytes are unchanged but whose stat is not the row's."""
        self.missing: set[str] = set()
        """Files the cache has a row for that were found gone in this run."""
        self.broken = False
        """Whether the database failed to answer: ``save`` then makes it again."""
        self.db: Optional[sqlite3.Connection] = None
        if self.secret is not None:
            self.db = self._open()

    # --- the file ------------------------------------------------------------------------

    def _seal(self) -> bytes:
        assert self.secret is not None
        return hmac.new(self.secret, MAGIC + code_key(), hashlib.sha256).digest()

    def _open(self) -> Optional[sqlite3.Connection]:
        """The cache's database if there is one, ours and of this code; None otherwise (a file
        that is not is removed: ``save`` makes a new one when there is something to keep)."""
        if not self.path.exists():
            return None
        db = None
        try:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            row = db.execute("SELECT value FROM meta WHERE name = 'seal'").fetchone()
            if row is not None and hmac.compare_digest(bytes(row[0]), self._seal()):
                db.execute("PRAGMA synchronous = OFF")
                return db
        except (sqlite3.Error, TypeError):
            pass
        if db is not None:
            db.close()
        try:
            os.unlink(self.path)  # not ours, not this code's, or altered
        except OSError:
            pass
        return None

    def _create(self, indexed: bool = True) -> Optional[sqlite3.Connection]:
        """A new database, with its indexes unless ``indexed`` is False (then ``save`` makes them)."""
        self.path.parent.mkdir(exist_ok=True)
        ignore = self.path.parent / ".gitignore"
        if not ignore.exists():
            fs.atomic_write(ignore, b"# made by reported-claims: a local cache, never committed\n*\n")
        tmp = self.path.with_name(f".{NAME}.{os.getpid()}")
        db = sqlite3.connect(tmp, timeout=10, isolation_level=None)
        # An entry is a few kB: on pages of 4 kB most would spill onto a page of their own.
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        db.executescript(_SCHEMA)
        for statement in _INDEXES if indexed else ():
            db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('seal', ?)", (self._seal(),))
        db.close()
        os.replace(tmp, self.path)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.execute("PRAGMA synchronous = OFF")
        return db

    def _mac(self, shown: str, digest_: str, blob: bytes) -> bytes:
        assert self.secret is not None
        head = code_key() + shown.encode() + b"\0" + digest_.encode() + b"\0"
        if len(blob) > _LARGE:  # what a build keeps: tens of MB, signed without a copy joined to its head
            mac = hmac.new(self.secret, head, "sha256")
            mac.update(blob)
            return mac.digest()
        # hmac.digest: the one-shot HMAC in C, for a row at a time over a whole repository
        return hmac.digest(self.secret, head + blob, "sha256")

    def _entry(self, shown: str, digest_: str, mac: bytes, blob: bytes) -> Optional[Entry]:
        if not hmac.compare_digest(bytes(mac), self._mac(shown, digest_, bytes(blob))):
            return None
        try:
            entry = pickle.loads(blob)
        except Exception:  # a signed row this code cannot read: stale, not an error
            return None
        return entry if isinstance(entry, Entry) and entry.digest == digest_ else None

    # --- entries by their bytes ----------------------------------------------------------

    def prefetch(self) -> None:
        """For a run that reads every file, in the order of their names: the rows are then read a
        window at a time (``_WINDOW`` rows from the name asked for, in one query) rather than one
        query a file, and never all at once (the entries of 150,000 files weigh 200 MB). The
        names of every row are read now: what a full run forgets is what it did not meet."""
        if self._rows is not None:
            return
        self._rows, self._last = {}, ""
        self._known = set()
        if self.db is not None:
            try:
                self._known = {r[0] for r in self.db.execute("SELECT shown FROM files")}
            except sqlite3.Error:
                self.broken = True

    def _prefetched(self, shown: str) -> Optional[tuple]:
        """The row of ``shown``, from the window read ahead; the next window is read when ``shown``
        is past the last row of this one, and a name asked for out of order is looked up alone."""
        rows = self._rows
        assert rows is not None and self._known is not None
        row = rows.pop(shown, None)
        if row is not None or shown not in self._known or self.db is None:
            return row
        if shown < self._last:
            return self._row(shown)
        rows.clear()
        try:
            for r in self.db.execute("SELECT shown, digest, mac, entry, size, mtime_ns, ino FROM files "
                                     "WHERE shown >= ? ORDER BY shown LIMIT ?", (shown, _WINDOW)):
                rows[r[0]] = (r[1], r[2], r[3], (r[4], r[5], r[6]))
                self._last = r[0]
        except sqlite3.Error:
            self.broken = True
            return None
        return rows.pop(shown, None)

    def _row(self, shown: str) -> Optional[tuple]:
        rows = self._query("SELECT digest, mac, entry, size, mtime_ns, ino FROM files WHERE shown = ?", (shown,))
        return (rows[0][0], rows[0][1], rows[0][2], tuple(rows[0][3:])) if rows else None

    def get(self, shown: str, file_digest: str, stat: Optional[Stat] = None) -> Optional[Entry]:
        """The entry of the file shown as ``shown`` if its bytes are still those it was made from
        (its ``stat`` now is kept with it)."""
        # A row is asked for once a run: let go of its bytes as it is made a record.
        row = self._prefetched(shown) if self._rows is not None else self._row(shown)
        if row is None or row[0] != file_digest:
            return None
        with paused():  # many small acyclic objects: the collector would only slow this down
            entry = self._entry(shown, row[0], row[1], row[2])
        if entry is None:
            return None
        if stat is not None and stat != row[3]:
            self.restat[shown] = stat
        self.used.add(shown)
        self.hits += 1
        return entry

    def put(self, shown: str, entry: Entry, stat: Optional[Stat] = None, facts: Facts = Facts(),
            blob: Optional[bytes] = None) -> None:
        """Keep ``entry`` for the file shown as ``shown``, read with ``stat``; written by ``save``.
        ``blob`` is the entry already pickled (by ``pickled``), where a worker of the pool made it.
        Every ``_FLUSH`` entries, those kept are written, within the transaction ``save`` commits,
        and let go of: a run that reads a whole repository never holds every entry at once."""
        self.pending[shown] = (entry, stat, facts, blob)
        self.used.add(shown)
        if len(self.pending) >= _FLUSH:
            if self._begin():
                self._write_pending()
            self.pending.clear()

    def _begin(self) -> bool:
        """Open this run's write transaction, once (making the database where there is none, or
        again where it broke); False when nothing is to be written in this run."""
        if self._writing:
            return True
        if self.secret is None or self._failed:
            return False
        if self.broken and self.db is not None:  # damaged since it was opened: made again from this run
            self._discard()
        try:
            if self.db is None:
                self.db = self._create(indexed=False)
            self.db.execute("BEGIN IMMEDIATE")
        except (sqlite3.Error, OSError):
            self._failed = True
            return False
        self._writing = True
        return True

    def _write_pending(self) -> None:
        """Write the entries kept and their facts into the open transaction (``_begin``); a failure
        rolls it back, and nothing more is written in this run."""
        assert self.db is not None
        db, now = self.db, time.time_ns()
        try:
            items = sorted(self.pending.items())

            def rows() -> Iterator[tuple]:  # pickled one at a time, as SQLite takes them
                for shown, (entry, stat, _, made) in items:
                    blob = made if made is not None else pickled(entry)
                    size, mtime, ino = stat if stat is not None else (None, None, None)
                    rid = entry.record.id if entry.record is not None else (
                        entry.data.get("id") if isinstance(entry.data, dict) else None)
                    yield (shown, entry.digest, size, mtime, ino, now, entry.kind,
                           rid if isinstance(rid, str) else None, entry.record is not None, folded_name(shown),
                           self._mac(shown, entry.digest, blob), blob)

            # The facts of a file replace those it had (none, for a file the database had no row for).
            had = [(shown,) for shown, _ in items if self._known is None or shown in self._known]
            db.executemany("DELETE FROM refs WHERE shown = ?", had)
            db.executemany("DELETE FROM words WHERE shown = ?", had)
            db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows())
            db.executemany("INSERT INTO refs VALUES (?, ?)",
                           ((shown, t) for shown, (_, _, facts, _) in items for t in sorted(facts.refs)))
            db.executemany("INSERT INTO words VALUES (?, ?)",
                           ((shown, w) for shown, (_, _, facts, _) in items for w in sorted(facts.words)))
        except (sqlite3.Error, OSError, pickle.PicklingError):
            self._roll_back()

    def _discard(self) -> None:
        """Close the database and remove it: a new one is made from what a run reads."""
        self.db.close()  # type: ignore[union-attr]
        self.db = None
        self.path.unlink(missing_ok=True)

    def _roll_back(self) -> None:
        """Undo what this run wrote; nothing more is written in it (a cache not written only costs
        the next run its time)."""
        self._writing, self._failed = False, True
        try:
            self.db.execute("ROLLBACK")  # type: ignore[union-attr]
        except sqlite3.Error:
            pass

    def save(self, complete: bool = False) -> None:
        """Write what changed in this run; with ``complete`` (every file of the repository was met),
        also forget the rows of files not met. Never fails the run."""
        try:
            self._save(complete)
        finally:
            self.pending.clear()
            self.restat.clear()

    def _save(self, complete: bool) -> None:
        if self._writing and self.broken:
            # The database failed to answer after this run began writing: what it wrote is undone,
            # and the database made again by the next run.
            self._roll_back()
            self._discard()
            return
        if not self._writing:
            if self.secret is None or not (self.pending or self.restat or (complete and self.db is not None)):
                return
            if not (self.pending or self.restat or self.broken) and self.knows_all and len(self) == len(self.used):
                return  # every row was met and none changed
            if not self._begin():
                return
        assert self.db is not None
        self._write_pending()
        if not self._writing:
            return
        db, now = self.db, time.time_ns()
        try:
            db.executemany("UPDATE files SET size = ?, mtime_ns = ?, ino = ?, read_ns = ? WHERE shown = ?",
                           [(*st, now, shown) for shown, st in self.restat.items() if shown not in self.pending])
            if complete and self._known is not None and not self.broken:
                # Every row there was is known from ``prefetch``: those of files not met go by name.
                gone = [(shown,) for shown in sorted(self._known - self.used)]
                for table in ("files", "refs", "words"):
                    db.executemany(f"DELETE FROM {table} WHERE shown = ?", gone)
            elif complete:
                db.execute("CREATE TEMP TABLE IF NOT EXISTS met (shown TEXT PRIMARY KEY)")
                db.execute("DELETE FROM met")
                db.executemany("INSERT INTO met VALUES (?)", [(u,) for u in self.used])
                for table in ("files", "refs", "words"):
                    db.execute(f"DELETE FROM {table} WHERE shown NOT IN (SELECT shown FROM met)")
            if complete:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('complete', ?)", (str(now),))
            for statement in _INDEXES:  # a new database's, now that its rows are in
                db.execute(statement)
            db.execute("COMMIT")
            self._writing = False
        except (sqlite3.Error, OSError):
            self._roll_back()

    # --- what a one-file validation draws on ---------------------------------------------

    def __len__(self) -> int:
        """How many files the cache holds."""
        rows = self._query("SELECT count(*) FROM files", ())
        return rows[0][0] if rows else 0

    @property
    def knows_all(self) -> bool:
        """Whether a run has met every file of the repository since the cache was made."""
        try:
            return self.db is not None and self.db.execute(
                "SELECT 1 FROM meta WHERE name = 'complete'").fetchone() is not None
        except sqlite3.Error:
            return False

    def _query(self, sql: str, args: Iterable) -> list[tuple]:
        if self.db is None:
            return []
        try:
            return self.db.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error:
            self.broken = True
            return []

    def _many(self, sql: str, values: Iterable[str]) -> set[str]:
        """The first column of ``sql`` (with one ``{}`` for a list of values), for every value."""
        out: set[str] = set()
        values = sorted(set(values))
        for k in range(0, len(values), 500):
            part = values[k:k + 500]
            out |= {r[0] for r in self._query(sql.format(", ".join("?" * len(part))), part)}
        return out

    def shown_of_ids(self, ids: Iterable[str]) -> set[str]:
        """Files whose record has one of these ids."""
        return self._many("SELECT shown FROM files WHERE id IN ({})", ids)

    def shown_of_names(self, names: Iterable[str]) -> set[str]:
        """Files of the same folder and name, by case (``folded_name``)."""
        return self._many("SELECT shown FROM files WHERE lname IN ({})", names)

    def referring(self, ids: Iterable[str]) -> set[str]:
        """Files whose record refers to one of these ids."""
        return self._many("SELECT shown FROM refs WHERE target IN ({})", ids)

    def word_counts(self, words: Iterable[str]) -> dict[str, int]:
        """How many statements hold each word."""
        words = sorted(set(words))
        rows = self._query(f"SELECT word, count(*) FROM words WHERE word IN ({', '.join('?' * len(words))}) GROUP BY word",
                           words) if words else []
        return {w: 0 for w in words} | {w: n for w, n in rows}

    def with_words(self, words: Iterable[str]) -> set[str]:
        """Files whose claim's statement holds one of these words."""
        return self._many("SELECT shown FROM words WHERE word IN ({})", words)

    def ids(self, kind: str) -> list[str]:
        """Every id of a kind's records that validated, as the cache knows them."""
        return [r[0] for r in self._query("SELECT id FROM files WHERE kind = ? AND valid AND id IS NOT NULL", (kind,))]

    def digests(self, shown: Optional[Iterable[str]] = None) -> dict[str, tuple[str, Stat, Optional[int]]]:
        """shown -> (digest, stat, when read) of every row (or of those ``shown``), without the entries."""
        sql = "SELECT shown, digest, size, mtime_ns, ino, read_ns FROM files"
        if shown is None:
            rows = self._query(sql, ())
        else:
            names = sorted(set(shown))
            rows = [r for k in range(0, len(names), 500)
                    for r in self._query(f"{sql} WHERE shown IN ({', '.join('?' * len(names[k:k + 500]))})",
                                         names[k:k + 500])]
        return {r[0]: (r[1], (r[2], r[3], r[4]), r[5]) for r in rows}

    def fresh(self, shown: str, stat: Stat) -> Optional[Entry]:
        """The entry of a file not read in this run, if its size, time and inode are those it was
        read with and it was not modified within a tick of being read (``trusted``)."""
        rows = self._query("SELECT digest, size, mtime_ns, ino, read_ns, mac, entry FROM files WHERE shown = ?", (shown,))
        if not rows:
            return None
        digest_, size, mtime, ino, read_ns, mac, blob = rows[0]
        if not trusted(stat, (size, mtime, ino), read_ns):
            return None
        entry = self._entry(shown, digest_, mac, blob)
        if entry is not None:
            self.used.add(shown)
            self.hits += 1
        return entry


def pickled(entry: Entry) -> bytes:
    """An entry as the cache keeps it."""
    return pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)


def folded_name(shown: str) -> str:
    """A file's path with its name in lower case: files differing only by case share it."""
    folder, name = os.path.split(shown)
    return f"{folder}/{name.lower()}"


def facts_of(entry: Entry, refs: Optional[Iterable[tuple[str, str]]] = None) -> Facts:
    """The facts of an entry's record (none for a file that did not validate); ``refs``, the
    (kind, id) its record refers to, where a walk of it (``graph.uses``) has already found them."""
    record = entry.record
    if record is None:
        return Facts()
    words = statement_words(record.statement) if isinstance(record, Claim) and record.status != "withdrawn" else frozenset()
    if refs is None:
        refs = uses(record)[0]
    return Facts(frozenset(rid for _, rid in refs), words)  # type: ignore[arg-type]


# --- what the last build wrote, record by record (``package.incremental``) ----------------


class LastBuild:
    """What the last build wrote, kept in the cache and signed like the entries: its settings
    and the hashes of the package it wrote (``manifest``), each record's file, digest and
    references (``records``), and where each record's lines stand in each file (``layouts``).
    Each is a signed value (the records one a column, each made and written in turn: at 100,000
    claims they are tens of MB), saved in one transaction."""

    COLUMNS = ("ids", "shown", "digests", "refs", "stats")
    """The columns of ``records``, each its own value."""
    NAMES = ("built", *(f"built-records-{column}" for column in COLUMNS), "built-layouts")

    def __init__(self, cache: Cache):
        self.cache = cache

    def _get(self, name: str) -> Optional[bytes]:
        rows = self.cache._query("SELECT value FROM meta WHERE name = ?", (name,))
        if not rows:
            return None
        blob = bytes(rows[0][0])
        mac, payload = blob[:_DIGEST], blob[_DIGEST:]
        return payload if hmac.compare_digest(mac, self.cache._mac(name, "", payload)) else None

    def manifest(self) -> Optional[dict]:
        """The package hashes and settings of the last build, if one was kept and is ours."""
        payload = self._get("built")
        try:
            value = json.loads(payload) if payload is not None else None
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def records(self) -> Optional[tuple]:
        """What the last build kept of the records it wrote (``package.incremental.Recorded``'s columns)."""
        out = []
        for column in self.COLUMNS:
            payload = self._get(f"built-records-{column}")
            if payload is None:
                return None
            # Signed: written by this machine's code and Python (the cache is keyed by its version).
            # marshal, not pickle: a string or bytes.
            out.append(marshal.loads(payload))
        return tuple(out)

    def layouts(self) -> Optional[dict[str, tuple[int, bytes, bytes]]]:
        """File -> (where its first record starts, the ids of its records in order joined by new
        lines, the length of each one's part as an ``array('I')``'s bytes)."""
        payload = self._get("built-layouts")
        return pickle.loads(payload) if payload is not None else None  # signed, as above

    def save(self, manifest: dict, records: Iterable,
             layouts: dict[str, tuple[int, bytes, bytes]]) -> None:
        """Keep what a build wrote (``records``, its columns in turn, and ``layouts`` as their
        readers give them). The columns may be made as they are asked for: each is let go once
        it is written."""
        if self.cache.db is None and self.cache.secret is not None:
            try:
                self.cache.db = self.cache._create()
            except (sqlite3.Error, OSError):
                return
        db = self.cache.db
        if db is None:
            return
        columns = iter(records)
        values = (lambda: json.dumps(manifest, sort_keys=True).encode(),
                  *(lambda: marshal.dumps(next(columns)) for _ in self.COLUMNS),
                  lambda: pickle.dumps(layouts, protocol=pickle.HIGHEST_PROTOCOL))
        try:
            db.execute("BEGIN IMMEDIATE")
            for name, value in zip(self.NAMES, values, strict=True):
                payload = value()  # one at a time
                mac = self.cache._mac(name, "", payload)
                # The signature and then the payload, written into the row's value in two pieces
                # rather than joined first.
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, zeroblob(?))", (name, len(mac) + len(payload)))
                (rowid,) = db.execute("SELECT rowid FROM meta WHERE name = ?", (name,)).fetchone()
                with db.blobopen("meta", "value", rowid) as blob:
                    blob.write(mac)
                    blob.write(payload)
                del payload
            db.execute("COMMIT")
        except sqlite3.Error:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def forget(self) -> None:
        """No build to build on (the next is a full one)."""
        try:
            if self.cache.db is not None:
                self.cache.db.execute(f"DELETE FROM meta WHERE name IN ({', '.join('?' * len(self.NAMES))})", self.NAMES)
        except sqlite3.Error:
            pass
