"""`reported-claims export`: the built package as SQLite, Parquet, JSON Lines and Excel.

Each test runs the CLI as a subprocess on a copy of the repository's built package.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from packages import MALFORMED_DESCRIPTORS

DESCRIPTOR = json.loads((REPO / "datapackage.json").read_text(encoding="utf-8"))
TABLES = {r["name"]: r for r in DESCRIPTOR["resources"] if r["format"] == "csv"}


def csv_rows(name: str) -> int:
    with open(REPO / TABLES[name]["path"], encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    """A copy of the repository's built package: datapackage.json and data/."""
    dest = tmp_path_factory.mktemp("package")
    shutil.copy(REPO / "datapackage.json", dest / "datapackage.json")
    shutil.copytree(REPO / "data", dest / "data")
    return dest


def export(fmt: str, package: Path, out: Path) -> subprocess.CompletedProcess:
    done = run_cli("export", fmt, "--package", str(package), "--out", str(out))
    assert done.returncode == 0, done.stderr.decode()
    return done


# --- SQLite -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def database(package, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sqlite") / "reported-claims.db"
    done = export("sqlite", package, out)
    assert f"wrote {out}" in done.stdout.decode()
    return out


@pytest.fixture
def db(database):
    con = sqlite3.connect(database)
    yield con
    con.close()


def test_sqlite_has_every_table_with_the_rows_of_its_csv(db):
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE '%\\_fts%' ESCAPE '\\'")}
    assert names == set(TABLES)
    for name in TABLES:
        assert db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == csv_rows(name), name


