"""Building the data package: ``datapackage.json`` and ``data/``, atomically.

The package is written into a staging folder next to the outputs, its primary and foreign
keys checked (and, with ``full_check``, everything the Frictionless validator checks: types,
constraints, keys, hashes, and the JSON resources against their schemas), and only then
moved into place: ``data/`` by renaming (old -> ``data.old``, new -> ``data``), then
``datapackage.json`` by ``os.replace``, which is the commit point: a failure before it leaves
the previous package as it was, a failure after it (cleaning up) is only a warning. An
exclusive lock keeps two builds apart, and each build first undoes or completes whatever an
interrupted one left.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import signal
import subprocess
import time
from array import array
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterable, Iterator, Optional, Union

from reported_claims._version import __version__
from reported_claims.errors import ReportedClaimsError
from reported_claims.model.kinds import KINDS, Kind
from reported_claims.model.types import FORMULA_START
from reported_claims.package import DATA, DESCRIPTOR, dictionary, schemas
from reported_claims.package.diff import vanished, vanished_message
from reported_claims.package.read import PackageError, open_package
from reported_claims.package.tables import Context, ForeignKey, Table, table_kinds, tables
from reported_claims.problems import Problem
from reported_claims.repo.load import Dataset
from reported_claims.util import fs
from reported_claims.util.collector import paused
from reported_claims.util.pool import forked_map, forking, workers

if TYPE_CHECKING:
    from reported_claims.package.incremental import Parts, Written

OLD = "data.old"
STAGING = ".tmp-build-staging"
LOCK = ".build.lock"
WAIT = 60.0
"""Seconds a build waits for another one to finish before it gives up."""
HOMEPAGE = "https://github.com/reported-claims/reported-claims"
FAULT_ENV = "REPORTED_CLAIMS_BUILD_FAULT"
"""The debug variable the command line turns into a fault hook (see ``fault_hook``)."""

Fault = Callable[[str], None]
"""A hook called with the name of each step of a build: ``staged``, ``validated``,
``moved-old``, ``swapped`` (all before the commit point) and ``committed`` (after it)."""


class BuildError(ReportedClaimsError):
    """The package could not be built; the previous ``datapackage.json`` and ``data/`` are unchanged."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()):
        super().__init__(message)
        self.problems = list(problems)
        """What the validator found in the package, when that is why the build failed."""


class UnsafeCell(BuildError):
    """A CSV cell that a spreadsheet would run as a formula."""


@dataclass
class Built:
    """What a build wrote."""

    root: Path
    resources: int
    schemas_written: list[str]
    warnings: list[str] = field(default_factory=list)
    """What went wrong after the package was published (its clean-up)."""
    hashes: dict[str, str] = field(default_factory=dict)
    """The SHA-256 of each file of the package it published (datapackage.json and data/), by path."""


# --- writing ------------------------------------------------------------------------------


def cell(value: object, where: str) -> str:
    """One CSV cell: ISO dates, ``true``/``false``, integers without ``.0``, empty for missing."""
    if type(value) is str and not value.startswith(FORMULA_START):
        return value  # most cells, first
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (int, dt.date)):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    text = str(value)
    if text.startswith(FORMULA_START):
        raise UnsafeCell(
            f"{where}: the value starts with {text[0]!r}, which spreadsheets run as a formula; "
            "validation should have refused it: fix the record"
        )
    return text


def csv_body(table: Table, rows: Iterable[dict]) -> list[list[str]]:
    """The table's rows as CSV cells, sorted by primary key (integer key columns as numbers)."""
    names = table.names
    wheres = [f"{table.name}.{n}" for n in names]
    values = _getter(names)
    # Most cells are text that is safe as it is, or missing: taken here, without a call to ``cell``.
    body = [[v if type(v) is str and not v.startswith(FORMULA_START) else "" if v is None
             else str(v) if type(v) is int else cell(v, w)  # a position or a count, as ``cell`` writes it
             for v, w in zip(values(row), wheres)] for row in rows]
    body.sort(key=_order(table))
    return body


def _order(table: Table) -> Callable[[list[str]], Any]:
    """The order of a table's rows (as CSV cells): by primary key, integer key columns as numbers."""
    names = table.names
    key = [names.index(k) for k in table.primary_key]
    if any(c.type == "integer" for c in table.columns if c.name in table.primary_key):
        kinds = [next(c.type for c in table.columns if c.name == k) for k in table.primary_key]
        return lambda r: [int(r[i]) if t == "integer" else r[i] for i, t in zip(key, kinds)]
    return itemgetter(*key)


def _getter(keys: list) -> Callable[[object], tuple]:
    """What ``operator.itemgetter(*keys)`` gives, a tuple even of one key."""
    if len(keys) == 1:
        only = keys[0]
        return lambda row: (row[only],)
    return itemgetter(*keys)


