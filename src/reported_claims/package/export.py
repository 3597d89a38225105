"""Other formats of a built data package: Parquet files and an SQLite database.

Both read the CSV tables of a package folder (``datapackage.json`` and ``data/``) with the
stdlib csv module, typed by each resource's Table Schema, and write rows in CSV order, so
that the same package gives the same bytes (for Parquet, with the same pyarrow version).
Parquet needs the ``parquet`` extra (pyarrow); SQLite needs only the standard library.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from reported_claims.errors import ReportedClaimsError
from reported_claims.package import schemas

PACKAGE = "datapackage.json"
DEFAULT_SQLITE = Path("reported-claims.db")
DEFAULT_PARQUET = Path("reported-claims-parquet")
DATASETTE_METADATA = "metadata.json"
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"
# Fixed so that the same rows give the same bytes; zstd is read by DuckDB, polars, pandas, Spark.
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 9, "version": "2.6",
                   "data_page_version": "1.0", "use_dictionary": True, "write_statistics": True}
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_TYPES = {"integer": "INTEGER", "number": "REAL", "boolean": "INTEGER", "date": "TEXT", "string": "TEXT"}


class ExportError(ReportedClaimsError):
    """An export refused or failed: the message says why and what to do."""


class MissingExtra(ExportError):
    """A format needs an optional dependency that is not installed."""


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


# --- reading ------------------------------------------------------------------------------


def read_descriptor(package_dir: Path) -> dict:
    path = Path(package_dir) / PACKAGE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"no {PACKAGE} in {package_dir}: run `reported-claims build` or pass --package DIR") from None
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read {path}: {exc}") from None


def _parser(field: dict, schema: dict):
    """A function from one CSV cell (not missing) to its value, for the field's Table Schema type."""
    type_ = field.get("type", "string")
    if type_ == "string":
        return str
    if type_ == "integer":
        return int
    if type_ == "number":
        return float
    if type_ == "date":
        return dt.date.fromisoformat
    if type_ == "boolean":
        true = set(schema.get("trueValues", ["true", "True", "TRUE", "1"]))
        false = set(schema.get("falseValues", ["false", "False", "FALSE", "0"]))

        def boolean(text: str) -> bool:
            if text in true or text in false:
                return text in true
            raise ValueError(text)
        return boolean
    raise ExportError(f"field {field.get('name')!r} has type {type_!r}; export reads integer, number, "
                      "boolean, date and string")


def read_table(package_dir: Path, resource: dict) -> TableData:
    """The rows of one CSV resource, typed by its Table Schema; a missing value is None."""
    schema = resource["schema"]
    missing = set(schema.get("missingValues", [""]))
    fields = schema["fields"]
    parsers = [_parser(f, schema) for f in fields]
    required = [bool(f.get("constraints", {}).get("required")) for f in fields]
    names = [f["name"] for f in fields]
    path = Path(package_dir) / resource["path"]
    rows = []
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            if next(reader, None) != names:
                raise ExportError(f"{resource['path']}: the header is not the fields of its Table Schema: "
                                  "rebuild the package with `reported-claims build`")
            for cells in reader:
                line = reader.line_num
                if len(cells) != len(names):
                    raise ExportError(f"{resource['path']}:{line}: {len(cells)} cells, the schema has {len(names)}")
                row = {}
                for name, text, parse, needed in zip(names, cells, parsers, required):
                    if text in missing:
                        if needed:
                            raise ExportError(f"{resource['path']}:{line}: {name}: a required value is missing")
                        row[name] = None
                        continue
                    try:
                        row[name] = parse(text)
                    except ValueError:
                        raise ExportError(f"{resource['path']}:{line}: {name}: {text!r} is not a valid "
                                          f"{fields[names.index(name)].get('type')}") from None
                rows.append(row)
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc}") from None
    return TableData(resource, rows)


def csv_resources(descriptor: dict) -> list[dict]:
    return [r for r in descriptor.get("resources", []) if r.get("format") == "csv" and "schema" in r]


def read_tables(package_dir: Path) -> tuple[dict, list[TableData]]:
    """The package's descriptor and every CSV table, in descriptor order."""
    descriptor = read_descriptor(package_dir)
    return descriptor, [read_table(package_dir, r) for r in csv_resources(descriptor)]


# --- writing safely -----------------------------------------------------------------------


def _write_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename: never a half-written file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


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
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise MissingExtra("Parquet needs pyarrow: pip install 'reported-claims[parquet]'") from None
    return pyarrow, pyarrow.parquet


