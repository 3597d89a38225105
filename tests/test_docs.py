"""Docs as tests: every command has help with an example; CONTRIBUTING's commands and example work."""

from __future__ import annotations

import json
import subprocess
import sys
import re
import shlex

import pytest
import yaml
from click.testing import CliRunner

from conftest import REPO, run_cli
from reported_claims.cli import COMMANDS as LOOKUP
from reported_claims.cli import main

COMMANDS = sorted(LOOKUP)
CONTRIBUTING = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")


def command_lines(text: str) -> list[list[str]]:
    """Every `reported-claims ...` command in the shell blocks of a Markdown text."""
    out = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("reported-claims"):
                out.append(shlex.split(line)[1:])
    return out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_a_runnable_example(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    example = result.output.split("Example:", 1)[1]
    assert re.search(rf"^\s+(\S+=\S+ )?reported-claims {command}\b", example, re.M), result.output


def test_contributing_uses_only_existing_commands_and_options():
    used = command_lines(CONTRIBUTING)
    assert {args[0] for args in used if args and not args[0].startswith("-")} >= {
        "new", "validate", "fmt", "check-quotes", "build"}
    for args in used:
        if not args or args[0].startswith("-"):
            result = CliRunner().invoke(main, ["--help"])
        else:
            assert args[0] in LOOKUP, args
            result = CliRunner().invoke(main, [args[0], "--help"])
            for option in (a.split("=")[0] for a in args if a.startswith("--")):
                assert option in result.output, (args, option)
        assert result.exit_code == 0


def test_contributing_worked_example_is_valid_canonical_and_quoted(repo_copy):
    block = re.search(r"```yaml\n(# yaml-language-server.*?)```", CONTRIBUTING, re.S).group(1)
    rid = re.search(r"^id: (\S+)", block, re.M).group(1)
    path = repo_copy / "records" / "claims" / f"{rid}.yaml"
    path.write_text(block, encoding="utf-8")
    done = run_cli("validate", str(path), "--repo", str(repo_copy))
    assert done.returncode == 0 and b"warning" not in done.stdout, done.stdout.decode()
    assert run_cli("fmt", "--check", str(path), "--repo", str(repo_copy)).returncode == 0
    quotes = run_cli("check-quotes", "--repo", str(repo_copy))
    assert rid not in quotes.stdout.decode()


def test_editor_settings_map_every_records_folder_to_an_existing_schema():
    settings = json.loads((REPO / ".vscode" / "settings.json").read_text())
    mapping = {glob: schema for schema, glob in settings["yaml.schemas"].items()}
    for folder, kind in [("claims", "claim"), ("sources", "source"), ("entities", "entity"),
                         ("vocabularies", "vocabulary")]:
        schema = mapping[f"records/{folder}/*.yaml"]
        assert schema == f"./schema/{kind}.schema.json"
        assert (REPO / schema).is_file()
    assert json.loads((REPO / ".vscode" / "extensions.json").read_text())["recommendations"] == ["redhat.vscode-yaml"]


def test_pre_commit_hooks_run_existing_commands():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    local = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert {h["id"] for h in hooks} == {h["id"] for h in local} == {"reported-claims-validate", "reported-claims-fmt"}
    for hook in hooks + local:
        assert re.match(hook["files"], "records/claims/clm-x.yaml")
        assert not re.match(hook["files"], "src/reported_claims/models.py")
        args = shlex.split(hook["entry"])
        assert args[0].endswith("reported-claims") and args[1] in LOOKUP
        result = CliRunner().invoke(main, [args[1], *args[2:], "--help"])
        assert result.exit_code == 0, result.output


def test_issue_forms_and_pull_request_template():
    for name in ("new-claim", "correction", "withdrawal"):
        form = yaml.safe_load((REPO / ".github" / "ISSUE_TEMPLATE" / f"{name}.yml").read_text())
        assert form["name"] and form["description"] and form["body"]
        ids = [item["id"] for item in form["body"] if "id" in item]
        assert len(ids) == len(set(ids))
        assert all(item["type"] in {"markdown", "input", "textarea", "dropdown", "checkboxes"} for item in form["body"])
    template = (REPO / ".github" / "PULL_REQUEST_TEMPLATE.md").read_text()
    for command in ("validate --strict", "fmt --check", "check-quotes"):
        assert f"reported-claims {command}" in template


README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_quick_start_and_commands():
    assert "./scripts/build" in README and "./scripts/test" in README
    used = command_lines(README)
    assert used
    for args in used:
        if args and not args[0].startswith("-"):
            assert args[0] in LOOKUP, args
            help_text = CliRunner().invoke(main, [args[0], "--help"]).output
            for option in (a.split("=")[0] for a in args if a.startswith("--")):
                assert option in help_text, (args, option)


def test_readme_python_example_runs():
    block = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    code = block + (
        "\nassert len(claims) > 0 and claims.get('clm-no-such-claim') is None"
        "\nassert claim.reports and sources and entities\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_readme_duckdb_examples_run():
    duckdb = pytest.importorskip("duckdb")
    first, origins = [duckdb.connect().execute(sql.replace("'data/", f"'{REPO}/data/")).fetchall()
                      for sql in re.findall(r"```sql\n(.*?)```", README, re.S)]
    assert first and all(row[3] >= 1 for row in first)
    # The child table agrees with the counted column, and five reports of one text are one origin.
    assert origins and all(reports > count == len(texts.split(" + ")) for _, reports, count, texts in origins)
    assert ("clm-china-share-russian-microelectronics-2023", 5, 3) in [row[:3] for row in origins]