def _csv_bytes(names: list[str], body: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(body)
    return out.getvalue().encode("utf-8")


def csv_text(table: Table, rows: Iterable[dict]) -> str:
    """The table as CSV: header row, ``\\n`` line ends, quoting only where needed, sorted by key."""
    return _csv_bytes(table.names, csv_body(table, rows)).decode("utf-8")


class Keys:
    """The primary and foreign keys of the tables as they are written, checked without re-reading.

    The full Frictionless check (``check``) re-reads every file; these are the guarantees a
    build always keeps, at the cost of one pass over the cells it has in hand. A table may be
    told whole or a window of records at a time (``add``, then ``settle``), in key order: a
    primary key is checked within what is told at once and against the last key told before
    it; a foreign key from a record's rows to rows of the same record (a report's figures to its
    claim's quantities) is checked within the window, so that only the values that other records
    refer to are kept for the whole build. The ids of the records of each kind are known before
    their table is written (``expect``'s ``known``): the table is held to them as it is told (one
    row a record), and a foreign key to it is checked against them as it is told, so that no set
    of ids is gathered at all.
    """

    def __init__(self) -> None:
        self.referenced: set[tuple[str, tuple]] = set()
        """(table, columns) that a foreign key refers to."""
        self.kept: set[tuple[str, tuple]] = set()
        """Those that a foreign key refers to from other records' rows: their values are kept to the end."""
        self.local: set[tuple[str, ForeignKey]] = set()
        """(table, foreign key) pairs whose rows refer to rows of their own record."""
        self.known: dict[tuple[str, tuple], set] = {}
        """(table, columns) -> the values its rows hold, known before it is written."""
        self.values: dict[tuple[str, tuple], set[tuple]] = {}
        self.wanted: dict[tuple[str, str, tuple], set[tuple]] = {}
        self.pending: dict[tuple[str, str, tuple], set[tuple]] = {}
        self.missing: dict[tuple[str, str, tuple], set[tuple]] = {}
        self.problems: list[Problem] = []
        self.rows: dict[str, int] = {}
        """Table -> rows told so far."""
        self.first: dict[str, tuple] = {}
        self.last: dict[str, tuple] = {}
        """Table -> the first and last key told (its order, then its cells)."""

    def expect(self, all_tables: Iterable[Table], known: Optional[dict[tuple[str, tuple], set]] = None) -> None:
        """The tables to be written: which columns other tables refer to, and from where; ``known``:
        (table, columns) -> the values the table holds, a row each (the ids of a kind's records)."""
        every = {t.name: t for t in all_tables}
        kinds = table_kinds()
        self.referenced = {(fk.resource, fk.reference) for t in every.values() for fk in t.foreign_keys}
        self.local = set()
        for t in every.values():
            for fk in t.foreign_keys:
                target = every.get(fk.resource)
                if (target is not None and kinds.get(t.name) is not None and kinds.get(t.name) == kinds.get(target.name)
                        and fk.fields[0] == t.primary_key[0] and fk.reference[0] == target.primary_key[0]):
                    self.local.add((t.name, fk))
        self.known = dict(known or {})
        self.kept = {(fk.resource, fk.reference) for t in every.values() for fk in t.foreign_keys
                     if (t.name, fk) not in self.local and (fk.resource, fk.reference) not in self.known}

    def part(self) -> "Keys":
        """Empty keys expecting the same tables, to be told some of them and ``merge``d back."""
        out = Keys()
        out.referenced, out.kept, out.local, out.known = self.referenced, self.kept, self.local, self.known
        return out

    def __getstate__(self) -> dict:
        """What a part sends back from a worker: what it was told, not what it expected (the ids
        known, shared with the build's keys, are tens of thousands of strings)."""
        shared = ("referenced", "kept", "local", "known")
        return {k: (type(v)() if k in shared else v) for k, v in self.__dict__.items()}

    def merge(self, other: "Keys") -> None:
        """Take in what ``other`` (a ``part``, settled) was told, as told after what this one was:
        its rows follow this one's in each table."""
        shift = {f"{DATA}/{name}.csv": n for name, n in self.rows.items()}
        for name, first in other.first.items():
            if name in self.last:
                self._follows(name, self.last[name], first, self.rows[name] + 2)
        self.problems += [Problem(p.path, p.line + shift[p.path], p.col, p.code, p.location, p.message)
                          if p.path in shift and p.line > 1 else p for p in other.problems]
        for name, n in other.rows.items():
            self.rows[name] = self.rows.get(name, 0) + n
        for name, first in other.first.items():
            self.first.setdefault(name, first)
        self.last.update(other.last)
        _union(self.values, other.values)
        _union(self.wanted, other.wanted)
        _union(self.missing, other.missing)

    def _follows(self, name: str, before: tuple, key: tuple, line: int) -> None:
        """A problem unless ``key`` (order, cells) comes after ``before``: told in key order, a
        key that does not is a repeated one."""
        if key[0] > before[0]:
            return
        path = f"{DATA}/{name}.csv"
        what = "repeats its primary key" if key[0] == before[0] else "is out of primary key order"
        self.problems.append(Problem(path, line, 1, "package-invalid", name, f"the row {what}: {', '.join(key[1])}"))

    def add(self, table: Table, body: list[list[str]]) -> None:
        """Check ``table``'s primary key and keep what its foreign keys and others' need: ``body``
        holds its next rows (all of them, or a window's), sorted by key as ``csv_body`` sorts."""
        names = table.names
        name = table.name
        path = f"{DATA}/{name}.csv"
        before = self.rows.get(name, 0)
        self.rows[name] = before + len(body)
        key = [names.index(k) for k in table.primary_key]
        keys = list(map(_getter(key), body))
        seen: set[tuple] = set(keys)
        if len(seen) != len(keys) or any("" in value for value in seen):  # then find the rows
            seen = set()
            for n, value in enumerate(keys, start=before + 2):
                if value in seen or "" in value:
                    what = "repeats its primary key" if value in seen else "has an empty primary key field"
                    self.problems.append(Problem(path, n, key[0] + 1, "package-invalid",
                                                 ",".join(table.primary_key), f"the row {what}: {', '.join(value)}"))
                seen.add(value)
        if body:
            order = _order(table)
            first, last = (order(body[0]), keys[0]), (order(body[-1]), keys[-1])
            if name in self.last:
                self._follows(name, self.last[name], first, before + 2)
            self.first.setdefault(name, first)
            self.last[name] = last
        for (resource, columns), values in self.known.items():
            if resource == name:
                cols = [names.index(f) for f in columns]
                for n, value in enumerate(map(_value(cols), body), start=before + 2):
                    if value not in values:
                        self.problems.append(Problem(path, n, cols[0] + 1, "package-invalid", ",".join(columns),
                                                     f"the row is of no record written: {_shown(value)}"))
        for resource, reference in self.referenced:
            if resource == name and (resource, reference) not in self.known:
                cols = [names.index(f) for f in reference]
                self.values.setdefault((resource, reference), set()).update(map(_value(cols), body))
        for fk in table.foreign_keys:
            cols = [names.index(f) for f in fk.fields]
            # An empty field is a missing value, which a foreign key does not constrain.
            values = {v for v in set(map(_value(cols), body)) if _present(v)}
            where = (path, fk.resource, fk.reference)
            known = self.known.get((fk.resource, fk.reference))
            if known is not None:
                gone = values - known
                if gone:
                    self.missing.setdefault(where, set()).update(gone)
                continue
            into = self.pending if (name, fk) in self.local else self.wanted
            into.setdefault(where, set()).update(values)

    def settle(self) -> None:
        """Check the foreign keys within records told so far (a window's records are all told),
        and let go of the values only they needed."""
        for where, values in self.pending.items():
            gone = values - self.values.get((where[1], where[2]), set())
            if gone:
                self.missing.setdefault(where, set()).update(gone)
        self.pending = {}
        for referenced in [r for r in self.values if r not in self.kept]:
            del self.values[referenced]

    def check(self) -> list[Problem]:
        """Repeated or empty primary keys, and references to rows that do not exist."""
        self.settle()
        problems = list(self.problems)
        for (resource, reference), values in sorted(self.known.items()):
            told = self.rows.get(resource, 0)
            if told != len(values):
                problems.append(Problem(f"{DATA}/{resource}.csv", 1, 1, "package-invalid", ",".join(reference),
                                        f"the table has {told} row(s) for {len(values)} record(s)"))
        for where in sorted(self.wanted.keys() | self.missing.keys()):
            path, resource, reference = where
            gone = (self.wanted.get(where, set()) - self.values.get((resource, reference), set())) | self.missing.get(where, set())
            for value in sorted(gone)[:20]:
                problems.append(Problem(path, 1, 1, "package-invalid", ",".join(reference),
                                        f"no row of {resource} has {_shown(value)}"))
        return problems


def _union(into: dict, more: dict) -> None:
    """Each set of ``more`` added to the one of ``into`` under its key."""
    for key, values in more.items():
        if key in into:
            into[key] |= values
        else:
            into[key] = values


def _value(cols: list[int]) -> Callable[[list[str]], Any]:
    """The cells of ``cols`` of a row: the cell itself for one column (a string weighs less than a
    tuple of one), a tuple for more."""
    return itemgetter(*cols)


def _present(value: object) -> bool:
    """Whether a key's value has no empty cell."""
    return value != "" if type(value) is str else "" not in value  # type: ignore[operator]


def _shown(value: object) -> str:
    return value if type(value) is str else ", ".join(value)  # type: ignore[arg-type]


def json_pieces(rows: Iterable[dict]) -> Iterator[bytes]:
    """A JSON resource: the records as plain JSON, in the order given (``published_rows``:
    sorted by id), in pieces, each record dumped as the file is written."""
    return schemas.list_pieces(schemas.dump_item(row) for row in rows)


def published_rows(ctx: Context, kind: Kind) -> Iterator[dict]:
    """The records of a kind as its JSON resource holds them: the record as the model dumps it,
    with what the build derives for it under ``derived`` (``Kind.published``)."""
    facts = ctx.claim_facts if kind.plural == "claims" else ctx.source_facts if kind.plural == "sources" else None
    for record in getattr(ctx, kind.plural):
        row = record.model_dump(mode="json")
        if facts is not None:
            row["derived"] = facts[record.id]
        yield row


def json_schema(kind: Kind) -> dict:
    """A JSON Schema for a JSON resource: an array of records of one kind, as published."""
    schema = kind.published.model_json_schema(mode="validation")
    defs = schema.pop("$defs", {})
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "array",
            "items": schema, "$defs": defs}


