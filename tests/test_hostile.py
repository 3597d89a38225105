"""Hostile input the fixtures cannot hold: huge, deep and random files.

Whatever a record file contains, the reader and validator answer with located problems:
no exception escapes, nothing hangs, nothing runs.
"""

from __future__ import annotations

import re
import shutil
import string
import time
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from build_helpers import leftovers, snapshot
from conftest import FIXTURES, REPO, copy_repo, header, run_cli
from reported_claims.repo import reader
from reported_claims.problems import CODES, Problem
from reported_claims.model.kinds import MODELS
from reported_claims.repo.load import validate_record


def check_document(doc: reader.Document) -> None:
    for p in doc.problems:
        assert isinstance(p, Problem)
        assert p.code in CODES
        assert p.line >= 1 and p.col >= 1
    if not doc.problems:
        assert isinstance(doc.data, dict)


def write_record(repo, name: str, data: bytes):
    path = repo / "records" / "entities" / name
    path.write_bytes(data)
    return f"records/entities/{name}"


def test_file_too_large_is_refused_before_reading(repo_copy):
    body = b"id: ent-hostile-large\nname: Large\nkind: company\ndescription: " + b"x" * (reader.MAX_BYTES + 10) + b"\n"
    target = write_record(repo_copy, "ent-hostile-large.yaml", body)
    result = run_cli("validate", target, cwd=repo_copy)
    assert result.returncode == 1
    assert result.stdout.decode().startswith(f"{target}:1:1: (file): file is {len(body)} bytes") 
    assert "[file-too-large]" in result.stdout.decode()


@pytest.mark.parametrize("depth", [20, 100_000], ids=["reader-bound", "libyaml-bound"])
def test_deep_nesting_is_refused_without_recursion_error(repo_copy, depth):
    # 20 levels stop at the reader's own bound; 100,000 reach libyaml's (PyYAML >= 6.0.2), which
    # it hits while scanning ahead: both are `too-deep`, whichever layer sees it first.
    body = b"id: ent-hostile-deep\nname: " + b"[" * depth + b"]" * depth + b"\nkind: company\n"
    target = write_record(repo_copy, "ent-hostile-deep.yaml", body)
    start = time.monotonic()
    result = run_cli("validate", target, cwd=repo_copy)
    assert time.monotonic() - start < 10
    assert result.returncode == 1
    assert f"{target}:2:" in result.stdout.decode() and "[too-deep]" in result.stdout.decode()
    assert b"Traceback" not in result.stderr


def test_deep_block_nesting(repo_copy):
    lines = ["id: ent-hostile-deep-block", "name: x", "kind: company", "ids:"]
    lines += [" " * (2 * i) + f"k{i}:" for i in range(1, 40)]
    target = write_record(repo_copy, "ent-hostile-deep-block.yaml", ("\n".join(lines) + " v\n").encode())
    result = run_cli("validate", target, cwd=repo_copy)
    assert result.returncode == 1
    assert "[too-deep]" in result.stdout.decode()


def test_very_long_string(repo_copy):
    body = b"id: ent-hostile-long\nname: " + b"a" * 200_000 + b"\nkind: company\n"
    target = write_record(repo_copy, "ent-hostile-long.yaml", body)
    result = run_cli("validate", target, cwd=repo_copy)
    assert result.returncode == 1
    assert f"{target}:2:1: name: string should have at most 1000 characters [invalid-length]" in result.stdout.decode()


def test_unreadable_paths(repo_copy):
    (repo_copy / "records" / "entities" / "ent-folder.yaml").mkdir()
    result = run_cli("validate", "records/entities/ent-folder.yaml", "records/entities/ent-missing.yaml", cwd=repo_copy)
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "records/entities/ent-missing.yaml:1:1: (file):" in out and "[unreadable]" in out
    assert b"Traceback" not in result.stderr


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data):
    text, problems = reader.decode(data, "x.yaml")
    if text is None:
        assert problems and all(p.code in CODES for p in problems)
        return
    doc = reader.parse(text, "x.yaml")
    check_document(doc)


YAMLISH = st.text(alphabet=string.printable + "“”’…é中\u202e\u200b", max_size=300)


