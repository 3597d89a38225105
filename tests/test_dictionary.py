"""docs/data-dictionary.md: generated from the tables and the built package, committed, kept fresh."""

from __future__ import annotations

import csv
import shutil

import pytest

from conftest import REPO, run_cli

from reported_claims.package import dictionary
from reported_claims.package.tables import tables

COMMITTED = REPO / dictionary.DICTIONARY


def test_committed_dictionary_is_what_the_tables_and_data_generate():
    problems = dictionary.stale(REPO)
    assert problems == [], (f"{dictionary.DICTIONARY} is stale: run `{dictionary.REGENERATE}` and commit it")


def test_export_dictionary_writes_the_committed_bytes(tmp_path):
    out = tmp_path / "dd.md"
    done = run_cli("export", "dictionary", "--package", str(REPO), "--out", str(out))
    assert done.returncode == 0, done.stderr.decode()
    assert out.read_bytes() == COMMITTED.read_bytes()
    assert dictionary.dictionary_text(REPO) == dictionary.dictionary_text(REPO)


def test_dictionary_describes_every_table_and_column_with_an_example():
    text = COMMITTED.read_text(encoding="utf-8")
    for table in tables():
        assert f"(`{table.name}`)\n" in text, table.name
        section = text.split(f"(`{table.name}`)\n", 1)[1].split("\n## ", 1)[0]
        for column in table.columns:
            assert f"| `{column.name}` | {column.type} |" in section, (table.name, column.name)
        with open(REPO / "data" / f"{table.name}.csv", encoding="utf-8", newline="") as f:
            first = next(csv.DictReader(f), None)
        if first and first[table.columns[0].name]:
            assert f"`{first[table.columns[0].name]}`" in section, table.name
    claims = text.split("(`claims`)\n", 1)[1].split("\n## ", 1)[0]
    assert "| `id` | string | required; unique; " in claims
    assert "Terms of `status` (from `statuses`): " in claims and "`withdrawn` (Withdrawn)" in claims
    assert "- `topic` refers to [`topics`](#topics-topics)" in claims


def test_stale_dictionary_is_found(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(REPO / "data", root / "data")
    shutil.copy(REPO / "datapackage.json", root / "datapackage.json")
    (root / "docs").mkdir()
    shutil.copy(COMMITTED, root / dictionary.DICTIONARY)
    assert dictionary.stale(root) == []
    terms = root / "data" / "statuses.csv"
    terms.write_text(terms.read_text(encoding="utf-8").replace("Withdrawn", "Taken back"), encoding="utf-8")
    problems = dictionary.stale(root)
    assert [(p.path, p.code) for p in problems] == [(dictionary.DICTIONARY, "stale-generated")]
    assert dictionary.REGENERATE in problems[0].message
    (root / dictionary.DICTIONARY).unlink()
    assert "is missing" in dictionary.stale(root)[0].message


def test_dictionary_without_a_built_package_has_no_examples(tmp_path):
    text = dictionary.dictionary_text(tmp_path)
    assert "Terms of " not in text
    assert all(f"(`{t.name}`)" in text for t in tables())
    with pytest.raises(StopIteration):
        next(line for line in text.splitlines() if line.startswith("| `id` |") and line.endswith("` |"))
