"""A build after a few edits: only the records they touch are read and their rows made again.

A build keeps in the records cache (``repo.cache.LastBuild``) the file and digest of each
record it wrote, what each referred to, where each record's lines stand in each file of the
package (its *layout*), and the hashes of the package files, the archived texts and the
vocabularies it wrote them from. The next build, when the package on disk is still that one and
the archived texts and vocabularies are unchanged, finds the record files whose bytes changed,
validates them with the records their rules draw on (``repo.load``'s one-file path), makes again
the rows of those records and of every record that refers to them (directly, or through the
sources deriving from them), and splices them into the files it wrote last time: the runs of
records between them are copied as they stand (from the file mapped, not read), and a file none of
whose records changed is linked as it is. That is byte for byte the package a full build writes (a
test holds the two to that). The package files are trusted by their stat as a build left them
(``cache.trusted``), the others read and hashed. Anything else — many changes, a removed record, a changed
vocabulary or archived text, no kept build — is a full build.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import mmap
import os
import time
from array import array
from bisect import bisect_left
from itertools import accumulate, repeat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Optional, Union

from reported_claims.check.quotes import ARCHIVE
from reported_claims.check.validate import Result, validate
from reported_claims.model.graph import references, uses
from reported_claims.model.kinds import kind as kind_named
from reported_claims.package import DATA, schemas
from reported_claims.model.records import Claim, Entity, Source
from reported_claims.package.tables import Context, Table, table_kinds
from reported_claims.repo.cache import Cache, LastBuild, digest, sources_hash, trusted
from reported_claims.repo.load import POOL_FILES, RECORDS, Dataset, load, record_entries
from reported_claims.util.collector import paused
from reported_claims.util.pool import pulled, workers

LIMIT = 2000
"""Past this many records to make again, a full build is as quick."""


def inputs_hash(root: Path) -> str:
    """One hash of what every record's rows may depend on besides the records: the archived
    texts, and the vocabulary files."""
    h = hashlib.sha256()
    for folder in (root / ARCHIVE, root / RECORDS / "vocabularies"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file():
                h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@functools.cache
def code_hash() -> str:
    """A hash of the package's own source: rows kept by other code are never reused."""
    return sources_hash(Path(__file__).resolve().parent.parent.rglob("*.py")).hex()


Layout = tuple[int, bytes, bytes]
"""Where a file's records stand: the offset of the first, their ids in order joined by new lines,
and the length of each one's part (``array('I')``'s bytes)."""


class _Sink(NamedTuple):
    """A file for ``csv.writer`` whose ``write`` is a function's: the writer calls it once a row."""

    write: Callable[[str], object]


def csv_lines(body: list[list[str]]) -> list[str]:
    """The rows of a table's body as CSV lines, one a row, each with its line end: a record's
    part of a CSV file is its run of lines."""
    lines: list[str] = []
    csv.writer(_Sink(lines.append), lineterminator="\n").writerows(body)
    return lines


class Kept(NamedTuple):
    """A file of the last build that holds no record made again: this build links it as it stands."""

    path: Path
    sha256: str
    """Its hash, as the last build wrote it (``plan`` checked that the package on disk is that one)."""


class Span(NamedTuple):
    """A run of records of the last build's file kept as it stands: its bytes from ``start`` to
    ``stop``, copied (by the kernel where it can) rather than read into this process."""

    path: Path
    start: int
    stop: int


Written = Union[bytes, Iterable[Union[bytes, Span]], Kept]
"""A package file to write: its bytes, the pieces to write one after another (bytes or spans of
the last build's file, in a list or as they are made), or the last build's file as it stands."""


def _form(rel: str) -> tuple[bytes, bytes]:
    """What stands between two records of a package file, and after the last: a JSON resource
    is laid out as ``schemas.dumps_list`` lays out a list; a CSV's lines follow one another."""
    return (schemas.LIST_SEP, schemas.LIST_CLOSE) if rel.endswith(".json") else (b"", b"")


