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
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional, Union

from reported_claims._version import __version__
from reported_claims.errors import ReportedClaimsError
from reported_claims.model.kinds import KINDS, Kind
from reported_claims.model.types import FORMULA_START
from reported_claims.package import DATA, DESCRIPTOR, dictionary, schemas
from reported_claims.package.diff import vanished, vanished_message
from reported_claims.package.read import PackageError, open_package
from reported_claims.package.tables import Context, Table, tables
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
    key = [names.index(k) for k in table.primary_key]
    wheres = [f"{table.name}.{n}" for n in names]
    values = _getter(names)
    # Most cells are text that is safe as it is, or missing: taken here, without a call to ``cell``.
    body = [[v if type(v) is str and not v.startswith(FORMULA_START) else "" if v is None else cell(v, w)
             for v, w in zip(values(row), wheres)] for row in rows]
    if any(c.type == "integer" for c in table.columns if c.name in table.primary_key):
        kinds = [next(c.type for c in table.columns if c.name == k) for k in table.primary_key]
        body.sort(key=lambda r: [int(r[i]) if t == "integer" else r[i] for i, t in zip(key, kinds)])
    else:
        body.sort(key=itemgetter(*key))
    return body


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
    build always keeps, at the cost of one pass over the cells it has in hand.
    """

    def __init__(self) -> None:
        self.referenced: set[tuple[str, tuple]] = set()
        self.values: dict[tuple[str, tuple], set[tuple]] = {}
        self.wanted: list[tuple[str, str, tuple, set[tuple]]] = []
        self.problems: list[Problem] = []

    def expect(self, all_tables: Iterable[Table]) -> None:
        """The tables to be written: which columns other tables refer to."""
        self.referenced = {(fk.resource, fk.reference) for t in all_tables for fk in t.foreign_keys}

    def part(self) -> "Keys":
        """Empty keys expecting the same tables, to be told some of them and ``merge``d back."""
        out = Keys()
        out.referenced = self.referenced
        return out

    def merge(self, other: "Keys") -> None:
        self.values.update(other.values)
        self.wanted += other.wanted
        self.problems += other.problems

    def add(self, table: Table, body: list[list[str]]) -> None:
        """Check ``table``'s primary key and keep what its foreign keys and others' need."""
        names = table.names
        path = f"{DATA}/{table.name}.csv"
        key = [names.index(k) for k in table.primary_key]
        keys = list(map(_getter(key), body))
        seen: set[tuple] = set(keys)
        if len(seen) != len(keys) or any("" in value for value in seen):  # then find the rows
            seen = set()
            for n, value in enumerate(keys, start=2):
                if value in seen or "" in value:
                    what = "repeats its primary key" if value in seen else "has an empty primary key field"
                    self.problems.append(Problem(path, n, key[0] + 1, "package-invalid",
                                                 ",".join(table.primary_key), f"the row {what}: {', '.join(value)}"))
                seen.add(value)
        for resource, reference in self.referenced:
            if resource == table.name:
                cols = [names.index(f) for f in reference]
                self.values[(resource, reference)] = set(map(_getter(cols), body))
        for fk in table.foreign_keys:
            cols = [names.index(f) for f in fk.fields]
            values = set(map(_getter(cols), body))
            # An empty field is a missing value, which a foreign key does not constrain.
            self.wanted.append((path, fk.resource, fk.reference, {v for v in values if "" not in v}))

    def check(self) -> list[Problem]:
        """Repeated or empty primary keys, and references to rows that do not exist."""
        problems = list(self.problems)
        for path, resource, reference, values in self.wanted:
            missing = sorted(values - self.values.get((resource, reference), set()))
            for value in missing[:20]:
                problems.append(Problem(path, 1, 1, "package-invalid", ",".join(reference),
                                        f"no row of {resource} has {', '.join(value)}"))
        return problems


def json_pieces(rows: Iterable[dict]) -> Iterator[bytes]:
    """A JSON resource: the records as plain JSON, in the order given (``published_rows``:
    sorted by id), in pieces, each record dumped as the file is written."""
    return schemas.list_pieces(schemas.dump_item(row) for row in rows)


def published_rows(ctx: Context, kind: Kind) -> Iterator[dict]:
    """The records of a kind as its JSON resource holds them: the record as the model dumps it,
    with what the build derives for it under ``derived`` (``Kind.published``)."""
    facts = {"claims": ctx.claim_facts, "sources": ctx.source_facts}.get(kind.plural)
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
    """The records of ``dataset`` as the tables read them."""
    return Context.of(dataset.claims.values(), dataset.sources.values(), dataset.entities.values(),
                      dataset.vocabularies.values())


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
    from reported_claims.package.incremental import Kept

    path = folder / rel
    if isinstance(data, Kept):
        fs.link_or_copy(data.path, path)
        st = os.stat(path)
        digest = data.sha256
    else:
        h = hashlib.sha256()
        with fs.atomic_file(path, "wb", buffering=_BUFFER) as f:
            for chunk in [data] if isinstance(data, bytes) else data:
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


def write_package(ctx: Context, folder: Path, root: Optional[Path] = None, version: str = __version__,
                  keys: Optional[Keys] = None, parts: Optional["Parts"] = None, jobs: Optional[int] = None) -> dict:
    """Write ``datapackage.json`` and ``data/`` into ``folder``; return the descriptor.

    ``root`` is the repository whose history and published package give ``created``;
    ``version`` is the data version the descriptor carries; ``keys``, when given, is told
    every table's cells as they are written. ``parts`` (``package.incremental``) is given each
    record's lines as they are made, and for an incremental build gives those of the records
    not made again. ``jobs`` is how many processes make the files of a full build (default:
    one per core from ``WRITE_POOL_RECORDS`` records); the files are the same however many.
    """
    (folder / DATA).mkdir(parents=True, exist_ok=True)
    every = tables()
    if keys is not None:
        keys.expect(every)
    todo: list[Union[Table, Kind]] = [*every, *KINDS]  # the descriptor's order
    incremental = parts is not None and parts.incremental  # a few records made again: one process
    n = 1 if incremental else workers(jobs, ctx.count, WRITE_POOL_RECORDS)
    with paused():  # rows and cells by the million, and no cycle among them
        made = _made_in_pool(ctx, folder, todo, keys, parts, n) if n > 1 else None
        if made is None:
            made = [_resource(ctx, folder, item, keys, parts) for item in todo]
    resources = []
    for entry, keys_of, parts_of in made:  # merged in the descriptor's order, as one process would
        if keys is not None and keys_of is not None:
            keys.merge(keys_of)
        if parts is not None and parts_of is not None:
            parts.merge(parts_of)
        resources.append(entry)
    desc = descriptor(resources, created(root, resources, version) if root is not None else None, version)
    _file(folder, DESCRIPTOR, schemas.dumps(desc), parts)
    return desc


def _resource(ctx: Context, folder: Path, item: Union[Table, Kind], build_keys: Optional[Keys],
              build_parts: Optional["Parts"]) -> tuple[dict, Optional[Keys], Optional["Parts"]]:
    """Write one file of the package: a table's CSV or a kind's JSON. Its descriptor entry, and
    the keys and parts it was told (new ones of the build's), to be merged into the build's."""
    keys = build_keys.part() if build_keys is not None else None
    parts = build_parts.part() if build_parts is not None else None
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
        body = csv_body(t, t.rows(ctx))
        if keys is not None:
            keys.add(t, body)
        data = parts.table(t, t.names, body) if parts is not None else _csv_bytes(t.names, body)
        del body
        entry.update(_write(folder, f"{DATA}/{t.name}.csv", data, parts))
        return entry, keys, parts
    kind = item
    described = " with what the build derives for it under `derived`" if kind.published_model else ""
    entry = {"name": kind.json_resource, "type": "json", "title": f"{kind.plural.capitalize()} (JSON)",
             "description": f"Every {kind.name} record exactly as the model defines it{described}, sorted by id.",
             "format": "json", "mediatype": "application/json", "encoding": "utf-8",
             "jsonSchema": json_schema(kind)}
    if parts is not None and kind.prefix:
        data = parts.json(kind.json_path, ((row["id"], schemas.dump_item(row)) for row in published_rows(ctx, kind)))
    else:
        data = json_pieces(published_rows(ctx, kind))
    entry.update(_write(folder, kind.json_path, data, parts))
    return entry, keys, parts


def _made_in_pool(ctx: Context, folder: Path, todo: list, keys: Optional[Keys], parts: Optional["Parts"],
                  n: int) -> Optional[list[tuple]]:
    """``_resource`` of each item by ``n`` forked processes, which share the records without
    pickling them, in the order of ``todo``; None where processes cannot be forked, or when the
    pool broke (the caller then makes them itself)."""
    if forking() is None:
        return None
    ctx.prepare(n)  # what several files draw on, found once, before the workers share it
    # The largest files first, so that the last to finish is a small one; each worker is sent one at a time.
    order = sorted(range(len(todo)), key=lambda i: -_weight(ctx, todo[i]))
    return forked_map(lambda item: _resource(ctx, folder, item, keys, parts), todo, n, order)


def _weight(ctx: Context, item: Union[Table, Kind]) -> int:
    """About how much writing a file costs: the records of its kind (a JSON resource counts
    double, each record whole), none for a table of no kind (a vocabulary)."""
    if isinstance(item, Kind):
        return 2 * len(ctx.table(item.name))
    from reported_claims.package.incremental import table_kinds

    kind = table_kinds().get(item.name)
    return len(ctx.table(kind)) if kind else 0


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
