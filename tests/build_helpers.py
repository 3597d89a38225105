"""Helpers of the data package tests: copies of the records, built, and what a build left."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import REPO, run_cli


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
    done = run_cli("build", repo=dest, text=True, **kwargs)
    assert done.returncode == 0, done.stdout + done.stderr
    return dest


def leftovers(root: Path) -> list[str]:
    """Temporary folders a finished build must not leave behind."""
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".tmp-build") or p.name == "data.old")