@dataclass
class Parts:
    """What a build writes of each record: the layout of every file (kept for the next build) and,
    for an incremental build, the last build's files and layouts to splice the records made again into."""

    folder: Optional[Path] = None
    """The published package folder (for an incremental build): its files are the last build's."""
    kept: Optional[dict[str, Layout]] = None
    """The last build's layouts, by file (for an incremental build)."""
    again: frozenset = frozenset()
    """The ids made again (for an incremental build): their old lines are dropped."""
    made: set[str] = field(default_factory=set)
    """The ids whose lines this build made."""
    layouts: dict[str, Layout] = field(default_factory=dict)
    """The layout of each file this build wrote."""
    hashes: dict[str, str] = field(default_factory=dict)
    """The SHA-256 of each file of the last build's package (for an incremental build)."""
    stats: dict[str, tuple] = field(default_factory=dict)
    """(size, time, inode) of each package file as this build left it, so that the next can trust
    the file's hash while its stat is that one (``package_hashes``)."""
    refs: list[tuple[list[str], str]] = field(default_factory=list)
    """What the records a full build made refer to, found as it made their rows, a run of records
    at a time: the run's ids in order, and each one's references (``joined_refs``) a line each.
    ``remember`` keeps them."""

    @property
    def incremental(self) -> bool:
        return self.kept is not None

    def part(self) -> "Parts":
        """Parts of the same build with nothing written yet, to write some files and be ``merge``d back."""
        return Parts(self.folder, self.kept, self.again, hashes=self.hashes)

    def merge(self, other: "Parts") -> None:
        self.made |= other.made
        self.layouts.update(other.layouts)
        self.stats.update(other.stats)
        self.refs += other.refs

    def table(self, t: Table, header: list[str], body: list[list[str]]) -> Written:
        """The CSV of a table from the rows made now (and for an incremental build, the last build's lines of the others)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        head = out.getvalue().encode("utf-8")
        if table_kinds()[t.name] is None:
            writer.writerows(body)
            return out.getvalue().encode("utf-8")
        lines = csv_lines(body)  # one line a row
        mine: dict[str, list[str]] = {}
        for row, line in zip(body, lines):
            mine.setdefault(row[0], []).append(line)
        pieces = {rid: "".join(lines).encode("utf-8") for rid, lines in mine.items()}
        return self._write(f"{DATA}/{t.name}.csv", head, pieces, head)

    def json(self, rel: str, pieces: Iterable[tuple[str, bytes]]) -> Written:
        """A JSON resource (``schemas.dumps_list``'s layout) from the records dumped now (and the last
        build's others), given in id order. For a full build, its pieces as they come: each record's
        part is written as it is dumped."""
        if self.kept is None:
            return self._streamed(rel, schemas.LIST_OPEN, pieces, schemas.LIST_EMPTY)
        return self._write(rel, schemas.LIST_OPEN, dict(pieces), schemas.LIST_EMPTY)

    def _streamed(self, rel: str, start: bytes, pieces: Iterable[tuple[str, bytes]], empty: bytes) -> Iterator[bytes]:
        """A full build's file: ``start`` and the part of each record, given in id order, laid out as
        ``_form`` says (``empty`` when there is none), as they come; its layout is kept in
        ``layouts`` once the last is written."""
        sep, end = _form(rel)
        ids: list[bytes] = []
        lengths = array("I")
        for rid, piece in pieces:
            key = rid.encode()
            if ids and key <= ids[-1]:  # the context sorts its records by id, and ids are unique
                raise RuntimeError(f"{rel}: {rid} comes after {ids[-1].decode()}, not in id order")
            yield sep if ids else start
            ids.append(key)
            lengths.append(len(piece))
            yield piece
        yield end if ids else empty
        self.made.update(rid.decode() for rid in ids)
        self.layouts[rel] = (len(start), b"\n".join(ids), lengths.tobytes())

    def _write(self, rel: str, start: bytes, pieces: dict[str, bytes], empty: bytes) -> Written:
        """``start`` and the part of each record in id order, laid out as ``_form`` says
        (``empty`` when there is none); its layout is kept in ``layouts``. A file of an incremental
        build that gains, loses and changes no record is the last build's, ``Kept``."""
        if self.kept is None:
            return self._streamed(rel, start, sorted(pieces.items(), key=lambda item: item[0].encode()), empty)
        sep, end = _form(rel)
        self.made |= pieces.keys()
        new = {rid.encode(): piece for rid, piece in pieces.items()}
        layout = self.kept[rel]
        old_ids = layout[1].split(b"\n") if layout[1] else []
        ids, chunks, lengths = self._splice(self.folder / rel, layout, old_ids, start, new, sep)  # type: ignore[operator]
        if len(chunks) == 1 and isinstance(chunks[0], Span) and len(ids) == len(old_ids) and rel in self.hashes:
            # One run of the last build's records, all of them: the file is the last build's.
            self.layouts[rel] = layout
            return Kept(self.folder / rel, self.hashes[rel])  # type: ignore[operator]
        self.layouts[rel] = (len(start), b"\n".join(ids), lengths.tobytes())
        if not chunks:
            return empty
        out = [start, chunks[0]]  # written one after another: a spliced file's runs are spans of the old one
        for chunk in chunks[1:]:
            out += (sep, chunk)
        out.append(end)
        return out

    def _splice(self, path: Path, layout: Layout, ids: list[bytes], start: bytes, new: dict[bytes, bytes],
                sep: bytes) -> tuple[list, list, array]:
        """The last build's file (``path``, with ``ids`` the layout's) with the records made again
        put in: the runs of records between them taken whole (``Span``), a record made again the
        same as it was left in its run. (ids, chunks to join with ``sep``, lengths). The file is
        mapped to compare a record's old part with its new one: only those pages are read."""
        view = _mapped(path)
        base, _, packed = layout
        if ids and view[:base] != start:
            raise RuntimeError("the first line of a package file is not the one the last build wrote")
        lengths = array("I")
        lengths.frombytes(packed)
        step = len(sep)
        starts = array("Q", accumulate((n + step for n in lengths), initial=base))  # where each old record starts
        out_ids: list[bytes] = []
        out_lengths = array("I")
        chunks: list = []
        pos = 0  # the first old record not yet taken

        def keep(upto: int) -> None:
            """Take the old records pos..upto-1 as one run."""
            if upto > pos:
                chunks.append(Span(path, starts[pos], starts[upto] - step))
                out_ids.extend(ids[pos:upto])
                out_lengths.extend(lengths[pos:upto])

        for rid in sorted(new.keys() | {a.encode() for a in self.again}):
            at = bisect_left(ids, rid, pos)
            present = at < len(ids) and ids[at] == rid
            if present and rid in new and view[starts[at]:starts[at] + lengths[at]] == new[rid]:
                continue  # made again as it was: it stays in its run
            keep(at)
            pos = at + 1 if present else at  # a record made again: its old part is dropped
            if rid in new:
                chunks.append(new[rid])
                out_ids.append(rid)
                out_lengths.append(len(new[rid]))
        keep(len(ids))
        return out_ids, chunks, out_lengths

    def fits(self, folder: Path) -> bool:
        """Whether each kept layout accounts for its file's size exactly (the package on disk is the last build's)."""
        for rel, (base, blob, packed) in (self.kept or {}).items():
            count = len(packed) // array("I").itemsize
            sep, end = _form(rel)
            lengths = array("I")
            lengths.frombytes(packed)
            want = base + sum(lengths) + len(sep) * max(count - 1, 0) + len(end) if count else None
            try:
                size = (folder / rel).stat().st_size
            except OSError:
                return False
            if want is not None and size != want:
                return False
        return True


def _mapped(path: Path) -> memoryview:
    """The bytes of a file, mapped rather than read: a record's old part is compared with its new
    one without reading the rest."""
    with open(path, "rb") as fh:
        if not os.fstat(fh.fileno()).st_size:
            return memoryview(b"")
        return memoryview(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))


