"""Helpers of the data package tests: the CLI as a subprocess on copies of records."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


from conftest import REPO
EPOCH = "1712900000"


def cli(*args: str, repo: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``reported-claims ARGS --repo REPO`` in a subprocess, with a fixed SOURCE_DATE_EPOCH."""
    full = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "REPORTED_CLAIMS_BUILD_FAULT")}
    full["SOURCE_DATE_EPOCH"] = EPOCH
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "reported_claims", *args, "--repo", str(repo)],
                          env=full, capture_output=True, text=True, timeout=timeout)


def copy_records(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "records", dest / "records")
    return dest


def snapshot(root: Path) -> dict[str, bytes]:
    """Every output of a build: datapackage.json and the files under data/, by relative path."""
    out = {}
    if (root / "datapackage.json").is_file():
        out["datapackage.json"] = (root / "datapackage.json").read_bytes()
    if (root / "data").is_dir():
        for p in sorted((root / "data").rglob("*")):
            if p.is_file():
                out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def build_copy(dest: Path, **kwargs) -> Path:
    """A copy of the real records, built."""
    copy_records(dest)
    done = cli("build", repo=dest, **kwargs)
    assert done.returncode == 0, done.stdout + done.stderr
    return dest


def leftovers(root: Path) -> list[str]:
    """Temporary folders a finished build must not leave behind."""
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".tmp-build") or p.name == "data.old")
