"""The quicker ways through validate and build find what the full ones find.

`validate --changed-since REF` and `validate PATH` report the problems that involve the
changed files and not the others; a pool of processes reads the records as one process does;
the key check of every build catches what it is there for; progress stays off pipes.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from build_helpers import copy_records
from conftest import run_cli

from reported_claims.model import graph
from reported_claims.package import build, tables
from reported_claims.repo.load import load
from reported_claims.util.progress import Progress

CHANGED = "records/claims/clm-china-denies-lethal-support-to-russia.yaml"
UNRELATED = "records/claims/clm-blinken-china-considering-lethal-support.yaml"
SOURCE = "src-icaro-china-support-raises-concerns"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=root, check=True,
                   capture_output=True, timeout=60)


def refer_to_missing_source(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    first = text.split("  - source: ", 1)[1].split("\n", 1)[0]
    path.write_text(text.replace(f"  - source: {first}", "  - source: src-no-such-source", 1), encoding="utf-8")


@pytest.fixture
def history(tmp_path) -> Path:
    """A git repository of the real records whose last commit holds one broken claim."""
    root = copy_records(tmp_path / "repo")
    refer_to_missing_source(root / UNRELATED)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "records")
    return root


def problems(done) -> list[str]:
    return [line for line in done.stdout.splitlines() if line.startswith("records/")]


def test_changed_since_reports_the_changed_file_and_not_the_others(history):
    refer_to_missing_source(history / CHANGED)
    done = run_cli("validate", "--changed-since", "HEAD", repo=history, text=True)
    assert done.returncode == 1
    found = problems(done)
    assert found and all(p.startswith(CHANGED + ":") for p in found)
    assert any("unknown-reference" in p and "src-no-such-source" in p for p in found)
    full = problems(run_cli("validate", repo=history, text=True))
    assert any(p.startswith(UNRELATED + ":") for p in full) and set(found) <= set(full)


def test_changed_since_sees_new_files_and_removals(history):
    git(history, "rm", "-q", f"records/sources/{SOURCE}.yaml")
    done = run_cli("validate", "--changed-since", "HEAD", repo=history, text=True)
    assert done.returncode == 1
    found = problems(done)
    assert found and all(f"'{SOURCE}'" in p for p in found if "unknown-reference" in p)
    assert not any(p.startswith(UNRELATED + ":") for p in found)
    git(history, "reset", "-q", "--hard")
    assert run_cli("validate", "--changed-since", "HEAD", repo=history, text=True).stdout.startswith(
        "no record file changed since HEAD")
    new = history / "records" / "claims" / "clm-new.yaml"
    new.write_text((history / CHANGED).read_text(encoding="utf-8").replace(
        "id: clm-china-denies-lethal-support-to-russia", "id: clm-new"), encoding="utf-8")
    found = problems(run_cli("validate", "--changed-since", "HEAD", repo=history, text=True))
    assert found and all(p.startswith("records/claims/clm-new.yaml:") for p in found)


def test_changed_since_an_unknown_revision_is_a_message(history):
    done = run_cli("validate", "--changed-since", "no-such-branch", repo=history, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "--changed-since needs a git work tree and a revision it knows" in done.stderr


def test_validate_one_path_finds_its_cross_record_problems_only(history):
    refer_to_missing_source(history / CHANGED)
    done = run_cli("validate", CHANGED, cwd=history, text=True)
    found = problems(done)
    assert done.returncode == 1 and found and all(p.startswith(CHANGED + ":") for p in found)


@pytest.mark.parametrize("forks", [True, False])
def test_a_pool_reads_what_one_process_reads(tmp_path, monkeypatch, forks):
    """Forked workers that take their own chunks (``pulled``), or, where nothing forks, a pool sent
    each chunk (``share_out``): the same files, records and problems as one process."""
    import reported_claims.repo.load as loading

    if not forks:
        monkeypatch.setattr(loading, "pulled", lambda *args, **kwargs: False)
        monkeypatch.setattr(loading, "forking", lambda: None)
        sent: list = []
        share_out = loading.share_out
        monkeypatch.setattr(loading, "share_out", lambda *args: sent.append(share_out(*args)))
    root = copy_records(tmp_path / "repo")
    refer_to_missing_source(root / CHANGED)
    one, files_one = load(root, jobs=1)
    two, files_two = load(root, jobs=2)
    assert [f.shown for f in files_two] == [f.shown for f in files_one]
    assert [f.record for f in files_two] == [f.record for f in files_one]
    assert [f.doc.problems for f in files_two] == [f.doc.problems for f in files_one]
    assert [f.doc.marks for f in files_two] == [f.doc.marks for f in files_one]
    assert one.claims == two.claims and one.sources == two.sources and one.invalid == two.invalid
    assert forks or sent  # the pool was sent the chunks


@pytest.mark.parametrize("how", [dict(jobs=1), dict(jobs=2), dict(jobs=2, cache=True)])
def test_what_a_load_gathers_as_it_reads_is_what_its_records_use(tmp_path, monkeypatch, how):
    """The references and terms the rules look up are gathered as each file is read (in the
    pool's workers, or from the cache's entries): the same as the records' own, walked after."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "key"))
    root = copy_records(tmp_path / "repo")
    refer_to_missing_source(root / CHANGED)
    for _ in range(2 if how.get("cache") else 1):  # with a cache: as it is made, then from it
        dataset, files = load(root, **how)
        refs, terms = set(), set()
        for f in files:
            if f.record is not None:
                r, t = graph.uses(f.record)
                refs.update(r)
                terms.update(t)
        assert ("source", "src-no-such-source") in refs and ("source", SOURCE) in refs
        assert ("topics", "denial") in terms and ("items", "weapons") in terms
        assert dataset.used.refs == refs and dataset.used.terms == terms


