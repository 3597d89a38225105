"""Shared test helpers: the real CLI as a subprocess, on copies of real records."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CLI = Path(sys.executable).with_name("reported-claims")


EPOCH = "1712900000"
"""The SOURCE_DATE_EPOCH of every command the tests run, unless a test sets its own."""
FAULT_ENV = "REPORTED_CLAIMS_BUILD_FAULT"


def run_cli(*args: str, cwd: Path | str = REPO, env: dict | None = None, timeout: float = 120,
            input: bytes | str | None = None, repo: Path | str | None = None, text: bool = False,
            preexec_fn: Callable[[], None] | None = None) -> subprocess.CompletedProcess:
    """Run the installed console script as a user would; never raises on exit code.

    ``repo`` appends ``--repo REPO``; ``text`` gives str output instead of bytes. Output must
    not depend on the machine or the CI that runs the tests, unless a test asks for it (in
    ``env``): ``GITHUB_ACTIONS`` and the build's fault hook are not inherited and
    ``SOURCE_DATE_EPOCH`` is ``EPOCH`` (``env={"SOURCE_DATE_EPOCH": ""}`` for the git history).
    """
    command, full_env = _invocation(args, env, repo)
    return subprocess.run(
        command, cwd=cwd, env=full_env, capture_output=True, timeout=timeout, input=input, text=text,
        preexec_fn=preexec_fn,
    )


def start_cli(*args: str, cwd: Path | str = REPO, env: dict | None = None,
              repo: Path | str | None = None) -> subprocess.Popen:
    """Start the console script as ``run_cli`` runs it, its output as text on pipes, for a test
    that reads what it says while it runs."""
    command, full_env = _invocation(args, env, repo)
    return subprocess.Popen(command, cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _invocation(args: tuple[str, ...], env: dict | None, repo: Path | str | None) -> tuple[list[str], dict]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", FAULT_ENV)}
    full_env["SOURCE_DATE_EPOCH"] = EPOCH
    full_env.update(env or {})
    return [str(CLI), *args] + (["--repo", str(repo)] if repo is not None else []), full_env


def header(path: Path) -> tuple[str, list[tuple[int, str]]]:
    """The ``as`` path and expected (line, code) pairs from a fixture's comment lines."""
    target, expected = None, []
    for raw in path.read_bytes().split(b"\n"):
        line = raw.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf")
        if m := re.match(r"# as: (\S+)", line):
            target = m.group(1)
        elif m := re.match(r"# expect: (\d+) ([a-z0-9-]+)", line):
            expected.append((int(m.group(1)), m.group(2)))
    assert target, f"{path} has no '# as:' line"
    return target, sorted(expected)


def copy_repo(dest: Path, records: bool = True) -> Path:
    """A copy of the repository's records, schemas and archive in ``dest``, for commands that write."""
    for name in ("records", "schema", "archive", "docs"):
        src = REPO / name
        if src.is_dir() and (records or name != "records"):
            shutil.copytree(src, dest / name)
    return dest


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    return copy_repo(tmp_path / "repo")