class Recorded:
    """What a build keeps of each record it wrote, for the next to build on: its file, the digest
    of its bytes, the ids it refers to, and the file's stat when read (the digest is the file's
    while its stat is that one, ``cache.trusted``). Kept in columns, each one value, so that the
    next build reads them for 100,000 records in a few hundredths of a second."""

    def __init__(self, ids: list[str], shown: list[str], digests: bytearray, refs: list[str], stats: array):
        self.ids, self.shown, self.digests, self.refs, self.stats = ids, shown, digests, refs, stats
        """``digests``: 32 bytes a record; ``refs``: each record's joined by spaces; ``stats``:
        (size, time, inode, when read or -1) a record."""

    @functools.cached_property
    def at(self) -> dict[str, int]:
        """Record id -> its place (made when first asked: a plan reads the columns only)."""
        return {rid: i for i, rid in enumerate(self.ids)}

    @classmethod
    def new(cls) -> "Recorded":
        return cls([], [], bytearray(), [], array("q"))

    @classmethod
    def of(cls, value) -> Optional["Recorded"]:
        """From what ``value()`` gave (as ``LastBuild.records`` reads it back); None if it is not that."""
        try:
            ids, shown, digests, refs, packed = value
            stats = array("q")
            stats.frombytes(packed)
            out = cls(ids.split("\n") if ids else [], shown.split("\n") if shown else [], bytearray(digests),
                      refs.split("\n") if ids else [], stats)
        except (TypeError, ValueError, AttributeError):
            return None
        n = len(out.ids)
        if not (len(out.shown) == len(out.refs) == n and len(out.digests) == 32 * n and len(out.stats) == 4 * n):
            return None
        return out

    def value(self) -> tuple:
        return ("\n".join(self.ids), "\n".join(self.shown), bytes(self.digests), "\n".join(self.refs), self.stats.tobytes())

    def digest(self, i: int) -> str:
        return self.digests[32 * i:32 * i + 32].hex()

    def stat(self, i: int) -> tuple[tuple[int, int, int], Optional[int]]:
        """The stat record ``i``'s file was read with, and when it was read."""
        size, mtime, ino, read_ns = self.stats[4 * i:4 * i + 4]
        return (size, mtime, ino), (None if read_ns < 0 else read_ns)

    def references(self, rid: str) -> list[str]:
        i = self.at.get(rid)
        return self.refs[i].split() if i is not None else []

    def put(self, rid: str, shown: str, digest_: str, refs: str, stat: tuple, read_ns: Optional[int]) -> None:
        """Keep a record; ``refs``: the ids it refers to, as ``joined_refs`` joins them."""
        i = self.at.get(rid)
        row = (shown, bytes.fromhex(digest_), refs,
               array("q", (*stat, -1 if read_ns is None else read_ns)))
        if i is None:
            self.at[rid] = len(self.ids)
            self.ids.append(rid)
            self.shown.append(row[0])
            self.digests += row[1]
            self.refs.append(row[2])
            self.stats.extend(row[3])
        else:
            self.shown[i], self.refs[i] = row[0], row[2]
            self.digests[32 * i:32 * i + 32] = row[1]
            self.stats[4 * i:4 * i + 4] = row[3]


