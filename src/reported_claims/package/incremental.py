"""A build after a few edits: only the records they touch are read and their rows made again.

A build keeps in the records cache (``repo.cache.LastBuild``) the file and digest of each
record it wrote, what each referred to, where each record's lines stand in each file of the
package (its *layout*), and the hashes of the package files, the archived texts and the
vocabularies it wrote them from. The next build, when the package on disk is still that one and
the archived texts and vocabularies are unchanged, finds the record files whose bytes changed,
validates them with the records their rules draw on (``repo.load``'s one-file path), makes again
the rows of those records and of every record that refers to them (directly, or through the
sources deriving from them), and splices them into the files it wrote last time: the runs of
records between them are copied as they stand. That is byte for byte the package a full build
writes (a test holds the two to that). Anything else — many changes, a removed record, a changed
vocabulary or archived text, no kept build — is a full build.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import os
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from reported_claims.check.quotes import ARCHIVE
from reported_claims.check.validate import Result, validate
from reported_claims.model.graph import references
from reported_claims.model.kinds import KINDS, of_id
from reported_claims.model.kinds import kind as kind_named
from reported_claims.package import DATA, schemas
from reported_claims.model.records import Claim, Entity, Source
from reported_claims.package.tables import Context, Table, tables
from reported_claims.repo.cache import Cache, LastBuild, digest, sources_hash, trusted
from reported_claims.repo.load import RECORDS, Dataset, load, record_entries

LIMIT = 2000
"""Past this many records to make again, a full build is as quick."""


@functools.cache
def table_kinds() -> dict[str, Optional[str]]:
    """Table name -> the kind of record each row belongs to, by the table's first key column
    (none for a vocabulary's terms)."""
    first = {"claim_id": "claim", "source_id": "source", "entity_id": "entity"}
    plain = {k.plural: k.name for k in KINDS}
    return {t.name: first.get(t.primary_key[0]) or (plain.get(t.name) if t.primary_key[0] == "id" else None)
            for t in tables()}


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

    @property
    def incremental(self) -> bool:
        return self.kept is not None

    def part(self) -> "Parts":
        """Parts of the same build with nothing written yet, to write some files and be ``merge``d back."""
        return Parts(self.folder, self.kept, self.again)

    def merge(self, other: "Parts") -> None:
        self.made |= other.made
        self.layouts.update(other.layouts)

    def table(self, t: Table, header: list[str], body: list[list[str]]) -> bytes:
        """The CSV of a table from the rows made now (and for an incremental build, the last build's lines of the others)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        head = out.getvalue().encode("utf-8")
        if table_kinds()[t.name] is None:
            writer.writerows(body)
            return out.getvalue().encode("utf-8")
        mine: dict[str, list[str]] = {}
        for row in body:
            out.seek(0)
            out.truncate()
            writer.writerow(row)
            mine.setdefault(row[0], []).append(out.getvalue())
        pieces = {rid: "".join(lines).encode("utf-8") for rid, lines in mine.items()}
        return self._write(f"{DATA}/{t.name}.csv", head, pieces, head)

    def json(self, rel: str, pieces: Iterable[tuple[str, bytes]]) -> bytes:
        """A JSON resource (``schemas.dumps_list``'s layout) from the records dumped now (and the last build's others)."""
        return self._write(rel, schemas.LIST_OPEN, dict(pieces), schemas.LIST_EMPTY)

    def _write(self, rel: str, start: bytes, pieces: dict[str, bytes], empty: bytes) -> bytes:
        """``start`` and the part of each record in id order, laid out as ``_form`` says
        (``empty`` when there is none); its layout is kept in ``layouts``."""
        sep, end = _form(rel)
        self.made |= pieces.keys()
        new = {rid.encode(): piece for rid, piece in pieces.items()}
        if self.kept is None:
            ids = sorted(new)
            chunks: list[bytes | memoryview] = [new[rid] for rid in ids]
            lengths = array("I", map(len, chunks))
        else:
            with open(self.folder / rel, "rb") as fh:  # type: ignore[operator]
                old = fh.read()
            ids, chunks, lengths = self._splice(old, self.kept[rel], start, new, sep)
        self.layouts[rel] = (len(start), b"\n".join(ids), lengths.tobytes())
        if not chunks:
            return empty
        out = [start, chunks[0]]  # one copy of the whole (a spliced file's runs are views of the old one)
        for chunk in chunks[1:]:
            out += (sep, chunk)
        out.append(end)
        return b"".join(out)

    def _splice(self, old: bytes, layout: Layout, start: bytes, new: dict[bytes, bytes], sep: bytes) -> tuple[list, list, array]:
        """The last build's file ``old`` with the records made again put in: the runs of records
        between them taken whole. (ids, chunks to join with ``sep``, lengths)."""
        base, blob, packed = layout
        ids = blob.split(b"\n") if blob else []
        if ids and old[:base] != start:
            raise RuntimeError("the first line of a package file is not the one the last build wrote")
        lengths = array("I")
        lengths.frombytes(packed)
        view = memoryview(old)
        out_ids: list[bytes] = []
        out_lengths = array("I")
        chunks: list = []
        pos, at_pos = 0, base  # the first old record not yet taken, and where it starts

        def keep(upto: int) -> int:
            """Take the old records pos..upto-1 as one run; where record ``upto`` starts."""
            if upto <= pos:
                return at_pos
            size = sum(lengths[pos:upto]) + len(sep) * (upto - pos - 1)
            chunks.append(view[at_pos:at_pos + size])
            out_ids.extend(ids[pos:upto])
            out_lengths.extend(lengths[pos:upto])
            return at_pos + size + len(sep)

        for rid in sorted(new.keys() | {a.encode() for a in self.again}):
            at = bisect_left(ids, rid, pos)
            at_pos = keep(at)
            pos = at
            if at < len(ids) and ids[at] == rid:  # made again: its old part is dropped
                at_pos += lengths[at] + len(sep)
                pos = at + 1
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


@dataclass
class Plan:
    """What an incremental build reads and makes again."""

    changed: list[Path]
    """The record files whose bytes are not those of the last build (new ones included)."""
    records: dict[str, tuple]
    """id -> (file, kind, digest, ids it refers to, stat, when read) of the last build (``LastBuild.records``)."""
    manifest: dict


def plan(root: Path, store: Cache, version: str, package: dict[str, str]) -> Optional[Plan]:
    """The record files changed since the last build, when it can be built on; else None.

    ``package``: the SHA-256 of datapackage.json and of each file under data/, by path."""
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
    records = built.records()
    if records is None:
        return None
    by_shown = {record[0]: record for record in records.values()}
    # Vocabularies are not records of their own here: their bytes are the manifest's inputs.
    cut = len(str(root)) + 1
    present = {path[cut:].replace(os.sep, "/"): path for path in record_entries(root, skip={kind_named("vocabulary").plural})}
    if not by_shown.keys() <= present.keys():
        return None  # a record was removed: the full build says what that breaks
    changed = []
    for shown, path in present.items():
        old = by_shown.get(shown)
        if old is None or _digest(path, old[2], old[4], old[5]) != old[2]:
            changed.append(Path(path))
    if len(changed) > LIMIT:
        return None
    return Plan(sorted(changed), records, manifest)


def _digest(path: str, known: str, stat: tuple, read_ns: Optional[int]) -> Optional[str]:
    """A file's digest: ``known``, when its stat is ``stat``, the one it was read with at
    ``read_ns`` (and that is not racy), else from its bytes."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if trusted((st.st_size, st.st_mtime_ns, st.st_ino), stat, read_ns):
        return known
    try:
        with open(path, "rb") as fh:
            return digest(fh.read())
    except OSError:
        return None


@dataclass
class Prepared:
    """An incremental build's records, once validated: those made again and the last build's layouts."""

    result: Result
    ctx: Optional[Context] = None
    parts: Optional[Parts] = None
    dataset: Optional[Dataset] = None
    kept: Optional[dict[str, tuple]] = None
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
    shown_of = {rid: record[0] for rid, record in chosen.records.items()}
    # The records the changed ones referred to at the last build (a source whose ledger loses a
    # quote) and those that refer to them (a claim quoting a changed source) are judged too.
    touched = {root / shown_of[ref] for rid in changed_ids if rid in chosen.records
               for ref in chosen.records[rid][3] if ref in shown_of}
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
    parts = Parts(folder=root, kept=layouts, again=frozenset(again))
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
             kept: Optional[dict[str, tuple]] = None) -> None:
    """Keep what a build wrote for the next to build on: ``kept`` is the last build's records,
    for an incremental build (None after a full one); ``package`` as for ``plan``."""
    root = Path(os.path.abspath(root))
    store = Cache(root)
    rows = store.digests() if kept is None else store.digests([dataset.files[rid].shown for rid in parts.made
                                                               if rid in dataset.files])
    last = LastBuild(store)
    records = dict(kept or {})
    for table in (dataset.claims, dataset.sources, dataset.entities):
        for rid, record in table.items():
            if rid not in parts.made:
                continue
            item = dataset.files[rid]
            row = rows.get(item.shown)
            if row is None:
                last.forget()
                return
            records[rid] = (item.shown, of_id(rid).name, row[0], tuple(sorted({t for _, _, t in references(record)})),
                            row[1], row[2])
    manifest = {"version": version, "code": code_hash(), "epoch": os.environ.get("SOURCE_DATE_EPOCH"),
                "inputs": inputs_hash(root), "package": package}
    last.save(manifest, records, parts.layouts)