def test_sqlite_declares_primary_and_foreign_keys_and_they_hold(db):
    for name, resource in TABLES.items():
        schema = resource["schema"]
        info = db.execute(f'PRAGMA table_info("{name}")').fetchall()
        key = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]]
        assert key == schema["primaryKey"], name
        declared = {(row[2], row[3], row[4]) for row in db.execute(f'PRAGMA foreign_key_list("{name}")')}
        wanted = {(fk["reference"]["resource"], a, b) for fk in schema.get("foreignKeys", [])
                  for a, b in zip(fk["fields"], fk["reference"]["fields"])}
        assert declared == wanted, name
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    indexed = {r[0] for r in db.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%'")}
    assert {"claim_reports", "claim_claimants", "sources"} <= indexed


def test_sqlite_columns_are_typed(db):
    types = {(r[0], r[1]) for r in db.execute("SELECT DISTINCT typeof(value), typeof(position) FROM quantities")}
    assert types == {("real", "integer")}
    assert db.execute("SELECT DISTINCT typeof(figures_disagree) FROM quantities").fetchall() == [("integer",)]
    assert db.execute("SELECT count(*) FROM quantities WHERE figures_disagree NOT IN (0, 1)").fetchone()[0] == 0
    dates = db.execute("SELECT period_start FROM claims WHERE period_start IS NOT NULL").fetchall()
    assert dates and all(len(d) == 10 and d[4] == "-" for (d,) in dates)
    declared = {r[1]: r[2] for r in db.execute("PRAGMA table_info(quantities)")}
    assert declared["value"] == "REAL" and declared["position"] == "INTEGER" and declared["unit"] == "TEXT"


def test_sqlite_full_text_search_finds_statements_and_quotes(db):
    fts = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")}
    assert fts == {"claims_fts", "claim_reports_fts"}
    found = [r[0] for r in db.execute("SELECT c.id FROM claims_fts JOIN claims AS c ON c.rowid = claims_fts.rowid "
                                      "WHERE claims_fts MATCH 'Hikvision' ORDER BY c.id")]
    wanted = [r[0] for r in db.execute("SELECT id FROM claims WHERE statement LIKE '%Hikvision%' ORDER BY id")]
    assert found == wanted and 0 < len(found) < csv_rows("claims")
    quotes = db.execute("SELECT count(*) FROM claim_reports_fts WHERE claim_reports_fts MATCH 'Hikvision'").fetchone()[0]
    assert quotes == db.execute("SELECT count(*) FROM claim_reports WHERE quote LIKE '%Hikvision%'").fetchone()[0] > 0


def test_sqlite_report_list_view_needs_no_joins(db):
    cols = [r[1] for r in db.execute("PRAGMA table_info(report_list)")]
    assert cols == ["claim_id", "statement", "source_id", "source_title", "published", "publisher_id",
                    "publisher", "quote", "fit"]
    rows = db.execute("SELECT * FROM report_list").fetchall()
    assert len(rows) == csv_rows("claim_reports")
    with open(REPO / "data" / "sources.csv", encoding="utf-8", newline="") as f:
        sources = {r["id"]: r for r in csv.DictReader(f)}
    row = dict(zip(cols, rows[0]))
    assert row["source_title"] == sources[row["source_id"]]["title"]
    assert row["publisher"] == db.execute("SELECT name FROM entities WHERE id = ?",
                                          (sources[row["source_id"]]["publisher"],)).fetchone()[0]


def test_sqlite_metadata_for_datasette(database):
    meta = json.loads((database.parent / "metadata.json").read_text(encoding="utf-8"))
    assert meta["title"] == DESCRIPTOR["title"]
    assert meta["license"] == "CC-BY-4.0" and meta["license_url"].startswith("https://creativecommons.org/")
    assert meta["source_url"] == DESCRIPTOR["homepage"]
    tables = meta["databases"]["reported-claims"]["tables"]
    assert set(tables) == set(TABLES) | {"report_list"}
    assert tables["claims"]["description"] == TABLES["claims"]["description"]
    assert tables["claims"]["columns"]["statement"].startswith("The claim in one neutral sentence")
    labels = {name: t["label_column"] for name, t in tables.items() if "label_column" in t}
    assert labels == {"claims": "statement", "sources": "title", "entities": "name"}
    assert tables["claims"]["fts_table"] == "claims_fts"
    assert "report_list" in meta["databases"]["reported-claims"]["tables"]
    queries = meta["databases"]["reported-claims"]["queries"]
    assert set(queries) == {"claims_about_entity", "reports_of_source", "claims_by_origin_count"}
    with sqlite3.connect(database) as db:  # each canned query runs on the database it ships with
        assert db.execute(queries["claims_about_entity"]["sql"], {"entity": "ent-china"}).fetchall()
        assert db.execute(queries["claims_about_entity"]["sql"], {"entity": "China"}).fetchall()
        source = db.execute("SELECT source_id FROM claim_reports LIMIT 1").fetchone()[0]
        assert db.execute(queries["reports_of_source"]["sql"], {"source": source}).fetchall()
        counts = [r[2] for r in db.execute(queries["claims_by_origin_count"]["sql"])]
        assert counts == sorted(counts, reverse=True) and len(counts) == csv_rows("claims")


def test_sqlite_metadata_path_or_none(package, database, tmp_path):
    meta = tmp_path / "elsewhere" / "meta.json"
    done = run_cli("export", "sqlite", "--package", str(package), "--out", str(tmp_path / "claims-db.db"),
                   "--metadata", str(meta))
    assert done.returncode == 0, done.stderr.decode()
    # Datasette names the database after the file: the key follows it
    assert list(json.loads(meta.read_text(encoding="utf-8"))["databases"]) == ["claims-db"]
    assert not (tmp_path / "metadata.json").exists()
    bare = tmp_path / "bare"
    done = run_cli("export", "sqlite", "--package", str(package), "--out", str(bare / "x.db"), "--no-metadata")
    assert done.returncode == 0, done.stderr.decode()
    assert sorted(p.name for p in bare.iterdir()) == ["x.db"]
    assert (bare / "x.db").read_bytes() == database.read_bytes()
    for args in (["--no-metadata", "--metadata", str(meta)], ["--out", str(tmp_path / "j"), "--no-metadata"]):
        fmt = "sqlite" if "--metadata" in args else "jsonl"
        done = run_cli("export", fmt, "--package", str(package), *args)
        assert done.returncode == 2 and b"Traceback" not in done.stderr, done.stderr


def test_sqlite_export_is_byte_identical_and_overwrites_only_a_database(package, database, tmp_path):
    again = tmp_path / "again.db"
    export("sqlite", package, again)
    assert again.read_bytes() == database.read_bytes()
    export("sqlite", package, again)  # an existing database is replaced
    assert again.read_bytes() == database.read_bytes()
    notes = tmp_path / "notes.db"
    notes.write_text("not a database")
    done = run_cli("export", "sqlite", "--package", str(package), "--out", str(notes))
    assert done.returncode == 1
    assert b"not an SQLite database; refusing to overwrite it" in done.stderr
    assert notes.read_text() == "not a database"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.db", "metadata.json", "notes.db"]


def test_export_without_a_package_says_what_to_do(tmp_path):
    done = run_cli("export", "sqlite", "--package", str(tmp_path), "--out", str(tmp_path / "x.db"))
    assert done.returncode == 1
    assert b"no datapackage.json" in done.stderr and b"reported-claims build" in done.stderr
    assert b"Traceback" not in done.stderr


@pytest.mark.parametrize("fmt", ["sqlite", "parquet", "jsonl", "xlsx"])
@pytest.mark.parametrize("edit, message", [pytest.param(e, m, id=i) for i, e, m in MALFORMED_DESCRIPTORS])
def test_export_of_a_malformed_package_is_a_one_line_error(package, tmp_path, fmt, edit, message):
    broken = tmp_path / "package"
    shutil.copytree(package, broken)
    edit(broken)
    out = tmp_path / "out"
    done = run_cli("export", fmt, "--package", str(broken), "--out", str(out))
    assert done.returncode == 1
    assert done.stderr.decode().strip().splitlines() == [f"export failed: {broken}: {message}"]
    assert not out.exists()


def test_export_of_a_bad_cell_names_its_line(package, tmp_path):
    broken = tmp_path / "package"
    shutil.copytree(package, broken)
    path = broken / "data" / "quantities.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].rstrip("\n").rsplit(",", 1)[0] + ",maybe\n"
    path.write_text("".join(lines), encoding="utf-8")
    done = run_cli("export", "sqlite", "--package", str(broken), "--out", str(tmp_path / "x.db"))
    assert done.returncode == 1
    assert done.stderr.decode().strip().splitlines() == [
        f"export failed: {broken}: data/quantities.csv:2: figures_disagree: 'maybe' is not a valid boolean"]


# --- Parquet ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parquet(package, tmp_path_factory) -> Path:
    pytest.importorskip("pyarrow", reason="pyarrow is not installed (the `parquet` extra)")
    out = tmp_path_factory.mktemp("parquet") / "out"
    export("parquet", package, out)
    return out


def test_parquet_rows_and_types_match_the_table_schemas(parquet):
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(), "date": pa.date32(),
             "string": pa.string()}
    for name, resource in TABLES.items():
        table = pq.read_table(parquet / f"{name}.parquet")
        assert table.num_rows == csv_rows(name), name
        fields = resource["schema"]["fields"]
        assert table.schema.names == [f["name"] for f in fields]
        for f in fields:
            got = table.schema.field(f["name"])
            assert got.type == types[f["type"]], (name, f["name"])
            assert got.nullable == (not f.get("constraints", {}).get("required", False)), (name, f["name"])
            assert got.metadata[b"description"].decode() == f["description"]
    quantities = pq.read_table(parquet / "quantities.parquet").to_pylist()
    assert all(isinstance(q["value"], float) for q in quantities)


