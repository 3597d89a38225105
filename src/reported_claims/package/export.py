"""Other formats of a built data package: Parquet, SQLite, JSON Lines and Excel.

Each reads the CSV tables of a package folder (``datapackage.json`` and ``data/``) through the
package reader, typed by each resource's Table Schema with the one type map (``types``), and
writes rows in CSV order, so that the same package gives the same bytes (for Parquet, with the
same pyarrow version). Every file is written beside its target and renamed into place.
Parquet needs the ``parquet`` extra (pyarrow); SQLite (full-text search and views, with
sqlite-utils) and Excel (XlsxWriter) need the ``export`` extra; JSON Lines needs nothing.

The SQLite database is made for Datasette: full-text search on claim statements and report
quotes, the view ``report_list``, and a ``metadata.json`` with labels for foreign keys and
canned queries. Datasette names a database after its file's stem, so the metadata's database
key is the stem of the file written (``reported-claims`` for ``reported-claims.db``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from reported_claims.errors import MissingExtra, ReportedClaimsError, require
from reported_claims.package import DESCRIPTOR, dictionary, schemas, types
from reported_claims.package.read import PackageError, open_package
from reported_claims.util.fs import atomic_write

PACKAGE = DESCRIPTOR
"""The descriptor's file name, also in the Parquet folder."""
DEFAULT_SQLITE = Path("reported-claims.db")
DEFAULT_PARQUET = Path("reported-claims-parquet")
DEFAULT_JSONL = Path("reported-claims-jsonl")
DEFAULT_XLSX = Path("reported-claims.xlsx")
DEFAULT_DICTIONARY = Path("data-dictionary.md")
DATASETTE_METADATA = "metadata.json"
FTS = {"claims": ["statement"], "claim_reports": ["quote"]}
"""The columns of each table that Datasette's ``?_search=`` searches."""
LABELS = {"claims": "statement", "sources": "title", "entities": "name"}
"""The column that Datasette shows for a foreign key to each table."""
REPORT_LIST = "report_list"
REPORT_LIST_SQL = """SELECT r.claim_id, c.statement, r.source_id, s.title AS source_title,
  s.published, s.publisher AS publisher_id, p.name AS publisher, r.quote, r.fit
FROM claim_reports AS r
JOIN claims AS c ON c.id = r.claim_id
JOIN sources AS s ON s.id = r.source_id
LEFT JOIN entities AS p ON p.id = s.publisher
ORDER BY r.claim_id, r.position"""
REPORT_LIST_DESCRIPTION = (
    "Every report of a claim as one readable row: the claim's statement, the source's title, "
    "publication date and publisher, the quote and how closely it fits the claim.")
QUERIES = {
    "claims_about_entity": {
        "title": "Claims about an entity",
        "description": "The claims that name an entity (give its id, such as ent-china, or its name), "
                       "with its role in each.",
        "sql": "SELECT c.id, c.statement, ce.role, c.status, c.report_count\n"
               "FROM claim_entities AS ce\nJOIN claims AS c ON c.id = ce.claim_id\n"
               "JOIN entities AS e ON e.id = ce.entity_id\n"
               "WHERE e.id = :entity OR e.name = :entity\nORDER BY c.id, ce.position",
    },
    "reports_of_source": {
        "title": "Reports of a source",
        "description": "Every claim a source reports, with its quote (give the source's id, such as "
                       "src-ap-china-surges-sales-to-russia).",
        "sql": f"SELECT claim_id, statement, quote, fit\nFROM {REPORT_LIST}\nWHERE source_id = :source\n"
               "ORDER BY claim_id",
    },
    "claims_by_origin_count": {
        "title": "Claims by origin count",
        "description": "Claims ordered by how many independent origins their reports trace back to, "
                       "most first.",
        "sql": "SELECT id, statement, origin_count, report_count, source_count\nFROM claims\n"
               "ORDER BY origin_count DESC, report_count DESC, id",
    },
}
"""Datasette's canned queries of the database."""
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"
# Fixed so that the same rows give the same bytes; zstd is read by DuckDB, polars, pandas, Spark.
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 9, "version": "2.6",
                   "data_page_version": "1.0", "use_dictionary": True, "write_statistics": True}
SQLITE_MAGIC = b"SQLite format 3\x00"


class ExportError(ReportedClaimsError):
    """An export refused or failed: the message says why and what to do."""


@dataclass
class TableData:
    """One CSV resource of a package: its descriptor entry and its typed rows, in CSV order."""

    resource: dict
    rows: list[dict]

    @property
    def name(self) -> str:
        return self.resource["name"]

    @property
    def schema(self) -> dict:
        return self.resource["schema"]

    @property
    def fields(self) -> list[dict]:
        return self.schema["fields"]