@settings(max_examples=300, deadline=None)
@given(YAMLISH)
@example("*0:")  # an alias as a key: a bad key, not a reason to skip the mapping's other problems
def test_arbitrary_text_never_raises(text):
    doc = reader.parse(text, "x.yaml")
    check_document(doc)
    if doc.data is not None:
        for kind in MODELS:
            record, problems = validate_record(doc, kind)
            assert (record is None) == bool(problems)
            assert all(p.code in CODES for p in problems)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30),
    st.sampled_from(["NO", "yes", "on", "010", "1e3", ".nan", "2024-04-12", "~", "<<", "=1+1"]),
)
shaped = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["id", "name", "kind", "reports", "quote", "value", "x"]) | st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "name", "kind", "statement", "topic", "claimants", "reports", "quantities", "aliases", "terms"]), shaped, max_size=8))
def test_arbitrary_yaml_shaped_records_never_raise(data):
    text = yaml.safe_dump(data, allow_unicode=True)
    doc = reader.parse(text, "x.yaml")
    check_document(doc)
    for kind in MODELS:
        record, problems = validate_record(doc, kind)
        assert (record is None) == bool(problems)
        for p in problems:
            assert p.code in CODES, p
            assert p.line >= 1


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="NOYESyesnoOnOff01e3.nan-:~", min_size=1, max_size=12))
def test_scalars_stay_strings(value):
    doc = reader.parse(f"id: ent-x\nname: '{value}'\nplain: {value}\n", "x.yaml")
    if doc.problems:
        return
    assert doc.data["name"] == value
    plain = doc.data["plain"]
    assert plain is None or isinstance(plain, str)


def test_build_with_hostile_records_changes_no_published_file(tmp_path):
    """Every hostile fixture at once: build refuses with each file's error and writes nothing."""
    import shutil

    from conftest import FIXTURES, REPO, copy_repo
    from test_validate import header

    repo = copy_repo(tmp_path / "repo")
    shutil.copytree(REPO / "data", repo / "data")
    shutil.copy2(REPO / "datapackage.json", repo / "datapackage.json")
    before = {p.relative_to(repo): p.read_bytes() for p in [repo / "datapackage.json", *(repo / "data").rglob("*")] if p.is_file()}
    targets = []
    for path in sorted((FIXTURES / "hostile").glob("*.yaml")):
        target, expected = header(path)
        (repo / target).write_bytes(path.read_bytes())
        targets.append((target, expected))
    start = time.monotonic()
    result = run_cli("build", cwd=repo, timeout=60)
    assert time.monotonic() - start < 30
    assert result.returncode == 1
    out = result.stdout.decode()
    for target, expected in targets:
        for line, code in expected:
            assert f"{target}:{line}:" in out and f"[{code}]" in out, (target, line, code)
    assert b"Traceback" not in result.stderr
    after = {p.relative_to(repo): p.read_bytes() for p in [repo / "datapackage.json", *(repo / "data").rglob("*")] if p.is_file()}
    assert after == before
    assert not (repo / "data.old").exists() and not list(repo.glob(".tmp-build*"))


# --- every hostile fixture through `build` ------------------------------------------------

HOSTILE_FIXTURES = sorted((FIXTURES / "hostile").glob("*.yaml"))
ANNOTATION = re.compile(r"^::(error|warning) file=records/[^,\n]+,line=\d+,col=\d+,title=[a-z0-9-]+::")
HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"}


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A copy of the repository with its published package, as a pull request's checkout has it."""
    root = copy_repo(tmp_path_factory.mktemp("published") / "repo")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copy(REPO / "datapackage.json", root / "datapackage.json")
    return root


@pytest.mark.parametrize("fixture", HOSTILE_FIXTURES, ids=[p.stem for p in HOSTILE_FIXTURES])
def test_build_refuses_every_hostile_fixture_and_changes_nothing(published, fixture):
    target = published / header(fixture)[0]
    before = snapshot(published)
    target.write_bytes(fixture.read_bytes())
    try:
        start = time.monotonic()
        done = run_cli("build", repo=published, env={"GITHUB_ACTIONS": "true"}, timeout=60)
        elapsed = time.monotonic() - start
    finally:
        target.unlink()
    out, err = done.stdout.decode("utf-8"), done.stderr.decode("utf-8")
    assert done.returncode == 1, out + err
    assert "Traceback" not in err and "internal error" not in err
    assert elapsed < 20
    assert snapshot(published) == before and leftovers(published) == []
    assert f"{header(fixture)[0]}:" in out  # located at the file it came from
    for line in (out + err).splitlines():
        # GitHub runs a line starting with "::" as a workflow command: only our annotations may.
        assert not line.startswith("::") or ANNOTATION.match(line), line
        assert not [c for c in line if unicodedata.category(c) in HIDDEN], repr(line)


@pytest.mark.parametrize("key", ["*alias", "!tag key"])
def test_a_refused_key_does_not_hide_the_other_problems(key):
    doc = reader.parse(f"{key}: value\nname: Fixture Company\n", "x.yaml")
    assert {p.code for p in doc.problems} & {"yaml-alias", "yaml-tag"}
    record, problems = validate_record(doc, "entity")
    assert record is None
    assert [p.location for p in problems if p.code == "missing-field"] == ["id", "kind"]
