"""Reading a built data package: its descriptor, JSON records and typed CSV tables.

:func:`open_package` reads a package folder or a release ``.zip`` (whose files sit under one
top folder, ``reported-claims-X.Y.Z/``). It checks the descriptor's shape before anything
else, so that a damaged package gives a ``PackageError`` naming what is wrong, never a
KeyError. The CSV cells are typed by each field's Table Schema type through ``types``, the one
map of types that the exports and data frames use too.

On top of it, :func:`read_json` and :func:`read_csv` give the records of a package as models,
``{"claims": [...], "sources": [...], "entities": [...], "vocabularies": [...]}``, from its JSON
or reassembled from its CSV tables; :func:`read` wraps the JSON ones in a ``Dataset``.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from pathlib import Path, PurePosixPath
from typing import Any, Optional, Union

import orjson
import pydantic

from reported_claims.errors import ReportedClaimsError
from reported_claims.model.kinds import KINDS, Kind, kind as kind_named
from reported_claims.model.records import (
    Claim,
    ClaimDerived,
    ClaimLink,
    Claimant,
    Derivation,
    Entity,
    EntityRole,
    ExternalIds,
    Figure,
    PublishedClaim,
    PublishedSource,
    Quantity,
    Report,
    Source,
    SourceDerived,
    Vocabulary,
    VocabularyTerm,
    NotRecorded,
    Withdrawal,
)
from reported_claims.package import DESCRIPTOR, types
from reported_claims.package.tables import ATTRIBUTES_TO, VOCABULARIES, tables, vocab_table
from reported_claims.repo.load import Dataset

MAX_MEMBERS = 10_000
"""The most entries a package archive may hold."""
MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024
"""The most bytes, uncompressed, read from one package archive."""


class PackageError(ReportedClaimsError):
    """A path that is not a readable data package (folder or release archive)."""


class _Folder:
    def __init__(self, root: Path):
        self.root = root

    def exists(self, rel: str) -> bool:
        return (self.root / rel).is_file()

    def read(self, rel: str) -> Optional[bytes]:
        try:
            return (self.root / rel).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise PackageError(f"{self.root}: cannot read {rel} ({exc.strerror or exc})") from None


class _Archive:
    """A release zip: its files by path below the top folder, read within the size bounds."""

    def __init__(self, path: Path):
        try:
            with zipfile.ZipFile(path) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise PackageError(f"{path}: not a package folder nor a zip archive ({exc})") from None
        if len(infos) > MAX_MEMBERS:
            raise PackageError(f"{path}: {len(infos)} entries, over the limit of {MAX_MEMBERS}; "
                               "not a release archive")
        self.path, self.budget = path, MAX_ARCHIVE_BYTES
        self.members = {}
        for info in infos:
            parts = PurePosixPath(info.filename).parts
            if len(parts) > 1 and not info.is_dir():
                self.members["/".join(parts[1:])] = info

    def exists(self, rel: str) -> bool:
        return rel in self.members

    def read(self, rel: str) -> Optional[bytes]:
        info = self.members.get(rel)
        if info is None:
            return None
        # zipfile stops at the declared size, so bounding the declared sizes bounds the reads.
        if info.file_size > self.budget:
            raise PackageError(f"{self.path}: {info.filename} would take the archive over "
                               f"{MAX_ARCHIVE_BYTES} bytes uncompressed; not a release archive")
        self.budget -= info.file_size
        try:
            with zipfile.ZipFile(self.path) as archive:
                return archive.read(info)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise PackageError(f"{self.path}: cannot read {info.filename} ({exc})") from None


def _fail(origin: str, what: str) -> PackageError:
    return PackageError(f"{origin}: {what}")


def _relative(origin: str, where: str, path: Any) -> str:
    """A resource's path, which must stay inside the package."""
    pure = PurePosixPath(path) if isinstance(path, str) else None
    if pure is None or not path or pure.is_absolute() or ".." in pure.parts or "\\" in path:
        raise _fail(origin, f"{where}: path must be a relative path inside the package, not {path!r}")
    return pure.as_posix()


