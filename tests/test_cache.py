"""The records cache in .cache/: used when it is ours and current, ignored otherwise.

Whatever is in .cache/ (nothing, a current cache, a stale, corrupt, tampered or foreign one),
`validate` reports the same problems and `build` writes the same package, byte for byte.
"""

from __future__ import annotations

import pickle
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from build_helpers import copy_records, snapshot
from conftest import run_cli

from reported_claims.repo import cache as records_cache
from reported_claims.repo.load import load

CLAIM = "records/claims/clm-china-denies-lethal-support-to-russia.yaml"
SOURCE = "src-icaro-china-support-raises-concerns"


@pytest.fixture
def env(tmp_path) -> dict:
    """Where this machine's signing key is kept: a folder of the test's own."""
    return {"XDG_CACHE_HOME": str(tmp_path / "user-cache")}


@pytest.fixture
def broken(tmp_path) -> Path:
    """Real records with a claim that refers to a source that does not exist."""
    root = copy_records(tmp_path / "repo")
    path = root / CLAIM
    path.write_text(path.read_text(encoding="utf-8").replace(f"source: {SOURCE}", "source: src-no-such-source", 1),
                    encoding="utf-8")
    return root


def validate(root: Path, env: dict, *args: str) -> tuple[int, str]:
    done = run_cli("validate", *args, repo=root, env=env, text=True)
    return done.returncode, done.stdout


def test_a_warm_run_reports_what_a_cold_one_does(broken, env):
    cold = validate(broken, env, "--no-cache")
    assert cold[0] == 1 and "unknown-reference" in cold[1] and f"{CLAIM}:" in cold[1]
    assert not (broken / ".cache").exists()
    assert validate(broken, env) == cold  # writes the cache
    assert (broken / records_cache.FOLDER / records_cache.NAME).is_file()
    assert (broken / records_cache.FOLDER / ".gitignore").read_text().strip().endswith("*")
    assert validate(broken, env) == cold  # reads it: the line of the problem comes from the file again