def context(dataset: Dataset) -> Context:
    """The records of ``dataset`` as the tables read them (made whole a window at a time where
    the dataset keeps outlines: ``Dataset.wholes``)."""
    return Context.of(dataset.claims.values(), dataset.sources.values(), dataset.entities.values(),
                      dataset.vocabularies.values(), wholes=dataset.wholes)


def _fingerprint(desc: dict) -> tuple:
    """What the data of a descriptor is: its version and each resource's name and hash."""
    return desc.get("version"), tuple((r.get("name"), r.get("hash")) for r in desc.get("resources", []))


def created(root: Path, resources: Optional[list[dict]] = None, version: str = __version__) -> Optional[str]:
    """When this data was created, never from the clock.

    ``SOURCE_DATE_EPOCH`` when set. Else, when the published package already holds exactly this
    data (same version, same resource hashes), its ``created``: so a build from a fresh clone
    reproduces the committed ``datapackage.json`` byte for byte, although the commit that
    added the data came after the build that wrote it. Else the time of the last commit that
    touched records/.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch and resources is not None:
        try:
            previous = json.loads((Path(root) / DESCRIPTOR).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = {}
        if (isinstance(previous, dict) and isinstance(previous.get("created"), str)
                and _fingerprint(previous) == _fingerprint({"version": version, "resources": resources})):
            return previous["created"]
    if not epoch:
        try:
            done = subprocess.run(["git", "log", "-1", "--format=%ct", "--", "records"], cwd=root,
                                  capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        epoch = done.stdout.strip() if done.returncode == 0 else ""
    if not epoch.isdigit():
        return None
    return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _file(folder: Path, rel: str, text: str, parts: Optional["Parts"] = None) -> dict:
    """Write one file of the package; its path, hash and size for the descriptor."""
    return _write(folder, rel, text.encode("utf-8"), parts)


def _write(folder: Path, rel: str, data: "Written", parts: Optional["Parts"] = None) -> dict:
    """Write ``data`` (``incremental.Written``: bytes, pieces, or a kept file, linked) as ``rel``;
    its entry's path, hash and size. ``parts`` is told the file's stat as written."""
    from reported_claims.package.incremental import Kept, Span

    path = folder / rel
    if isinstance(data, Kept):
        fs.link_or_copy(data.path, path)
        st = os.stat(path)
        digest = data.sha256
    else:
        h = hashlib.sha256()
        with fs.atomic_file(path, "wb", buffering=_BUFFER) as f:
            if isinstance(data, list) and any(isinstance(chunk, Span) for chunk in data):
                _assemble(f, data, h)  # a spliced file: spans of the last build's, and records made again
            else:
                for chunk in [data] if isinstance(data, bytes) else data:  # bytes, or pieces as they are made
                    f.write(chunk)
                    h.update(chunk)
                f.flush()
            st = os.fstat(f.fileno())
        digest = h.hexdigest()
    if parts is not None:
        parts.stats[rel] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return {"path": rel, "hash": "sha256:" + digest, "bytes": st.st_size}


_BUFFER = 1 << 20
"""Bytes written at a time: a file's pieces (a record each) are many and small."""


