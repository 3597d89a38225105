"""CONTRIBUTING.md's worked example, followed as a contributor would in a fresh clone.

A temporary git repository made from the real records and the committed package; the
commands run as subprocesses from the records folder, each common mistake once with the
message it must give, then the fix, the build, the commit of what build listed (through the
pre-commit hooks of the set-up steps) and, at the end, the pull-request workflow's own steps.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, copy_repo, run_cli

CONTRIBUTING = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
WORKFLOW = yaml.safe_load((REPO / ".github" / "workflows" / "pull-request.yml").read_text(encoding="utf-8"))
EXAMPLE = re.search(r"```yaml\n(# yaml-language-server.*?)```", CONTRIBUTING, re.S).group(1)
EXAMPLE_ID = re.search(r"^id: (\S+)", EXAMPLE, re.M).group(1)
VENV = Path(sys.executable).parent.parent
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
PROBLEM = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<loc>[^\n]*?): (?P<msg>.*) \[(?P<code>[a-z0-9-]+)\]$", re.M)


def git(repo: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def clone(tmp_path: Path) -> tuple[Path, dict]:
    """A git repository holding the records, the archive and the committed package, as cloned."""
    repo = copy_repo(tmp_path / "repo")
    shutil.copytree(REPO / "data", repo / "data")
    for name in ("datapackage.json", ".gitignore", ".pre-commit-config.yaml"):
        shutil.copy2(REPO / name, repo / name)
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    env.update({"GIT_AUTHOR_NAME": "Contributor", "GIT_AUTHOR_EMAIL": "contributor@example.org",
                "GIT_COMMITTER_NAME": "Contributor", "GIT_COMMITTER_EMAIL": "contributor@example.org",
                "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
                "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache")})
    assert git(repo, "init", "-q", "-b", "main", env=env).returncode == 0
    # The set-up steps' .venv, shared rather than rebuilt; a link, so ignored by hand.
    (repo / ".venv").symlink_to(VENV)
    (repo / ".git" / "info").mkdir(parents=True, exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text(".venv\n")
    assert git(repo, "add", "-A", env=env).returncode == 0
    assert git(repo, "commit", "-q", "-m", "The published records", env=env).returncode == 0
    return repo, env


def problems(done: subprocess.CompletedProcess) -> list[dict]:
    return [m.groupdict() for m in PROBLEM.finditer(done.stdout.decode())]


def only_problem(done: subprocess.CompletedProcess, code: str) -> dict:
    found = problems(done)
    assert done.returncode == 1 and [p["code"] for p in found] == [code], done.stdout.decode() + done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()
    return found[0]


def uncommitted(repo: Path, env: dict) -> list[str]:
    status = git(repo, "status", "--porcelain", "--untracked-files=all", env=env).stdout
    return sorted(line[3:] for line in status.splitlines())


def workflow_steps() -> list[tuple[str, str]]:
    """(name, script) of the pull-request workflow's steps that run commands on the tree.

    The tests are this suite; ``./scripts/build`` is the build it runs once .venv exists; the
    base of the pull request is the commit before the contributor's.
    """
    out = []
    for step in WORKFLOW["jobs"]["test"]["steps"]:
        script = step.get("run")
        if not script or script.strip() == "./scripts/test":
            continue
        lines = []
        for line in script.splitlines():
            if line.strip().startswith("git fetch") and "base_ref" in line:
                continue
            lines.append(line.replace("./scripts/build", ".venv/bin/reported-claims build")
                         .replace("../base FETCH_HEAD", "../base HEAD~1"))
        script = "\n".join(lines)
        assert "${{" not in script, f"a step of the workflow this test does not know how to run: {step['name']}"
        out.append((step["name"], script))
    return out


def test_worked_example_from_a_subfolder_to_a_tree_the_workflow_accepts(clone):
    repo, env = clone
    claims = repo / "records" / "claims"

    # 1. Create the record, from the folder it goes into.
    done = run_cli("new", "claim", "--slug", "us urges allies press china cut support", cwd=claims, env=env)
    assert done.returncode == 0, done.stderr.decode()
    name = done.stdout.decode().strip()
    assert re.fullmatch(r"clm-us-urges-allies-press-china-cut-support-[a-z2-9]{6}\.yaml", name)
    path = claims / name
    assert path.is_file() and not (claims / "records").exists()
    rid, rel = path.stem, f"records/claims/{name}"

    # 2. What is left to fill in: placeholders only, named from the root, cut at a word.
    done = run_cli("validate", name, cwd=claims, env=env)
    assert done.returncode == 1
    found = problems(done)
    assert found and {p["code"] for p in found} == {"placeholder"} and {p["path"] for p in found} == {rel}
    statement = next(p["msg"] for p in found if p["loc"] == "statement")
    shown = statement.removeprefix("placeholder not filled in: ")
    assert shown.endswith("…") and len(shown) <= 60
    assert f"{shown[:-1]} " in "TODO the claim in one neutral sentence, saying no more than the quotes"

    # 3. Fill it in, making each common mistake once on the way.
    filled = EXAMPLE.replace(EXAMPLE_ID, rid)
    # (what the guide writes, the mistake, its code, the message, the part the guide quotes)
    mistakes = [
        ("statement: The United States", "statement: Note: The United States", "yaml-syntax",
         'a value containing ": " must be quoted: statement: "Note: The United States',
         'a value containing ": " must be quoted'),
        ("topic: diplomacy", "topic: Diplomacy", "invalid-format",
         "'Diplomacy' is not in the right form: write lower-case letters, digits and hyphens, e.g. `dual-use-trade`",
         "write lower-case letters, digits and hyphens"),
        ("period: 2024-04", "period: 04/2024", "invalid-period",
         "'04/2024' is not a period: `/` separates the start and end of a range (START/END)",
         "`/` separates the start and end of a range (START/END)"),
    ]
    for right, wrong, code, hint, guide in mistakes:
        assert right in filled
        path.write_text(filled.replace(right, wrong, 1), encoding="utf-8")
        problem = only_problem(run_cli("validate", name, cwd=claims, env=env), code)
        assert problem["path"] == rel and hint in problem["msg"], problem
        line = filled.splitlines().index(next(l for l in filled.splitlines() if l.startswith(right))) + 1
        assert int(problem["line"]) == line
        assert guide in CONTRIBUTING and f"[{code}]" in CONTRIBUTING

    # A quote with words changed fails validation as it fails check-quotes, with the words that differ marked.
    path.write_text(filled.replace("to cease sales to Russia", "to stop selling to Russia"), encoding="utf-8")
    for command in ("validate", "check-quotes"):
        problem = only_problem(run_cli(command, *([name] if command == "validate" else []), cwd=claims, env=env),
                               "quote-not-found")
        assert problem["path"] == rel and problem["loc"] == "reports[0].quote"
        assert "[-cease sales-]{+stop selling+}" in problem["msg"]
    assert "[-cease sales-]{+stop selling+}" in CONTRIBUTING

    # 4-6. The fix validates, is canonical, and its quote stands.
    path.write_text(filled, encoding="utf-8")
    done = run_cli("validate", name, cwd=claims, env=env)
    assert done.returncode == 0 and not problems(done), done.stdout.decode()
    assert run_cli("fmt", "--check", name, cwd=claims, env=env).returncode == 0
    assert run_cli("check-quotes", cwd=claims, env=env).returncode == 0

    # 7. Build: it lists exactly the generated files that now differ from the commit.
    done = run_cli("build", cwd=claims, env=env)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    listed = re.search(r"^changed: (.*) — commit these with your records$", done.stdout.decode(), re.M)
    assert listed, done.stdout.decode()
    changed = listed.group(1).split(", ")
    assert "datapackage.json" in changed and "data/claims.csv" in changed
    assert f"\n{listed.group(0)}\n" in CONTRIBUTING, "the guide shows what build lists for its example"
    assert sorted(changed + [rel]) == uncommitted(repo, env)

    # Without them, the workflow's check of the generated files fails and says what to do.
    step = dict(workflow_steps())["Generated files are committed and current"]
    git(repo, "add", rel, env=env)
    check = subprocess.run(["bash", "-euo", "pipefail", "-c", step], cwd=repo, env=env,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 1 and "commit data/, datapackage.json" in check.stdout

    # 8. Commit the record with what build listed, through the hooks the set-up installs.
    assert "./scripts/build" in CONTRIBUTING and ".venv/bin/pre-commit install" in CONTRIBUTING
    assert CONTRIBUTING.index("./scripts/build") < CONTRIBUTING.index(".venv/bin/pre-commit install")
    install = subprocess.run([str(PRE_COMMIT), "install"], cwd=repo, env=env, capture_output=True, text=True,
                             timeout=120)
    assert install.returncode == 0, install.stdout + install.stderr
    assert git(repo, "add", rel, *changed, env=env).returncode == 0
    commit = git(repo, "commit", "-m", "Claim: the United States urges allies to press China", env=env)
    assert commit.returncode == 0, commit.stdout + commit.stderr
    assert re.search(r"reported-claims validate\.+Passed", commit.stdout + commit.stderr)
    assert re.search(r"reported-claims fmt --check\.+Passed", commit.stdout + commit.stderr)
    assert uncommitted(repo, env) == []

    # The pull-request workflow's own steps accept the tree.
    for step_name, script in workflow_steps():
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{step_name}:\n{done.stdout}\n{done.stderr}"
    assert uncommitted(repo, env) == []


def test_pre_commit_configuration_and_hooks_are_valid():
    for command, path in (("validate-config", ".pre-commit-config.yaml"), ("validate-manifest", ".pre-commit-hooks.yaml")):
        done = subprocess.run([str(PRE_COMMIT), command, path], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