def joined_refs(refs: Iterable[str]) -> str:
    """The ids a record refers to, as ``Recorded`` keeps them: distinct, sorted, joined by spaces."""
    return " ".join(sorted(set(refs)))


def record_refs(record) -> str:
    """``joined_refs`` of what ``record`` refers to and uses."""
    return joined_refs(t for _, t in uses(record)[0])


@dataclass
class Plan:
    """What an incremental build reads and makes again."""

    changed: list[Path]
    """The record files whose bytes are not those of the last build (new ones included)."""
    records: Recorded
    """The last build's records (``LastBuild.records``)."""
    manifest: dict


def plan(root: Path, store: Cache, version: str, package: dict[str, str], jobs: Optional[int] = None) -> Optional[Plan]:
    """The record files changed since the last build, when it can be built on; else None.

    ``package``: the SHA-256 of datapackage.json and of each file under data/, by path; ``jobs``:
    the processes that look at the files (one per core by default)."""
    root = Path(os.path.abspath(root))
    built = LastBuild(store)
    manifest = built.manifest()
    if manifest is None or manifest.get("version") != version or manifest.get("code") != code_hash():
        return None
    if not store.knows_all:
        return None
    if manifest.get("epoch") != os.environ.get("SOURCE_DATE_EPOCH"):
        return None
    if manifest.get("inputs") != inputs_hash(root):
        return None
    if manifest.get("package") != package:
        return None
    records = Recorded.of(built.records())
    if records is None:
        return None
    by_shown = {shown: i for i, shown in enumerate(records.shown)}
    # Vocabularies are not records of their own here: their bytes are the manifest's inputs.
    cut = len(str(root)) + 1
    paths = record_entries(root, skip={kind_named("vocabulary").plural})
    shown = [path[cut:] for path in paths]
    if os.sep != "/":
        shown = [name.replace(os.sep, "/") for name in shown]
    places = list(map(by_shown.get, shown, repeat(-1)))  # -1: a new file
    if len(paths) - places.count(-1) < len(by_shown):
        return None  # a record was removed: the full build says what that breaks
    changed = _stale(records, paths, places, jobs)
    if len(changed) > LIMIT:
        return None
    return Plan(sorted(map(Path, changed)), records, manifest)


