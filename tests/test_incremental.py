"""A build after a few edits makes again only the records they touch, and writes byte for byte
the package a full build writes.

Each case edits a copy of the real records (and archived texts) that was built once, builds
again (incrementally, as the last line says), and compares every file of the package with a
full build of the same records without the cache.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from build_helpers import snapshot
from conftest import REPO, run_cli

CLAIM = "records/claims/clm-china-denies-lethal-support-to-russia.yaml"
SOURCE = "records/sources/src-icaro-china-support-raises-concerns.yaml"
ENV = {"SOURCE_DATE_EPOCH": "1712900000"}


@pytest.fixture
def env(tmp_path) -> dict:
    return {**ENV, "XDG_CACHE_HOME": str(tmp_path / "user-cache")}


@pytest.fixture
def repo(tmp_path, env) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for folder in ("records", "archive", "schema", "docs"):
        shutil.copytree(REPO / folder, root / folder)
    done = run_cli("build", repo=root, env=env, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "made again" not in done.stdout  # the first build is a full one
    return root


def build(root: Path, env: dict, *args: str):
    done = run_cli("build", *args, repo=root, env=env, text=True)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    return done


def full(root: Path, tmp_path: Path) -> dict[str, bytes]:
    """The package a full build of the same files writes."""
    other = tmp_path / "full"
    shutil.copytree(root, other, ignore=shutil.ignore_patterns(".cache", "data", "datapackage.json"))
    done = run_cli("build", "--no-cache", repo=other, env={**ENV, "XDG_CACHE_HOME": str(tmp_path / "other")}, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return snapshot(other)


def edit(path: Path, pattern: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    changed = re.sub(pattern, new, text, count=1, flags=re.M)
    assert changed != text, pattern
    path.write_text(changed, encoding="utf-8")


def made_again(done) -> int:
    m = re.search(r"made again: (\d+) record", done.stdout)
    return int(m.group(1)) if m else -1


def test_a_changed_statement(repo, env, tmp_path):
    before = snapshot(repo)
    inodes = {p.name: p.stat().st_ino for p in (repo / "data").iterdir()}
    edit(repo / CLAIM, r"^statement: China has not", "statement: China has never")
    done = build(repo, env)
    assert done.returncode == 0 and 1 <= made_again(done) <= 3, done.stdout  # it, and the claims linking to it
    after = snapshot(repo)
    assert after == full(repo, tmp_path)
    assert {k for k in after if after[k] != before.get(k)} == {"data/claims.csv", "data/claims.json", "datapackage.json"}
    # A file holding no record made again is the last build's file, linked rather than written again.
    kept = {p.name for p in (repo / "data").iterdir() if p.stat().st_ino == inodes.get(p.name)}
    assert {"sources.json", "sources.csv", "claim_reports.csv", "entities.json"} <= kept
    assert "claims.json" not in kept and "claims.csv" not in kept


def test_a_source_that_now_derives_from_another(repo, env, tmp_path):
    """The origins of every claim citing it change: they are made again."""
    path = repo / "records/sources/src-ap-china-surges-sales-to-russia.yaml"
    text = path.read_text(encoding="utf-8")
    assert "derived_from" not in text
    path.write_text(text + "derived_from:\n  - source: src-bloomberg-china-support-russia-2024-04\n"
                    "    relation: rewrite\n", encoding="utf-8")
    done = build(repo, env)
    assert done.returncode == 0 and made_again(done) > 1, done.stdout + done.stderr
    assert snapshot(repo) == full(repo, tmp_path)


def test_a_changed_entity_and_a_new_claim(repo, env, tmp_path):
    edit(repo / "records/entities/ent-joe-biden.yaml", r"^name: .*$", "name: Joseph R. Biden")
    text = (repo / CLAIM).read_text(encoding="utf-8")
    new = repo / "records/claims/clm-a-new-claim-of-the-same-words.yaml"
    new.write_text(text.replace(Path(CLAIM).stem, new.stem)
                   .replace("statement: China has not provided", "statement: Beijing has not supplied"),
                   encoding="utf-8")
    done = build(repo, env)
    assert done.returncode == 0 and made_again(done) >= 2, done.stdout + done.stderr
    assert snapshot(repo) == full(repo, tmp_path)


def test_an_error_refuses_as_a_full_build_does(repo, env):
    before = snapshot(repo)
    edit(repo / CLAIM, r"^  - source: src-", "  - source: src-no-such-")
    done = build(repo, env)
    assert done.returncode == 1 and "unknown-reference" in done.stdout
    assert snapshot(repo) == before


def test_a_removed_record_is_judged_by_a_full_build(repo, env):
    (repo / CLAIM).unlink()
    done = build(repo, env)
    assert done.returncode == 1 and Path(CLAIM).stem in done.stdout + done.stderr


def test_a_package_edited_by_hand_is_built_again_in_full(repo, env, tmp_path):
    good = snapshot(repo)
    claims = repo / "data/claims.csv"
    claims.write_bytes(claims.read_bytes().replace(b"China", b"Chna", 1))
    edit(repo / CLAIM, r"^statement: China has not", "statement: China has never")
    done = build(repo, env)
    assert done.returncode == 0 and made_again(done) == -1, done.stdout
    assert snapshot(repo) == full(repo, tmp_path) != good


@pytest.mark.parametrize("name", ["built-layouts", "built-records-refs", "built-records-ids"])
def test_a_kept_build_altered_in_the_cache_is_not_used(repo, env, tmp_path, name):
    """Where the last build's records stand in its files, and what each record referred to, are
    signed: changed by hand, they are ignored and the build is a full one."""
    import sqlite3

    db = sqlite3.connect(repo / ".cache/records.sqlite")
    with db:
        blob = bytearray(db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()[0])
        blob[-3] ^= 1  # one bit of a length, or of an id
        db.execute("UPDATE meta SET value = ? WHERE name = ?", (bytes(blob), name))
    db.close()
    edit(repo / CLAIM, r"^statement: China has not", "statement: China has never")
    done = build(repo, env)
    assert done.returncode == 0 and made_again(done) == -1, done.stdout
    assert snapshot(repo) == full(repo, tmp_path)


@st.composite
def states(draw):
    """A file's records before and after some are made again: (old, again, new pieces)."""
    ids = draw(st.lists(st.integers(0, 60), unique=True, max_size=25))
    piece = st.binary(min_size=1, max_size=12).map(lambda b: b.replace(b"\n", b" ") + b"\n")
    old = {f"clm-{i:02d}": draw(piece) for i in ids}
    again = draw(st.sets(st.integers(0, 60), max_size=10).map(lambda s: {f"clm-{i:02d}" for i in s}))
    new = {rid: draw(piece) for rid in sorted(again) if draw(st.booleans())}
    return old, again, new


