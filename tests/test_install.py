"""The wheel as a user gets it: built, installed into a fresh virtual environment outside the
checkout, with its real dependencies, and loaded from there.

The environment is made once per test session (a session fixture); pip's cache keeps it fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from conftest import REPO
from packages import edit_records, make_package
from test_download import Server

import reported_claims
from reported_claims.package.release import write_archive

SOURCE_FILES = ("pyproject.toml", "hatch_build.py", "README.md", "LICENSE", "LICENSE-DATA")


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(the wheel, a fresh venv's python with it installed, the package the wheel was built with)."""
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
    return wheel, python, tmp / "pkg"


@pytest.fixture
def installed(built) -> tuple[Path, Path]:
    """(python of the fresh venv with the wheel installed, the package the wheel was built with)."""
    return built[1], built[2]


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


def test_the_wheel_is_typed(built):
    with zipfile.ZipFile(built[0]) as wheel:
        assert "reported_claims/py.typed" in wheel.namelist()


def test_installed_package_reads_a_path_a_version_and_resolves_references(installed, tmp_path):
    python, package = installed
    pkg = make_package(tmp_path / "pkg", "9.8.7")
    edit_records(pkg, "claims", lambda rows: rows[1:])
    server = Server(tmp_path / "served")
    try:
        assets = server.release_dir("9.8.7")
        write_archive(pkg, "9.8.7", assets / "reported-claims-9.8.7.zip")
        digest = hashlib.sha256((assets / "reported-claims-9.8.7.zip").read_bytes()).hexdigest()
        (assets / "SHA256SUMS").write_text(f"{digest}  reported-claims-9.8.7.zip\n")
        script = textwrap.dedent(f"""
            import importlib.metadata, json, reported_claims
            from reported_claims.client.api import package_folder
            data = reported_claims.dataset()
            try:
                data.claims.filter(topic="no-such-topic")
            except ValueError as exc:
                refused = str(exc)
            print(json.dumps({{
                "bundled": len(reported_claims.load()),
                "path": len(reported_claims.load(path={str(pkg)!r})),
                "version": len(reported_claims.load("9.8.7")),
                "version_of_dataset": reported_claims.dataset("9.8.7").version,
                "package_folder": str(package_folder()),
                "data_path": str(reported_claims.data_path()),
                "about": data.claims_about("ent-hikvision").ids(),
                "search": [c.id for c in data.search("hikvision")],
                "refused": refused,
                "urls": importlib.metadata.metadata("reported-claims").get_all("Project-URL"),
            }}))
        """)
        env = {**os.environ, "REPORTED_CLAIMS_BASE_URL": server.base_url,
               "REPORTED_CLAIMS_CACHE": str(tmp_path / "cache")}
        got = json.loads(_run(str(python), "-c", script, cwd=tmp_path, env=env).stdout)
    finally:
        server.stop()
    claims = len(json.loads((package / "data" / "claims.json").read_text()))
    assert (got["bundled"], got["path"], got["version"]) == (claims, claims - 1, claims - 1)
    assert got["version_of_dataset"] == "9.8.7"
    assert got["package_folder"] == got["data_path"]  # outside a repository: the bundled package
    assert Path(got["data_path"]).parts[-2:] == ("reported_claims", "_data")
    assert "clm-china-support-sent-through-chinese-companies" in got["about"]
    assert sorted(got["search"]) == sorted(got["about"])
    assert "is not a term of the topics vocabulary" in got["refused"]
    home = "https://github.com/reported-claims/reported-claims"
    assert f"Documentation, {home}/blob/main/README.md" in got["urls"]
    assert f"Changelog, {home}/blob/main/CHANGELOG.md" in got["urls"]


USER_SCRIPT = """
import reported_claims

claims = reported_claims.load()
c = claims["clm-china-denies-lethal-support-to-russia"]
reveal_type(c)
reveal_type(claims.get("clm-x"))
reveal_type(reported_claims.load_sources("1.0.0")[0])
data = reported_claims.dataset()
reveal_type(data.search("drones"))
reveal_type(data.origins(c))
reveal_type(data.reports_of("src-x"))
reveal_type(reported_claims.data_path())
"""


def test_mypy_strict_finds_the_types_of_the_installed_package(installed, tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed in this environment")
    python, _ = installed
    (tmp_path / "user.py").write_text(USER_SCRIPT)
    result = _run(sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-executable", str(python),
                  "user.py", cwd=tmp_path)
    revealed = [line.split("Revealed type is ", 1)[1] for line in result.stdout.splitlines() if "Revealed" in line]
    records = "reported_claims.model.records"
    assert revealed == [
        f'"{records}.Claim"',
        f'"{records}.Claim | None"',
        f'"{records}.Source"',
        f'"list[{records}.Claim]"',
        f'"list[{records}.Source]"',
        f'"list[tuple[{records}.Claim, {records}.Report]]"',
        '"pathlib.Path"',
    ]


def test_installed_cli_exports_the_bundled_package_outside_a_repository(installed, tmp_path):
    python, package = installed
    cli = python.with_name("reported-claims")
    result = _run(str(cli), "export", "jsonl", "--out", "jsonl", cwd=tmp_path)
    assert "wrote" in result.stdout
    lines = (tmp_path / "jsonl" / "claims.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(json.loads((package / "data" / "claims.json").read_text()))
    origins = [json.loads(line) for line in (tmp_path / "jsonl" / "claim_origins.jsonl").read_text().splitlines()]
    assert origins and {"claim_id", "position", "origin_id"} == set(origins[0])