def test_parquet_descriptor_describes_the_files(parquet):
    desc = json.loads((parquet / "datapackage.json").read_text(encoding="utf-8"))
    for key in ("name", "version", "licenses", "created"):
        assert desc[key] == DESCRIPTOR[key], key
    assert [r["name"] for r in desc["resources"]] == list(TABLES)
    for resource in desc["resources"]:
        data = (parquet / resource["path"]).read_bytes()
        assert resource["format"] == "parquet" and resource["mediatype"] == "application/vnd.apache.parquet"
        assert data[:4] == data[-4:] == b"PAR1"
        # frictionless cannot check a Parquet file's size or hash (it never reads its bytes)
        assert "hash" not in resource and "bytes" not in resource
        assert resource["schema"] == TABLES[resource["name"]]["schema"]
    assert [s["path"] for s in desc["sources"]] == ["sources.parquet"]


def test_parquet_package_validates_with_frictionless(parquet):
    import frictionless

    report = frictionless.Package(str(parquet / "datapackage.json")).validate()
    assert report.valid, report.flatten(["title", "type", "note"])
    rows = {task.name: task.stats.get("rows", 0) for task in report.tasks}  # no rows: no count
    assert rows == {name: csv_rows(name) for name in TABLES}
    done = subprocess.run([str(Path(sys.executable).with_name("frictionless")), "validate", "datapackage.json"],
                          cwd=parquet, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]


def test_frictionless_reads_the_parquet_values(parquet, tmp_path):
    """The validation above reads the rows: a value breaking its constraint makes it fail."""
    import frictionless
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    broken = tmp_path / "broken"
    shutil.copytree(parquet, broken)
    table = pq.read_table(broken / "quantities.parquet")
    column = table.schema.get_field_index("value")
    table = table.set_column(column, table.schema.field(column), pc.negate(table["value"]))
    pq.write_table(table, broken / "quantities.parquet")
    report = frictionless.Package(str(broken / "datapackage.json")).validate()
    assert not report.valid
    errors = report.flatten(["type", "fieldName"])
    assert errors and {tuple(e) for e in errors} == {("constraint-error", "value")}


def test_parquet_export_is_byte_identical(package, parquet, tmp_path):
    export("parquet", package, tmp_path / "again")
    first = {p.name: p.read_bytes() for p in sorted(parquet.iterdir())}
    assert {p.name: p.read_bytes() for p in sorted((tmp_path / "again").iterdir())} == first


def test_parquet_refuses_to_overwrite_another_package(package):
    done = run_cli("export", "parquet", "--package", str(package), "--out", str(package))
    assert done.returncode == 1
    assert b"describes another data package" in done.stderr
    assert (package / "datapackage.json").read_bytes() == (REPO / "datapackage.json").read_bytes()


