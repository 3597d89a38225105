"""A failed, interrupted or concurrent build never leaves a broken package behind."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys

import pytest
from build_helpers import build_copy, cli, leftovers, snapshot

from reported_claims.package import build

PRE_COMMIT = ["staged", "validated", "moved-old", "swapped"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A built copy whose records then changed, and what a clean build of the changed records writes."""
    root = build_copy(tmp_path_factory.mktemp("base") / "repo")
    before = snapshot(root)
    claim = sorted((root / "records" / "claims").glob("*.yaml"))[0]
    text = claim.read_text(encoding="utf-8")
    text = text.replace("\nnotes: ", "\nnotes: Changed. ") if "\nnotes: " in text else text + "notes: Added.\n"
    claim.write_text(text, encoding="utf-8")
    clean = tmp_path_factory.mktemp("clean") / "repo"
    shutil.copytree(root / "records", clean / "records")
    assert cli("build", repo=clean).returncode == 0
    assert snapshot(clean) != before
    return root, before, snapshot(clean)


@pytest.fixture
def old_build(base, tmp_path):
    """A copy of the base: old outputs, changed records; and the outputs a build must give."""
    root, before, after = base
    shutil.copytree(root, tmp_path / "repo")
    return tmp_path / "repo", before, after


@pytest.mark.parametrize("step", PRE_COMMIT)
def test_failure_before_commit_changes_nothing(old_build, step):
    root, before, after = old_build
    done = cli("build", repo=root, env={build.FAULT_ENV: f"{step}:raise"})
    assert done.returncode == 1, done.stderr
    assert "fault injected" in done.stderr and "unchanged" in done.stderr
    assert snapshot(root) == before
    assert leftovers(root) == []


@pytest.mark.parametrize("step", PRE_COMMIT + ["committed"])
def test_kill_mid_build_then_next_build_recovers(old_build, tmp_path, step):
    root, before, after = old_build
    assert cli("build", repo=root, env={build.FAULT_ENV: f"{step}:kill"}).returncode == -9
    # Recovery alone puts back the old package (or completes the committed one)...
    inspected = shutil.copytree(root, tmp_path / "inspected")
    with build.locked(inspected):
        build.recover(inspected)
    assert snapshot(inspected) == (after if step == "committed" else before)
    assert leftovers(inspected) == []
    # ...and the next build recovers by itself before it builds.
    assert cli("build", repo=root).returncode == 0
    assert snapshot(root) == after
    assert leftovers(root) == []


def test_full_disk_changes_nothing(old_build):
    """A file size limit makes writes fail as a full disk does (EFBIG instead of ENOSPC)."""
    root, before, after = old_build
    limit = max(len(v) for v in before.values()) // 2

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {k: v for k, v in os.environ.items() if k != build.FAULT_ENV}
    done = subprocess.run([sys.executable, "-m", "reported_claims", "build", "--repo", str(root)],
                          env={**env, "SOURCE_DATE_EPOCH": "1712900000"}, preexec_fn=small_files,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cannot write the package" in done.stderr
    assert snapshot(root) == before
    assert leftovers(root) == []


def test_unwritable_repository_changes_nothing(old_build):
    root, before, after = old_build
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod does not stop root from writing (see the next test)")
    os.chmod(root, 0o555)
    try:
        done = cli("build", repo=root)
    finally:
        os.chmod(root, 0o755)
    assert done.returncode == 1
    assert snapshot(root) == before


def test_datapackage_json_that_cannot_be_replaced_rolls_data_back(old_build, tmp_path):
    """A folder where datapackage.json should be: the last step fails, data/ is put back."""
    root, before, after = old_build
    (root / "datapackage.json").unlink()
    (root / "datapackage.json").mkdir()
    (root / "datapackage.json" / "keep").write_text("x")
    done = cli("build", repo=root)
    assert done.returncode == 1
    assert "unchanged" in done.stderr
    assert snapshot(root) == {k: v for k, v in before.items() if k != "datapackage.json"}
    assert (root / "datapackage.json" / "keep").read_text() == "x"
    assert leftovers(root) == []
    (root / "datapackage.json" / "keep").unlink()
    (root / "datapackage.json").rmdir()
    assert cli("build", repo=root).returncode == 0
    assert snapshot(root) == after


def test_concurrent_builds_wait_for_each_other(old_build, tmp_path):
    root, _, after = old_build
    env = {k: v for k, v in os.environ.items() if k != build.FAULT_ENV}
    env.update({"SOURCE_DATE_EPOCH": "1712900000", build.FAULT_ENV: "staged:sleep"})
    command = [sys.executable, "-m", "reported_claims", "build", "--repo", str(root)]
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert snapshot(root) == after
    assert leftovers(root) == []
