"""`reported-claims build`: the data package every tool reads as it is."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from build_helpers import build_copy, copy_records, leftovers, snapshot
from conftest import REPO, run_cli

from reported_claims.errors import ReportedClaimsError
from reported_claims.model import kinds
from reported_claims.package import build, schemas, tables
from reported_claims.model.records import Claim, Entity, Source, Vocabulary
from reported_claims.repo.load import load


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_copy(tmp_path_factory.mktemp("built") / "repo")


def descriptor(root: Path) -> dict:
    return json.loads((root / "datapackage.json").read_text(encoding="utf-8"))


def test_package_validates_with_frictionless(built):
    import frictionless

    report = frictionless.Package(str(built / "datapackage.json")).validate()
    assert report.valid, report.flatten(["type", "note"])
    done = subprocess.run([str(Path(sys.executable).with_name("frictionless")), "validate", "datapackage.json"],
                          cwd=built, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]


def test_descriptor(built):
    desc = descriptor(built)
    assert desc["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    assert desc["name"] == "reported-claims"
    assert desc["version"] == build.__version__
    assert desc["created"] == "2024-04-12T05:33:20Z"  # SOURCE_DATE_EPOCH, never the clock
    assert desc["licenses"][0]["name"] == "CC-BY-4.0"
    assert desc["contributors"][0]["roles"]
    names = [r["name"] for r in desc["resources"]]
    assert names[:21] == ["claims", "claim_reports", "claim_report_figures", "claim_report_terms",
                          "claim_report_lineage", "claim_report_origins", "claim_claimants", "claim_entities",
                          "claim_items", "quantities", "claim_origins", "claim_primary_sources", "claim_links",
                          "report_drift", "sources", "source_lineage", "source_origins", "source_not_recorded",
                          "source_authors", "entities", "entity_aliases"]
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in names), "one naming style: snake_case"
    for r in desc["resources"]:
        assert r["hash"].startswith("sha256:") and r["bytes"] == (built / r["path"]).stat().st_size
        if r["type"] == "table":
            assert r["schema"] == json.loads((built / "schema" / "tables" / f"{r['name']}.json").read_text())
            assert r["schema"]["primaryKey"]


def test_tables_and_json_resources_follow_the_kinds_registry(built):
    assert tables.VOCABULARIES is kinds.VOCABULARIES
    names = [t.name for t in tables.tables()]
    assert names[-len(kinds.VOCABULARIES):] == [tables.vocab_table(v) for v in kinds.VOCABULARIES]
    json_resources = [(r["name"], r["path"]) for r in descriptor(built)["resources"] if r["type"] == "json"]
    assert json_resources == [(k.json_resource, k.json_path) for k in kinds.KINDS]


def test_check_returns_problems_at_the_file_row_and_field(built, tmp_path):
    root = shutil.copytree(built, tmp_path / "repo")
    assert build.check(root) == []
    path = root / "data" / "claims.csv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("report_count")
    rows[1][column] = "many"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    claims = json.loads((root / "data" / "claims.json").read_text(encoding="utf-8"))
    claims[0]["statement"] = 5
    (root / "data" / "claims.json").write_text(json.dumps(claims), encoding="utf-8")
    problems = build.check(root)
    assert all(p.code == "package-invalid" and p.severity == "error" for p in problems)
    cell = [p for p in problems if (p.path, p.line, p.col) == ("data/claims.csv", 2, column + 1)]
    assert cell and cell[0].location == "report_count" and "many" in cell[0].message
    statement = [p for p in problems if p.path == "data/claims.json" and p.location == "0/statement"]
    assert statement and "is not of type 'string'" in statement[0].message
    assert issubclass(build.BuildError, ReportedClaimsError) and issubclass(build.UnsafeCell, ReportedClaimsError)


def test_the_version_is_a_parameter(tmp_path):
    root = copy_records(tmp_path / "repo")
    dataset, _ = load(root)
    built = build.build(root, dataset, version="3.2.1")
    assert descriptor(root)["version"] == "3.2.1"
    assert built.warnings == []
    assert build.build(root, dataset).resources == built.resources
    assert descriptor(root)["version"] == build.__version__


def test_csv_layout(built):
    for path in sorted((built / "data").glob("*.csv")):
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), path
        assert b"\r" not in raw, path  # \n line ends; quotes keep no CR either
        assert raw.endswith(b"\n")
    with open(built / "data" / "quantities.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            assert not row["value"].endswith(".0")


def test_pandas_and_duckdb_read_every_csv(built):
    import duckdb
    import pandas as pd

    dataset, _ = load(built)
    expected = {
        "claims": len(dataset.claims), "sources": len(dataset.sources), "entities": len(dataset.entities),
        "claim_reports": sum(len(c.reports) for c in dataset.claims.values()),
        "claim_claimants": sum(len(c.claimants) for c in dataset.claims.values()),
        "quantities": sum(len(c.quantities) for c in dataset.claims.values()),
        "entity_aliases": sum(len(e.aliases) for e in dataset.entities.values()),
        "source_lineage": sum(len(s.derived_from) + len(s.attributes_to) for s in dataset.sources.values()),
        "topics": len(dataset.vocabularies["topics"].terms),
    }
    con = duckdb.connect()
    for t in tables.tables():
        path = built / "data" / f"{t.name}.csv"
        frame = pd.read_csv(path, keep_default_na=False, dtype=str)
        assert list(frame.columns) == t.names
        count = con.execute("select count(*) from read_csv(?, header=true, all_varchar=true)", [str(path)]).fetchone()[0]
        assert count == len(frame), t.name
        if t.name in expected:
            assert len(frame) == expected[t.name], t.name


def test_json_is_exactly_the_models(built):
    dataset, _ = load(built)
    for name, model, records in [("claims", Claim, dataset.claims), ("sources", Source, dataset.sources),
                                 ("entities", Entity, dataset.entities), ("vocabularies", Vocabulary, dataset.vocabularies)]:
        text = (built / "data" / f"{name}.json").read_text(encoding="utf-8")
        items = json.loads(text)
        assert [i["id"] for i in items] == sorted(records)
        published = kinds.kind(name).published
        assert [published.model_validate(i) for i in items] == [records[k] if published is model else published(
            **records[k].model_dump(), derived=i["derived"]) for k, i in zip(sorted(records), items)]
        if published is not model:  # the record and what the build derives for it, nothing else
            assert [model.model_validate({k: v for k, v in i.items() if k != "derived"}) for i in items] == \
                [records[k] for k in sorted(records)]
        assert text == json.dumps(items, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_two_builds_are_byte_identical(built, tmp_path):
    first = snapshot(built)
    again = run_cli("build", repo=built, text=True)
    assert again.returncode == 0, again.stderr
    assert snapshot(built) == first
    other = build_copy(tmp_path / "other")
    assert snapshot(other) == first
    assert leftovers(built) == []


def test_generated_table_schemas_are_checked(built, tmp_path):
    root = build_copy(tmp_path / "repo")
    assert run_cli("validate", repo=root, text=True).returncode == 0
    path = root / "schema" / "tables" / "claims.json"
    path.write_text(path.read_text().replace("Stable id", "Edited by hand"), encoding="utf-8")
    done = run_cli("validate", repo=root, text=True)
    assert done.returncode == 1
    assert "schema/tables/claims.json:1:1: (file): is stale" in done.stdout and "[stale-generated]" in done.stdout


def test_refused_build_writes_nothing(tmp_path):
    root = copy_records(tmp_path / "repo")
    bad = root / "records" / "claims" / "clm-broken.yaml"
    bad.write_text("id: clm-broken\nstatement: =cmd|' /C calc'!A0\n", encoding="utf-8")
    done = run_cli("build", repo=root, text=True)
    assert done.returncode == 1
    assert "clm-broken.yaml" in done.stdout and "nothing was written" in done.stderr
    assert not (root / "datapackage.json").exists() and not (root / "data").exists()
    assert not (root / "schema").exists()


def test_created_is_omitted_without_git_or_epoch(tmp_path):
    copy_records(tmp_path / "repo")
    done = run_cli("build", repo=tmp_path / "repo", env={"SOURCE_DATE_EPOCH": ""}, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "created" not in descriptor(tmp_path / "repo")


def test_created_is_the_last_commit_touching_records(tmp_path):
    root = copy_records(tmp_path / "repo")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "-C", str(root), "add", "records"], check=True)
    subprocess.run([*git, "-C", str(root), "commit", "-q", "-m", "records"], check=True,
                   env={"GIT_COMMITTER_DATE": "2024-04-12T10:00:00Z", "PATH": "/usr/bin:/bin"})
    done = run_cli("build", repo=root, env={"SOURCE_DATE_EPOCH": ""}, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert descriptor(root)["created"] == "2024-04-12T10:00:00Z"


def test_csv_writer_refuses_formula_cells(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    dataset, _ = load(root)
    evil = Claim.model_construct(id="clm-x", statement="=HYPERLINK(\"x\")", act="asserts", made=None, topic="t", items=[], claimants=[],
                                 entities=[], period=None, quantities=[], status="reported", withdrawal=None,
                                 links=[], reports=[], notes=None)
    dataset.claims["clm-x"] = evil
    with pytest.raises(build.UnsafeCell, match="claims.statement"):
        build.build(root, dataset)
    assert sorted(p.name for p in root.iterdir()) == [".build.lock"]


# --- origins: five reports from two wire-story lineages are two origins ------------------

SOURCES = {
    "src-wire-a": "kind: wire-story",
    "src-wire-b": "kind: wire-story",
    "src-reprint-a1": "kind: reprint\nderived_from:\n  - source: src-wire-a\n    relation: reprint",
    "src-reprint-a2": "kind: reprint\nderived_from:\n  - source: src-wire-a\n    relation: reprint",
    "src-rewrite-a3": "kind: news-article\nderived_from:\n  - source: src-reprint-a2\n    relation: rewrite\n"
                      "attributes_to:\n  - src-briefing",
    "src-reprint-b1": "kind: reprint\npublished: 2024-04\nderived_from:\n  - source: src-wire-b\n    relation: reprint",
    "src-translation-b2": "kind: news-article\nlanguage: zh\nderived_from:\n  - source: src-wire-b\n"
                          "    relation: translation",
    "src-briefing": "kind: official-briefing",
}


def write_lineage_repo(root: Path) -> Path:
    copy_records(root)
    for folder in ("claims", "sources", "entities"):
        for p in (root / "records" / folder).iterdir():
            p.unlink()
    (root / "records" / "entities" / "ent-someone.yaml").write_text(
        "id: ent-someone\nname: Someone\nkind: person\n", encoding="utf-8")
    for sid, body in SOURCES.items():
        (root / "records" / "sources" / f"{sid}.yaml").write_text(
            f"id: {sid}\ntitle: Story {sid}\nseen: false\npublisher: ent-someone\n{body}\n"
            + ("" if "published" in body else "published: 2024-04-12\n"), encoding="utf-8")
    reporting = ["src-reprint-a1", "src-reprint-a2", "src-rewrite-a3", "src-reprint-b1", "src-translation-b2"]
    reports = "".join(f"  - source: {s}\n    quote: It happened, {s} says.\n    claimant: ent-someone\n"
                      f"    attribution: named-person\n    attribution_mode: none\n    fit: exact\n"
                      for s in reporting)
    (root / "records" / "claims" / "clm-it-happened.yaml").write_text(textwrap.dedent("""\
        id: clm-it-happened
        statement: It happened.
        act: asserts
        topic: diplomacy
        claimants:
          - entity: ent-someone
            attribution: named-person
        reports:
        """) + reports, encoding="utf-8")
    return root


def test_origins_follow_derived_from_to_the_roots(tmp_path):
    root = write_lineage_repo(tmp_path / "repo")
    done = run_cli("build", repo=root, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(root / "data" / "claims.csv", encoding="utf-8", newline="") as f:
        (claim,) = list(csv.DictReader(f))
    assert claim["report_count"] == "5"
    assert claim["origin_count"] == "2"
    assert claim["origins"] == "src-wire-a; src-wire-b"
    assert claim["first_reported"] == "2024-04"  # the month may have started before the 12th
    with open(root / "data" / "sources.csv", encoding="utf-8", newline="") as f:
        sources = {r["id"]: r for r in csv.DictReader(f)}
    assert sources["src-rewrite-a3"]["origins"] == "src-wire-a"  # through the reprint, not the briefing
    assert sources["src-wire-b"]["origins"] == "src-wire-b"
    assert sources["src-briefing"]["published_precision"] == "day"
    with open(root / "data" / "source_lineage.csv", encoding="utf-8", newline="") as f:
        lineage = [(r["source_id"], r["target_id"], r["relation"]) for r in csv.DictReader(f)]
    assert ("src-rewrite-a3", "src-briefing", "attributes-to") in lineage
    assert ("src-translation-b2", "src-wire-b", "translation") in lineage


def test_roots_of_diamond_lineage():
    def src(sid, *parents):
        return Source(id=sid, kind="reprint", title=sid, seen=False,
                      derived_from=[{"source": p, "relation": "rewrite"} for p in parents])

    ctx = tables.Context.of([], [src("src-w1"), src("src-w2"), src("src-mix", "src-w1", "src-w2"),
                                 src("src-re", "src-mix", "src-w1")], [], [])
    assert ctx.roots("src-re") == ["src-w1", "src-w2"]
    assert ctx.roots("src-w1") == ["src-w1"]


def test_report_lineage_overrides_the_source_lineage():
    """An article mixing a wire story with its own background: only the borrowed passage
    shares the wire story's origin; the article's own passages are an origin of their own."""
    def src(sid, *parents):
        return Source(id=sid, kind="news-article", title=sid, seen=False,
                      derived_from=[{"source": p, "relation": "reprint"} for p in parents])

    def claim(cid, *reports):
        return Claim(id=cid, statement=cid, act="asserts", topic="t", claimants=[{"entity": "ent-x", "attribution": "a",
                                                                  "via": "src-briefing"}],
                     reports=[{"source": s, "quote": "q", "derived_from": list(d), "claimant": "ent-x",
                               "attribution": "a", "attribution_mode": "none", "fit": "exact"}
                              for s, *d in reports])

    ctx = tables.Context.of(
        [claim("clm-borrowed", ("src-wire",), ("src-mix", "src-wire"), ("src-reprint",)),
         claim("clm-own", ("src-mix",))],
        [src("src-wire"), src("src-mix"), src("src-reprint", "src-wire"), src("src-briefing")], [], [])
    rows = {r["id"]: r for r in tables.table("claims").rows(ctx)}
    assert (rows["clm-borrowed"]["origin_count"], rows["clm-borrowed"]["origins"]) == (1, "src-wire")
    assert (rows["clm-own"]["origin_count"], rows["clm-own"]["origins"]) == (1, "src-mix")
    assert rows["clm-own"]["primary_sources"] == "src-briefing"
    lineage = list(tables.table("claim_report_lineage").rows(ctx))
    assert lineage == [{"claim_id": "clm-borrowed", "source_id": "src-mix", "position": 0, "target_id": "src-wire"}]


def test_generators_register_table_schemas():
    generated = schemas.generated_files()
    assert all(f"schema/tables/{t.name}.json" in generated for t in tables.tables())
    claims = json.loads(generated["schema/tables/claims.json"])
    assert "DO NOT EDIT" in claims["description"]
    fields = {f["name"]: f for f in claims["fields"]}
    assert fields["statement"]["description"] == Claim.model_fields["statement"].description
    assert fields["id"]["constraints"]["pattern"] == "clm-[a-z0-9]+(-[a-z0-9]+)*"
    assert "required" not in fields.get("notes", {}).get("constraints", {})
    hedge = json.loads(generated["schema/tables/quantities.json"])["fields"]
    assert next(f for f in hedge if f["name"] == "hedge")["constraints"]["enum"][0] == "exact"
    assert {"fields": ["topic"], "reference": {"resource": "topics", "fields": ["id"]}} in claims["foreignKeys"]


def _git(root: Path, *args: str, date: str | None = None) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if date:
        env.update(GIT_COMMITTER_DATE=date, GIT_AUTHOR_DATE=date)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(root), *args],
                   check=True, env=env, capture_output=True)


def test_created_survives_a_commit_that_does_not_change_the_data(tmp_path):
    """Records and their build land in one commit; a fresh clone must rebuild the same bytes."""
    root = copy_records(tmp_path / "repo")
    _git(root, "init", "-q")
    _git(root, "add", "records")
    _git(root, "commit", "-q", "-m", "records", date="2024-04-12T10:00:00Z")
    assert run_cli("build", repo=root, env={"SOURCE_DATE_EPOCH": ""}, text=True).returncode == 0
    first = snapshot(root)
    assert json.loads(first["datapackage.json"])["created"] == "2024-04-12T10:00:00Z"
    claim = sorted((root / "records" / "claims").glob("*.yaml"))[0]
    claim.write_text(claim.read_text() + "# a comment changes no data\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "build and a comment", date="2024-05-01T10:00:00Z")
    assert run_cli("build", repo=root, env={"SOURCE_DATE_EPOCH": ""}, text=True).returncode == 0
    assert snapshot(root) == first
    claim.write_text(claim.read_text().replace("\nstatement: ", "\nstatement: Reportedly, ", 1))
    _git(root, "commit", "-q", "-am", "a correction", date="2024-06-01T10:00:00Z")
    assert run_cli("build", repo=root, env={"SOURCE_DATE_EPOCH": ""}, text=True).returncode == 0
    assert json.loads((root / "datapackage.json").read_text())["created"] == "2024-06-01T10:00:00Z"


def test_committed_package_is_current(tmp_path):
    """The committed datapackage.json and data/ are what the build makes of the committed records."""
    root = copy_records(tmp_path / "repo")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copy2(REPO / "datapackage.json", root / "datapackage.json")
    committed = snapshot(root)
    done = run_cli("build", repo=root, env={"SOURCE_DATE_EPOCH": ""}, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    changed = sorted(k for k in set(committed) | set(snapshot(root)) if committed.get(k) != snapshot(root).get(k))
    assert not changed, f"stale: {changed}; run ./scripts/build and commit the result"


@pytest.mark.parametrize("table", [True, False], ids=["from-the-table", "from-the-json"])
@pytest.mark.parametrize("folder", ["claims", "entities"])
def test_a_published_id_that_vanished_is_refused(tmp_path, folder, table):
    """The published ids are read from the kind's table, or from its JSON where the table is gone."""
    root = copy_records(tmp_path / "repo")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copy(REPO / "datapackage.json", root / "datapackage.json")
    if not table:
        (root / "data" / f"{folder}.csv").unlink()
    published = {row["id"] for row in json.loads((root / "data" / f"{folder}.json").read_text(encoding="utf-8"))}
    dataset, _ = load(root)
    # A record no other record refers to, so that validation passes and only the build can tell.
    referred = {ref for record in [*dataset.claims.values(), *dataset.sources.values(), *dataset.entities.values()]
                for ref in set(json.dumps(record.model_dump(mode="json")).split('"')) - {record.id}}
    gone = next(rid for rid in sorted(published) if rid not in referred)
    (root / "records" / folder / f"{gone}.yaml").unlink()
    before = snapshot(root)
    done = run_cli("build", repo=root, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"ids published in datapackage.json have no record any more: {gone}." in done.stderr
    assert "withdraw it instead" in done.stderr and "Traceback" not in done.stderr
    assert snapshot(root) == before and leftovers(root) == []


def test_an_unreadable_published_package_is_not_taken_as_empty(tmp_path):
    root = copy_records(tmp_path / "repo")
    (root / "datapackage.json").write_text('{"resources": 5}', encoding="utf-8")
    done = run_cli("build", repo=root, text=True)
    assert done.returncode == 1
    assert "the published package cannot be read" in done.stderr and "git checkout" in done.stderr
    assert (root / "datapackage.json").read_text(encoding="utf-8") == '{"resources": 5}'
    assert not (root / "data").exists()


def test_a_published_package_without_its_records_is_not_taken_as_empty(tmp_path):
    root = copy_records(tmp_path / "repo")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copy(REPO / "datapackage.json", root / "datapackage.json")
    (root / "data" / "claims.json").unlink()  # as a change that also deletes the published claims would
    before = snapshot(root)
    done = run_cli("build", repo=root, text=True)
    assert done.returncode == 1
    assert "the published package cannot be read" in done.stderr and "data/claims.json" in done.stderr
    assert snapshot(root) == before


def test_a_published_table_without_an_id_is_not_taken_as_empty(tmp_path):
    """The published ids are read from the main tables: a row of one that lost its id refuses the build."""
    root = copy_records(tmp_path / "repo")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copy(REPO / "datapackage.json", root / "datapackage.json")
    table = root / "data" / "entities.csv"
    header, first, *rest = table.read_text(encoding="utf-8").split("\n")
    table.write_text("\n".join([header, first.split(",", 1)[1], *rest]), encoding="utf-8")  # a cell short
    before = snapshot(root)
    done = run_cli("build", repo=root, text=True)
    assert done.returncode == 1
    assert "the published package cannot be read" in done.stderr and "data/entities.csv:2" in done.stderr
    assert snapshot(root) == before