def descriptor(resources: list[dict], created_at: Optional[str], version: str = __version__) -> dict:
    """The ``datapackage.json`` of these resources."""
    out = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "reported-claims",
        "title": "Reported claims",
        "description": (
            "Claims reported in the news as clean, sourced, versioned data: who claimed what, who "
            "reported it, in which words. Each claim lists the sources that carry it with their "
            "verbatim quotes; sources record what they republish (derived_from), so that reprints "
            "of one story count as one origin."
        ),
        "version": version,
        "homepage": HOMEPAGE,
        "keywords": ["claims", "provenance", "news", "journalism", "dataset"],
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/",
                      "title": "Creative Commons Attribution 4.0 International"}],
        "sources": [{"title": "News articles, official statements, testimonies and reports, each listed "
                              "with its URL in the sources resource", "path": f"{DATA}/sources.csv"}],
        "contributors": [{"title": "reported-claims contributors", "path": HOMEPAGE,
                          "roles": ["creator", "dataCurator"]}],
        "resources": resources,
    }
    if created_at:
        out["created"] = created_at
    return out


WRITE_POOL_RECORDS = 2000
"""From this many records, the files of a full build are made by a pool of processes (one per core)."""
WINDOW = 256
"""Records of a kind a full build makes into rows at once: their rows of every file of their kind."""
PARTS = ".parts"
"""The folder of the staging folder where runs of records write their parts of the files."""


def write_package(ctx: Context, folder: Path, root: Optional[Path] = None, version: str = __version__,
                  keys: Optional[Keys] = None, parts: Optional["Parts"] = None, jobs: Optional[int] = None) -> dict:
    """Write ``datapackage.json`` and ``data/`` into ``folder``; return the descriptor.

    ``root`` is the repository whose history and published package give ``created``;
    ``version`` is the data version the descriptor carries; ``keys``, when given, is told
    every table's cells as they are written. ``parts`` (``package.incremental``) is given each
    record's lines as they are made, and for an incremental build gives those of the records
    not made again. ``jobs`` is how many processes make the files of a full build (default:
    one per core from ``WRITE_POOL_RECORDS`` records); the files are the same however many.

    A full build makes the claims, sources and entities into rows a window of records at a
    time (``Context.window``, whole from their outlines where the context holds outlines), each
    record's rows of every file of its kind at once (``_run``): the rows of one record are
    never far from the next's, so no table is held whole.
    """
    (folder / DATA).mkdir(parents=True, exist_ok=True)
    every = tables()
    kinds = table_kinds()
    if keys is not None:  # the ids of each kind's records, which its table holds a row each
        keys.expect(every, {(t.name, t.primary_key): {r.id for r in ctx.table(kind)} for t in every
                            if (kind := kinds[t.name]) is not None and t.primary_key == ("id",)})
    todo: list[Union[Table, Kind]] = [*every, *KINDS]  # the descriptor's order
    with paused():  # rows and cells by the million, and no cycle among them
        if parts is not None and parts.incremental:  # a few records made again: file by file, in threads
            from concurrent.futures import ThreadPoolExecutor

            # Most of such a build is copying and hashing the last build's runs of records, which
            # let go of the interpreter: the threads do that on every core at once.
            with ThreadPoolExecutor(workers(jobs, len(todo), 2)) as pool:
                made = list(pool.map(lambda item: _resource(ctx, folder, item, keys, parts), todo))
            files = {}
            for item, (entry, keys_of, parts_of) in zip(todo, made):
                files[_rel(item)] = entry
                _take(keys, keys_of, parts, parts_of)
        else:
            files = _full(ctx, folder, todo, keys, parts, jobs)
    resources = [{**_entry(ctx, item), **files[_rel(item)]} for item in todo]
    desc = descriptor(resources, created(root, resources, version) if root is not None else None, version)
    _file(folder, DESCRIPTOR, schemas.dumps(desc), parts)
    return desc


def _rel(item: Union[Table, Kind]) -> str:
    """Where a file of the package stands: a table's CSV, a kind's JSON."""
    return f"{DATA}/{item.name}.csv" if isinstance(item, Table) else item.json_path


def _take(keys: Optional[Keys], keys_of: Optional[Keys], parts: Optional["Parts"], parts_of: Optional["Parts"]) -> None:
    if keys is not None and keys_of is not None:
        keys.merge(keys_of)
    if parts is not None and parts_of is not None:
        parts.merge(parts_of)


def _entry(ctx: Context, item: Union[Table, Kind]) -> dict:
    """A file's entry in the descriptor, but for its path, hash and size."""
    if isinstance(item, Table):
        t = item
        entry = {"name": t.name, "type": "table", "title": t.title, "description": t.description,
                 "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
                 "dialect": {"header": True, "delimiter": ",", "lineTerminator": "\n",
                             "quoteChar": '"', "doubleQuote": True},
                 "schema": t.schema()}
        vocabulary = next((v for v in ctx.vocabularies if v.id.replace("-", "_") == t.name), None)
        if vocabulary is not None:  # the vocabulary's own title and description
            entry["title"], entry["description"] = vocabulary.title, vocabulary.description
        return entry
    kind = item
    described = " with what the build derives for it under `derived`" if kind.published_model else ""
    return {"name": kind.json_resource, "type": "json", "title": f"{kind.plural.capitalize()} (JSON)",
            "description": f"Every {kind.name} record exactly as the model defines it{described}, sorted by id.",
            "format": "json", "mediatype": "application/json", "encoding": "utf-8",
            "jsonSchema": json_schema(kind)}


