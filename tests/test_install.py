"""The wheel as a user gets it: built, installed into a fresh virtual environment outside the
checkout, with its real dependencies, and loaded from there.

The environment is made once per test session (a session fixture); pip's cache keeps it fast.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO
from packages import make_package

import reported_claims

SOURCE_FILES = ("pyproject.toml", "hatch_build.py", "README.md", "LICENSE", "LICENSE-DATA")


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(python of a fresh venv with the wheel installed, the package the wheel was built with)."""
    tmp = tmp_path_factory.mktemp("install")
    # Build from a copy holding the built package (the checkout's own, once it is committed).
    src = tmp / "src-copy"
    src.mkdir()
    for name in SOURCE_FILES:
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__"))
    make_package(tmp / "pkg", reported_claims.__version__)
    shutil.copy2(tmp / "pkg" / "datapackage.json", src / "datapackage.json")
    shutil.copytree(tmp / "pkg" / "data", src / "data")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp / "wheels"), str(src))
    wheel = next((tmp / "wheels").glob("reported_claims-*.whl"))
    _run(sys.executable, "-m", "venv", str(tmp / "venv"))
    python = tmp / "venv" / "bin" / "python"
    _run(str(python), "-m", "pip", "install", "--quiet", str(wheel))
    return python, tmp / "pkg"


def test_installed_wheel_loads_the_bundled_data(installed, tmp_path):
    python, package = installed
    n_records = len(list((REPO / "records" / "claims").glob("*.yaml")))
    script = textwrap.dedent(f"""
        import json, sys
        import reported_claims
        assert "reported_claims.client.api" not in sys.modules
        cs = reported_claims.load()
        first = cs[0]
        assert cs.get(first.id) is first and cs[first.id] is first
        assert cs.get("clm-no-such-claim") is None
        try:
            cs["clm-no-such-claim"]
        except KeyError as exc:
            assert "clm-no-such-claim" in str(exc)
        else:
            raise AssertionError("no KeyError")
        path = reported_claims.data_path()
        descriptor = json.loads((path / "datapackage.json").read_text())
        print(json.dumps({{
            "claims": len(cs), "sources": len(reported_claims.load_sources()),
            "version": reported_claims.__version__, "descriptor_version": descriptor["version"],
            "path": str(path), "module": reported_claims.__file__,
            "csv": sorted(p.name for p in (path / "data").glob("*.csv")),
        }}))
    """)
    result = _run(str(python), "-c", script, cwd=tmp_path)
    got = json.loads(result.stdout)
    assert got["claims"] == n_records
    assert got["sources"] == len(json.loads((package / "data" / "sources.json").read_text()))
    assert got["version"] == got["descriptor_version"] == reported_claims.__version__
    assert Path(got["path"]).parts[-2:] == ("reported_claims", "_data")
    assert "site-packages" in got["module"] and str(REPO) not in got["module"]
    assert "claims.csv" in got["csv"]


def test_installed_cli_runs(installed, tmp_path):
    python, package = installed
    cli = python.with_name("reported-claims")
    result = _run(str(cli), "diff", str(package), str(package), cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "none"