def arrow_schema(table: TableData):
    """The Arrow schema of a table: types, descriptions as field metadata, required as non-nullable."""
    pa, _ = _pyarrow()
    types = {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(), "date": pa.date32(),
             "string": pa.string()}
    fields = [pa.field(f["name"], types[f.get("type", "string")],
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
    existing = out / PACKAGE
    if existing.exists():
        try:
            resources = json.loads(existing.read_text(encoding="utf-8")).get("resources", [])
        except (OSError, ValueError, AttributeError):
            resources = None
        if resources is None or any(r.get("format") != "parquet" for r in resources):
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
        data = parquet_bytes(table)
        rel = f"{table.name}.parquet"
        _write_bytes(out / rel, data)
        written.append(out / rel)
        paths[table.resource["path"]] = rel
        resources.append({
            **{k: table.resource[k] for k in ("name", "title", "description") if k in table.resource},
            "type": "table", "path": rel, "format": "parquet", "mediatype": PARQUET_MEDIATYPE,
            "schema": table.schema, "hash": "sha256:" + hashlib.sha256(data).hexdigest(), "bytes": len(data),
        })
    package = {k: v for k, v in descriptor.items() if k != "resources"}
    # The package's sources point at its CSV files; here they are the Parquet files.
    package["sources"] = [{**s, "path": paths.get(s.get("path"), s.get("path"))} if "path" in s else s
                          for s in descriptor.get("sources", [])]
    if not package["sources"]:
        del package["sources"]
    package["resources"] = resources
    _write_bytes(out / PACKAGE, schemas.dumps(package).encode("utf-8"))
    written.append(out / PACKAGE)
    return written


# --- SQLite -------------------------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(names: list[str]) -> str:
    return ", ".join(map(_q, names))


def create_table_sql(table: TableData) -> str:
    """CREATE TABLE with typed columns, NOT NULL for required, the primary and foreign keys."""
    lines = [f"  {_q(f['name'])} {SQLITE_TYPES[f.get('type', 'string')]}"
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


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _check_sqlite_out(out: Path) -> None:
    if out.is_dir():
        raise ExportError(f"{out} is a folder; give --out a file name such as reported-claims.db")
    if out.exists():
        with open(out, "rb") as f:
            if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
                raise ExportError(f"{out} exists and is not an SQLite database; refusing to overwrite it")


def _fill(con: sqlite3.Connection, tables: list[TableData]) -> None:
    with con:
        for table in tables:
            con.execute(create_table_sql(table))
            names = [f["name"] for f in table.fields]
            con.executemany(f"INSERT INTO {_q(table.name)} ({_columns(names)}) VALUES ({', '.join('?' * len(names))})",
                            ([_sqlite_value(row[n]) for n in names] for row in table.rows))
            for sql in index_sql(table):
                con.execute(sql)
    problems = con.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        shown = "; ".join(f"{t} row {rowid} -> {parent}" for t, rowid, parent, _ in problems[:5])
        raise ExportError(f"{len(problems)} row(s) break a foreign key ({shown}): rebuild the package")


def datasette_metadata(descriptor: dict, tables: list[TableData], database: str) -> dict:
    """Datasette's metadata.json: title, licence, source, and per-table and per-column descriptions."""
    licence = (descriptor.get("licenses") or [{}])[0]
    out = {"title": descriptor.get("title", descriptor.get("name", database)),
           "description": descriptor.get("description", ""),
           "license": licence.get("name", ""), "license_url": licence.get("path", ""),
           "source": descriptor.get("homepage", ""), "source_url": descriptor.get("homepage", ""),
           "databases": {database: {"tables": {
               t.name: {"title": t.resource.get("title", t.name), "description": t.resource.get("description", ""),
                        "columns": {f["name"]: f.get("description", "") for f in t.fields}}
               for t in tables}}}}
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


def write_sqlite(package_dir: Path, out: Path = DEFAULT_SQLITE, metadata: bool = True) -> list[Path]:
    """An SQLite database of every CSV table at ``out`` and, with ``metadata``, Datasette's
    ``metadata.json`` beside it. The database is written to a temporary file and renamed into
    place; an existing file that is not an SQLite database is never overwritten."""
    out = Path(out)
    descriptor, tables = read_tables(package_dir)
    meta_path = out.parent / DATASETTE_METADATA
    _check_sqlite_out(out)
    if metadata:
        _check_metadata_out(meta_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Named by process, not by mkstemp, so that SQLite creates it with the usual permissions.
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        con = sqlite3.connect(tmp)
        try:
            _fill(con, tables)
        finally:
            con.close()
        os.replace(tmp, out)
    except sqlite3.Error as exc:
        raise ExportError(f"cannot write {out}: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    written = [out]
    if metadata:
        text = schemas.dumps(datasette_metadata(descriptor, tables, out.stem))
        _write_bytes(meta_path, text.encode("utf-8"))
        written.append(meta_path)
    return written


def export(fmt: str, package_dir: Path, out: Optional[Path] = None) -> list[Path]:
    """Write the package in ``fmt`` (``parquet`` or ``sqlite``); return the paths written."""
    writers = {"parquet": (write_parquet, DEFAULT_PARQUET), "sqlite": (write_sqlite, DEFAULT_SQLITE)}
    if fmt not in writers:
        raise ExportError(f"unknown format {fmt!r}; choose one of: {', '.join(writers)}")
    writer, default = writers[fmt]
    try:
        return writer(package_dir, out or default)
    except OSError as exc:
        raise ExportError(f"cannot write {out or default}: {exc}") from None
