"""A build after a few edits: only the records they touch are read and their rows made again.

A build keeps in the records cache (``repo.cache.LastBuild``) what it wrote for each record: its
lines of every table and its JSON, with the digest of the file it came from, and the hashes of
the package files, the archived texts and the vocabularies it wrote them from. The next build,
when the package on disk is still that one and the archived texts and vocabularies are
unchanged, finds the record files whose bytes changed, validates them with the records their
rules draw on (``repo.load``'s one-file path), makes again the rows of those records and of
every record that refers to them (directly, or through the sources deriving from them), and
writes every table from the kept lines and the new ones: byte for byte the package a full
build writes (a test holds the two to that). Anything else — many changes, a removed record, a
changed vocabulary or archived text, no kept build — is a full build.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from reported_claims.check.quotes import ARCHIVE
from reported_claims.check.validate import Result, validate
from reported_claims.model.graph import references
from reported_claims.model.kinds import KINDS, of_id
from reported_claims.model.kinds import kind as kind_named
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


@dataclass
class Parts:
    """The lines of each record in each table and its JSON, as a build makes them, and (for an
    incremental build) the kept lines of the records not made again."""

    kept: Optional[dict[str, dict[str, bytes]]] = None
    ids: dict[str, list[str]] = field(default_factory=dict)
    """Kind -> every id of the package, sorted (for an incremental build)."""
    made: dict[str, dict[str, bytes]] = field(default_factory=dict)

    def table(self, t: Table, header: list[str], body: list[list[str]]) -> bytes:
        """The CSV of a table from the rows made now and the lines kept for the others."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        head = out.getvalue()
        kind = table_kinds()[t.name]
        if kind is None:
            writer.writerows(body)
            return out.getvalue().encode("utf-8")
        mine: dict[str, list[str]] = {}
        for row in body:
            out.seek(0)
            out.truncate()
            writer.writerow(row)
            mine.setdefault(row[0], []).append(out.getvalue())
        for rid, lines in mine.items():
            self.made.setdefault(rid, {})[t.name] = "".join(lines).encode("utf-8")
        if self.kept is None:
            return (head + "".join(line for rid in sorted(mine) for line in mine[rid])).encode("utf-8")
        name, made, kept, empty = t.name, self.made, self.kept, {}
        return head.encode("utf-8") + b"".join(
            made[rid][name] if rid in mine else kept.get(rid, empty).get(name, b"") for rid in self.ids[kind])

    def json(self, kind: str, pieces: Iterable[tuple[str, bytes]]) -> bytes:
        """A JSON resource from the records dumped now and those kept (``schemas.dumps_list``'s layout)."""
        mine = dict(pieces)
        for rid, piece in mine.items():
            self.made.setdefault(rid, {})["json"] = piece
        if self.kept is None:
            order = sorted(mine)
            chosen = [mine[rid] for rid in order]
        else:
            chosen = [mine[rid] if rid in mine else self.kept[rid]["json"] for rid in self.ids[kind]]
        return b"[\n  " + b",\n  ".join(chosen) + b"\n]\n" if chosen else b"[]\n"


@dataclass
class Plan:
    """What an incremental build reads and makes again."""

    changed: list[Path]
    """The record files whose bytes are not those of the last build (new ones included)."""
    records: dict[str, tuple[str, str, str]]
    """id -> (file, kind, digest) of the last build."""
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
    by_shown = {shown: digest for shown, _, digest in records.values()}
    # Vocabularies are not records of their own here: their bytes are the manifest's inputs.
    present = {path[len(str(root)) + 1:].replace(os.sep, "/"): path
               for path in record_entries(root, skip={kind_named("vocabulary").plural})}
    if not by_shown.keys() <= present.keys():
        return None  # a record was removed: the full build says what that breaks
    rows = store.digests()
    changed = []
    for shown, path in present.items():
        old = by_shown.get(shown)
        if old is None or _digest(path, rows.get(shown)) != old:
            changed.append(Path(path))
    if len(changed) > LIMIT:
        return None
    return Plan(sorted(changed), records, manifest)


def _digest(path: str, row: Optional[tuple]) -> Optional[str]:
    """A file's digest: the cache's, when its stat is the one the cache read it with (and not
    racy), else from its bytes."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if row is not None and trusted((st.st_size, st.st_mtime_ns, st.st_ino), row[1], row[2]):
        return row[0]
    try:
        with open(path, "rb") as fh:
            return digest(fh.read())
    except OSError:
        return None


@dataclass
class Prepared:
    """An incremental build's records, once validated: those made again and the kept lines."""

    result: Result
    ctx: Optional[Context] = None
    parts: Optional[Parts] = None
    dataset: Optional[Dataset] = None


def prepare(root: Path, chosen: Plan, jobs: Optional[int] = None) -> Optional[Prepared]:
    """Validate what changed with what its rules draw on, then read the records to make again.

    None when a full build is the better way (too many records to make again, or lines kept
    for the others missing or not signed). A ``Prepared`` whose result has errors is a build
    to refuse, as a full one would.
    """
    root = Path(os.path.abspath(root))
    store = Cache(root)
    last = LastBuild(store)
    changed_ids = {p.stem for p in chosen.changed}
    shown_of = {rid: shown for rid, (shown, _, _) in chosen.records.items()}
    kept_refs = last.refs(changed_ids)
    # The records the changed ones referred to at the last build (a source whose ledger loses a
    # quote) and those that refer to them (a claim quoting a changed source) are judged too.
    touched = {root / shown_of[rid] for rid in set().union(*kept_refs.values()) if rid in shown_of} if kept_refs else set()
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
    ids = {rid for rid in chosen.records} | changed_ids
    kept = last.parts(ids - again)
    if len(kept) != len(ids - again):
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
    by_kind: dict[str, list[str]] = {}
    for rid in ids:
        kind = of_id(rid)
        if kind is not None:
            by_kind.setdefault(kind.name, []).append(rid)
    return Prepared(result, ctx, Parts(kept=kept, ids={k: sorted(v) for k, v in by_kind.items()}), dataset)


def _id(record) -> str:
    return record.id


def remember(root: Path, dataset: Dataset, parts: Parts, version: str, complete: bool,
             package: dict[str, str]) -> None:
    """Keep what a build wrote for the next to build on (every record, after a full build);
    ``package`` as for ``plan``."""
    root = Path(os.path.abspath(root))
    store = Cache(root)
    rows = store.digests() if complete else store.digests([dataset.files[rid].shown for rid in parts.made
                                                           if rid in dataset.files])
    last = LastBuild(store)
    made = {}
    for table in (dataset.claims, dataset.sources, dataset.entities):
        for rid, record in table.items():
            if rid not in parts.made:
                continue
            item = dataset.files[rid]
            row = rows.get(item.shown)
            if row is None:
                last.forget()
                return
            refs = "\n".join(sorted({t for _, _, t in references(record)})).encode()
            made[rid] = (item.shown, of_id(rid).name, row[0], {**parts.made[rid], "refs": refs})
    manifest = {"version": version, "code": code_hash(), "epoch": os.environ.get("SOURCE_DATE_EPOCH"),
                "inputs": inputs_hash(root), "package": package}
    last.save(manifest, made, complete)