def _stale(records: Recorded, paths: list[str], places: list[int], jobs: Optional[int] = None) -> list[str]:
    """Of the files at ``paths`` (each record ``places[i]`` of ``records``, -1 for a new one),
    those that may not hold the bytes kept: unless a file's stat is the one it was read with (and
    was not taken too soon after it was written, ``cache.trusted``), its digest is compared. Many
    files are looked at by every core (``--jobs``), a share of them each: a stat is a call to the
    kernel, which holds the interpreter's lock, so threads would only take turns."""
    kept = records.stats
    columns = kept[0::4], kept[1::4], kept[2::4], kept[3::4]  # size, time, inode, when read

    def look(span: tuple[int, int]) -> list[str]:
        return _looked(records, columns, paths[span[0]:span[1]], places[span[0]:span[1]])

    n = workers(jobs, len(paths), POOL_FILES)
    if n > 1:
        size = -(-len(paths) // (4 * n))
        spans = [(k, min(k + size, len(paths))) for k in range(0, len(paths), size)]
        found: dict[int, list[str]] = {}
        if pulled(look, spans, n, found.__setitem__):
            return [path for k in range(len(spans)) for path in found[k]]
    return look((0, len(paths)))


def _looked(records: Recorded, columns: tuple, paths: list[str], places: list[int]) -> list[str]:
    """``_stale`` of some of the files, with the stats kept as ``columns``."""
    out = []
    sizes, times, inodes, reads = columns
    lstat = os.lstat
    for path, i in zip(paths, places):
        if i < 0:
            out.append(path)
            continue
        try:
            st = lstat(path)
            read_ns = reads[i]
            if trusted((st.st_size, st.st_mtime_ns, st.st_ino), (sizes[i], times[i], inodes[i]),
                       None if read_ns < 0 else read_ns):
                continue
            with open(path, "rb") as fh:
                if digest(fh.read()) == records.digest(i):
                    continue
        except OSError:
            pass
        out.append(path)
    return out


@dataclass
class Prepared:
    """An incremental build's records, once validated: those made again and the last build's layouts."""

    result: Result
    ctx: Optional[Context] = None
    parts: Optional[Parts] = None
    dataset: Optional[Dataset] = None
    kept: Optional[Recorded] = None
    """The last build's records (``Plan.records``)."""


def prepare(root: Path, chosen: Plan, jobs: Optional[int] = None) -> Optional[Prepared]:
    """Validate what changed with what its rules draw on, then read the records to make again.

    None when a full build is the better way (too many records to make again, or the kept
    layouts missing or not those of the files). A ``Prepared`` whose result has errors is a
    build to refuse, as a full one would.
    """
    root = Path(os.path.abspath(root))
    store = Cache(root)
    layouts = LastBuild(store).layouts()
    if layouts is None:
        return None
    changed_ids = {p.stem for p in chosen.changed}
    shown_of = dict(zip(chosen.records.ids, chosen.records.shown))
    # The records the changed ones referred to at the last build (a source whose ledger loses a
    # quote) and those that refer to them (a claim quoting a changed source) are judged too.
    touched = {root / shown_of[ref] for rid in changed_ids for ref in chosen.records.references(rid) if ref in shown_of}
    touched |= {root / shown for shown in store.referring(changed_ids)}
    result = validate(root, chosen.changed, cache=True, jobs=jobs)
    if result.errors:
        return Prepared(result)
    # ... and those they refer to now (a source whose ledger gains a quote).
    now = {rid for f in result.files if f.target and f.record is not None for _, _, rid in references(f.record)}
    touched |= {root / shown_of[rid] for rid in now if rid in shown_of}
    others = sorted(touched - set(chosen.changed))
    if others:
        more = validate(root, others, cache=True, jobs=jobs)
        result.problems = sorted(set(result.problems) | set(more.problems))
        if result.errors:
            return Prepared(result)
    # To make again: the changed records and every record that refers to one, through any
    # number of sources deriving from one another.
    again, frontier = set(changed_ids), set(changed_ids)
    while frontier and len(again) <= LIMIT:
        referring = {Path(shown).stem for shown in store.referring(frontier)}
        frontier = referring - again
        again |= frontier
    if len(again) > LIMIT:
        return None
    parts = Parts(folder=root, kept=layouts, again=frozenset(again), hashes=dict(chosen.manifest["package"]))
    if not parts.fits(root):
        return None
    files = [root / shown_of[rid] for rid in again if rid in shown_of]
    files += [p for p in chosen.changed if p.stem not in shown_of]
    dataset, _ = load(root, sorted(set(files)), cache=True, jobs=jobs)
    made = [r for table in (dataset.claims, dataset.sources, dataset.entities) for rid, r in table.items() if rid in again]
    if len(made) != len(again):
        return None
    ctx = Context(sorted((r for r in made if isinstance(r, Claim)), key=_id),
                  sorted((r for r in made if isinstance(r, Source)), key=_id),
                  sorted((r for r in made if isinstance(r, Entity)), key=_id),
                  sorted(dataset.vocabularies.values(), key=_id), known_sources=dataset.sources)
    return Prepared(result, ctx, parts, dataset, chosen.records)


def _id(record) -> str:
    return record.id


def remember(root: Path, dataset: Dataset, parts: Parts, version: str, package: dict[str, str],
             kept: Optional[Recorded] = None) -> None:
    """Keep what a build wrote for the next to build on: ``kept`` is the last build's records,
    for an incremental build (None after a full one); ``package`` as for ``plan``."""
    with paused():  # rows of every record, and the layouts pickled: millions of small objects
        _remember(Path(os.path.abspath(root)), dataset, parts, version, package, kept)


def _remember(root: Path, dataset: Dataset, parts: Parts, version: str, package: dict[str, str],
              kept: Optional[Recorded]) -> None:
    store = Cache(root)
    last = LastBuild(store)
    value = _columns(store, dataset, parts) if kept is None else _updated(store, dataset, parts, kept)
    if value is None:  # a record the cache did not keep: nothing to build on
        last.forget()
        return
    manifest = {"version": version, "code": code_hash(), "epoch": os.environ.get("SOURCE_DATE_EPOCH"),
                "inputs": inputs_hash(root), "package": package,
                # The files as this build left them: while a file's stat is this one, the next build
                # takes its hash as kept rather than reading it (``cache.trusted``).
                "stats": {rel: list(stat) for rel, stat in sorted(parts.stats.items()) if rel in package},
                "stats_ns": time.time_ns()}
    last.save(manifest, value, parts.layouts)


def _updated(store: Cache, dataset: Dataset, parts: Parts, kept: Recorded) -> Optional[tuple]:
    """The last build's ``Recorded`` with the records an incremental build made again put in, as its value."""
    rows = store.digests([dataset.files[rid].shown for rid in parts.made if rid in dataset.files])
    for table in (dataset.claims, dataset.sources, dataset.entities):
        for rid, record in table.items():
            if rid not in parts.made:
                continue
            item = dataset.files[rid]
            row = rows.get(item.shown)
            if row is None:
                return None
            kept.put(rid, item.shown, row[0], record_refs(record), row[1], row[2])
    return kept.value()


def _columns(store: Cache, dataset: Dataset, parts: Parts) -> Optional[Iterator]:
    """What a full build keeps of the records it made, as ``Recorded.value`` gives it, made from
    the runs of records it wrote (``Parts.refs``) and the cache's rows of their files, a few
    hundred at a time: at 100,000 claims, no record holds a string of its own."""
    ids: list[str] = []
    shown: list[str] = []
    digests = bytearray()
    stats = array("q")
    refs = []
    for run, joined in parts.refs:
        for k in range(0, len(run), 500):
            names = [dataset.files[rid].shown for rid in run[k:k + 500]]
            rows = store.digests(names)
            for rid, name in zip(run[k:k + 500], names):
                row = rows.get(name)
                if row is None:
                    return None
                ids.append(rid)
                shown.append(name)
                digests += bytes.fromhex(row[0])
                stats.extend((*row[1], -1 if row[2] is None else row[2]))
        refs.append(joined)

    def made() -> Iterator:  # each column made as it is asked for, and let go once it is written
        yield "\n".join(ids)
        yield "\n".join(shown)
        yield bytes(digests)
        yield "\n".join(refs)
        yield stats.tobytes()

    return made()
