"""A full build streams the records: it validates lean, puts each outlined record aside whole
(`repo.spill`), and makes the package's rows a window of records at a time, in runs of records
shared out to processes and then put together. What it writes, what it keeps for the next build
and what its key check finds are those of a build from whole records in one run of each kind.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from build_helpers import copy_records
from conftest import copy_repo

from reported_claims.check.validate import validate
from reported_claims.model.outline import ClaimOutline, SourceOutline
from reported_claims.model.records import Record
from reported_claims.package import build, tables
from reported_claims.package.incremental import Parts, record_refs
from reported_claims.repo.cache import Cache, LastBuild
from reported_claims.repo.load import load
from reported_claims.repo.spill import Spill


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def written(dataset, folder: Path, jobs: int) -> tuple[dict, Parts, list]:
    keys, parts = build.Keys(), Parts()
    build.write_package(build.context(dataset), folder, keys=keys, parts=parts, jobs=jobs)
    return files(folder), parts, keys.check()


@pytest.mark.parametrize("archive", [True, False])
@pytest.mark.parametrize("how", [dict(jobs=1), dict(jobs=2), dict(jobs=2, cache=True)])
def test_a_streamed_build_writes_what_a_build_from_whole_records_writes(tmp_path, monkeypatch, archive, how):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "key"))
    # With the archive, the claims reporting from an archived text stay whole and the others are
    # outlines; without it, every claim and source is an outline.
    root = copy_repo(tmp_path / "repo") if archive else copy_records(tmp_path / "repo")
    whole, _ = load(root)
    monkeypatch.setattr(build, "WINDOW", 10**9)  # the reference: one window of each kind, in one process
    expected, expected_parts, expected_problems = written(whole, tmp_path / "whole", 1)
    assert expected_problems == [] and len(expected) == len(tables.tables()) + 5

    monkeypatch.setattr(build, "WINDOW", 1)  # windows of one record, and several runs of each kind
    with Spill() as spill:
        result = validate(root, lean=True, spill=spill, **how)
        assert result.ok
        result.settle()
        lean = result.dataset
        outlined = [r for r in [*lean.claims.values(), *lean.sources.values()] if not isinstance(r, Record)]
        assert outlined and len(spill) >= len(outlined)
        # Every claim here reports from an archived text: with the archive they stay whole, and
        # the sources are some whole (archived), some outlines, in the same windows.
        assert all(isinstance(c, Record if archive else ClaimOutline) for c in lean.claims.values())
        assert any(isinstance(s, SourceOutline) for s in lean.sources.values())
        assert archive == any(isinstance(s, Record) for s in lean.sources.values())
        if how["jobs"] > 1:
            runs = build._runs(build.context(lean), how["jobs"])
            assert len([r for r in runs if r.kind.name == "claim"]) > 1 and not any(r.whole for r in runs)
        got, got_parts, got_problems = written(lean, tmp_path / "lean", how["jobs"])
    assert got_problems == []
    assert got.keys() == expected.keys()
    for rel in expected:
        assert got[rel] == expected[rel], rel
    assert got_parts.layouts == expected_parts.layouts
    assert got_parts.stats.keys() == expected_parts.stats.keys()
    assert got_parts.made == expected_parts.made == set(whole.claims) | set(whole.sources) | set(whole.entities)
    refs = {rid: line for ids, joined in got_parts.refs for rid, line in zip(ids, joined.split("\n"))}
    every = {**whole.claims, **whole.sources, **whole.entities}
    assert refs == {rid: record_refs(record) for rid, record in every.items()}


@pytest.mark.parametrize("pread", [True, False])
def test_the_spill_gives_back_each_record_as_its_file_reads(tmp_path, monkeypatch, pread):
    import os

    if not pread:  # as on Windows
        monkeypatch.delattr(os, "pread")
    root = copy_records(tmp_path / "repo")
    whole, _ = load(root)
    with Spill() as spill:
        lean, _ = load(root, outlines=(), spill=spill)
        assert lean.spill is spill
        claims = list(lean.claims.values())
        assert not any(isinstance(c, Record) for c in claims)
        assert all(lean.files[c.id].spilled >= 0 for c in claims)
        # Asked in any order, in and out of the order they were put aside: the records, in the order asked.
        order = claims[::-1] + claims[::3] + claims[:2]
        assert lean.wholes(order) == [whole.claims[c.id] for c in order]
        numbers = [lean.files[c.id].spilled for c in claims]
        assert spill.records(numbers[2:5] + numbers[:1]) == [whole.claims[c.id] for c in claims[2:5] + claims[:1]]
        assert spill.records([]) == []


def test_keys_told_a_window_at_a_time_find_what_they_find_told_whole():
    every = tables.tables()
    claims, reports, figures = (next(t for t in every if t.name == name)
                                for name in ("claims", "claim_reports", "claim_report_figures"))

    def row(table, **cells):
        return [cells.get(n, "x") for n in table.names]

    def claim(rid):
        return row(claims, id=rid, withdrawal_replaced_by="", topic="x", status="x")

    known = {("claims", ("id",)): {"clm-a", "clm-b", "clm-c"}}
    keys = build.Keys()
    keys.expect(every, known)
    first = keys.part()
    first.add(claims, [claim("clm-a"), claim("clm-b")])
    first.add(reports, [row(reports, claim_id="clm-a", source_id="src-a")])
    # A figure of a report its claim does not have: found within the window.
    first.add(figures, [row(figures, claim_id="clm-a", source_id="src-b", position="0", quantity_id="")])
    first.settle()
    assert not first.pending and ("claim_reports", ("claim_id", "source_id")) not in first.values
    second = keys.part()
    second.add(claims, [claim("clm-b"), claim("clm-d")])  # a repeat across runs, and an id of no record
    for part in (first, second):
        part.settle()
        keys.merge(part)
    # (The tables of the sources, entities and terms these rows refer to are not told.)
    found = {(p.path, p.line, p.message) for p in keys.check()
             if not p.message.startswith("no row of ") or p.message.startswith("no row of claim")}
    assert ("data/claims.csv", 4, "the row repeats its primary key: clm-b") in found
    assert ("data/claims.csv", 5, "the row is of no record written: clm-d") in found
    assert ("data/claims.csv", 1, "the table has 4 row(s) for 3 record(s)") in found
    assert ("data/claim_report_figures.csv", 1, "no row of claim_reports has clm-a, src-b") in found
    assert len(found) == 4, sorted(found)


def test_what_the_last_build_keeps_is_signed_however_large(tmp_path, monkeypatch):
    """A value of tens of MB is signed and written in pieces: read back as it was, and refused once changed."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "key"))
    root = copy_records(tmp_path / "repo")
    store = Cache(root)
    records = ("clm-a\nclm-b", "x" * (3 << 20), b"\x01" * 64, "src-a\n", b"\x00" * 64)
    layouts = {"data/claims.csv": (10, b"clm-a\nclm-b", bytes(range(256)) * 8192)}
    LastBuild(store).save({"version": "1"}, records, layouts)
    store.db.commit()
    again = LastBuild(Cache(root))
    assert again.records() == records and again.layouts() == layouts and again.manifest() == {"version": "1"}
    db = Cache(root).db
    db.execute("UPDATE meta SET value = substr(value, 1, 100) || x'00' || substr(value, 102) WHERE name = 'built-records-shown'")
    db.commit()
    assert LastBuild(Cache(root)).records() is None


