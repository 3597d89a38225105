"""Building the data package: ``datapackage.json`` and ``data/``, atomically.

The package is written into a staging folder next to the outputs, checked with the
Frictionless validator (types, constraints, primary and foreign keys, hashes) and only then
moved into place: ``data/`` by renaming (old -> ``data.old``, new -> ``data``), then
``datapackage.json`` by ``os.replace``, which is the commit point. An exclusive lock keeps
two builds apart, and each build first undoes or completes whatever an interrupted one left.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

from reported_claims.errors import ReportedClaimsError
from reported_claims.package import schemas
from reported_claims._version import __version__
from reported_claims.model.types import FORMULA_START
from reported_claims.model.kinds import MODELS
from reported_claims.repo.load import Dataset
from reported_claims.package.tables import Context, Table, tables

PACKAGE = "datapackage.json"
DATA = "data"
OLD = "data.old"
STAGING = ".tmp-build-staging"
LOCK = ".build.lock"
HOMEPAGE = "https://github.com/reported-claims/reported-claims"
FAULT_ENV = "REPORTED_CLAIMS_BUILD_FAULT"
"""Test hook: ``<step>:kill``, ``<step>:raise`` or ``<step>:sleep`` at a named step of the build."""

JSON_RESOURCES = {"claims-json": "claim", "sources-json": "source", "entities-json": "entity",
                  "vocabularies-json": "vocabulary"}
"""Resource name -> record kind of the JSON resources; the file is ``data/<plural>.json``."""
PLURAL = {"claim": "claims", "source": "sources", "entity": "entities", "vocabulary": "vocabularies"}


class BuildError(ReportedClaimsError):
    """The package could not be built; the previous ``datapackage.json`` and ``data/`` are unchanged."""


class UnsafeCell(BuildError):
    """A CSV cell that a spreadsheet would run as a formula."""


@dataclass
class Built:
    """What a build wrote."""

    root: Path
    resources: int
    schemas_written: list[str]


# --- writing ------------------------------------------------------------------------------


def cell(value: object, where: str) -> str:
    """One CSV cell: ISO dates, ``true``/``false``, integers without ``.0``, empty for missing."""
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


def csv_text(table: Table, rows: Iterable[dict]) -> str:
    """The table as CSV: header row, ``\\n`` line ends, quoting only where needed, sorted by key."""
    names = table.names
    key = [names.index(k) for k in table.primary_key]
    body = [[cell(row[n], f"{table.name}.{n}") for n in names] for row in rows]
    if any(c.type == "integer" for c in table.columns if c.name in table.primary_key):
        kinds = [next(c.type for c in table.columns if c.name == k) for k in table.primary_key]
        body.sort(key=lambda r: [int(r[i]) if t == "integer" else r[i] for i, t in zip(key, kinds)])
    else:
        body.sort(key=lambda r: [r[i] for i in key])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(body)
    return out.getvalue()


def json_text(records: Iterable) -> str:
    return schemas.dumps([r.model_dump(mode="json") for r in sorted(records, key=lambda r: r.id)])


def json_schema(kind: str) -> dict:
    """A JSON Schema for a JSON resource: an array of records of one kind."""
    schema = MODELS[kind].model_json_schema(mode="validation")
    defs = schema.pop("$defs", {})
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "array",
            "items": schema, "$defs": defs}


def context(dataset: Dataset) -> Context:
    return Context.of(dataset.claims.values(), dataset.sources.values(), dataset.entities.values(),
                      dataset.vocabularies.values())


def _fingerprint(desc: dict) -> tuple:
    """What the data of a descriptor is: its version and each resource's name and hash."""
    return desc.get("version"), tuple((r.get("name"), r.get("hash")) for r in desc.get("resources", []))