@given(states(), st.sampled_from(["data/t.csv", "data/t.json"]))
@settings(max_examples=150, deadline=None)
def test_splicing_records_into_a_file_writes_what_a_full_write_does(tmp_path_factory, state, rel):
    """An incremental build's file (the last one's, with the records made again put in, dropped or
    added) is byte for byte, and layout for layout, the file written whole from the new records."""
    from reported_claims.package.build import _write
    from reported_claims.package.incremental import Parts
    from reported_claims.package.schemas import LIST_EMPTY, LIST_OPEN

    old, again, new = state
    start, empty = (LIST_OPEN, LIST_EMPTY) if rel.endswith(".json") else (b"a,b\n", b"a,b\n")
    folder, spliced_folder, whole_folder = (tmp_path_factory.mktemp(name) for name in ("last", "spliced", "whole"))
    for f in (folder, spliced_folder, whole_folder):
        (f / "data").mkdir()
    last = Parts()
    entry = _write(folder, rel, last._write(rel, start, old, empty))
    spliced = Parts(folder=folder, kept=last.layouts, again=frozenset(again), hashes={rel: entry["hash"][7:]})
    assert spliced.fits(folder)
    written = _write(spliced_folder, rel, spliced._write(rel, start, new, empty))
    whole = Parts()
    expected = _write(whole_folder, rel, whole._write(rel, start, {**{k: v for k, v in old.items() if k not in again}, **new}, empty))
    assert (spliced_folder / rel).read_bytes() == (whole_folder / rel).read_bytes()
    assert written == expected  # the same hash and size, whether written, spliced or kept
    assert spliced.layouts == whole.layouts