def _resource(ctx: Context, folder: Path, item: Union[Table, Kind], build_keys: Optional[Keys],
              build_parts: Optional["Parts"]) -> tuple[dict, Optional[Keys], Optional["Parts"]]:
    """Write one file of the package whole: a table's CSV or a kind's JSON. Its path, hash and
    size, and the keys and parts it was told (new ones of the build's), to be merged into the build's."""
    keys = build_keys.part() if build_keys is not None else None
    parts = build_parts.part() if build_parts is not None else None
    if isinstance(item, Table):
        t = item
        body = csv_body(t, t.rows(ctx))
        if keys is not None:
            keys.add(t, body)
        data = parts.table(t, t.names, body) if parts is not None else _csv_bytes(t.names, body)
        del body
        return _write(folder, _rel(t), data, parts), keys, parts
    kind = item
    if parts is not None and kind.prefix:
        data = parts.json(kind.json_path, ((row["id"], schemas.dump_item(row)) for row in published_rows(ctx, kind)))
    else:
        data = json_pieces(published_rows(ctx, kind))
    return _write(folder, kind.json_path, data, parts), keys, parts


@dataclass(frozen=True)
class Run:
    """Records ``start`` to ``stop`` of a kind (in id order), to make into their part of every
    file of the kind; ``whole``: all of them, written as the files themselves."""

    kind: Kind
    start: int
    stop: int
    whole: bool


def _kind_files(kind: Kind) -> list[Union[Table, Kind]]:
    """The files a kind's records make, in the descriptor's order: the tables keyed by its id, its JSON."""
    kinds = table_kinds()
    return [t for t in tables() if kinds[t.name] == kind.name] + [kind]


