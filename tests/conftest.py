"""Shared test helpers: the real CLI as a subprocess, on copies of real records."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CLI = Path(sys.executable).with_name("reported-claims")


def run_cli(*args: str, cwd: Path | str = REPO, env: dict | None = None, timeout: float = 120,
            input: bytes | None = None) -> subprocess.CompletedProcess:
    """Run the installed console script as a user would; text output, never raises on exit code."""
    # Output must not depend on the CI that runs the tests, unless a test asks for it.
    full_env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    full_env.update(env or {})
    return subprocess.run(
        [str(CLI), *args], cwd=cwd, env=full_env, capture_output=True, timeout=timeout, input=input,
    )


def copy_repo(dest: Path, records: bool = True) -> Path:
    """A copy of the repository's records, schemas and archive in ``dest``, for commands that write."""
    for name in ("records", "schema", "archive"):
        src = REPO / name
        if src.is_dir() and (records or name != "records"):
            shutil.copytree(src, dest / name)
    return dest


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    return copy_repo(tmp_path / "repo")