def test_a_record_s_own_problems_are_found_as_it_is_read_and_kept_in_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "key"))
    root = copy_records(tmp_path / "repo")
    path = root / CHANGED
    path.write_text(path.read_text(encoding="utf-8").replace("    claimant: ent-china", "    claimant: ent-russia", 1),
                    encoding="utf-8")
    runs = [load(root, jobs=jobs, cache=cache) for jobs, cache in ((1, False), (2, False), (2, True), (1, True))]
    for dataset, files in runs:
        (item,) = [f for f in files if f.shown == CHANGED]
        assert item.record is not None  # the record stays valid: the rules across records still see it
        assert [p.code for p in item.doc.problems] == ["unknown-claimant", "unreported-claimant"]
    done = run_cli("validate", repo=root, env={"XDG_CACHE_HOME": str(tmp_path / "key")}, text=True)
    assert done.returncode == 1 and f"{CHANGED}:24:" in done.stdout and "[unknown-claimant]" in done.stdout


def test_the_key_check_of_every_build_refuses_repeated_and_dangling_keys():
    every = tables.tables()
    claims = next(t for t in every if t.name == "claims")
    reports = next(t for t in every if t.name == "claim_reports")
    keys = build.Keys()
    keys.expect(every)
    keys.add(claims, [[*("clm-a" if n == "id" else "" for n in claims.names)]] * 2)
    report = ["clm-b" if n == "claim_id" else "x" for n in reports.names]
    keys.add(reports, [report])
    found = keys.check()
    assert any(p.path == "data/claims.csv" and p.line == 3 and "repeats its primary key" in p.message for p in found)
    assert any(p.path == "data/claim_reports.csv" and "no row of claims has clm-b" in p.message for p in found)
    assert all(p.code == "package-invalid" for p in found)
    # Keys of more than one column, and rows that are all in order beside one that is not.
    keys = build.Keys()
    keys.expect(every)
    keys.add(claims, [["clm-a" if n == "id" else "" for n in claims.names],
                      ["clm-b" if n == "id" else "" for n in claims.names]])
    rows = [{"claim_id": "clm-a", "source_id": "src-a"}, {"claim_id": "clm-b", "source_id": "src-a"},
            {"claim_id": "clm-b", "source_id": ""}, {"claim_id": "clm-a", "source_id": "src-a"}]
    keys.add(reports, [[row.get(n, "x") for n in reports.names] for row in rows])
    found = [(p.line, p.message) for p in keys.check() if p.path == "data/claim_reports.csv"]
    assert (4, "the row has an empty primary key field: clm-b, ") in found
    assert (5, "the row repeats its primary key: clm-a, src-a") in found
    assert not [p for p in keys.check() if p.path == "data/claims.csv"]


def test_progress_is_silent_off_a_terminal(tmp_path):
    root = copy_records(tmp_path / "repo")
    for args in (("validate",), ("build",), ("build", "--quiet")):
        done = run_cli(*args, repo=root, text=True)
        assert done.returncode == 0, done.stderr
        assert "\r" not in done.stderr and "files (" not in done.stderr


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_once_a_run_is_slow():
    shown = Terminal()
    Progress("validate", shown, after=0)(5, 10)
    assert shown.getvalue() == "\rvalidate: 5/10 files (50%)"
    quick, quiet, pipe = Terminal(), Terminal(), io.StringIO()
    Progress("validate", quick, after=60)(5, 10)
    Progress("validate", quiet, enabled=False, after=0)(5, 10)
    Progress("validate", pipe, after=0)(5, 10)
    assert quick.getvalue() == quiet.getvalue() == pipe.getvalue() == ""


