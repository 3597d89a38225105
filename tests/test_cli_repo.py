"""Where the command line works and what it says when it cannot: from a subfolder, from
outside a repository, with nothing to work on, without an optional dependency."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, copy_repo, run_cli

OUTSIDE = "no records/ folder in {} or any folder above it"


def out(done: subprocess.CompletedProcess) -> str:
    return done.stdout.decode() + done.stderr.decode()


def test_commands_find_the_repository_from_a_subfolder(repo_copy):
    from_root = run_cli("validate", cwd=repo_copy)
    assert from_root.returncode == 0, out(from_root)
    for folder in ("records", "records/entities", "archive"):
        done = run_cli("validate", cwd=repo_copy / folder)
        assert done.returncode == 0 and done.stdout == from_root.stdout, out(done)

    done = run_cli("new", "entity", "--slug", "ministry of commerce", cwd=repo_copy / "archive")
    assert done.returncode == 0, out(done)
    path = (repo_copy / "archive" / done.stdout.decode().strip()).resolve()
    assert path.parent == (repo_copy / "records" / "entities").resolve() and path.is_file()
    assert not (repo_copy / "archive" / "records").exists()

    # Problems name files from the repository root, whichever folder the command ran in.
    done = run_cli("validate", path.name, cwd=path.parent)
    assert done.returncode == 1
    assert {line.split(":")[0] for line in done.stdout.decode().splitlines()} == {f"records/entities/{path.name}"}


@pytest.mark.parametrize("args", [("validate",), ("fmt", "--check"), ("fmt",), ("check-quotes",), ("build",),
                                  ("new", "claim"), ("release", "--version", "9.0.0")])
def test_outside_a_repository_each_command_says_so(tmp_path, args):
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 1, out(done)
    assert done.stdout == b""
    err = done.stderr.decode()
    assert OUTSIDE.format(tmp_path) in err and "--repo" in err and "Traceback" not in err
    assert "0 of 0" not in err and "all found" not in err
    assert not list(tmp_path.iterdir())


def test_repo_option_without_records_says_which_folder(tmp_path):
    done = run_cli("check-quotes", "--repo", str(tmp_path), cwd=REPO)
    assert done.returncode == 1
    assert done.stderr.decode().strip() == (
        f"reported-claims: no records/ folder in {tmp_path.resolve()}: pass --repo the folder that holds records/")


def test_check_quotes_with_an_archive_that_does_not_exist(repo_copy):
    done = run_cli("check-quotes", "--archive", "/nonexistent", cwd=repo_copy)
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.decode().startswith("reported-claims: no folder /nonexistent: pass --archive the folder")


def test_nothing_to_work_on_is_an_error(tmp_path):
    repo = tmp_path / "repo"
    (repo / "records" / "claims").mkdir(parents=True)
    for args, says in ((("validate",), "no record to validate"), (("fmt", "--check"), "no record to format"),
                       (("check-quotes",), "0 quote(s) checked"), (("build",), "no record to build")):
        done = run_cli(*args, cwd=repo)
        assert done.returncode == 1 and says in done.stderr.decode(), (args, out(done))
    assert sorted(p.name for p in repo.iterdir()) == ["records"]
    (repo / "elsewhere").mkdir()
    done = run_cli("validate", "elsewhere", cwd=repo)
    assert done.returncode == 1 and "no record to validate in elsewhere" in done.stderr.decode()


def test_validate_a_folder_skips_hidden_and_test_folders(repo_copy):
    broken = "id: [unclosed\n"
    for rel in (".venv/lib/site-packages/pkg/config.yaml", ".git/x.yaml", ".github/workflows/ci.yml",
                "tests/fixtures/invalid/bad.yaml", ".editor/settings.yaml", ".pre-commit-config.yaml"):
        (repo_copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo_copy / rel).write_text(broken)
    everything = run_cli("validate", cwd=repo_copy)
    dot = run_cli("validate", ".", cwd=repo_copy)
    assert dot.returncode == 0, out(dot)
    assert dot.stdout.decode().split(" file(s)")[0] == everything.stdout.decode().split(" file(s)")[0]
    # A folder named is searched, even one that a search from above skips.
    named = run_cli("validate", "tests/fixtures", cwd=repo_copy)
    assert named.returncode == 1 and named.stdout.decode().startswith("tests/fixtures/invalid/bad.yaml:2:1: ")


def test_build_outside_git_lists_what_it_changed(repo_copy):
    env = {"SOURCE_DATE_EPOCH": "1712900000"}
    first = run_cli("build", cwd=repo_copy / "records", env=env)
    assert first.returncode == 0, out(first)
    listed = re.search(r"^changed: (.*) — commit these with your records$", first.stdout.decode(), re.M)
    written = sorted(p.relative_to(repo_copy).as_posix() for p in (repo_copy / "data").iterdir())
    assert listed and listed.group(1).split(", ") == written + ["datapackage.json"]
    again = run_cli("build", cwd=repo_copy, env=env)
    assert again.returncode == 0 and "changed:" not in again.stdout.decode()


def blocked(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The command line in a Python where ``module`` cannot be imported, as without its extra."""
    code = f"import sys; sys.modules[{module!r}] = None; from reported_claims.cli import main; main(prog_name='reported-claims')"
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, timeout=120)