def read_tables(package_dir: Path) -> tuple[dict, list[TableData]]:
    """The package's descriptor and every CSV table, typed, in descriptor order."""
    try:
        package = open_package(package_dir)
        return package.descriptor, [TableData(r, package.table(name)) for name, r in package.tables.items()]
    except PackageError as exc:
        raise ExportError(str(exc)) from None


def _primary_key(schema: dict) -> list[str]:
    key = schema.get("primaryKey", [])
    return [key] if isinstance(key, str) else list(key)


def _fk_fields(fk: dict) -> tuple[list[str], str, list[str]]:
    """A foreign key's columns, the table it references and the referenced columns."""
    def listed(value):
        return [value] if isinstance(value, str) else list(value)
    # Data Package v2: a reference without a resource (or with "") is to the table itself.
    return listed(fk["fields"]), fk["reference"].get("resource", ""), listed(fk["reference"]["fields"])


# --- Parquet ------------------------------------------------------------------------------


def _pyarrow():
    """pyarrow and pyarrow.parquet, or ``MissingExtra`` naming the ``parquet`` extra."""
    return require("pyarrow", "parquet", "Parquet"), require("pyarrow.parquet", "parquet", "Parquet")


def arrow_schema(table: TableData):
    """The Arrow schema of a table: types, descriptions as field metadata, required as non-nullable."""
    pa, _ = _pyarrow()
    fields = [pa.field(f["name"], types.arrow_type(f),
                       nullable=not f.get("constraints", {}).get("required", False),
                       metadata={"description": f.get("description", "")})
              for f in table.fields]
    meta = {k: table.resource[k] for k in ("title", "description") if table.resource.get(k)}
    return pa.schema(fields, metadata=meta)


def parquet_bytes(table: TableData) -> bytes:
    pa, pq = _pyarrow()
    schema = arrow_schema(table)
    columns = [pa.array([row[f.name] for row in table.rows], type=f.type) for f in schema]
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_arrays(columns, schema=schema), sink, **PARQUET_OPTIONS)
    return sink.getvalue().to_pybytes()


def _check_parquet_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; give --out a folder for the Parquet files")
    existing = out / DESCRIPTOR
    if existing.exists():
        try:
            ours = all(r.get("format") == "parquet" for r in open_package(out).resources.values())
        except PackageError:
            ours = False
        if not ours:
            raise ExportError(f"{existing} describes another data package; refusing to overwrite it: "
                              "give --out an empty folder")


def write_parquet(package_dir: Path, out: Path = DEFAULT_PARQUET) -> list[Path]:
    """``<out>/<table>.parquet`` for every CSV table and ``<out>/datapackage.json`` describing them."""
    _pyarrow()
    out = Path(out)
    descriptor, tables = read_tables(package_dir)
    _check_parquet_out(out)
    out.mkdir(parents=True, exist_ok=True)
    written, resources, paths = [], [], {}
    for table in tables:
        rel = f"{table.name}.parquet"
        atomic_write(out / rel, parquet_bytes(table))
        written.append(out / rel)
        paths[table.resource["path"]] = rel
        # No hash nor bytes: frictionless hands a Parquet file to pyarrow, never reads its bytes,
        # and so reports every declared size and hash as not matching.
        resources.append({
            **{k: table.resource[k] for k in ("name", "title", "description") if k in table.resource},
            "type": "table", "path": rel, "format": "parquet", "mediatype": PARQUET_MEDIATYPE,
            "schema": table.schema,
        })
    package = {k: v for k, v in descriptor.items() if k != "resources"}
    # The package's sources point at its CSV files; here they are the Parquet files.
    package["sources"] = [{**s, "path": paths.get(s.get("path"), s.get("path"))} if "path" in s else s
                          for s in descriptor.get("sources", [])]
    if not package["sources"]:
        del package["sources"]
    package["resources"] = resources
    atomic_write(out / DESCRIPTOR, schemas.dumps(package))
    written.append(out / DESCRIPTOR)
    return written


# --- SQLite -------------------------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(names: list[str]) -> str:
    return ", ".join(map(_q, names))


def create_table_sql(table: TableData) -> str:
    """CREATE TABLE with typed columns, NOT NULL for required, the primary and foreign keys."""
    lines = [f"  {_q(f['name'])} {types.field_type(f).sqlite}"
             + (" NOT NULL" if f.get("constraints", {}).get("required") else "")
             for f in table.fields]
    if _primary_key(table.schema):
        lines.append(f"  PRIMARY KEY ({_columns(_primary_key(table.schema))})")
    for fk in table.schema.get("foreignKeys", []):
        fields, resource, ref = _fk_fields(fk)
        lines.append(f"  FOREIGN KEY ({_columns(fields)}) REFERENCES {_q(resource or table.name)} ({_columns(ref)})")
    return f"CREATE TABLE {_q(table.name)} (\n" + ",\n".join(lines) + "\n)"