@pytest.mark.parametrize("fmt, module, what, extra", [
    ("parquet", "pyarrow", "Parquet", "parquet"),
    ("sqlite", "sqlite_utils", "The SQLite export", "export"),
    ("xlsx", "xlsxwriter", "The Excel export", "export"),
])
def test_export_without_its_extra_names_the_extra(package, tmp_path, fmt, module, what, extra):
    blocked = f"import sys; sys.modules[{module!r}] = None; from reported_claims.cli import main; main()"
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    done = subprocess.run(
        [sys.executable, "-c", blocked, "export", fmt, "--package", str(package), "--out", str(tmp_path / "p")],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"export failed: {what} needs {module}, which is not installed: install `reported-claims[{extra}]` "
        f"(pip install 'reported-claims[{extra}]')"]
    assert not (tmp_path / "p").exists()


# --- JSON Lines ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jsonl(package, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("jsonl") / "out"
    export("jsonl", package, out)
    return out


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_jsonl_has_a_file_per_table_with_typed_values(jsonl):
    assert sorted(p.name for p in jsonl.iterdir()) == sorted(f"{name}.jsonl" for name in TABLES)
    python = {"integer": int, "number": float, "boolean": bool, "date": str, "string": str}
    for name, resource in TABLES.items():
        rows = read_jsonl(jsonl / f"{name}.jsonl")
        assert len(rows) == csv_rows(name), name
        fields = resource["schema"]["fields"]
        for row in rows:
            assert list(row) == [f["name"] for f in fields]
            for f in fields:
                value = row[f["name"]]
                assert value is None or type(value) is python[f["type"]], (name, f["name"], value)
    quantities = read_jsonl(jsonl / "quantities.jsonl")
    assert {type(q["figures_disagree"]) for q in quantities} == {bool}
    claims = read_jsonl(jsonl / "claims.jsonl")
    starts = [c["period_start"] for c in claims if c["period_start"]]
    assert starts and all(len(d) == 10 and d[4] == "-" for d in starts)
    reports = read_jsonl(jsonl / "claim_reports.jsonl")
    assert any("Russia’s" in r["quote"] for r in reports)
    assert "Russia’s" in (jsonl / "claim_reports.jsonl").read_text(encoding="utf-8")  # not escaped


def test_jsonl_refuses_a_file_as_out(package, tmp_path):
    (tmp_path / "f").write_text("keep")
    done = run_cli("export", "jsonl", "--package", str(package), "--out", str(tmp_path / "f"))
    assert done.returncode == 1 and b"give --out a folder" in done.stderr
    assert (tmp_path / "f").read_text() == "keep"


# --- Excel --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(package, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("xlsx") / "reported-claims.xlsx"
    export("xlsx", package, out)
    return out


def test_xlsx_has_a_sheet_per_table_with_typed_cells(workbook):
    import datetime as dt

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(workbook, read_only=True)
    assert book.sheetnames == list(TABLES)
    for name, resource in TABLES.items():
        rows = list(book[name].iter_rows(values_only=True))
        assert list(rows[0]) == [f["name"] for f in resource["schema"]["fields"]]
        assert len(rows) - 1 == csv_rows(name), name
    quantities = list(book["quantities"].iter_rows(values_only=True))
    header = quantities[0]
    values = {type(r[header.index("value")]) for r in quantities[1:]}
    assert values <= {int, float} and values
    assert {type(r[header.index("figures_disagree")]) for r in quantities[1:]} == {bool}
    claims = list(book["claims"].iter_rows(values_only=True))
    starts = [r[claims[0].index("period_start")] for r in claims[1:] if r[claims[0].index("period_start")]]
    assert starts and all(isinstance(d, dt.datetime) for d in starts)
    reports = list(book["claim_reports"].iter_rows(values_only=True))
    quotes = [r[reports[0].index("quote")] for r in reports[1:]]
    assert any("Russia’s" in q for q in quotes)
    with open(REPO / "data" / "claim_reports.csv", encoding="utf-8", newline="") as f:
        assert quotes == [r["quote"] for r in csv.DictReader(f)]


def test_xlsx_export_is_byte_identical_and_keeps_other_files(package, workbook, tmp_path):
    again = tmp_path / "again.xlsx"
    export("xlsx", package, again)
    assert again.read_bytes() == workbook.read_bytes()
    notes = tmp_path / "notes.xlsx"
    notes.write_text("mine")
    done = run_cli("export", "xlsx", "--package", str(package), "--out", str(notes))
    assert done.returncode == 1 and b"not an Excel workbook; refusing to overwrite it" in done.stderr
    assert notes.read_text() == "mine"
