"""`validate PATH` with a warm cache reads only what the rules across records draw on for PATH,
and reports exactly what a validation that reads every file reports.

Each case breaks a rule whose other side is in another file (a reference, a lineage circle, a
duplicate id, a file name differing by case, a near-duplicate, a sentence of an archived text no
longer quoted), runs the whole validation once to fill the cache, then compares `validate PATH`
read through the cache with `validate --no-cache PATH`, which reads every file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO, run_cli

CLAIM = "records/claims/clm-china-denies-lethal-support-to-russia.yaml"
SOURCE = "src-icaro-china-support-raises-concerns"
SOURCE_FILE = f"records/sources/{SOURCE}.yaml"


@pytest.fixture
def env(tmp_path) -> dict:
    return {"XDG_CACHE_HOME": str(tmp_path / "user-cache")}


@pytest.fixture
def repo(tmp_path, env) -> Path:
    """The real records and archived texts, last modified a minute ago, with a warm cache."""
    root = tmp_path / "repo"
    root.mkdir()
    for folder in ("records", "archive"):
        shutil.copytree(REPO / folder, root / folder)
    past = time.time() - 60
    for path in root.rglob("*"):
        os.utime(path, (past, past))
    done = run_cli("validate", repo=root, env=env, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def report(root: Path, env: dict, *args: str) -> tuple[int, list[str]]:
    done = run_cli("validate", *args, repo=root, cwd=root, env=env, text=True)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, [line for line in done.stdout.splitlines() if re.search(r" \[[a-z-]+(, warning)?\]$", line)]


def read_claims(root: Path, env: dict, *args: str) -> int:
    """How many claims the run read (from its last line)."""
    done = run_cli("validate", *args, repo=root, cwd=root, env=env, text=True)
    return int(re.search(r"\((\d+) claims", done.stdout + done.stderr).group(1))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def same(root: Path, env: dict, *paths: str) -> list[str]:
    near = report(root, env, *paths)
    full = report(root, env, "--no-cache", *paths)
    assert near == full
    return near[1]


def test_a_clean_file_reads_few_records(repo, env):
    every = len(list((repo / "records" / "claims").glob("*.yaml")))
    assert read_claims(repo, env, CLAIM) < every // 2
    assert read_claims(repo, env, "--no-cache", CLAIM) == every
    assert same(repo, env, CLAIM) == []


def test_an_unknown_reference_and_its_suggestion(repo, env):
    edit(repo / CLAIM, f"source: {SOURCE}", f"source: {SOURCE}x")
    found = same(repo, env, CLAIM)
    assert any("unknown-reference" in line and f"did you mean '{SOURCE}'" in line for line in found)


def test_a_lineage_circle_through_an_edited_neighbour(repo, env):
    text = (repo / SOURCE_FILE).read_text(encoding="utf-8")
    parent = re.search(r"derived_from:\n\s+- source: (\S+)", text).group(1)
    parent_file = repo / f"records/sources/{parent}.yaml"
    ptext = parent_file.read_text(encoding="utf-8")
    assert "derived_from" not in ptext
    parent_file.write_text(ptext + f"derived_from:\n  - source: {SOURCE}\n    relation: rewrite\n", encoding="utf-8")
    found = same(repo, env, SOURCE_FILE)
    assert any("lineage-cycle" in line for line in found)


def test_a_new_file_with_an_id_already_used(repo, env):
    copy = repo / "records/claims/clm-a-copy-of-another.yaml"
    copy.write_text((repo / CLAIM).read_text(encoding="utf-8"), encoding="utf-8")
    found = same(repo, env, str(copy.relative_to(repo)))
    assert any("duplicate-id" in line for line in found) and any("id-mismatch" in line for line in found)


def test_a_file_name_that_differs_by_case(repo, env):
    other = repo / CLAIM.replace("clm-china-denies", "clm-China-denies")
    shutil.copy(repo / CLAIM, other)
    found = same(repo, env, str(other.relative_to(repo)))
    assert any("case-collision" in line for line in found)


def test_a_near_duplicate_statement(repo, env):
    text = (repo / CLAIM).read_text(encoding="utf-8")
    statement = re.search(r"^statement: (.+)$", text, re.M).group(1)
    words = statement.split()
    words[-1] = "plainly."
    twin = repo / "records/claims/clm-a-near-twin.yaml"
    twin.write_text(text.replace(Path(CLAIM).stem, twin.stem).replace(statement, " ".join(words)), encoding="utf-8")
    found = same(repo, env, str(twin.relative_to(repo)))
    assert any("near-duplicate" in line and Path(CLAIM).stem in line for line in found)


def test_a_sentence_no_longer_quoted_by_an_edited_claim(repo, env):
    """The ledger of a source is judged by the claims that quote it, which are not the target."""
    quoting = [p for p in sorted((repo / "records/claims").glob("*.yaml"))
               if f"source: {SOURCE}\n" in p.read_text(encoding="utf-8")]
    assert quoting
    for path in quoting:
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(rf"  - source: {SOURCE}\n(    .*\n)*", "", text), encoding="utf-8")
    found = same(repo, env, SOURCE_FILE)
    assert any("[unaccounted-sentence]" in line for line in found), found


def test_references_to_a_removed_record_are_judged(repo, env):
    """`--changed-since` names the removed id: the records that refer to it are validated too."""
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "records"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=repo, check=True,
                       capture_output=True, timeout=60)
    (repo / SOURCE_FILE).unlink()
    near = report(repo, env, "--changed-since", "HEAD")
    assert near == report(repo, env, "--no-cache", "--changed-since", "HEAD")
    assert near[0] == 1 and any("unknown-reference" in line and SOURCE in line for line in near[1])


def test_a_file_changed_within_its_time_stamp_is_read_again(tmp_path, env):
    """A neighbour rewritten to the same size and given back its time stamp right after the cache
    read it (as a file system that keeps whole seconds would leave it) is not trusted by its stat:
    its bytes are read."""
    import time

    root = tmp_path / "fresh"
    root.mkdir()
    shutil.copytree(REPO / "records", root / "records")
    tick = time.time_ns() // 10**9 * 10**9  # this second, as such a file system stamps a file
    for path in root.rglob("*.yaml"):
        os.utime(path, ns=(tick, tick))  # written just now, as the cache reads them
    assert run_cli("validate", repo=root, env=env).returncode == 0
    path = root / SOURCE_FILE
    before = os.stat(path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(f"id: {SOURCE}\n", f"id: {SOURCE[:-1]}z\n"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    quoting = next(p for p in sorted((root / "records/claims").glob("*.yaml"))
                   if f"source: {SOURCE}\n" in p.read_text(encoding="utf-8"))
    found = same(root, env, str(quoting.relative_to(root)))
    assert any("unknown-reference" in line and SOURCE in line for line in found)