def index_sql(table: TableData) -> list[str]:
    """An index on each foreign key's columns, unless they lead the primary key (already indexed)."""
    key = _primary_key(table.schema)
    out, seen = [], set()
    for fk in table.schema.get("foreignKeys", []):
        fields = _fk_fields(fk)[0]
        if key[:len(fields)] == fields or tuple(fields) in seen:
            continue
        seen.add(tuple(fields))
        name = "idx_" + "_".join([table.name, *fields])
        out.append(f"CREATE INDEX {_q(name)} ON {_q(table.name)} ({_columns(fields)})")
    return out


def _check_out(out: Path, magic: bytes, what: str, example: str) -> None:
    """Refuse to write over a folder, or over a file that is not ``what`` (one starting with ``magic``)."""
    if out.is_dir():
        raise ExportError(f"{out} is a folder; give --out a file name such as {example}")
    if out.exists():
        with open(out, "rb") as f:
            if f.read(len(magic)) != magic:
                raise ExportError(f"{out} exists and is not {what}; refusing to overwrite it")


def _sqlite_utils():
    return require("sqlite_utils", "export", "The SQLite export")


def _fill(con: sqlite3.Connection, tables: list[TableData]) -> None:
    with con:
        for table in tables:
            con.execute(create_table_sql(table))
            names = [f["name"] for f in table.fields]
            stored = [types.field_type(f).to_sqlite for f in table.fields]
            con.executemany(f"INSERT INTO {_q(table.name)} ({_columns(names)}) VALUES ({', '.join('?' * len(names))})",
                            ([None if row[n] is None else to(row[n]) for n, to in zip(names, stored)]
                             for row in table.rows))
            for sql in index_sql(table):
                con.execute(sql)
    db = _sqlite_utils().Database(con)
    names = {t.name for t in tables}
    for name, columns in FTS.items():
        if name in names:
            # No triggers: the database is a read-only copy of the package.
            db[name].enable_fts(columns, create_triggers=False)
    if {"claims", "claim_reports", "sources", "entities"} <= names:
        db.create_view(REPORT_LIST, REPORT_LIST_SQL)
    problems = con.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        shown = "; ".join(f"{t} row {rowid} -> {parent}" for t, rowid, parent, _ in problems[:5])
        raise ExportError(f"{len(problems)} row(s) break a foreign key ({shown}): rebuild the package")


def _table_metadata(t: TableData) -> dict:
    out = {"title": t.resource.get("title", t.name), "description": t.resource.get("description", ""),
           "columns": {f["name"]: f.get("description", "") for f in t.fields}}
    if t.name in LABELS:
        out["label_column"] = LABELS[t.name]
    if t.name in FTS:
        out["fts_table"] = f"{t.name}_fts"
    return out


def datasette_metadata(descriptor: dict, tables: list[TableData], database: str) -> dict:
    """Datasette's metadata.json: title, licence, source, per-table and per-column descriptions,
    the label column of the tables foreign keys point to, and the canned queries. ``database``
    is the key Datasette gives the database: its file name without ``.db``."""
    licence = (descriptor.get("licenses") or [{}])[0]
    out = {"title": descriptor.get("title", descriptor.get("name", database)),
           "description": descriptor.get("description", ""),
           "license": licence.get("name", ""), "license_url": licence.get("path", ""),
           "source": descriptor.get("homepage", ""), "source_url": descriptor.get("homepage", ""),
           "databases": {database: {"tables": {t.name: _table_metadata(t) for t in tables},
                                    "queries": QUERIES}}}
    if {"claims", "claim_reports"} <= {t.name for t in tables}:
        out["databases"][database]["tables"][REPORT_LIST] = {
            "title": "Reports, readable", "description": REPORT_LIST_DESCRIPTION}
    if descriptor.get("version"):
        out["description"] += f" Version {descriptor['version']}."
    return out


def _check_metadata_out(path: Path) -> None:
    if not path.exists():
        return
    try:
        ours = "databases" in json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        ours = False
    if not ours:
        raise ExportError(f"{path} exists and is not Datasette metadata; refusing to overwrite it")