def _runs(ctx: Context, n: int) -> list[Run]:
    """The runs of records a full build makes with ``n`` processes: with one, a run of each kind
    whose records have tables keyed by their id; with more, a few runs a process of each large
    kind, so that they end together."""
    out = []
    for kind in KINDS:
        if len(_kind_files(kind)) < 2:
            continue  # its rows are not by record (a vocabulary's terms): its files are made whole
        count = len(ctx.table(kind.name))
        pieces = 1 if n < 2 else max(1, min(4 * n, count // (4 * WINDOW)))
        size = -(-count // pieces) if count else 0
        bounds = [(a, min(a + size, count)) for a in range(0, count, size)] if count else [(0, 0)]
        out += [Run(kind, a, b, len(bounds) == 1) for a, b in bounds]
    return out


class _Out:
    """One file of a kind (or a run's part of it) as a run of records writes it: each record's part
    (its CSV lines, its JSON item), kept by id and length for the next build where asked."""

    def __init__(self, path: Path, item: Union[Table, Kind], whole: bool, by_record: bool):
        self.item = item
        self.start, self.sep, self.end, self.empty = _form_of(item)
        self.whole = whole
        self.path = path
        self._atomic = fs.atomic_file(path, "wb", buffering=_BUFFER) if whole else None
        self.file = self._atomic.__enter__() if self._atomic is not None else open(path, "wb", buffering=_BUFFER)
        self.hash = hashlib.sha256() if whole else None
        self.ids: Optional[list[bytes]] = [] if by_record else None
        self.last = b""
        self.lengths = array("I")
        self.count = 0

    def _put(self, data: bytes) -> None:
        self.file.write(data)
        if self.hash is not None:
            self.hash.update(data)

    def pieces(self, rids: Optional[list[str]], parts: list[bytes]) -> None:
        """The next records' parts, in their order, written at once (``rids`` None: where they are
        not kept by record, and a part may be several records')."""
        if not parts:
            return
        if self.ids is not None:
            for rid in rids:  # type: ignore[union-attr]
                key = rid.encode()
                if self.ids and key <= self.last:
                    raise RuntimeError(f"{self.item.name}: {rid} comes after {self.last.decode()}, not in id order")
                self.ids.append(key)
                self.last = key
            self.lengths.extend(map(len, parts))
        head = self.sep if self.count else self.start if self.whole else b""
        self.count += len(parts)
        self._put(head + self.sep.join(parts))

    def lines(self, table: Table, body: list[list[str]]) -> None:
        """A window's rows of a table, as CSV lines: each record's run of lines one part."""
        from reported_claims.package.incremental import csv_lines

        lines = csv_lines(body)
        if self.ids is None:
            self.pieces(None, ["".join(lines).encode("utf-8")] if lines else [])
            return
        rids, parts = [], []
        at = 0
        while at < len(body):
            rid = body[at][0]
            upto = at + 1
            while upto < len(body) and body[upto][0] == rid:
                upto += 1
            rids.append(rid)
            parts.append("".join(lines[at:upto]).encode("utf-8"))
            at = upto
        self.pieces(rids, parts)

    def close(self) -> dict:
        """What was written: for a whole file its hash and stat; the ids of its records' parts
        (joined by new lines) and their lengths; how many."""
        if self.whole and not self.count:
            self._put(self.empty)
        elif self.whole:
            self._put(self.end)
        ids = b"\n".join(self.ids) if self.ids is not None else None
        out: dict[str, Any] = {"count": self.count, "ids": ids, "lengths": self.lengths}
        if self._atomic is not None and self.hash is not None:  # a whole file
            self.file.flush()
            st = os.fstat(self.file.fileno())
            self._atomic.__exit__(None, None, None)
            out["hash"] = self.hash.hexdigest()
            out["stat"] = (st.st_size, st.st_mtime_ns, st.st_ino)
        else:
            self.file.close()
        return out

    def abandon(self) -> None:
        if self._atomic is not None:
            self._atomic.__exit__(RuntimeError, RuntimeError("abandoned"), None)
        else:
            self.file.close()


def _run(ctx: Context, folder: Path, run: Run, build_keys: Optional[Keys], by_record: bool) -> tuple:
    """Make a run of records' part of every file of their kind (``Run``), a ``WINDOW`` at a time.
    What each file's ``_Out`` wrote, the keys it was told, and each record's references (where
    ``by_record``: for the next build)."""
    from reported_claims.package.incremental import record_refs

    keys = build_keys.part() if build_keys is not None else None
    files = _kind_files(run.kind)
    outs: list[_Out] = []
    try:
        for item in files:
            path = folder / (_rel(item) if run.whole else f"{PARTS}/{item.name}.{run.start}")
            outs.append(_Out(path, item, run.whole, by_record))
        records = ctx.table(run.kind.name)
        refs: list[str] = []
        for a in range(run.start, run.stop, WINDOW):
            window = ctx.window(run.kind.name, records[a:min(a + WINDOW, run.stop)])
            for out, item in zip(outs, files):
                if isinstance(item, Table):
                    body = csv_body(item, item.rows(window))
                    if keys is not None:
                        keys.add(item, body)
                    out.lines(item, body)
                else:
                    rows = [(row["id"], schemas.dump_item(row)) for row in published_rows(window, item)]
                    out.pieces([rid for rid, _ in rows], [piece for _, piece in rows])
            if keys is not None:
                keys.settle()
            if by_record:
                refs += [record_refs(r) for r in window.table(run.kind.name)]
    except BaseException:
        for out in outs:
            out.abandon()
        raise
    made = [out.close() for out in outs]
    same: dict = {}  # most files hold every record of the run: their ids are sent back once
    for got in made:
        got["ids"] = same.setdefault(got["ids"], got["ids"])
    # The references of the run's records, in their order, one line each.
    return made, keys, "\n".join(refs)


def _full(ctx: Context, folder: Path, todo: list, keys: Optional[Keys], parts: Optional["Parts"],
          jobs: Optional[int]) -> dict[str, dict]:
    """Every file of a full build; each one's path, hash and size. The runs of records (``_runs``)
    and the files made whole (a vocabulary's terms) are made by ``n`` processes, forked, which
    share the records; the parts of a file made by several runs are then put together, in order."""
    n = workers(jobs, ctx.count, WRITE_POOL_RECORDS)
    if n > 1 and forking() is None:
        n = 1
    runs = _runs(ctx, n)
    streamed = {_rel(item) for run in runs for item in _kind_files(run.kind)}
    jobs_: list = [*runs, *(item for item in todo if _rel(item) not in streamed)]
    if any(not run.whole for run in runs):
        (folder / PARTS).mkdir(exist_ok=True)
    by_record = parts is not None

    def make(job: Union[Run, Table, Kind]) -> tuple:
        if isinstance(job, Run):
            return _run(ctx, folder, job, keys, by_record)
        return _resource(ctx, folder, job, keys, parts)

    made = None
    if n > 1:
        ctx.prepare()  # the origins of every source, found once, before the workers share them
        # The largest first, so that the last to finish is a small one; each worker is sent one at a time.
        order = sorted(range(len(jobs_)), key=lambda i: -_weight(ctx, jobs_[i]))
        made = forked_map(make, jobs_, n, order)
    if made is None:
        made = [make(job) for job in jobs_]
    files: dict[str, dict] = {}
    for job, got in zip(jobs_, made):
        if not isinstance(job, Run):
            entry, keys_of, parts_of = got
            files[_rel(job)] = entry
            _take(keys, keys_of, parts, parts_of)
    layouts: dict[bytes, bytes] = {}  # most files of a kind hold every record: one copy of their ids
    for kind in {run.kind.name: run.kind for run in runs}.values():
        mine = [(job, got) for job, got in zip(jobs_, made) if isinstance(job, Run) and job.kind is kind]
        records = ctx.table(kind.name)
        for run, got in mine:
            _take(keys, got[1], None, None)
            if parts is not None and run.stop > run.start:
                ids = [r.id for r in records[run.start:run.stop]]
                parts.made.update(ids)
                parts.refs.append((ids, got[2]))
        for i, item in enumerate(_kind_files(kind)):
            pieces = [got[0][i] for _, got in mine]
            files[_rel(item)] = _joined(folder, item, [run for run, _ in mine], pieces, parts, layouts)
        del mine
    fs.remove(folder / PARTS)
    return files


def _joined(folder: Path, item: Union[Table, Kind], runs: list[Run], pieces: list[dict],
            parts: Optional["Parts"], layouts: dict[bytes, bytes]) -> dict:
    """A file made by runs of records: written by the one run that made all of them, or put
    together from the runs' parts, in order; its path, hash and size, and its layout kept."""
    rel = _rel(item)
    start, sep, end, empty = _form_of(item)
    if len(runs) == 1 and runs[0].whole:
        got = pieces[0]
        entry = {"path": rel, "hash": "sha256:" + got["hash"], "bytes": got["stat"][0]}
        stat = got["stat"]
    else:
        from reported_claims.package.incremental import Span

        h = hashlib.sha256()
        joined: list = []
        for run, got in zip(runs, pieces):
            if got["count"]:
                part = folder / PARTS / f"{item.name}.{run.start}"
                joined += (sep if joined else start, Span(part, 0, os.path.getsize(part)))
        joined.append(end if joined else empty)
        with fs.atomic_file(folder / rel, "wb", buffering=_BUFFER) as f:
            _assemble(f, joined, h)
            st = os.fstat(f.fileno())
        stat = (st.st_size, st.st_mtime_ns, st.st_ino)
        entry = {"path": rel, "hash": "sha256:" + h.hexdigest(), "bytes": st.st_size}
    if parts is not None:
        parts.stats[rel] = stat
        ids = b"\n".join(got["ids"] for got in pieces if got["ids"])
        lengths = array("I")
        for got in pieces:
            lengths.extend(got["lengths"])
        parts.layouts[rel] = (len(start), layouts.setdefault(ids, ids), lengths.tobytes())
    return entry


def _assemble(f: BinaryIO, pieces: list, h: "hashlib._Hash") -> None:
    """``pieces`` (bytes, or ``incremental.Span``: the bytes of a file from ``start`` to ``stop``)
    written one after another at the end of ``f``, and told to ``h`` in order. A thread writes
    them, the kernel copying a span's bytes from its file where it can (a run's part of
    claims.json at 100,000 claims is tens of MB, a spliced file's runs hundreds), then flushes the
    file to disk, while this one reads the spans a piece at a time to hash them: the copy and the
    flush take no longer than the hash. Nothing of a span is held or mapped in this process."""
    import threading

    failed: list[BaseException] = []

    def write() -> None:
        try:
            for piece in pieces:
                if isinstance(piece, bytes):
                    f.write(piece)
                else:
                    _put(f, piece.path, piece.start, piece.stop)
            f.flush()
            os.fsync(f.fileno())
        except BaseException as error:  # raised again by the thread that waits for this one
            failed.append(error)

    writer = threading.Thread(target=write, name="write")
    writer.start()
    try:
        buffer = memoryview(bytearray(_BUFFER))  # one buffer, read into again and again
        for piece in pieces:
            if isinstance(piece, bytes):
                h.update(piece)
                continue
            with open(piece.path, "rb", buffering=0) as src:
                for part in _pieces(src, piece.path, piece.start, piece.stop, buffer):
                    h.update(part)
    finally:
        writer.join()
    if failed:
        raise failed[0]


def _put(f: BinaryIO, path: Path, start: int, stop: int) -> None:
    """The bytes of ``path`` from ``start`` to ``stop`` written on at the end of ``f``: copied by
    the kernel where it can, else (not on Linux, or not between these files) read and written."""
    f.flush()
    with open(path, "rb", buffering=0) as src:
        fd, out = src.fileno(), f.fileno()
        at = start
        try:
            while at < stop:
                done = os.copy_file_range(fd, out, stop - at, at)
                if not done:
                    break
                at += done
        except (AttributeError, OSError):
            pass
        if at < stop:  # a buffer only for what the kernel did not copy
            for part in _pieces(src, path, at, stop, memoryview(bytearray(min(_BUFFER, stop - at)))):
                f.write(part)


def _pieces(src: BinaryIO, path: Path, at: int, stop: int, buffer: memoryview) -> Iterator[memoryview]:
    """The bytes of ``src`` from ``at`` to ``stop``, a ``buffer`` at a time (read from where they
    are, not from the file's position, which a kernel's copy leaves where it was)."""
    src.seek(at)
    while at < stop:
        n = src.readinto(buffer[:min(stop - at, len(buffer))])  # type: ignore[attr-defined]
        if not n:
            raise RuntimeError(f"{path}: ended {stop - at} bytes early")
        yield buffer[:n]
        at += n


def _form_of(item: Union[Table, Kind]) -> tuple[bytes, bytes, bytes, bytes]:
    """How a file of the package is laid out: what starts it, stands between two records' parts,
    ends it, and is all of it with no record."""
    if isinstance(item, Table):
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(item.names)
        head = out.getvalue().encode("utf-8")
        return head, b"", b"", head
    return schemas.LIST_OPEN, schemas.LIST_SEP, schemas.LIST_CLOSE, schemas.LIST_EMPTY


def _weight(ctx: Context, job: Union[Run, Table, Kind]) -> int:
    """About how much making a job costs: the records of its run (a claim's rows counted three
    times, for the many tables of a claim), the records of its kind for a file made whole."""
    if isinstance(job, Run):
        return (job.stop - job.start) * (3 if job.kind.name == "claim" else 1)
    if isinstance(job, Kind):
        return 2 * len(ctx.table(job.name))
    return 0


def hashes(desc: dict) -> dict[str, str]:
    """The SHA-256 of each file of the package ``desc`` describes, by path: those its resources
    give, and the descriptor's own as ``write_package`` writes it."""
    out = {r["path"]: r["hash"].removeprefix("sha256:") for r in desc["resources"]}
    out[DESCRIPTOR] = hashlib.sha256(schemas.dumps(desc).encode("utf-8")).hexdigest()
    return out


# --- checking -----------------------------------------------------------------------------


def check(folder: Path) -> list[Problem]:
    """What the Frictionless validator and the JSON resources' schemas find in a built package.

    Each is a ``package-invalid`` problem at the file (and row and field, for a table) where it
    was found; the build refuses to publish a package with any.
    """
    import frictionless
    import jsonschema

    problems = []
    desc = json.loads((folder / DESCRIPTOR).read_text(encoding="utf-8"))
    paths = {res["name"]: res["path"] for res in desc["resources"]}
    report = frictionless.Package(str(folder / DESCRIPTOR)).validate()
    for error in report.errors:
        problems.append(Problem(DESCRIPTOR, 1, 1, "package-invalid", "", error.message))
    for task in report.tasks:
        for error in task.errors:
            problems.append(Problem(
                paths.get(task.name, DESCRIPTOR), getattr(error, "row_number", None) or 1,
                getattr(error, "field_number", None) or 1, "package-invalid",
                getattr(error, "field_name", None) or task.name, error.message,
            ))
    for res in desc["resources"]:
        if res["type"] != "json":
            continue
        data = json.loads((folder / res["path"]).read_text(encoding="utf-8"))
        validator = jsonschema.Draft202012Validator(res["jsonSchema"])
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))[:20]:
            where = "/".join(map(str, error.absolute_path))
            problems.append(Problem(res["path"], 1, 1, "package-invalid", where, error.message))
    return problems


# --- moving into place --------------------------------------------------------------------


def fault_hook(spec: Optional[str]) -> Optional[Fault]:
    """The hook that ``<step>:kill``, ``<step>:raise`` or ``<step>:sleep`` asks for, or None.

    The command line reads ``spec`` from ``REPORTED_CLAIMS_BUILD_FAULT``, so that tests can
    kill a real build, make it fail or hold its lock at a named step.
    """
    if not spec:
        return None
    want, _, how = spec.partition(":")

    def fault(step: str) -> None:
        if step != want:
            return
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif how == "sleep":
            time.sleep(1.5)
        else:
            raise BuildError(f"fault injected at {step}")

    return fault


def _no_fault(step: str) -> None:
    pass


def recover(root: Path) -> None:
    """Undo or complete what an interrupted build left; the caller holds the lock.

    While the staged ``datapackage.json`` has not replaced the old one the build is not
    committed: put the old ``data/`` back. Once it has, only clean-up was left.
    """
    staging, data, old = root / STAGING, root / DATA, root / OLD
    if old.exists() or old.is_symlink():
        committed = not (staging / DESCRIPTOR).exists() and (data.exists() or data.is_symlink())
        if committed:
            fs.remove(old)
        else:
            fs.remove(data)
            old.rename(data)
    fs.remove(staging)


def _swap(root: Path, fault: Fault) -> None:
    """Move the staged package into place, up to the commit point; on failure put the old back."""
    staging, data, old = root / STAGING, root / DATA, root / OLD
    had_data = data.exists() or data.is_symlink()
    try:
        if had_data:
            data.rename(old)
        fault("moved-old")
        (staging / DATA).rename(data)
        fault("swapped")
        os.replace(staging / DESCRIPTOR, root / DESCRIPTOR)
    except BaseException:
        # Not committed: put the old data back before anything else can run.
        if had_data and (old.exists() or old.is_symlink()):
            fs.remove(data)
            old.rename(data)
        raise


def _clean_up(root: Path, fault: Fault) -> list[str]:
    """Remove the old data and the staging folder once the new package is published.

    Nothing here can unpublish it, so a failure is a warning; the next build retries.
    """
    try:
        fault("committed")
        fs.remove(root / OLD)
        fs.remove(root / STAGING)
    except (OSError, ReportedClaimsError) as exc:
        return [f"warning: the new package is published, but cleaning up after it failed: {exc}; "
                f"the next build removes {OLD} and {STAGING}"]
    return []


def refuse_vanished(root: Path, dataset: Dataset) -> None:
    """Refuse a build that would drop an id the package in ``root`` publishes.

    With no ``datapackage.json`` this is a first build; one that cannot be read is refused
    rather than taken as empty, so that breaking it cannot hide a deleted record.
    """
    if not (root / DESCRIPTOR).exists():
        return
    kinds = [k for k in KINDS if k.prefix]
    try:
        package = open_package(root)
        published = [rid for k in kinds for rid in package.ids(k)]  # the ids alone, no models
    except PackageError as exc:
        raise BuildError(f"the published package cannot be read, so the ids it holds cannot be kept: {exc}. "
                         f"Restore it (git checkout -- {DESCRIPTOR} {DATA}) and build again") from None
    present = {rid for k in kinds for rid in dataset.table(k.name)}
    gone = vanished(published, present)
    if gone:
        raise BuildError(vanished_message(gone, DESCRIPTOR))


@contextmanager
def lock(root: Path, wait: Optional[float] = WAIT, notify: Optional[Callable[[str], None]] = None) -> Iterator[None]:
    """Hold the repository's build lock for the block: one build at a time writes its package.

    When another build holds it, ``notify`` is told at once, and after ``wait`` seconds (None:
    as long as it takes) BuildError is raised.
    """
    say = notify or (lambda message: None)
    try:
        with fs.locked(Path(root) / LOCK, wait=wait,
                       on_wait=lambda: say(f"waiting for another build to finish (lock {LOCK})")):
            yield
    except fs.LockTimeout as exc:
        raise BuildError(f"gave up waiting for another build to finish: {exc}; "
                         "build again once it is done, or wait longer with --wait SECONDS") from None


def build(root: Path, dataset: Dataset, *, version: str = __version__, fault: Optional[Fault] = None,
          wait: Optional[float] = WAIT, notify: Optional[Callable[[str], None]] = None,
          full_check: bool = False, parts: Optional["Parts"] = None, ctx: Optional[Context] = None,
          locked: bool = False, jobs: Optional[int] = None) -> Built:
    """Build the package of ``dataset`` into ``root``; raise BuildError and change nothing on failure.

    The primary and foreign keys of every table are always checked as it is written;
    ``full_check`` also runs the Frictionless validator and the JSON resources' schemas over
    the staged package (``check``) before it is published. The files are the same either way.

    ``version`` is the data version ``datapackage.json`` carries. ``fault`` is called at each
    named step (see ``Fault``). When another build holds the lock, ``notify`` is told at once
    and the build gives up after ``wait`` seconds (None: waits as long as it takes);
    ``notify`` also receives each warning of ``Built.warnings``.

    ``parts`` and ``ctx`` are those of an incremental build (``package.incremental``): ``ctx``
    holds the records made again and ``parts`` splices them into the last build's files. Its checks are
    those of the validation that chose the records (nothing removed, every reference resolved);
    ``full_check`` runs as for a full build. An incremental build reads the published package, so
    the build lock (``lock``) must be held from before it was planned: ``locked`` says the caller holds it.
    ``jobs`` is how many processes write the files (``write_package``).
    """
    root = Path(root)
    fault = fault or _no_fault
    say = notify or (lambda message: None)
    incremental = parts is not None and parts.incremental
    ctx = ctx if ctx is not None else context(dataset)
    try:
        with nullcontext() if locked else lock(root, wait, notify):
            recover(root)
            if not incremental:
                refuse_vanished(root, dataset)
            staging = root / STAGING
            try:
                staging.mkdir()
                keys = None if incremental else Keys()
                desc = write_package(ctx, staging, root, version, keys, parts, jobs)
                fault("staged")
                problems = (keys.check() if keys is not None else []) or (check(staging) if full_check else [])
                if problems:
                    raise BuildError("the built package does not validate:\n  "
                                     + "\n  ".join(p.format() for p in problems), problems)
                fault("validated")
                written = schemas.write(root)
                described = dictionary.dictionary_text(staging)  # its examples from the staged data/
                _swap(root, fault)
            except BaseException:
                # A staging folder beside data.old tells the next build it was not committed.
                if not (root / OLD).exists():
                    fs.remove(staging)
                raise
            warnings = _clean_up(root, fault)
            target = root / dictionary.DICTIONARY
            if not target.is_file() or target.read_text(encoding="utf-8") != described:
                target.parent.mkdir(parents=True, exist_ok=True)
                fs.atomic_write(target, described)
                written.append(dictionary.DICTIONARY)
    except OSError as exc:
        raise BuildError(f"cannot write the package: {exc}") from exc
    for warning in warnings:
        say(warning)
    return Built(root, len(desc["resources"]), written, warnings, hashes(desc))
