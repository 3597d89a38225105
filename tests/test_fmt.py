"""`reported-claims fmt`: one canonical layout that never changes a value."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import copy_repo, run_cli
from reported_claims.repo import reader
from reported_claims.repo.fmt import scalar

EPOCH = {"SOURCE_DATE_EPOCH": "1712900000"}


def fmt(repo: Path, *args: str):
    return run_cli("fmt", *args, "--repo", str(repo))


def texts(repo: Path) -> dict[str, str]:
    return {p.relative_to(repo).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted((repo / "records").rglob("*.yaml"))}


def data(path: Path):
    doc = reader.read(path)
    assert not doc.problems, doc.problems
    return doc.data


def _reversed(value):
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed(v) for v in value]
    return value


def mangle(path: Path, seed: int) -> None:
    """Same data, worst layout: keys reversed, flow or all-quoted style, blank lines, no schema line."""
    value = _reversed(data(path))
    if seed % 2:  # flow style, long values folded over lines
        lines = yaml.safe_dump(value, default_flow_style=True, width=50, allow_unicode=True,
                               sort_keys=False).splitlines()
    else:  # every value double-quoted, one line each, with blank lines between
        lines = yaml.safe_dump(value, default_style='"', allow_unicode=seed % 3 == 0, sort_keys=False,
                               indent=4, width=10**6).splitlines()
        rng = random.Random(seed)
        for _ in range(3):
            lines.insert(rng.randrange(len(lines) + 1), "")
    path.write_text("# a comment\n\n" + "\n".join(lines) + "\n\n\n", encoding="utf-8")


def build_snapshot(repo: Path) -> dict[str, bytes]:
    done = run_cli("build", "--repo", str(repo), env=EPOCH)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    out = {"datapackage.json": (repo / "datapackage.json").read_bytes()}
    out.update({p.relative_to(repo).as_posix(): p.read_bytes() for p in sorted((repo / "data").rglob("*")) if p.is_file()})
    return out


@pytest.fixture(scope="module")
def canonical(tmp_path_factory) -> dict[str, str]:
    """The real records, formatted once."""
    repo = copy_repo(tmp_path_factory.mktemp("canonical"))
    done = fmt(repo)
    assert done.returncode == 0, done.stdout.decode()
    return texts(repo)


def test_fmt_repairs_mangled_records_and_the_build_is_byte_identical(tmp_path, canonical):
    original = copy_repo(tmp_path / "original")
    before = build_snapshot(original)

    repo = copy_repo(tmp_path / "mangled")
    claims = sorted((repo / "records" / "claims").glob("*.yaml"))
    mangled = claims[:6] + sorted((repo / "records" / "sources").glob("*.yaml"))[:3] + \
        sorted((repo / "records" / "entities").glob("*.yaml"))[:3]
    for i, path in enumerate(mangled):
        want = data(path)
        mangle(path, i)
        assert data(path) == want  # the mangling itself changes no value
        assert path.read_text() != canonical[path.relative_to(repo).as_posix()]

    check = fmt(repo, "--check")
    assert check.returncode == 1
    listed = {line.split(":")[0] for line in check.stdout.decode().splitlines() if "[not-formatted]" in line}
    assert {p.relative_to(repo).as_posix() for p in mangled} <= listed
    assert texts(repo) != canonical  # --check changed nothing

    done = fmt(repo)
    assert done.returncode == 0, done.stdout.decode()
    assert texts(repo) == canonical
    assert build_snapshot(repo) == before
    assert fmt(repo, "--check").returncode == 0


def test_fmt_never_changes_data_and_is_idempotent(tmp_path, canonical):
    repo = copy_repo(tmp_path)
    before = {rel: reader.parse(text, rel).data for rel, text in texts(repo).items()}
    after = {rel: reader.parse(text, rel).data for rel, text in canonical.items()}
    assert after == before
    for rel, text in canonical.items():
        assert text.startswith("# yaml-language-server: $schema=../../schema/"), rel
        assert "\n\n" not in text and text.endswith("\n") and not text.endswith("\n\n"), rel
    for rel, text in canonical.items():
        (repo / rel).write_text(text, encoding="utf-8")
    done = fmt(repo)
    assert done.returncode == 0
    assert b"reformatted 0 of" in done.stdout


def test_key_order_follows_the_model(tmp_path, canonical):
    claim = next(t for rel, t in canonical.items() if rel.startswith("records/claims/") and "figures:" in t)
    keys = [line.split(":")[0] for line in claim.splitlines() if line and line[0].isalpha()]
    from reported_claims.model.records import Claim
    assert keys == [k for k in Claim.model_fields if k in keys]
    report_keys = [line.strip().lstrip("- ").split(":")[0] for line in claim.splitlines()
                   if line.startswith(("  - source:", "    quote:", "    attributed_to:", "    figures:", "    terms:",
                                       "    note:"))]
    first = report_keys[: report_keys.index("source", 1)] if report_keys.count("source") > 1 else report_keys
    from reported_claims.model.records import Report
    assert first == [k for k in Report.model_fields if k in first]


def test_files_with_problems_are_reported_and_left_untouched(repo_copy):
    broken = repo_copy / "records" / "claims" / "clm-broken.yaml"
    text = "id: clm-broken\nid: clm-broken\nstatement:   x\n"
    broken.write_text(text)
    invalid = repo_copy / "records" / "entities" / "ent-invalid.yaml"
    invalid_text = "{kind: person, name: Someone, id: ent-invalid, color: red}\n"
    invalid.write_text(invalid_text)
    done = fmt(repo_copy, str(broken), str(invalid))
    out = done.stdout.decode()
    assert done.returncode == 1
    assert "records/claims/clm-broken.yaml:2:1: id: key 'id' appears twice" in out
    assert "[unknown-field]" in out and "ent-invalid.yaml" in out
    assert broken.read_text() == text and invalid.read_text() == invalid_text


def test_github_annotations(repo_copy):
    path = sorted((repo_copy / "records" / "claims").glob("*.yaml"))[0]
    mangle(path, 1)
    done = run_cli("fmt", "--check", str(path), "--repo", str(repo_copy), env={"GITHUB_ACTIONS": "true"})
    assert done.returncode == 1
    rel = path.relative_to(repo_copy).as_posix()
    assert f"::error file={rel},line=1,col=1,title=not-formatted::" in done.stdout.decode()


TRICKY = ["yes", "No", "null", "~", "", " lead", "trail ", "a: b", "#x", "a #b", "- x", "'q'", '"q"', "it's",
          'say "hi"', "multi\nline", "tab\there", "2024-04-12", "90", "0x1F", "@x", "[x]", "{x}", "*x", "&x",
          "!x", "%x", "`x", "|", ">", "?", ":", "a\\b", "ü\u00a0ß", "\u2028", "…", "=1+1", "---", "..."]


@pytest.mark.parametrize("value", TRICKY)
def test_scalars_read_back_exactly(value):
    assert reader.parse(f"k: {scalar(value)}\n", "t").data == {"k": value}
    assert reader.parse(f"k:\n  - {scalar(value)}\n", "t").data == {"k": [value]}


def test_quoting_is_minimal():
    assert scalar("China is not neutral.") == "China is not neutral."
    assert scalar("2024-04") == "2024-04"
    assert scalar("yes") == '"yes"'
    assert scalar('he said: "no"') == "'he said: \"no\"'"
    assert scalar("a: b") == '"a: b"'


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_text_reads_back_exactly(value):
    assert reader.parse(f"k: {scalar(value)}\n", "t").data == {"k": value}


def test_comments_other_than_the_schema_line_go(tmp_path):
    repo = copy_repo(tmp_path)
    path = sorted((repo / "records" / "entities").glob("*.yaml"))[0]
    shutil.copy(path, tmp_path / "orig.yaml")
    path.write_text(path.read_text() + "# trailing remark\n")
    assert fmt(repo, str(path)).returncode == 0
    assert "# trailing remark" not in path.read_text()
    assert data(path) == data(tmp_path / "orig.yaml")