def write_sqlite(package_dir: Path, out: Path = DEFAULT_SQLITE, metadata: bool | Path = True) -> list[Path]:
    """An SQLite database of every CSV table at ``out`` and Datasette's metadata: with
    ``metadata`` True, ``metadata.json`` beside it; with a path, there; with False, none.
    The database is built in memory and written beside ``out``, then renamed into place; an
    existing file that is not an SQLite database is never overwritten."""
    out = Path(out)
    _sqlite_utils()
    descriptor, tables = read_tables(package_dir)
    meta_path = out.parent / DATASETTE_METADATA if metadata is True else Path(metadata) if metadata else None
    _check_out(out, SQLITE_MAGIC, "an SQLite database", "reported-claims.db")
    if meta_path is not None:
        _check_metadata_out(meta_path)
    try:
        con = sqlite3.connect(":memory:")
        try:
            _fill(con, tables)
            database = con.serialize()
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise ExportError(f"cannot write {out}: {exc}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, database)
    written = [out]
    if meta_path is not None:
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(meta_path, schemas.dumps(datasette_metadata(descriptor, tables, out.stem)))
        written.append(meta_path)
    return written


# --- JSON Lines ---------------------------------------------------------------------------


def _json_value(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def jsonl_text(table: TableData) -> str:
    """One JSON object a line, keys in column order: numbers, booleans, null, dates as ISO text."""
    names = [f["name"] for f in table.fields]
    return "".join(json.dumps({n: _json_value(row[n]) for n in names}, ensure_ascii=False) + "\n"
                   for row in table.rows)


def write_jsonl(package_dir: Path, out: Path = DEFAULT_JSONL) -> list[Path]:
    """``<out>/<table>.jsonl`` for every CSV table."""
    out = Path(out)
    _, tables = read_tables(package_dir)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; give --out a folder for the JSON Lines files")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        atomic_write(out / f"{table.name}.jsonl", jsonl_text(table))
        written.append(out / f"{table.name}.jsonl")
    return written


# --- Excel --------------------------------------------------------------------------------


EXCEL_CELL_LIMIT = 32767
"""The most characters an Excel cell holds."""
ZIP_MAGIC = b"PK\x03\x04"


def xlsx_bytes(descriptor: dict, tables: list[TableData]) -> bytes:
    """A workbook with one sheet per table: a bold, frozen header row and typed cells (numbers,
    booleans, dates); text is never read as a formula, a number or a link."""
    xlsxwriter = require("xlsxwriter", "export", "The Excel export")
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False,
                                        "default_date_format": "yyyy-mm-dd"})
    # The package's own date, not the clock, so that the same package gives the same bytes.
    created = descriptor.get("created")
    when = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ") if created else dt.datetime(2000, 1, 1)
    book.set_properties({"title": descriptor.get("title", ""), "created": when,
                         "comments": f"Version {descriptor.get('version', '')} of the data package"})
    bold = book.add_format({"bold": True})
    for table in tables:
        sheet = book.add_worksheet(table.name)
        names = [f["name"] for f in table.fields]
        sheet.write_row(0, 0, names, bold)
        sheet.freeze_panes(1, 0)
        for r, row in enumerate(table.rows, start=1):
            for c, name in enumerate(names):
                value = row[name]
                if isinstance(value, str) and len(value) > EXCEL_CELL_LIMIT:
                    raise ExportError(f"{table.name}.{name} row {r} has {len(value)} characters, more than an "
                                      f"Excel cell holds ({EXCEL_CELL_LIMIT}): use the CSV or JSON Lines files")
                if value is not None:
                    sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def write_xlsx(package_dir: Path, out: Path = DEFAULT_XLSX) -> list[Path]:
    """An Excel workbook at ``out``, one sheet per CSV table; never overwrites a file that is
    not a workbook."""
    out = Path(out)
    _check_out(out, ZIP_MAGIC, "an Excel workbook", "reported-claims.xlsx")  # before reading anything
    descriptor, tables = read_tables(package_dir)
    data = xlsx_bytes(descriptor, tables)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, data)
    return [out]


FORMATS = {"parquet": (write_parquet, DEFAULT_PARQUET), "sqlite": (write_sqlite, DEFAULT_SQLITE),
           "jsonl": (write_jsonl, DEFAULT_JSONL), "xlsx": (write_xlsx, DEFAULT_XLSX),
           "dictionary": (dictionary.write_dictionary, DEFAULT_DICTIONARY)}
"""Each format's writer and default ``out``."""


def export(fmt: str, package_dir: Path, out: Optional[Path] = None, **options) -> list[Path]:
    """Write the package in ``fmt`` (one of ``FORMATS``); ``options`` go to its writer (for
    sqlite: ``metadata``); return the paths written."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    writer, default = FORMATS[fmt]
    try:
        return writer(package_dir, out or default, **options)
    except MissingExtra as exc:
        raise ExportError(str(exc)) from None
    except OSError as exc:
        raise ExportError(f"cannot write {out or default}: {exc}") from None