def test_a_package_file_is_trusted_by_its_stat_only_while_it_is_the_one_written(tmp_path):
    """The hash a build kept for a file of its package stands in for the file's bytes while the
    file's size, time and inode are those it wrote, and it was written well before they were
    kept; a file changed in place (the same size) or replaced is read again."""
    import hashlib
    import os

    from reported_claims.cli.package import _hashes

    path = tmp_path / "data" / "claims.csv"
    path.parent.mkdir()
    path.write_bytes(b"id\nclm-a\n")
    st = path.stat()
    kept = "0" * 64  # not the file's hash: taken only where the stat is trusted
    manifest = {"package": {"data/claims.csv": kept},
                "stats": {"data/claims.csv": [st.st_size, st.st_mtime_ns, st.st_ino]},
                "stats_ns": st.st_mtime_ns + 3_000_000_000}
    real = lambda: hashlib.sha256(path.read_bytes()).hexdigest()  # noqa: E731
    assert _hashes(tmp_path, manifest=manifest)["data/claims.csv"] == kept
    # Kept as soon as it was written: a change within the same time stamp could not be seen.
    racy = {**manifest, "stats_ns": st.st_mtime_ns + 1_000_000}
    assert _hashes(tmp_path, manifest=racy)["data/claims.csv"] == real()
    with open(path, "r+b") as f:  # changed in place, the same size, a later time
        f.write(b"ID")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000))
    assert _hashes(tmp_path, manifest=manifest)["data/claims.csv"] == real() != kept
    replaced = tmp_path / "new"
    replaced.write_bytes(b"id\nclm-a\n")
    os.utime(replaced, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(replaced, path)  # the same bytes, size and time, another file
    assert _hashes(tmp_path, manifest=manifest)["data/claims.csv"] == real() != kept
    assert _hashes(tmp_path)["data/claims.csv"] == real()  # no kept build: every file read


def test_what_a_build_keeps_of_its_records_reads_back_as_it_was_put():
    """The columns a build keeps of each record read back the same, an update in place included;
    anything else is not taken for them."""
    import marshal

    from reported_claims.package.incremental import Recorded, joined_refs

    kept = Recorded.new()
    kept.put("clm-a", "records/claims/clm-a.yaml", "ab" * 32, joined_refs(["src-b", "ent-c", "src-b"]), (10, 20, 30), 40)
    kept.put("src-b", "records/sources/src-b.yaml", "cd" * 32, joined_refs([]), (11, 21, 31), None)
    back = Recorded.of(marshal.loads(marshal.dumps(kept.value())))
    assert back.ids == ["clm-a", "src-b"] and back.shown == kept.shown
    assert back.digest(0) == "ab" * 32 and back.stat(0) == ((10, 20, 30), 40)
    assert back.references("clm-a") == ["ent-c", "src-b"] and back.references("src-b") == []
    assert back.stat(1) == ((11, 21, 31), None) and back.references("ent-x") == []
    back.put("clm-a", "records/claims/clm-a.yaml", "ef" * 32, joined_refs(["ent-d"]), (12, 22, 32), 42)
    again = Recorded.of(back.value())
    assert again.ids == ["clm-a", "src-b"] and again.digest(0) == "ef" * 32 and again.digest(1) == "cd" * 32
    assert again.references("clm-a") == ["ent-d"] and again.stat(0) == ((12, 22, 32), 42)
    assert Recorded.of(("clm-a", "a.yaml", b"\0" * 31, "", b"\0" * 32)) is None  # a digest cut short
    assert Recorded.of(None) is None and Recorded.of(("", "", b"", "", b"")).ids == []



@pytest.mark.parametrize("jobs", [1, 2])
def test_the_files_changed_since_the_last_build_are_found_alike_by_one_process_or_several(tmp_path, jobs):
    """A file whose stat is the one it was read with, well after it was written, is taken as it
    was; one read too soon after, or replaced, is compared by its bytes; one gone or new is
    changed. Several processes, each looking at a share of the files, find the same."""
    import hashlib
    import os

    from reported_claims.package.incremental import Recorded, _stale

    kept = Recorded.new()
    paths, places, expected = [], [], []
    for k in range(40):
        path = tmp_path / f"clm-{k:02}.yaml"
        path.write_bytes(b"id: clm-%02d\n" % k)
        st = path.stat()
        read_ns = st.st_mtime_ns + (3_000_000_000 if k % 4 else 1_000)  # every fourth read too soon
        kept.put(f"clm-{k:02}", path.name, hashlib.sha256(path.read_bytes()).hexdigest(), "",
                 (st.st_size, st.st_mtime_ns, st.st_ino), read_ns)
        if k % 5 == 1:  # changed in place, the same size, the time put back
            path.write_bytes(b"id: clm-XX\n")
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
            if k % 4 == 0:  # read too soon: its bytes tell
                expected.append(str(path))
        elif k % 7 == 2:
            path.unlink()
            expected.append(str(path))
        elif k % 9 == 3:  # another file: compared by its bytes, the same, or not
            other = tmp_path / "other"
            other.write_bytes(path.read_bytes() if k % 2 else b"id: clm-YY\n")
            os.replace(other, path)
            if not k % 2:
                expected.append(str(path))
        paths.append(str(path))
        places.append(k)
    new = tmp_path / "clm-new.yaml"
    new.write_bytes(b"id: clm-new\n")
    paths.append(str(new))
    places.append(-1)
    expected.append(str(new))
    assert _stale(kept, paths, places, jobs) == sorted(expected)
