"""A failed, interrupted or concurrent build never leaves a broken package behind."""

from __future__ import annotations

import os
import resource
import shutil
import threading
import time

import pytest
from build_helpers import build_copy, leftovers, snapshot
from conftest import run_cli, start_cli

from reported_claims.package import build
from reported_claims.util import fs

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
    assert run_cli("build", repo=clean).returncode == 0
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
    done = run_cli("build", repo=root, env={build.FAULT_ENV: f"{step}:raise"}, text=True)
    assert done.returncode == 1, done.stderr
    assert "fault injected" in done.stderr and "unchanged" in done.stderr
    assert snapshot(root) == before
    assert leftovers(root) == []


@pytest.mark.parametrize("step", PRE_COMMIT + ["committed"])
def test_kill_mid_build_then_next_build_recovers(old_build, tmp_path, step):
    root, before, after = old_build
    assert run_cli("build", repo=root, env={build.FAULT_ENV: f"{step}:kill"}).returncode == -9
    # Recovery alone puts back the old package (or completes the committed one)...
    inspected = shutil.copytree(root, tmp_path / "inspected")
    with fs.locked(inspected / build.LOCK):
        build.recover(inspected)
    assert snapshot(inspected) == (after if step == "committed" else before)
    assert leftovers(inspected) == []
    # ...and the next build recovers by itself before it builds.
    assert run_cli("build", repo=root).returncode == 0
    assert snapshot(root) == after
    assert leftovers(root) == []


def test_full_disk_changes_nothing(old_build):
    """A file size limit makes writes fail as a full disk does (EFBIG instead of ENOSPC)."""
    root, before, after = old_build
    limit = max(len(v) for v in before.values()) // 2

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = run_cli("build", repo=root, preexec_fn=small_files, text=True)
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
        done = run_cli("build", repo=root)
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
    done = run_cli("build", repo=root, text=True)
    assert done.returncode == 1
    assert "unchanged" in done.stderr
    assert snapshot(root) == {k: v for k, v in before.items() if k != "datapackage.json"}
    assert (root / "datapackage.json" / "keep").read_text() == "x"
    assert leftovers(root) == []
    (root / "datapackage.json" / "keep").unlink()
    (root / "datapackage.json").rmdir()
    assert run_cli("build", repo=root).returncode == 0
    assert snapshot(root) == after


def test_concurrent_builds_wait_for_each_other(old_build, tmp_path):
    root, _, after = old_build
    results = [None, None]

    def run(i):
        results[i] = run_cli("build", repo=root, env={build.FAULT_ENV: "staged:sleep"}, text=True)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [r.returncode for r in results] == [0, 0], results
    assert snapshot(root) == after
    assert leftovers(root) == []


WAITING = "waiting for another build to finish (lock .build.lock)"


def test_a_waiting_build_says_so_at_once_and_builds_when_the_lock_is_free(old_build):
    root, _, after = old_build
    with fs.locked(root / build.LOCK):
        waiter = start_cli("build", repo=root)
        # Read while the lock is held: the build must say it waits before it can do anything else.
        first = waiter.stderr.readline()
    out, err = waiter.communicate(timeout=120)
    assert first == WAITING + "\n", first + err
    assert waiter.returncode == 0, err
    assert snapshot(root) == after
    assert leftovers(root) == []


def test_a_build_gives_up_waiting_after_the_bound(old_build):
    root, before, _ = old_build
    with fs.locked(root / build.LOCK):
        started = time.monotonic()
        done = run_cli("build", "--wait", "1", repo=root, text=True)
        took = time.monotonic() - started
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == WAITING
    assert "gave up waiting for another build to finish: .build.lock is still held after 1 s" in done.stderr
    assert "unchanged" in done.stderr and "Traceback" not in done.stderr
    assert took < 30
    assert snapshot(root) == before
    assert leftovers(root) == []


def test_failure_after_the_commit_point_is_a_warning(old_build):
    """Once datapackage.json is replaced the new package is out: a clean-up failure must say so."""
    root, before, after = old_build
    done = run_cli("build", repo=root, env={build.FAULT_ENV: "committed:raise"}, text=True)
    assert done.returncode == 0, done.stderr
    assert "warning: the new package is published, but cleaning up after it failed: fault injected at committed" \
        in done.stderr
    assert "unchanged" not in done.stderr
    assert snapshot(root) == after
    assert leftovers(root) == [".tmp-build-staging", "data.old"]
    # The next build finishes the clean-up.
    again = run_cli("build", repo=root, text=True)
    assert again.returncode == 0 and "warning" not in again.stderr, again.stderr
    assert snapshot(root) == after
    assert leftovers(root) == []


def test_read_only_old_data_after_the_commit_point_is_a_warning(old_build):
    root, before, after = old_build
    if os.geteuid() == 0:
        pytest.skip("running as root: chmod does not stop root from removing (see the previous test)")
    os.chmod(root / "data", 0o555)
    try:
        done = run_cli("build", repo=root, text=True)
    finally:
        for folder in (root / "data", root / "data.old"):
            if folder.exists():
                os.chmod(folder, 0o755)
    assert done.returncode == 0, done.stderr
    assert "the new package is published" in done.stderr and "unchanged" not in done.stderr
    assert snapshot(root) == after
