"""One type map: a table reads with the same types and values in pandas, polars, Parquet and SQLite."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_cli

import reported_claims
from reported_claims.client import api
from reported_claims.errors import MissingExtra
from reported_claims.package import read, types

TABLE = "quantities"  # dates, integers, numbers, a boolean, and missing values


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("types")
    shutil.copy(REPO / "datapackage.json", dest / "datapackage.json")
    shutil.copytree(REPO / "data", dest / "data")
    return dest


@pytest.fixture(scope="module")
def fields(package) -> dict[str, str]:
    resource = read.open_package(package).tables[TABLE]
    out = {f["name"]: f["type"] for f in resource["schema"]["fields"]}
    assert set(out.values()) == {"string", "integer", "number", "boolean", "date"}
    return out


@pytest.fixture(scope="module")
def rows(package) -> list[dict]:
    """The table as the CSV reader types it: the reference the other readers must agree with."""
    out = read.open_package(package).table(TABLE)
    assert out and any(v is None for row in out for v in row.values())
    return out


@pytest.fixture
def on_package(package, monkeypatch):
    monkeypatch.setattr(api, "data_path", lambda version=None, *, path=None: package)
    return package


def test_csv_reader_types_each_cell(rows, fields):
    python = {"string": str, "integer": int, "number": float, "boolean": bool, "date": dt.date}
    for row in rows:
        for name, value in row.items():
            assert value is None or type(value) is python[fields[name]], (name, value)


def test_pandas(on_package, rows, fields):
    import pandas as pd

    frame = reported_claims.to_pandas(TABLE)
    dtypes = {"string": pd.StringDtype(), "integer": pd.Int64Dtype(), "number": pd.Float64Dtype(),
              "boolean": pd.BooleanDtype(), "date": "datetime64[s]"}
    assert {n: frame[n].dtype for n in frame.columns} == {n: dtypes[t] for n, t in fields.items()}
    assert list(frame.columns) == list(fields)

    def cell(value):
        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            assert value == value.normalize()  # a date, at midnight
            return value.date()
        return value

    assert [{k: cell(v) for k, v in r.items()} for r in frame.to_dict("records")] == rows


def test_polars(on_package, rows, fields):
    import polars as pl

    frame = reported_claims.to_polars(TABLE)
    dtypes = {"string": pl.String, "integer": pl.Int64, "number": pl.Float64, "boolean": pl.Boolean,
              "date": pl.Date}
    assert dict(frame.schema) == {n: dtypes[t] for n, t in fields.items()}
    assert frame.to_dicts() == rows


def test_parquet(package, rows, fields, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    done = run_cli("export", "parquet", "--package", str(package), "--out", str(tmp_path / "pq"))
    assert done.returncode == 0, done.stderr.decode()
    table = pq.read_table(tmp_path / "pq" / f"{TABLE}.parquet")
    dtypes = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(),
              "date": pa.date32()}
    assert {f.name: f.type for f in table.schema} == {n: dtypes[t] for n, t in fields.items()}
    assert table.to_pylist() == rows


def test_sqlite(package, rows, fields, tmp_path):
    db = tmp_path / "x.db"
    done = run_cli("export", "sqlite", "--package", str(package), "--out", str(db))
    assert done.returncode == 0, done.stderr.decode()
    con = sqlite3.connect(db)
    try:
        declared = {r[1]: r[2] for r in con.execute(f"PRAGMA table_info({TABLE})")}
        stored = con.execute(f"SELECT * FROM {TABLE}").fetchall()
        names = [d[0] for d in con.execute(f"SELECT * FROM {TABLE}").description]
    finally:
        con.close()
    sqlite_types = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER", "date": "TEXT"}
    assert declared == {n: sqlite_types[t] for n, t in fields.items()}
    back = {"boolean": lambda v: {0: False, 1: True}[v], "date": dt.date.fromisoformat}
    assert [{n: v if v is None or fields[n] not in back else back[fields[n]](v) for n, v in zip(names, row)}
            for row in stored] == rows


def _one_table(folder: Path, field: dict, cells: list[str]) -> read.Package:
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "t.csv").write_text("\n".join([field["name"], *cells]) + "\n", encoding="utf-8")
    descriptor = {"resources": [{"name": "t", "path": "data/t.csv", "format": "csv",
                                 "schema": {"fields": [field]}}]}
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return read.open_package(folder)


def test_booleans_follow_table_schema_defaults(tmp_path):
    cells = ["true", "True", "TRUE", "1", "false", "False", "FALSE", "0", '""']
    got = [r["b"] for r in _one_table(tmp_path, {"name": "b", "type": "boolean"}, cells).table("t")]
    assert got == [True] * 4 + [False] * 4 + [None]
    with pytest.raises(read.PackageError, match=r"data/t\.csv:2: b: 'yes' is not a valid boolean"):
        _one_table(tmp_path / "yes", {"name": "b", "type": "boolean"}, ["yes"]).table("t")


def test_booleans_follow_the_fields_true_and_false_values(tmp_path):
    field = {"name": "b", "type": "boolean", "trueValues": ["yes"], "falseValues": ["no"]}
    assert [r["b"] for r in _one_table(tmp_path, field, ["yes", "no"]).table("t")] == [True, False]
    with pytest.raises(read.PackageError, match="'true' is not a valid boolean"):
        _one_table(tmp_path / "true", field, ["true"]).table("t")


def test_a_type_the_package_does_not_write_is_refused(tmp_path):
    package = _one_table(tmp_path, {"name": "t", "type": "datetime"}, ["2024-01-01T00:00:00Z"])
    with pytest.raises(read.PackageError, match="has type 'datetime'; the package's tables use string, integer"):
        package.table("t")


def test_a_missing_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingExtra, match=r"to_pandas needs pandas, which is not installed: install `reported-claims\[pandas\]`"):
        types.pandas_series({"name": "x", "type": "integer"}, [1])