@pytest.mark.parametrize("module,args", [("rapidfuzz", ("validate",)), ("frictionless", ("build", "--check")),
                                         ("rapidfuzz", ("check-quotes",)), ("jsonschema", ("build", "--check"))])
def test_a_missing_optional_dependency_names_the_extra(repo_copy, module, args):
    done = blocked(module, *args, cwd=repo_copy)
    err = done.stderr.decode()
    assert done.returncode == 1, out(done)
    assert f"`reported-claims {args[0]}` needs {module}, which is not installed: install `reported-claims[build]`" in err
    assert "internal error" not in err and "bug" not in err and "Traceback" not in err
    assert not (repo_copy / "data").exists()


def test_an_error_of_the_system_is_a_message_not_a_bug(repo_copy):
    (repo_copy / "records" / "sources").rename(repo_copy / "sources")
    (repo_copy / "records" / "sources").write_text("not a folder\n")
    done = run_cli("new", "source", cwd=repo_copy)
    err = done.stderr.decode()
    assert done.returncode == 1 and err.startswith("reported-claims new: ") and "records/sources" in err, err
    assert "bug" not in err and "Traceback" not in err


def test_commands_leave_every_error_to_the_one_mapping():
    import inspect

    from reported_claims.cli import COMMANDS, main

    for name in COMMANDS:
        command = main.get_command(None, name)
        assert command.name == name, (name, command.name)
        source = inspect.getsource(command.callback)
        assert not re.search(r"^\s*(try:|except\b)", source, re.M), command.name


def mistyped_quote(repo: Path) -> None:
    """Change the fourth word of the first report's quote of a claim whose source is archived."""
    from reported_claims.repo import reader

    for path in sorted((repo / "records" / "claims").glob("*.yaml")):
        doc = reader.read(path)
        if (repo / "archive" / f"{doc.data['reports'][0]['source']}.txt").is_file():
            break
    line = doc.mark(("reports", 0, "quote")).line
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    words = doc.data["reports"][0]["quote"].split()
    words[3] = "XYZZY"
    indent = lines[line - 1][: len(lines[line - 1]) - len(lines[line - 1].lstrip())]
    lines[line - 1] = indent + 'quote: "' + " ".join(words).replace('"', '\\"') + '"\n'
    path.write_text("".join(lines), encoding="utf-8")


def test_quote_differences_are_coloured_on_a_terminal_only(repo_copy):
    mistyped_quote(repo_copy)
    piped = run_cli("check-quotes", cwd=repo_copy)
    assert piped.returncode == 1
    assert re.search(r"\[-\S+-\]\{\+XYZZY\+\}", piped.stdout.decode()) and b"\x1b[" not in piped.stdout

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("reported-claims")), "check-quotes"],
                            cwd=repo_copy, env=env, stdout=follower, stderr=subprocess.DEVNULL)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.wait(timeout=120) == 1
    assert re.search(rb"\x1b\[31m\[-\S+-\]\x1b\[0m\x1b\[32m\{\+XYZZY\+\}\x1b\[0m", seen), seen[-2000:]


def test_every_format_of_the_models_is_explained_in_words():
    from reported_claims.model.kinds import MODELS
    from reported_claims.model.types import PATTERN_WORDS

    patterns = set()
    todo = [MODELS[kind].model_json_schema() for kind in MODELS]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.add(node["pattern"])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    assert patterns and patterns <= set(PATTERN_WORDS), patterns - set(PATTERN_WORDS)