def _check_descriptor(origin: str, descriptor: Any) -> dict[str, dict]:
    """The resources by name, once the descriptor has the shape of a data package."""
    if not isinstance(descriptor, dict):
        raise _fail(origin, f"{DESCRIPTOR} is not a JSON object")
    listed = descriptor.get("resources", [])
    if not isinstance(listed, list):
        raise _fail(origin, f"{DESCRIPTOR}: resources must be a list of objects, not {type(listed).__name__}")
    resources: dict[str, dict] = {}
    for i, resource in enumerate(listed):
        where = f"{DESCRIPTOR}: resources[{i}]"
        if not isinstance(resource, dict):
            raise _fail(origin, f"{where} is not an object")
        name = resource.get("name")
        if not isinstance(name, str) or not name:
            raise _fail(origin, f"{where} has no name")
        if name in resources:
            raise _fail(origin, f"{where}: a second resource named {name!r}")
        _relative(origin, f"{where} ({name})", resource.get("path"))
        if "schema" in resource:
            _check_schema(origin, f"{where} ({name}): schema", resource["schema"])
        resources[name] = resource
    return resources


def _names(value: Any) -> bool:
    """A field name or a list of them, as keys name their fields."""
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _check_schema(origin: str, where: str, schema: Any) -> None:
    """A Table Schema whose fields, constraints and keys can be read without a KeyError."""
    if not isinstance(schema, dict):
        raise _fail(origin, f"{where} is not an object")
    fields = schema.get("fields")
    if not isinstance(fields, list):
        raise _fail(origin, f"{where}: fields must be a list of objects")
    for i, field in enumerate(fields):
        if not isinstance(field, dict) or not isinstance(field.get("name"), str):
            raise _fail(origin, f"{where}: fields[{i}] is not an object with a name")
        if not isinstance(field.get("constraints", {}), dict):
            raise _fail(origin, f"{where}: fields[{i}] ({field['name']}): constraints must be an object")
    if "primaryKey" in schema and not _names(schema["primaryKey"]):
        raise _fail(origin, f"{where}: primaryKey must be a field name or a list of them")
    keys = schema.get("foreignKeys", [])
    for i, fk in enumerate(keys if isinstance(keys, list) else [None]):
        reference = fk.get("reference") if isinstance(fk, dict) else None
        if not (isinstance(reference, dict) and _names(fk.get("fields")) and _names(reference.get("fields"))
                and isinstance(reference.get("resource", ""), str)):
            raise _fail(origin, f"{where}: foreignKeys[{i}] must have fields and a reference with fields")


