"""Other formats of a built data package: Parquet files and an SQLite database.

Both read the CSV tables of a package folder (``datapackage.json`` and ``data/``) through the
package reader, typed by each resource's Table Schema with the one type map (``types``), and
write rows in CSV order, so that the same package gives the same bytes (for Parquet, with the
same pyarrow version). Every file is written beside its target and renamed into place.
Parquet needs the ``parquet`` extra (pyarrow); SQLite needs only the standard library.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from reported_claims.errors import MissingExtra, ReportedClaimsError, require
from reported_claims.package import DESCRIPTOR, schemas, types
from reported_claims.package.read import PackageError, open_package
from reported_claims.util.fs import atomic_write

PACKAGE = DESCRIPTOR
"""The descriptor's file name, also in the Parquet folder."""
DEFAULT_SQLITE = Path("reported-claims.db")
DEFAULT_PARQUET = Path("reported-claims-parquet")
DATASETTE_METADATA = "metadata.json"
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
            stored = [types.field_type(f).to_sqlite for f in table.fields]
            con.executemany(f"INSERT INTO {_q(table.name)} ({_columns(names)}) VALUES ({', '.join('?' * len(names))})",
                            ([None if row[n] is None else to(row[n]) for n, to in zip(names, stored)]
                             for row in table.rows))
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
    ``metadata.json`` beside it. The database is built in memory and written beside ``out``,
    then renamed into place; an existing file that is not an SQLite database is never overwritten."""
    out = Path(out)
    descriptor, tables = read_tables(package_dir)
    meta_path = out.parent / DATASETTE_METADATA
    _check_sqlite_out(out)
    if metadata:
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
    if metadata:
        atomic_write(meta_path, schemas.dumps(datasette_metadata(descriptor, tables, out.stem)))
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
    except MissingExtra as exc:
        raise ExportError(str(exc)) from None
    except OSError as exc:
        raise ExportError(f"cannot write {out or default}: {exc}") from None
