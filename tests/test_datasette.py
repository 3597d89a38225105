"""The exported SQLite database served by a real Datasette, as its users query it.

The database and its metadata.json come from `reported-claims export sqlite`; Datasette runs
on 127.0.0.1 on a free port for the module and is stopped after it. Every answer is read
from Datasette's JSON API and compared with what the database itself holds.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, run_cli

DATASETTE = Path(sys.executable).with_name("datasette")
DB = "reported-claims"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("datasette")
    package = folder / "package"
    package.mkdir()
    shutil.copy(REPO / "datapackage.json", package / "datapackage.json")
    shutil.copytree(REPO / "data", package / "data")
    done = run_cli("export", "sqlite", "--package", str(package), "--out", str(folder / f"{DB}.db"))
    assert done.returncode == 0, done.stderr.decode()
    return folder / f"{DB}.db"


@pytest.fixture(scope="module")
def server(exported):
    if not DATASETTE.exists():
        pytest.skip("datasette is not installed (the dev group)")
    port = free_port()
    log = open(exported.parent / "datasette.log", "wb")
    proc = subprocess.Popen([str(DATASETTE), "serve", str(exported), "--metadata", str(exported.parent / "metadata.json"),
                             "-h", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("datasette did not start: "
                                + (exported.parent / "datasette.log").read_text(errors="replace")[-2000:])
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def get(base: str, path: str, **params) -> object:
    url = f"{base}/{DB}/{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


@pytest.fixture
def db(exported):
    con = sqlite3.connect(exported)
    yield con
    con.close()


@pytest.mark.parametrize("table, column, key", [("claims", "statement", "id"),
                                                ("claim_reports", "quote", "claim_id")])
def test_full_text_search_returns_the_matching_rows_only(server, db, table, column, key):
    rows = get(server, f"{table}.json", _search="Hikvision", _shape="array", _size="max")
    wanted = sorted(r[0] for r in db.execute(f"SELECT {key} FROM {table} WHERE {column} LIKE '%Hikvision%'"))
    total = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    assert sorted(r[key] for r in rows) == wanted
    assert 0 < len(wanted) < total
    assert all("hikvision" in r[column].lower() for r in rows)


def test_facet_on_a_child_table_counts_the_list_items(server, db):
    data = get(server, "claim_items.json", _facet="item", _size="0")
    counts = {r["value"]: r["count"] for r in data["facet_results"]["item"]["results"]}
    assert counts == dict(db.execute("SELECT item, count(*) FROM claim_items GROUP BY item"))


def test_canned_queries_run_with_their_parameters(server, db):
    by_name = get(server, "claims_about_entity.json", entity="China", _shape="array")
    by_id = get(server, "claims_about_entity.json", entity="ent-china", _shape="array")
    wanted = [r[0] for r in db.execute("SELECT claim_id FROM claim_entities WHERE entity_id = 'ent-china' "
                                       "ORDER BY claim_id, position")]
    assert [r["id"] for r in by_name] == [r["id"] for r in by_id] == wanted and wanted
    source = db.execute("SELECT source_id FROM claim_reports ORDER BY claim_id LIMIT 1").fetchone()[0]
    reports = get(server, "reports_of_source.json", source=source, _shape="array")
    assert len(reports) == db.execute("SELECT count(*) FROM claim_reports WHERE source_id = ?", (source,)).fetchone()[0]
    assert all(r["quote"] for r in reports)
    ordered = get(server, "claims_by_origin_count.json", _shape="array", _size="max")
    assert [r["origin_count"] for r in ordered] == sorted((r["origin_count"] for r in ordered), reverse=True)


def test_a_row_shows_labels_for_its_foreign_keys(server, db):
    claim, source, claimant = db.execute("SELECT claim_id, source_id, claimant_id FROM claim_reports "
                                         "WHERE claimant_id IS NOT NULL LIMIT 1").fetchone()
    rows = get(server, "claim_reports.json", claim_id=claim, source_id=source, _labels="on", _shape="array")
    assert len(rows) == 1
    row = rows[0]
    statement = db.execute("SELECT statement FROM claims WHERE id = ?", (claim,)).fetchone()[0]
    title = db.execute("SELECT title FROM sources WHERE id = ?", (source,)).fetchone()[0]
    name = db.execute("SELECT name FROM entities WHERE id = ?", (claimant,)).fetchone()[0]
    assert row["claim_id"] == {"value": claim, "label": statement}
    assert row["source_id"] == {"value": source, "label": title}
    assert row["claimant_id"] == {"value": claimant, "label": name}


def test_report_list_view_and_descriptions_are_served(server, db):
    rows = get(server, "report_list.json", _shape="array", _size="max")
    assert len(rows) == db.execute("SELECT count(*) FROM claim_reports").fetchone()[0]
    assert {"statement", "source_title", "published", "publisher", "quote", "fit"} <= set(rows[0])
    with urllib.request.urlopen(f"{server}/-/metadata.json", timeout=30) as response:
        served = json.load(response)
    assert served["databases"][DB]["tables"]["claims"]["label_column"] == "statement"