class Package:
    """A built data package, folder or release zip, whose descriptor has the right shape.

    Files are read when asked for: :meth:`records` for a kind's JSON, :meth:`table` for a CSV
    table typed by its Table Schema.
    """

    def __init__(self, origin: str, files: Union[_Folder, _Archive], descriptor: dict,
                 resources: dict[str, dict]):
        self.origin, self._files = origin, files
        self.descriptor = descriptor
        """The parsed ``datapackage.json``."""
        self.resources = resources
        """Every resource, by name, in the descriptor's order."""

    @property
    def version(self) -> Optional[str]:
        return self.descriptor.get("version")

    @property
    def tables(self) -> dict[str, dict]:
        """The CSV resources with a Table Schema, by name."""
        return {name: r for name, r in self.resources.items()
                if "schema" in r and (r.get("format") == "csv" or r["path"].endswith(".csv"))}

    def read_bytes(self, rel: str) -> Optional[bytes]:
        """The content of a file of the package (a path relative to it), or None if absent."""
        return self._files.read(_relative(self.origin, "file", rel))

    def _json(self, rel: str) -> Any:
        data = self.read_bytes(rel)
        if data is None:
            return None
        try:
            return orjson.loads(data)  # UTF-8 checked as it reads; Python's parser takes ten times as long
        except orjson.JSONDecodeError as exc:
            raise _fail(self.origin, f"{rel}: unreadable JSON ({exc})") from None

    def _records_path(self, kind: Kind) -> str:
        resource = self.resources.get(kind.json_resource)
        return resource["path"] if resource else kind.json_path

    def records(self, kind: Kind, missing_ok: bool = False) -> list[dict]:
        """The records of a kind as plain JSON objects, each with its ``id``.

        Read from the kind's JSON resource (``claims-json``), or from ``data/claims.json`` when
        the descriptor lists none. With ``missing_ok``, an absent file is no records.
        """
        rel = self._records_path(kind)
        rows = self._json(rel)
        if rows is None:
            if missing_ok:
                return []
            raise _fail(self.origin, f"no {rel}: rebuild the package with `reported-claims build`")
        if not isinstance(rows, list):
            raise _fail(self.origin, f"{rel} is not a JSON list of {kind.plural}")
        for i, row in enumerate(rows):
            if not isinstance(row, dict) or not isinstance(row.get("id"), str):
                raise _fail(self.origin, f"{rel}: item {i} is not an object with an id")
        return rows

    def ids(self, kind: Kind) -> list[str]:
        """The ids a package publishes for a kind: the ``id`` column of its main table (the
        table named ``<plural>``, as CSV reads it, without typing the other columns), or the ids
        of its JSON resource when the descriptor lists no such table. The two hold the same ids;
        the column is read in a hundredth of the time it takes to parse the JSON whole."""
        table = self.tables.get(kind.plural)
        data = self.read_bytes(table["path"]) if table is not None else None
        if data is None:
            return [row["id"] for row in self.records(kind)]
        records = self._records_path(kind)
        if not self._files.exists(_relative(self.origin, "file", records)):  # a package that lost its records is not read
            raise _fail(self.origin, f"no {records}: rebuild the package with `reported-claims build`")
        rel = table["path"]
        try:
            # Decoded a piece at a time (a BytesIO of the bytes shares them): the table of 100,000
            # claims is tens of MB, which a StringIO would hold again, four bytes a character.
            reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=""))
            header = next(reader, None) or []
            if "id" not in header:
                raise _fail(self.origin, f"{rel}: no id column: rebuild the package with `reported-claims build`")
            at = header.index("id")
            ids = []
            for cells in reader:
                if len(cells) != len(header) or not cells[at]:
                    raise _fail(self.origin, f"{rel}:{reader.line_num}: a row without its id or with "
                                             f"{len(cells)} cells for {len(header)} columns")
                ids.append(cells[at])
        except UnicodeDecodeError as exc:
            raise _fail(self.origin, f"{rel}: not UTF-8 ({exc})") from None
        except csv.Error as exc:
            raise _fail(self.origin, f"{rel}:{reader.line_num}: {exc}") from None
        return ids

    def models(self, kind: Kind) -> list:
        """The records of a kind, validated by its published model (``Kind.published``), in the file's order."""
        out = []
        model = kind.published
        for row in self.records(kind):
            try:
                out.append(model.model_validate(row))
            except pydantic.ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(map(str, first["loc"])) or kind.name
                raise _fail(self.origin, f"{self._records_path(kind)}: {row['id']}: {where}: {first['msg']}") from None
        return out

    def schema(self, name: str) -> dict:
        """The Table Schema of a CSV table, each field of a type the package's tables use."""
        schema = self.tables[name]["schema"]
        for f in schema["fields"]:
            try:
                types.field_type(f)
            except ValueError as exc:
                raise _fail(self.origin, f"resource {name!r}: {exc}") from None
        return schema

    def table(self, name: str) -> list[dict]:
        """The rows of one CSV table, typed by its Table Schema; a missing value is None.

        The header must be the schema's fields in order, each row must have as many cells,
        and a required field must have a value: else a ``PackageError`` with the line.
        """
        if name not in self.tables:
            raise _fail(self.origin, f"no table {name!r}; the tables are {', '.join(self.tables)}")
        schema = self.schema(name)
        rel = self.tables[name]["path"]
        data = self.read_bytes(rel)
        if data is None:
            raise _fail(self.origin, f"no {rel}: rebuild the package with `reported-claims build`")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(self.origin, f"{rel}: not UTF-8 ({exc})") from None
        fields = schema["fields"]
        names = [f["name"] for f in fields]
        columns = [(f["name"], types.parser(f), bool(f.get("constraints", {}).get("required")), f.get("type"))
                   for f in fields]
        missing = types.missing_values(schema)
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            if next(reader, None) != names:
                raise _fail(self.origin, f"{rel}: the header is not the fields of its Table Schema: "
                                         "rebuild the package with `reported-claims build`")
            rows = []
            for cells in reader:
                at = f"{rel}:{reader.line_num}"
                if len(cells) != len(names):
                    raise _fail(self.origin, f"{at}: {len(cells)} cells, the schema has {len(names)}")
                row = {}
                for (field, parse, required, type_), cell in zip(columns, cells):
                    if cell in missing:
                        if required:
                            raise _fail(self.origin, f"{at}: {field}: a required value is missing")
                        row[field] = None
                        continue
                    try:
                        row[field] = parse(cell)
                    except ValueError:
                        raise _fail(self.origin, f"{at}: {field}: {cell!r} is not a valid {type_}") from None
                rows.append(row)
        except csv.Error as exc:
            raise _fail(self.origin, f"{rel}:{reader.line_num}: {exc}") from None
        return rows