def test_an_edited_file_is_read_again(broken, env):
    validate(broken, env)
    path = broken / CLAIM
    path.write_text(path.read_text(encoding="utf-8").replace("source: src-no-such-source", f"source: {SOURCE}"),
                    encoding="utf-8")
    assert validate(broken, env) == validate(broken, env, "--no-cache")
    assert "unknown-reference" not in validate(broken, env)[1]


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "empty"])
def test_a_corrupt_or_tampered_cache_is_ignored(broken, env, damage):
    cold = validate(broken, env, "--no-cache")
    validate(broken, env)
    path = broken / records_cache.FOLDER / records_cache.NAME
    blob = path.read_bytes()
    path.write_bytes({"flip": blob[:-100] + bytes([blob[-100] ^ 1]) + blob[-99:], "truncate": blob[: len(blob) // 2],
                      "garbage": b"\x80\x04K\x01.", "empty": b""}[damage])
    assert validate(broken, env) == cold
    assert path.read_bytes() != b"" and validate(broken, env) == cold  # rewritten, and good again


def test_a_cache_signed_elsewhere_cannot_change_the_result(broken, env, tmp_path):
    """A .cache/ committed to the repository is signed with another machine's key: it cannot
    vouch for a record, even one whose entry matches the file's hash."""
    cold = validate(broken, env, "--no-cache")
    forged = records_cache.Cache(broken, key_folder=tmp_path / "elsewhere")
    good, _ = load(copy_records(tmp_path / "good"))
    shown = CLAIM
    digest = records_cache.digest((broken / CLAIM).read_bytes())
    claim = good.claims[Path(CLAIM).stem]
    forged.put(shown, records_cache.Entry(digest, "claim", claim.model_dump(mode="json"), claim, (), frozenset()))
    forged.save()
    assert (broken / records_cache.FOLDER / records_cache.NAME).is_file()
    assert validate(broken, env) == cold


def test_an_entry_is_used_only_for_the_bytes_it_was_made_from(broken, tmp_path):
    """Even in a cache signed with our key, an entry of other bytes than the file's is not used."""
    key = tmp_path / "key"
    store = records_cache.Cache(broken, key_folder=key)
    assert store.secret is not None and len(store) == 0
    entry = records_cache.Entry(records_cache.digest(b"other bytes"), "claim", {}, None, (), frozenset())
    store.put(CLAIM, entry)
    store.save()
    again = records_cache.Cache(broken, key_folder=key)
    assert again.get(CLAIM, entry.digest) == entry
    assert again.get(CLAIM, records_cache.digest((broken / CLAIM).read_bytes())) is None


def test_a_cache_of_other_code_is_stale(broken, tmp_path, monkeypatch):
    key = tmp_path / "key"
    store = records_cache.Cache(broken, key_folder=key)
    store.put(CLAIM, records_cache.Entry("0" * 64, "claim", {}, None, (), frozenset()))
    store.save()
    assert len(records_cache.Cache(broken, key_folder=key)) == 1
    monkeypatch.setattr(records_cache, "_CODE_KEY", b"another version of the code")
    assert len(records_cache.Cache(broken, key_folder=key)) == 0


def test_build_from_the_cache_writes_the_package_of_a_full_build(tmp_path, env):
    full = copy_records(tmp_path / "full")
    done = run_cli("build", "--check", "--no-cache", repo=full, env=env, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    warm = copy_records(tmp_path / "warm")
    for args in (("build",), ("build",), ("build", "--check")):
        done = run_cli(*args, repo=warm, env=env, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert snapshot(warm) == snapshot(full)
    path = warm / CLAIM
    path.write_text(path.read_text(encoding="utf-8") + "# an edit that changes no value\n", encoding="utf-8")
    assert run_cli("build", repo=warm, env=env).returncode == 0
    assert snapshot(warm) == snapshot(full)


def test_pickled_entries_round_trip():
    """What the cache keeps survives pickling as it is (the records' models included)."""
    from conftest import REPO

    dataset, files = load(REPO)
    item = next(f for f in files if f.record is not None)
    entry = records_cache.Entry("0" * 64, item.kind, item.doc.data, item.record, tuple(item.doc.problems),
                                frozenset(item.doc.refused))
    assert pickle.loads(pickle.dumps(entry)) == entry
    assert replace(entry, digest="1" * 64) != entry


def test_a_row_altered_in_place_is_not_trusted(broken, env, tmp_path):
    """A row whose entry was replaced (a valid record where the file has an error) fails its
    signature: the file is read again, by the whole validation and by one of that file."""
    import sqlite3

    cold = validate(broken, env, "--no-cache")
    one = run_cli("validate", CLAIM, "--no-cache", repo=broken, cwd=broken, env=env, text=True)
    validate(broken, env)
    good, _ = load(copy_records(tmp_path / "good"))
    claim = good.claims[Path(CLAIM).stem]
    digest = records_cache.digest((broken / CLAIM).read_bytes())
    forged = pickle.dumps(records_cache.Entry(digest, "claim", claim.model_dump(mode="json"), claim, (), frozenset()))
    db = sqlite3.connect(broken / records_cache.FOLDER / records_cache.NAME)
    with db:
        assert db.execute("UPDATE files SET entry = ? WHERE shown = ?", (forged, CLAIM)).rowcount == 1
    db.close()
    near = run_cli("validate", CLAIM, repo=broken, cwd=broken, env=env, text=True)
    assert (near.returncode, near.stdout) == (one.returncode, one.stdout) and near.returncode == 1
    assert validate(broken, env) == cold


def test_the_raw_data_is_kept_only_where_the_rules_read_it(tmp_path, env, monkeypatch):
    """An entry lets go of a valid record's raw data (its model is what the rest reads), and
    the document reads it again from the file if asked; a file that may hold a scaffold's
    placeholder keeps it, so a placeholder that validates is still reported from a warm cache."""
    root = copy_records(tmp_path / "repo")
    source = root / "records/sources/src-ap-china-surges-sales-to-russia.yaml"
    source.write_text(source.read_text(encoding="utf-8").replace("publisher: ent-associated-press",
                                                                 "publisher: ent-todo"), encoding="utf-8")
    cold = validate(root, env, "--no-cache")
    assert cold[0] == 1 and "[placeholder]" in cold[1] and "src-ap-china-surges-sales-to-russia.yaml:5:" in cold[1]
    assert validate(root, env) == cold  # writes the cache
    assert validate(root, env) == cold  # reads it

    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    _, files = load(root, cache=True)
    by_shown = {f.shown: f for f in files}
    held = by_shown["records/sources/src-ap-china-surges-sales-to-russia.yaml"]
    plain = by_shown[CLAIM]
    assert held.doc.kept and held.doc.data["publisher"] == "ent-todo"
    assert not plain.doc.kept  # let go of, and read again when asked for:
    assert plain.doc.data["id"] == plain.record.id and plain.doc.data["reports"][0]["quote"] == plain.record.reports[0].quote


@pytest.mark.parametrize("prefetched", [True, False])
def test_a_full_run_forgets_the_files_it_did_not_meet(tmp_path, monkeypatch, prefetched):
    """A removed file's row, references and words go at the next full run, whether the rows there
    were are known from reading them all at once (``prefetch``) or not; the others stay."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    root = copy_records(tmp_path / "repo")
    load(root, cache=True)
    path = root / CLAIM
    path.unlink()
    if not prefetched:
        monkeypatch.setattr(records_cache.Cache, "prefetch", lambda self: None)
    _, files = load(root, cache=True)
    db = sqlite3.connect(root / records_cache.FOLDER / records_cache.NAME)
    try:
        rows = {r[0] for r in db.execute("SELECT shown FROM files")}
        assert rows == {f.shown for f in files} and CLAIM not in rows
        for table in ("refs", "words"):
            held = {r[0] for r in db.execute(f"SELECT shown FROM {table}")}
            assert CLAIM not in held and held  # the other claims' facts are still there
    finally:
        db.close()


def _tables(root: Path) -> dict[str, list[tuple]]:
    """What the cache's database holds, but the stat of each file and when it was read."""
    db = sqlite3.connect(root / records_cache.FOLDER / records_cache.NAME)
    try:
        files = db.execute("PRAGMA table_info(files)").fetchall()
        kept = ", ".join(c[1] for c in files if c[1] not in ("read_ns", "mtime_ns", "ino"))
        return {"files": db.execute(f"SELECT {kept} FROM files ORDER BY shown").fetchall(),
                "refs": db.execute("SELECT * FROM refs ORDER BY shown, target").fetchall(),
                "words": db.execute("SELECT * FROM words ORDER BY shown, word").fetchall(),
                "complete": db.execute("SELECT count(*) FROM meta WHERE name = 'complete'").fetchall()}
    finally:
        db.close()


@pytest.mark.parametrize("jobs", [1, 2])
def test_entries_written_as_they_come_are_those_written_at_the_end(tmp_path, monkeypatch, jobs):
    """A run writes its new entries every few (``_FLUSH``) rather than holding them all until the
    end: the database is the same, and so is what a warm run, read a window at a time, finds."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    whole, flushed = copy_records(tmp_path / "whole"), copy_records(tmp_path / "flushed")
    assert len(list((whole / "records").glob("*/*.yaml"))) > 40
    load(whole, cache=True, jobs=jobs)
    monkeypatch.setattr(records_cache, "_FLUSH", 7)
    monkeypatch.setattr(records_cache, "_WINDOW", 5)
    written = []
    real = records_cache.Cache._write_pending
    monkeypatch.setattr(records_cache.Cache, "_write_pending",
                        lambda self: (written.append(len(self.pending)), real(self))[1])
    cold, files = load(flushed, cache=True, jobs=jobs)
    assert len(written) > 3 and written[:-1] == [7] * (len(written) - 1)  # a few at a time, then the rest
    assert _tables(flushed) == _tables(whole)
    store = records_cache.Cache(flushed)
    store.prefetch()
    for item in files:  # read a window at a time
        assert store.get(item.shown, records_cache.digest((flushed / item.shown).read_bytes())) is not None
    store.db.close()
    warm, again = load(flushed, cache=True, jobs=jobs)
    assert [f.record for f in again] == [f.record for f in files] and warm.claims == cold.claims


def test_a_run_whose_writing_fails_midway_leaves_no_half_written_cache(tmp_path, monkeypatch):
    """A failure after some entries were written undoes them all: the next run finds no entry and
    no claim that the cache has met every file (which would let `validate PATH` trust it)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    root = copy_records(tmp_path / "repo")
    monkeypatch.setattr(records_cache, "_FLUSH", 7)
    real, count = records_cache.pickled, [0]

    def failing(entry):
        count[0] += 1
        if count[0] == 20:
            raise pickle.PicklingError("refused")
        return real(entry)

    monkeypatch.setattr(records_cache, "pickled", failing)
    _, files = load(root, cache=True, jobs=1)
    assert count[0] >= 20 and all(f.record is not None for f in files if f.kind == "claim")
    path = root / records_cache.FOLDER / records_cache.NAME
    if path.exists():
        tables = _tables(root)
        assert tables["files"] == [] and tables["complete"] == [(0,)]
    monkeypatch.setattr(records_cache, "pickled", real)
    load(root, cache=True, jobs=1)
    assert len(_tables(root)["files"]) == len(files)


def test_a_stat_is_trusted_only_once_a_write_in_the_same_tick_would_show():
    """git's racy case, by the file system's grain: a time stamp in whole seconds (a file system that
    keeps no finer time) is trusted two seconds after it, one with a fraction of a second (the
    kernel's clock, in ticks of a few milliseconds) a tenth of a second after."""
    second = 1_700_000_000 * 10**9
    coarse, fine = (10, second, 7), (10, second + 123_456_789, 7)
    for stat, too_soon, late_enough in ((coarse, second + 1_900_000_000, second + 2_000_000_001),
                                        (fine, fine[1] + 90_000_000, fine[1] + 100_000_001)):
        assert not records_cache.trusted(stat, stat, too_soon)
        assert records_cache.trusted(stat, stat, late_enough)
        assert not records_cache.trusted(stat, (11, *stat[1:]), late_enough)  # another size
        assert not records_cache.trusted(stat, stat, None)  # never read
