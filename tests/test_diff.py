"""`reported-claims diff`: what changed between two packages and the bump it needs.

Each case copies a real package, makes one kind of change, and runs the CLI as a user would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run_cli
from packages import (
    MALFORMED_DESCRIPTORS,
    MALFORMED_RECORDS,
    edit_descriptor,
    edit_records,
    field,
    make_package,
    resource,
    restamp,
)

from reported_claims.package.diff import bump_of, next_version, parse_version
from reported_claims.package.release import write_archive


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_package(tmp_path_factory.mktemp("base") / "pkg", "1.0.0")


@pytest.fixture
def old_new(base, tmp_path) -> tuple[Path, Path]:
    new = tmp_path / "new"
    shutil.copytree(base, new)
    restamp(new, "1.1.0")
    return base, new


def diff(old: Path, new: Path, *args: str):
    result = run_cli("diff", str(old), str(new), *args)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def last_line(out: str) -> str:
    return out.strip().splitlines()[-1]


def first_claim(rows):
    return next(r for r in rows if r.get("status") != "withdrawn")


def test_identical_packages_need_no_release(old_new):
    code, out, _ = diff(*old_new)
    assert code == 0
    assert "no changes" in out
    assert last_line(out) == "none"


def test_new_claim_is_minor(old_new):
    old, new = old_new

    def add(rows):
        copy = dict(first_claim(rows), id="clm-zz-new-claim", statement="A new claim.")
        rows.append(copy)

    edit_records(new, "claims", add)
    code, out, _ = diff(old, new)
    assert code == 0
    assert "claims: added clm-zz-new-claim" in out
    assert last_line(out) == "minor"


def test_withdrawal_is_patch(old_new):
    old, new = old_new
    target = {}

    def withdraw(rows):
        claim = first_claim(rows)
        target["id"] = claim["id"]
        claim["status"] = "withdrawn"
        claim["withdrawal"] = {"date": "2024-05-01", "reason": "A duplicate.", "replaced_by": None}

    edit_records(new, "claims", withdraw)
    code, out, _ = diff(old, new)
    assert code == 0
    assert f"claims: withdrawn {target['id']}" in out
    assert last_line(out) == "patch"


def test_corrected_field_is_patch_and_shows_old_and_new(old_new):
    old, new = old_new
    target = {}

    def correct(rows):
        claim = first_claim(rows)
        target["id"], target["old"] = claim["id"], claim["reports"][0]["quote"]
        claim["reports"][0]["quote"] = "The corrected quote."

    edit_records(new, "claims", correct)
    code, out, _ = diff(old, new)
    assert code == 0
    assert f"claims: changed {target['id']}" in out
    assert f"reports[0].quote: {target['old'][:40]}" in out
    assert "-> The corrected quote." in out
    assert last_line(out) == "patch"


def test_new_source_is_minor_and_changed_entity_patch(old_new):
    old, new = old_new
    edit_records(new, "sources", lambda rows: rows.append(dict(rows[0], id="src-zz-new")))

    def rename(rows):
        rows[0]["name"] = rows[0]["name"] + " (renamed)"

    edit_records(new, "entities", rename)
    code, out, _ = diff(old, new, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["tables"]["sources"]["added"] == ["src-zz-new"]
    assert [c["id"] for c in report["tables"]["entities"]["changed"]] == [json.loads(
        (new / "data" / "entities.json").read_text())[0]["id"]]
    assert report["bump"] == "minor"


@pytest.mark.parametrize(
    "edit, change",
    [
        (lambda d: resource(d, "claims")["schema"]["fields"].pop(), "removed"),
        (lambda d: field(d, "claims", "statement").update(name="text"), "removed"),
        (lambda d: field(d, "claims", "statement").update(type="integer"), "type-changed"),
        (lambda d: field(d, "claims", "statement").setdefault("constraints", {}).update(maxLength=10),
         "constraints-tightened"),
        (lambda d: d["resources"].remove(resource(d, "claims")), "resource-removed"),
    ],
    ids=["field-removed", "field-renamed", "type-changed", "constraint-tightened", "resource-removed"],
)
def test_breaking_schema_change_is_major(old_new, edit, change):
    old, new = old_new
    edit_descriptor(new, edit)
    code, out, _ = diff(old, new, "--json")
    assert code == 0
    report = json.loads(out)
    assert change in [c["change"] for c in report["schema"]]
    assert report["bump"] == "major"
    assert last_line(diff(old, new)[1]) == "major"


def test_added_field_and_relaxed_constraint_are_minor(old_new):
    old, new = old_new

    def extend(d):
        resource(d, "claims")["schema"]["fields"].append({"name": "extra", "type": "string"})
        field(d, "claims", "statement")["constraints"].pop("required")

    edit_descriptor(new, extend)
    code, out, _ = diff(old, new)
    assert code == 0
    assert "schema: claims.extra: field added (string) (minor)" in out
    assert "schema: claims.statement: required: true -> (none) (minor)" in out
    assert last_line(out) == "minor"


def test_vanished_id_is_an_error(old_new):
    old, new = old_new
    gone = json.loads((new / "data" / "claims.json").read_text())[0]["id"]
    edit_records(new, "claims", lambda rows: rows[1:])
    code, out, err = diff(old, new)
    assert code == 3
    assert gone in err
    assert "withdraw" in err
    assert f"ERROR claims missing from NEW" in out
    assert last_line(out) == "refused"  # never a bump that a script could publish under
    code, out, _ = diff(old, new, "--json")
    assert code == 3 and json.loads(out)["bump"] == "refused" and json.loads(out)["missing"] == [gone]


def test_release_archives_compare_like_folders(old_new, tmp_path):
    old, new = old_new
    edit_records(new, "claims", lambda rows: rows.append(dict(first_claim(rows), id="clm-zz-added")))
    write_archive(old, "1.0.0", tmp_path / "reported-claims-1.0.0.zip")
    code, out, _ = diff(tmp_path / "reported-claims-1.0.0.zip", new)
    assert code == 0
    assert "claims: added clm-zz-added" in out
    assert last_line(out) == "minor"


def test_not_a_package_is_a_clean_error(tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = diff(tmp_path / "empty", tmp_path / "empty")
    assert code == 1
    assert "no datapackage.json" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("edit, message", [pytest.param(e, m, id=i) for i, e, m in
                                           MALFORMED_DESCRIPTORS + MALFORMED_RECORDS])
def test_malformed_package_is_a_one_line_error(old_new, edit, message):
    old, new = old_new
    edit(new)
    code, out, err = diff(old, new)
    assert code == 1, out
    assert "Traceback" not in err
    assert err.strip().splitlines() == [f"diff failed: {new}: {message}"]


def test_malformed_release_archive_is_a_one_line_error(old_new, tmp_path):
    old, new = old_new
    edit_records(new, "claims", lambda rows: [*rows, "clm-not-an-object"])
    write_archive(new, "1.1.0", tmp_path / "reported-claims-1.1.0.zip")
    code, _, err = diff(old, tmp_path / "reported-claims-1.1.0.zip")
    assert code == 1
    assert err.strip().splitlines() == [
        f"diff failed: {tmp_path / 'reported-claims-1.1.0.zip'}: data/claims.json: item {len(_claims(old))} "
        "is not an object with an id"]


def _claims(package):
    return json.loads((package / "data" / "claims.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("old, new, bump", [
    ("1.0.0", "2.0.0", "major"), ("1.0.0", "1.1.0", "minor"), ("1.0.0", "1.0.1", "patch"),
    ("1.2.3", "1.2.3", "none"), ("1.2.3", "1.2.2", "none"), ("1.9.0", "1.10.0", "minor"),
])
def test_bump_of(old, new, bump):
    assert bump_of(old, new) == bump


def test_versions():
    assert next_version("1.2.3", "minor") == "1.3.0"
    assert next_version("1.2.3", "major") == "2.0.0"
    for bad in ("1.2", "v1.2.3", "01.2.3", "1.2.3-rc1"):
        with pytest.raises(ValueError):
            parse_version(bad)


def test_empty_new_field_is_not_a_record_change(old_new, tmp_path):
    """A field the schema adds, left empty in every record, is a schema change only."""
    base, new = old_new
    old = tmp_path / "old"
    shutil.copytree(base, old)

    def drop_empty_links(rows):
        for row in rows:
            if row.get("links") == []:
                del row["links"]

    edit_records(old, "claims", drop_empty_links)
    assert any("links" not in row for row in json.loads((old / "data" / "claims.json").read_text()))
    code, out, _ = diff(old, new)
    assert code == 0
    assert "changed clm-" not in out


def test_long_text_change_shows_where_it_differs(old_new):
    old, new = old_new
    tail = " and a clause that pushes the difference far past the first hundred characters of the text."

    def edit(rows):
        claim = first_claim(rows)
        claim["statement"] = claim["statement"] + tail
    edit_records(new, "claims", edit)
    code, out, _ = diff(old, new)
    line = next(l for l in out.splitlines() if l.strip().startswith("statement:"))
    before, after = line.split(" -> ")
    assert after.startswith("...") and "and a clause that pushes" in after