def test_a_pool_of_writers_writes_what_one_process_writes(tmp_path):
    """`build --jobs 2` makes the package's files in forked workers: the package, and the layouts
    the next build splices into, are those of one process."""
    from build_helpers import snapshot

    one, two = copy_records(tmp_path / "one"), copy_records(tmp_path / "two")
    for root, jobs in ((one, "1"), (two, "2")):
        done = run_cli("build", "--jobs", jobs, repo=root, env={"XDG_CACHE_HOME": str(tmp_path / "key")}, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    assert snapshot(two) == snapshot(one) and len(snapshot(one)) > 30
    for root in (one, two):  # an edit spliced into each build's files, by the layouts each kept
        path = root / CHANGED
        path.write_text(path.read_text(encoding="utf-8").replace("statement: ", "statement: Reportedly, ", 1),
                        encoding="utf-8")
        done = run_cli("build", repo=root, env={"XDG_CACHE_HOME": str(tmp_path / "key")}, text=True)
        assert done.returncode == 0 and "made again" in done.stdout, done.stdout + done.stderr
    assert snapshot(two) == snapshot(one)


def test_a_pool_of_writers_reports_what_one_process_finds(tmp_path):
    """The key check and a refused cell reach the build from a worker as from one process."""
    from reported_claims.package.build import UnsafeCell, write_package
    from reported_claims.package.incremental import Parts

    dataset, _ = load(copy_records(tmp_path / "repo"))
    dataset.sources.pop(sorted(dataset.sources)[0])  # some reports now cite a source not written
    found = []
    for jobs in (1, 2):
        keys = build.Keys()
        write_package(build.context(dataset), tmp_path / f"out{jobs}", keys=keys, parts=Parts(), jobs=jobs)
        found.append(keys.check())
    assert found[0] and found[1] == found[0]
    claim = sorted(dataset.claims)[0]
    dataset.claims[claim] = dataset.claims[claim].model_copy(update={"statement": "=HYPERLINK(1)"})
    with pytest.raises(UnsafeCell, match="formula"):
        write_package(build.context(dataset), tmp_path / "unsafe", jobs=2)


def test_the_main_process_takes_its_share_of_a_pool_s_jobs_and_every_result_comes_back_once():
    """`share_out` runs every job once, some in this process while the pool's workers are busy;
    `forked_map` gives the results in the order of the items, whatever order they were run in."""
    import os
    from concurrent.futures import ProcessPoolExecutor

    from reported_claims.util.pool import forked_map, forking, share_out

    if forking() is None:
        pytest.skip("processes are forked on Linux only")
    taken: dict[int, tuple[int, int]] = {}
    with ProcessPoolExecutor(1, mp_context=forking()) as pool:
        share_out(2, range(40), lambda i: pool.submit(_square_and_pid, i), _square_and_pid, taken.__setitem__)
    assert sorted(taken) == list(range(40))
    assert all(square == i * i for i, (square, _) in taken.items())
    here = {pid for _, pid in taken.values()}
    assert os.getpid() in here and len(here) == 2  # both the main process and the worker ran some
    items = list(range(30))
    assert forked_map(_square_and_pid, items, 2, order=reversed(items)) is not None
    assert [sq for sq, _ in forked_map(_square_and_pid, items, 2, order=reversed(items))] == [i * i for i in items]
    assert forked_map(_square_and_pid, items, 1) is None  # one process: the caller works alone


def _forks() -> None:
    from reported_claims.util.pool import forking

    if forking() is None:
        pytest.skip("processes are forked on Linux only")


def test_pulled_runs_every_job_once_in_both_processes_taking_them_in_the_order_given():
    import os

    from reported_claims.util.pool import pulled

    _forks()
    here = os.getpid()
    taken: dict[int, tuple[int, int]] = {}
    started: list[int] = []

    def local(i: int) -> tuple[int, int]:
        started.append(i)
        return _square_and_pid(i)

    order = list(range(60))[::-1]
    assert pulled(_square_and_pid, range(60), 2, taken.__setitem__, order, local=local)
    assert sorted(taken) == list(range(60))
    assert all(square == i * i for i, (square, _) in taken.items())
    pids = {pid for _, pid in taken.values()}
    assert here in pids and len(pids) == 2  # the worker ran some, this process the rest
    assert all(taken[i][1] == here for i in started)  # ``local`` is what ran here
    assert started == sorted(started, reverse=True)  # each process takes the next job in ``order``
    assert not pulled(_square_and_pid, range(60), 1, taken.__setitem__)  # one process: nothing run
    assert not pulled(_square_and_pid, range(1), 2, taken.__setitem__)


def test_pulled_runs_here_the_jobs_of_a_worker_that_died_or_failed_and_raises_their_error_itself(capfd):
    import os

    from reported_claims.util.pool import pulled

    _forks()
    here = os.getpid()

    def dies(i: int) -> tuple[int, int]:
        if os.getpid() != here:
            os._exit(3)
        return _square_and_pid(i)

    taken: dict[int, tuple[int, int]] = {}
    assert pulled(dies, range(40), 2, taken.__setitem__)
    assert sorted(taken) == list(range(40)) and {pid for _, pid in taken.values()} == {here}

    def fails(i: int) -> tuple[int, int]:
        if i == 7:
            raise ValueError("job 7")
        return _square_and_pid(i)

    with pytest.raises(ValueError, match="job 7"):
        pulled(fails, range(40), 2, {}.__setitem__)
    assert "Traceback" not in capfd.readouterr().err  # the worker that took it ended quietly
    import multiprocessing

    assert not multiprocessing.active_children()  # every worker was waited for


def test_pulled_stops_its_workers_when_this_process_fails():
    import multiprocessing
    import time

    from reported_claims.util.pool import pulled

    _forks()

    def slow(i: int) -> int:
        time.sleep(0.05)
        return i

    def broken(i: int) -> int:
        raise KeyboardInterrupt

    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        pulled(slow, range(200), 2, {}.__setitem__, local=broken)
    assert time.perf_counter() - start < 5  # not the 10 s of the worker running every job
    assert not multiprocessing.active_children()


def test_pulled_takes_results_larger_than_a_pipe_and_more_jobs_than_a_pipe_holds_by_default():
    from reported_claims.util.pool import pulled

    _forks()
    big: dict[int, bytes] = {}
    assert pulled(lambda i: bytes([i]) * (3 << 20), range(6), 2, big.__setitem__)
    assert sorted(big) == list(range(6)) and all(big[i] == bytes([i]) * (3 << 20) for i in big)
    many: dict[int, int] = {}
    if pulled(lambda i: -i, range(20000), 2, many.__setitem__):  # 80,000 bytes of job indices
        assert many == {i: -i for i in range(20000)}
    else:  # where a pipe cannot be widened past 64 KiB, nothing was run, and the caller works alone
        assert not many


def test_pulled_runs_nothing_when_its_jobs_do_not_fit_the_pipe(monkeypatch):
    """The jobs are written to their pipe before anyone reads it: where they do not fit (the pipe
    could not be widened), nothing waits, nothing is run, and the caller works alone."""
    from reported_claims.util import pool

    _forks()
    monkeypatch.setattr(pool, "_widen", lambda fd, size: False)
    taken: dict[int, int] = {}
    assert not pool.pulled(lambda i: i, range(20000), 2, taken.__setitem__)  # 80,000 bytes of indices
    assert not taken
    assert pool.pulled(lambda i: i, range(100), 2, taken.__setitem__)  # 400 bytes fit any pipe
    assert taken == {i: i for i in range(100)}


def test_a_worker_is_sent_its_next_job_before_the_main_process_runs_one():
    """While this process runs a job itself, each worker has its jobs queued: one whose job finished
    while this process was busy is sent the next at once, not after this process's next job."""
    from concurrent.futures import Future

    from reported_claims.util.pool import share_out

    outstanding: set[int] = set()
    queued_at_local: list[int] = []

    def remote(job: int) -> Future:  # a worker that is done as soon as it is sent a job
        outstanding.add(job)
        done: Future = Future()
        done.set_result(job)
        return done

    def local(job: int) -> int:
        queued_at_local.append(len(outstanding))
        return job

    taken: list[int] = []

    def take(job: int, result: int) -> None:
        outstanding.discard(job)
        taken.append(result)

    share_out(2, range(30), remote, local, take)
    assert sorted(taken) == list(range(30))
    # Every job this process ran itself, but the last few, ran with the worker's two jobs queued.
    assert queued_at_local and all(q == 2 for q in queued_at_local[:-2])


def _square_and_pid(i: int) -> tuple[int, int]:
    import os
    import time

    time.sleep(0.002)
    return i * i, os.getpid()


def test_the_collector_is_paused_over_a_block_and_left_as_it_was_even_when_the_block_fails():
    import gc

    from reported_claims.util.collector import paused

    assert gc.isenabled()
    with pytest.raises(ValueError):
        with paused():
            assert not gc.isenabled()
            with paused():
                assert not gc.isenabled()
            assert not gc.isenabled()  # the inner block leaves it to the outer
            raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with paused():
            pass
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()


@pytest.fixture(scope="module")
def every_fixture(tmp_path_factory) -> Path:
    """The real records, archive and schemas with every fixture placed, a near copy of a claim and a
    quote its archived text does not print: every rule across records has something to report."""
    from conftest import FIXTURES, copy_repo, header

    root = copy_repo(tmp_path_factory.mktemp("lean") / "repo")
    for kind in ("valid", "invalid", "hostile"):
        for path in sorted((FIXTURES / kind).glob("*.yaml")):
            target, _ = header(path)
            (root / target).parent.mkdir(parents=True, exist_ok=True)
            (root / target).write_bytes(path.read_bytes())
    claim = (root / CHANGED).read_text(encoding="utf-8")
    near = claim.replace("id: clm-china-denies-lethal-support-to-russia", "id: clm-near-copy")
    statement = next(line for line in claim.splitlines() if line.startswith("statement: "))
    near = near.replace(statement, statement.rstrip(".") + " at all.")
    archived = sorted(p.stem for p in (root / "archive").glob("*.txt"))
    # Its reports cite a source whose text is not archived (below): it is kept as its outline.
    near = re.sub(r"(?m)^(  - source: )src-[a-z0-9-]+$", rf"\g<1>{archived[-1]}", near)
    (root / "records" / "claims" / "clm-near-copy.yaml").write_text(near, encoding="utf-8")
    quoting = next(p for p in sorted((root / "records" / "claims").glob("clm-*.yaml"))
                   if f"  - source: {archived[0]}\n    quote: " in p.read_text(encoding="utf-8"))
    text = quoting.read_text(encoding="utf-8").replace(f"  - source: {archived[0]}\n    quote: ",
                                                       f"  - source: {archived[0]}\n    quote: Never printed, ", 1)
    quoting.write_text(text, encoding="utf-8")
    (root / "archive" / f"{archived[-1]}.txt").unlink()  # its reports' quotes cannot be checked
    from reported_claims.repo.scaffold import new

    new(root, "claim", "left to fill in")  # placeholders
    return root


@pytest.mark.parametrize("how", [dict(jobs=1), dict(jobs=2), dict(jobs=2, cache=True), dict(jobs=1, cache=True)])
def test_a_lean_validation_finds_what_a_full_one_finds(every_fixture, tmp_path, monkeypatch, how):
    """`validate` of a whole repository keeps claims and sources as their outlines (what the rules
    across records read of them); the problems are the same, every one, however the files are read."""
    from reported_claims.check.validate import validate
    from reported_claims.model.outline import ClaimOutline, SourceOutline
    from reported_claims.model.records import Claim, Source

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "key"))
    root = tmp_path / "repo"
    import shutil

    shutil.copytree(every_fixture, root)
    full = validate(root, jobs=1)
    codes = {p.code for p in full.problems}
    across = {"unknown-reference", "unknown-term", "lineage-cycle", "part-of-cycle", "replacement-cycle",
              "near-duplicate", "duplicate-id", "id-mismatch", "quote-not-found", "archive-missing",
              "unaccounted-sentence", "placeholder"}
    assert across <= codes, across - codes
    for _ in range(2 if how.get("cache") else 1):  # with a cache: as it is made, then from it
        lean = validate(root, lean=True, **how)
        assert lean.problems == full.problems
        assert (len(lean.dataset.claims), len(lean.dataset.sources)) == (len(full.dataset.claims), len(full.dataset.sources))
        archived = {p.stem for p in (root / "archive").glob("*.txt")}
        for claim in lean.dataset.claims.values():
            whole = any(r.source in archived for r in claim.reports)
            assert isinstance(claim, Claim if whole else ClaimOutline), claim.id
        for source in lean.dataset.sources.values():
            assert isinstance(source, Source if source.id in archived else SourceOutline), source.id
        assert any(isinstance(c, ClaimOutline) for c in lean.dataset.claims.values())
        assert any(isinstance(c, Claim) for c in lean.dataset.claims.values())


def test_validate_of_a_whole_repository_prints_what_the_full_validation_finds(every_fixture):
    from reported_claims.check.validate import validate

    done = run_cli("validate", "--no-cache", repo=every_fixture, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    printed = [line for line in done.stdout.splitlines() if not line.startswith("::")]
    assert printed == [p.format() for p in validate(every_fixture).problems]