def open_package(path: Union[Path, str, Package]) -> Package:
    """A package folder (holding ``datapackage.json``) or a release ``.zip``, its descriptor
    checked; a ``Package`` is returned as it is."""
    if isinstance(path, Package):
        return path
    path = Path(path)
    origin = str(path)
    if not path.exists():
        raise _fail(origin, "no such file or folder")
    files = _Folder(path) if path.is_dir() else _Archive(path)
    data = files.read(DESCRIPTOR)
    if data is None:
        raise _fail(origin, f"no {DESCRIPTOR}: run `reported-claims build` first, "
                            "or give a built package folder or a release zip")
    try:
        descriptor = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(origin, f"{DESCRIPTOR}: unreadable JSON ({exc})") from None
    return Package(origin, files, descriptor, _check_descriptor(origin, descriptor))


# --- records as models ----------------------------------------------------------------------


def read_kind(package: Union[Path, Package], kind: str) -> list:
    """The records of one kind (``claims``, ``sources``...) from its JSON, validated."""
    return open_package(package).models(kind_named(kind))


def read_json(package: Union[Path, Package]) -> dict[str, list]:
    """The records of a package, from its JSON resources (``data/<kind>.json``)."""
    package = open_package(package)
    return {k.plural: package.models(k) for k in KINDS}


def read(package_dir: Path) -> Dataset:
    """A package's records as a ``records.Dataset`` (indexed by id), from its JSON resources."""
    records = read_json(package_dir)
    by_id = {kind: {r.id: r for r in items} for kind, items in records.items()}
    return Dataset(Path(package_dir), claims=by_id["claims"], sources=by_id["sources"], entities=by_id["entities"],
                   vocabularies=by_id["vocabularies"])


def _group(rows: list[dict], *key: str) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        out[tuple(row[k] for k in key)].append(row)
    for items in out.values():
        items.sort(key=lambda r: r["position"])
    return out


def _some(row: dict, *names: str) -> dict:
    """The named columns of a row, without the missing ones (so that model defaults apply)."""
    return {n: row[n] for n in names if row[n] is not None}


def read_csv(package: Union[Path, Package]) -> dict[str, list]:
    """The records of a package reassembled from its CSV tables."""
    package = open_package(package)
    rows = {t.name: package.table(t.name) for t in tables()}
    return {
        "claims": _claims(rows),
        "sources": _sources(rows),
        "entities": _entities(rows),
        "vocabularies": _vocabularies(rows, package.resources),
    }