def test_a_build_with_no_records_of_a_kind_writes_its_files_empty(tmp_path, monkeypatch):
    """A kind with no record (no entity here) still has its files, as empty as a whole build makes them."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "key"))
    root = copy_records(tmp_path / "repo")
    dataset, _ = load(root)
    dataset.entities.clear()
    monkeypatch.setattr(build, "WINDOW", 1)
    got, _, _ = written(dataset, tmp_path / "out", 2)
    assert got["data/entities.json"] == b"[]\n"
    assert got["data/entity_aliases.csv"] == b"entity_id,position,alias\n"
    shutil.rmtree(tmp_path / "out")


def test_the_parts_of_a_file_are_put_together_where_the_kernel_cannot_copy_them(tmp_path, monkeypatch):
    """The runs' parts are copied by the kernel where it can: where it stops partway or cannot
    copy at all, they are written from what was read, and the files are the same."""
    import errno
    import os

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "key"))
    root = copy_records(tmp_path / "repo")
    dataset, _ = load(root)
    monkeypatch.setattr(build, "WINDOW", 1)
    expected = written(dataset, tmp_path / "kernel", 2)
    calls = []

    def copy_some(src: int, dst: int, count: int, *offsets: int) -> int:
        calls.append(count)
        if len(calls) % 3 == 0:
            raise OSError(errno.EXDEV, "not between these files")
        return real(src, dst, min(count, 7), *offsets)

    real = os.copy_file_range
    monkeypatch.setattr(os, "copy_file_range", copy_some)
    got = written(dataset, tmp_path / "python", 2)
    assert len(calls) > 3
    assert got[0] == expected[0] and got[1].layouts == expected[1].layouts


def test_pieces_are_written_and_hashed_in_order_and_a_failed_write_is_raised(tmp_path):
    """``_assemble``: a thread writes the pieces (spans of a file copied by the kernel) while this
    one hashes them, in the same order; what goes wrong in the writing thread is raised here."""
    import errno
    import hashlib
    import io

    from reported_claims.package.incremental import Span

    old = tmp_path / "old"
    old.write_bytes(bytes(range(256)) * 20000)  # 5 MB: several buffers
    pieces = [b"[", Span(old, 3, 3_000_001), b",", Span(old, 4_000_000, 5_120_000), b"]"]
    expected = b"[" + old.read_bytes()[3:3_000_001] + b"," + old.read_bytes()[4_000_000:5_120_000] + b"]"
    h = hashlib.sha256()
    with open(tmp_path / "new", "wb") as f:
        build._assemble(f, pieces, h)
    assert (tmp_path / "new").read_bytes() == expected and h.hexdigest() == hashlib.sha256(expected).hexdigest()

    class Full(io.BytesIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        build._assemble(Full(), [b"[", b"]"], hashlib.sha256())