def created(root: Path, resources: Optional[list[dict]] = None) -> Optional[str]:
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
            previous = json.loads((Path(root) / PACKAGE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = {}
        if (isinstance(previous, dict) and isinstance(previous.get("created"), str)
                and _fingerprint(previous) == _fingerprint({"version": __version__, "resources": resources})):
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


def _file(folder: Path, rel: str, text: str) -> dict:
    data = text.encode("utf-8")
    path = folder / rel
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return {"path": rel, "hash": "sha256:" + hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def descriptor(resources: list[dict], created_at: Optional[str]) -> dict:
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
        "version": __version__,
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


def write_package(ctx: Context, folder: Path, root: Optional[Path] = None) -> dict:
    """Write ``datapackage.json`` and ``data/`` into ``folder``; return the descriptor.

    ``root`` is the repository whose history and published package give ``created``.
    """
    (folder / DATA).mkdir(parents=True, exist_ok=True)
    vocabularies = {v.id.replace("-", "_"): v for v in ctx.vocabularies}
    resources = []
    for t in tables():
        entry = {"name": t.name, "type": "table", "title": t.title, "description": t.description,
                 "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
                 "dialect": {"header": True, "delimiter": ",", "lineTerminator": "\n",
                             "quoteChar": '"', "doubleQuote": True},
                 "schema": t.schema()}
        if t.name in vocabularies:  # the vocabulary's own title and description
            entry["title"], entry["description"] = vocabularies[t.name].title, vocabularies[t.name].description
        entry.update(_file(folder, f"{DATA}/{t.name}.csv", csv_text(t, t.rows(ctx))))
        resources.append(entry)
    for name, kind in JSON_RESOURCES.items():
        records = getattr(ctx, PLURAL[kind])
        entry = {"name": name, "type": "json", "title": f"{PLURAL[kind].capitalize()} (JSON)",
                 "description": f"Every {kind} record exactly as the model defines it, sorted by id.",
                 "format": "json", "mediatype": "application/json", "encoding": "utf-8",
                 "jsonSchema": json_schema(kind)}
        entry.update(_file(folder, f"{DATA}/{PLURAL[kind]}.json", json_text(records)))
        resources.append(entry)
    desc = descriptor(resources, created(root, resources) if root is not None else None)
    _file(folder, PACKAGE, schemas.dumps(desc))
    return desc


# --- checking -----------------------------------------------------------------------------


def check(folder: Path) -> list[str]:
    """Problems the Frictionless validator and the JSON resources' schemas find in a built package."""
    import frictionless
    import jsonschema

    problems = []
    report = frictionless.Package(str(folder / PACKAGE)).validate()
    for error in report.errors:
        problems.append(f"{PACKAGE}: {error.message}")
    for task in report.tasks:
        for error in task.errors:
            problems.append(f"{task.name}: {error.message}")
    desc = json.loads((folder / PACKAGE).read_text(encoding="utf-8"))
    for res in desc["resources"]:
        if res["type"] != "json":
            continue
        data = json.loads((folder / res["path"]).read_text(encoding="utf-8"))
        validator = jsonschema.Draft202012Validator(res["jsonSchema"])
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))[:20]:
            where = "/".join(map(str, error.absolute_path))
            problems.append(f"{res['name']}: {where}: {error.message}")
    return problems


# --- moving into place --------------------------------------------------------------------


def _fault(step: str) -> None:
    """Fail at a named step when the test hook asks for it."""
    want, _, how = os.environ.get(FAULT_ENV, "").partition(":")
    if want != step:
        return
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif how == "sleep":
        time.sleep(1.5)
    else:
        raise BuildError(f"fault injected at {step}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the repository's build lock (one build at a time; others wait)."""
    with open(root / LOCK, "a") as f:
        try:
            import fcntl
        except ImportError:  # Windows: msvcrt locks a byte range and retries for 10 s
            import msvcrt

            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                f.seek(0)
                msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
            return
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def recover(root: Path) -> None:
    """Undo or complete what an interrupted build left; the caller holds the lock.

    While the staged ``datapackage.json`` has not replaced the old one the build is not
    committed: put the old ``data/`` back. Once it has, only clean-up was left.
    """
    staging, data, old = root / STAGING, root / DATA, root / OLD
    if old.exists() or old.is_symlink():
        committed = not (staging / PACKAGE).exists() and (data.exists() or data.is_symlink())
        if committed:
            _remove(old)
        else:
            _remove(data)
            old.rename(data)
    _remove(staging)


def _swap(root: Path) -> None:
    staging, data, old = root / STAGING, root / DATA, root / OLD
    had_data = data.exists() or data.is_symlink()
    try:
        if had_data:
            data.rename(old)
        _fault("moved-old")
        (staging / DATA).rename(data)
        _fault("swapped")
        os.replace(staging / PACKAGE, root / PACKAGE)
    except BaseException:
        # Not committed: put the old data back before anything else can run.
        if had_data and (old.exists() or old.is_symlink()):
            _remove(data)
            old.rename(data)
        raise
    _fault("committed")
    _remove(old)


def build(root: Path, dataset: Dataset) -> Built:
    """Build the package of ``dataset`` into ``root``; raise BuildError and change nothing on failure."""
    root = Path(root)
    ctx = context(dataset)
    try:
        with locked(root):
            recover(root)
            staging = root / STAGING
            try:
                staging.mkdir()
                desc = write_package(ctx, staging, root)
                _fault("staged")
                problems = check(staging)
                if problems:
                    raise BuildError("the built package does not validate:\n  " + "\n  ".join(problems))
                _fault("validated")
                written = schemas.write(root)
                _swap(root)
            finally:
                if not (root / OLD).exists():
                    _remove(staging)
    except OSError as exc:
        raise BuildError(f"cannot write the package: {exc}") from exc
    return Built(root, len(desc["resources"]), written)
