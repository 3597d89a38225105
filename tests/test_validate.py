"""Validation through the CLI: golden fixtures, the real records, and what a contributor sees.

Each fixture under tests/fixtures/{valid,invalid,hostile}/ says where it goes in a copy of the
repository (``# as: PATH``) and exactly which problems it must produce (``# expect: LINE CODE``,
none for valid fixtures). All fixtures are validated in one run of the CLI.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, copy_repo, header, run_cli

PROBLEM = re.compile(r"^(?P<path>[^\n:]+):(?P<line>\d+):(?P<col>\d+): (?P<loc>[^\n]*?): (?P<msg>.*) \[(?P<code>[a-z0-9-]+)(?:, warning)?\]$")


def fixture_files(kind: str) -> list[Path]:
    return sorted((FIXTURES / kind).glob("*.yaml"))


ALL = [(kind, p) for kind in ("valid", "invalid", "hostile") for p in fixture_files(kind)]


def parse_output(text: str) -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for line in text.splitlines():
        m = PROBLEM.match(line)
        assert m, f"output line not in file:line:col: where: what [code] form: {line!r}"
        found.setdefault(m["path"], []).append((int(m["line"]), m["code"]))
    return {k: sorted(v) for k, v in found.items()}


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory):
    """Place every fixture in one copy of the repository and validate them in one CLI run."""
    repo = copy_repo(tmp_path_factory.mktemp("fixtures") / "repo")
    targets = []
    for _, path in ALL:
        target, _ = header(path)
        dest = repo / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(path.read_bytes())
        targets.append(target)
    start = time.monotonic()
    result = run_cli("validate", *targets, cwd=repo, timeout=60)
    elapsed = time.monotonic() - start
    return result, elapsed, parse_output(result.stdout.decode())


@pytest.mark.parametrize("kind,path", ALL, ids=[f"{k}/{p.stem}" for k, p in ALL])
def test_fixture(kind, path, fixture_run):
    result, _, found = fixture_run
    target, expected = header(path)
    assert found.get(target, []) == expected
    if kind == "valid":
        assert not expected, "valid fixtures expect no problem"
    else:
        assert expected, "invalid and hostile fixtures must expect at least one problem"


def test_fixture_run_is_clean(fixture_run):
    result, elapsed, _ = fixture_run
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr and "Traceback" not in result.stdout.decode()
    assert re.search(r"\d+ error\(s\), \d+ warning\(s\) in \d+ file\(s\)", stderr)
    assert elapsed < 20
    assert not Path("/tmp/reported-claims-pwned").exists(), "a YAML tag ran code"


def test_real_records_validate():
    result = run_cli("validate")
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    summary = result.stdout.decode().strip()
    assert re.fullmatch(r"\d+ file\(s\) valid \(\d+ claims, \d+ sources, \d+ entities, \d+ vocabularies\)(, \d+ warning\(s\))?", summary.splitlines()[-1])
    n_claims = len(list((REPO / "records" / "claims").glob("*.yaml")))
    assert f"({n_claims} claims," in summary


def test_valid_fixtures_alone_exit_zero(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    targets = []
    for path in fixture_files("valid"):
        target, _ = header(path)
        (repo / target).write_bytes(path.read_bytes())
        targets.append(target)
    result = run_cli("validate", *targets, cwd=repo)
    assert result.returncode == 0, result.stdout.decode()
    assert result.stdout.decode().startswith(f"{len(targets)} file(s) valid")


def test_yaml_11_values_stay_strings():
    from reported_claims.repo import reader
    from reported_claims.model.records import Entity

    doc = reader.read(FIXTURES / "valid" / "yaml11-strings.yaml")
    entity = Entity.model_validate(doc.data)
    assert entity.name == "NO"
    assert entity.country == "NO"
    assert entity.description == "Off"
    assert entity.aliases == ["yes", "on", "010", "010", "1e3", ".nan", "2024-04-12", "null-island"]


def test_problem_points_at_the_line(repo_copy):
    path = repo_copy / "records" / "entities" / "ent-china.yaml"
    text = path.read_text()
    path.write_text(text + "nickname: PRC\n")
    line = text.count("\n") + 1
    result = run_cli("validate", cwd=repo_copy)
    assert result.returncode == 1
    out = result.stdout.decode()
    assert f"records/entities/ent-china.yaml:{line}:1: nickname: unknown field 'nickname'" in out
    assert out.rstrip().endswith("[unknown-field]")


def test_every_problem_at_once(repo_copy):
    claims = sorted((repo_copy / "records" / "claims").glob("*.yaml"))[:3]
    for path in claims:
        path.write_text(path.read_text().replace("\ntopic: ", "\ntopic: not-a-topic-", 1))
    result = run_cli("validate", cwd=repo_copy)
    assert result.returncode == 1
    bad = {line.split(":")[0] for line in result.stdout.decode().splitlines()}
    assert bad == {f"records/claims/{p.name}" for p in claims}


def test_github_annotations(repo_copy):
    path = repo_copy / "records" / "entities" / "ent-china.yaml"
    path.write_text(path.read_text() + "nickname: PRC\n")
    result = run_cli("validate", cwd=repo_copy, env={"GITHUB_ACTIONS": "true"})
    out = result.stdout.decode()
    assert re.search(r"^::error file=records/entities/ent-china\.yaml,line=\d+,col=1,title=unknown-field::", out, re.M)


def test_stale_generated_schema_is_an_error(repo_copy):
    path = repo_copy / "schema" / "claim.schema.json"
    path.write_text(path.read_text().replace('"Claim"', '"Claim (edited)"', 1))
    result = run_cli("validate", cwd=repo_copy)
    assert result.returncode == 1
    assert "schema/claim.schema.json:1:1: (file): is stale: the models changed; run `reported-claims build`" in result.stdout.decode()


def test_every_code_is_documented():
    from reported_claims.problems import CODES

    result = run_cli("codes")
    assert result.returncode == 0
    listed = {line.split()[0] for line in result.stdout.decode().splitlines()}
    assert listed == set(CODES)
    used = set()
    for _, path in ALL:
        used.update(code for _, code in header(path)[1])
    assert used <= set(CODES), used - set(CODES)


def test_outside_a_repository_says_so(tmp_path):
    for command in ("validate", "build"):
        result = run_cli(command, cwd=tmp_path)
        assert result.returncode == 1
        assert "no records/ folder in" in result.stderr.decode() and "--repo" in result.stderr.decode()
        assert not list(tmp_path.iterdir())