def _claims(rows: dict[str, list[dict]]) -> list[PublishedClaim]:
    reports = _group(rows["claim_reports"], "claim_id")
    figures = _group(rows["claim_report_figures"], "claim_id", "source_id")
    terms = _group(rows["claim_report_terms"], "claim_id", "source_id")
    lineage = _group(rows["claim_report_lineage"], "claim_id", "source_id")
    claimants = _group(rows["claim_claimants"], "claim_id")
    entities = _group(rows["claim_entities"], "claim_id")
    items = _group(rows["claim_items"], "claim_id")
    quantities = _group(rows["quantities"], "claim_id")
    links = _group(rows["claim_links"], "claim_id")
    origins = _group(rows["claim_origins"], "claim_id")
    primary = _group(rows["claim_primary_sources"], "claim_id")
    out = []
    for row in rows["claims"]:
        cid = (row["id"],)
        withdrawal: Optional[Withdrawal] = None
        if row["withdrawal_date"] is not None or row["withdrawal_reason"] is not None:
            withdrawal = Withdrawal(date=row["withdrawal_date"], reason=row["withdrawal_reason"],
                                    replaced_by=row["withdrawal_replaced_by"])
        out.append(PublishedClaim(
            **_some(row, "id", "statement", "act", "made", "topic", "period", "status", "notes"),
            derived=ClaimDerived(
                **{k: row[k] for k in ("report_count", "source_count", "listed_report_count", "origin_count",
                                       "drift_count", "first_reported")},
                origins=[r["origin_id"] for r in origins[cid]],
                primary_sources=[r["source_id"] for r in primary[cid]],
            ),
            items=[r["item"] for r in items[cid]],
            claimants=[Claimant(entity=r["entity_id"], **_some(r, "attribution", "description", "via"))
                       for r in claimants[cid]],
            entities=[EntityRole(entity=r["entity_id"], role=r["role"]) for r in entities[cid]],
            quantities=[Quantity(**_some(r, "id", "measure", "value", "unit", "compared_to", "share_of", "hedge",
                                          "period"))
                        for r in quantities[cid]],
            withdrawal=withdrawal,
            links=[ClaimLink(claim=r["target_id"], **_some(r, "type", "note")) for r in links[cid]],
            reports=[Report(
                source=r["source_id"], claimant=r["claimant_id"],
                **_some(r, "quote", "attribution", "attribution_mode", "attributed_to", "attribution_context", "fit",
                        "act", "modality", "modality_text", "note"),
                derived_from=[d["target_id"] for d in lineage[(row["id"], r["source_id"])]],
                figures=[Figure(quantity=f["quantity_id"], **_some(f, "text", "value", "unit", "hedge", "share_of",
                                                                  "period", "compared_to"))
                         for f in figures[(row["id"], r["source_id"])]],
                terms=[t["term"] for t in terms[(row["id"], r["source_id"])]],
            ) for r in reports[cid]],
        ))
    return out


def _sources(rows: dict[str, list[dict]]) -> list[PublishedSource]:
    lineage = _group(rows["source_lineage"], "source_id")
    authors = _group(rows["source_authors"], "source_id")
    not_recorded = _group(rows["source_not_recorded"], "source_id")
    origins = _group(rows["source_origins"], "source_id")
    out = []
    for row in rows["sources"]:
        sid = (row["id"],)
        edges = lineage[sid]
        out.append(PublishedSource(
            **_some(row, "id", "kind", "title", "publisher", "url", "published", "retrieved", "seen", "language",
                    "text_sha256", "notes"),
            derived=SourceDerived(origin_count=row["origin_count"], origins=[r["origin_id"] for r in origins[sid]]),
            not_recorded=[NotRecorded(**_some(r, "quote", "reason", "note")) for r in not_recorded[sid]],
            authors=[r["author"] for r in authors[sid]],
            derived_from=[Derivation(source=r["target_id"], **_some(r, "relation", "note"))
                          for r in edges if r["relation"] != ATTRIBUTES_TO],
            attributes_to=[r["target_id"] for r in edges if r["relation"] == ATTRIBUTES_TO],
        ))
    return out


def _entities(rows: dict[str, list[dict]]) -> list[Entity]:
    aliases = _group(rows["entity_aliases"], "entity_id")
    out = []
    for row in rows["entities"]:
        ids = _some(row, "wikidata", "lei", "opensanctions", "website")
        out.append(Entity(
            **_some(row, "id", "name", "kind", "country", "part_of", "description"),
            aliases=[r["alias"] for r in aliases[(row["id"],)]],
            ids=ExternalIds(**ids) if ids else None,
        ))
    return out


def _vocabularies(rows: dict[str, list[dict]], resources: dict[str, dict]) -> list[Vocabulary]:
    """Vocabularies from their term tables; the title and description are the resource's."""
    out = []
    for vocabulary in VOCABULARIES:
        name = vocab_table(vocabulary)
        terms = sorted(rows[name], key=lambda r: r["position"])
        if not terms:
            continue
        out.append(Vocabulary(
            id=vocabulary, title=resources[name]["title"], description=resources[name]["description"],
            terms=[VocabularyTerm(**_some(t, "id", "label", "description", "deprecated")) for t in terms],
        ))
    return sorted(out, key=lambda v: v.id)
