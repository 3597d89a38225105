"""How many processes a step runs in: one per core the process may use, once it is large enough
for a pool to pay; ``--jobs`` sets the number."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import sys
from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future
    from multiprocessing.connection import Connection

T = TypeVar("T")
R = TypeVar("R")


def workers(wanted: Optional[int], size: int, threshold: int) -> int:
    """The processes for a step of ``size`` items: ``wanted`` when given (at least one), else one
    per core the process may use from ``threshold`` items, and one below it."""
    if wanted is not None:
        return max(1, wanted)
    if size < threshold:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def forking() -> Optional["multiprocessing.context.ForkContext"]:
    """The start method that lets workers share what the main process holds without pickling it
    (``fork``), where it is safe: on Linux. None elsewhere (macOS and Windows start a fresh
    interpreter, which would have to be sent everything): the caller works in one process."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


def share_out(n: int, jobs: Sequence[T], remote: Callable[[T], "Future[R]"], local: Callable[[T], R],
              take: Callable[[T, R], None]) -> None:
    """Run each job, in their order: ``remote`` sends one to a pool of ``n - 1`` workers (each kept
    a job ahead) and this process, one of the ``n``, runs the next itself (``local``) while they
    are all busy, rather than only wait for them and unpickle all they send. ``take`` is given each
    job and its result as it comes (not in order)."""
    from concurrent.futures import FIRST_COMPLETED, wait

    queue = list(jobs)[::-1]  # the next job last
    pending: dict = {}
    while queue or pending:
        finished = [f for f in pending if f.done()]
        if not finished and not queue:  # then some are pending: the loop goes on while any is
            finished = list(wait(pending, return_when=FIRST_COMPLETED).done)
        came = [(pending.pop(f), f) for f in finished]
        # The workers are sent their next jobs before this process takes in what came or runs one:
        # a worker that finished while this process was busy would otherwise wait for it, idle.
        while queue and len(pending) < 2 * (n - 1):
            job = queue.pop()
            pending[remote(job)] = job
        for job, f in came:
            take(job, f.result())
        if queue:
            job = queue.pop()
            take(job, local(job))


_JOB = 4  # bytes: a job's index, as it goes through the pipe the processes take their jobs from
_WIDE = 1 << 20  # bytes a result pipe is widened to, where the system lets it (Linux: up to its pipe-max-size)


def _widen(fd: int, size: int) -> bool:
    """Make the pipe ``fd`` hold ``size`` bytes (Linux); False where it could not."""
    try:
        import fcntl

        return fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size) >= size
    except (ImportError, AttributeError, OSError):
        return False


def _job_queue(order: list[int]) -> Optional[int]:
    """The read end of a pipe that holds the index of every job, in ``order``, written before any
    process forks: each process takes the next job by reading ``_JOB`` bytes, which the kernel
    gives one reader at a time, whole (the pipe only ever holds whole indices). Nothing is left
    to wait on or to lock: a process that dies takes only the job it was running with it. None
    where the pipe cannot hold them all (it is written without waiting: nobody reads it yet)."""
    data = b"".join(i.to_bytes(_JOB, "little") for i in order)
    r, w = os.pipe()
    try:
        _widen(w, len(data))  # where it cannot, the pipe may still hold them all
        os.set_blocking(w, False)
        try:
            written = os.write(w, data)
        except BlockingIOError:
            written = 0
    finally:
        os.close(w)  # once read to the end, the pipe says so: no job is left
    if written < len(data):
        os.close(r)
        return None
    return r


def _serve(fn: Callable[[T], R], items: Sequence[T], jobs: int, conn: "Connection") -> None:
    """A forked worker of ``pulled``: run the jobs it takes and send each result, pickled, with the
    job's index; it ends without running anything of the main process's exit (its handlers, its
    buffered output). Whatever goes wrong ends it quietly: the main process runs again here any job
    it did not send back, and so raises any error of one itself."""
    code = 1
    try:
        gc.disable()  # a worker makes what it sends and ends: collecting would only touch shared pages
        while True:
            got = os.read(jobs, _JOB)
            if not got:
                break
            i = int.from_bytes(got, "little")
            conn.send_bytes(pickle.dumps((i, fn(items[i])), pickle.HIGHEST_PROTOCOL))
        conn.close()
        code = 0
    finally:
        os._exit(code)


def pulled(fn: Callable[[T], R], items: Sequence[T], n: int, take: Callable[[int, R], None],
           order: Optional[Iterable[int]] = None, local: Optional[Callable[[T], R]] = None) -> bool:
    """``fn`` of each item by ``n`` processes, this one and ``n - 1`` forked ones, which share
    ``fn``, the items and all they reach without pickling them. Each process takes the next job as
    soon as it is free, from a pipe that holds them all (``order``: the indices in the order to
    take them, say the largest first), so that no worker waits to be sent one. A worker sends each
    result back pickled through its own pipe, which a thread of this process reads as it comes, so
    that no worker waits to write either; this process runs jobs too (with ``local``, where it
    differs from ``fn``) and, between them, gives ``take`` each job's index and result (not in
    order). A job a worker took and did not send back (it died) is run here at the end. False
    where processes cannot be forked, or the jobs not queued: then nothing was run, and the caller
    works alone."""
    import queue
    import threading
    from multiprocessing.connection import wait

    context = forking()
    order = list(order) if order is not None else list(range(len(items)))
    if context is None or n < 2 or len(order) < 2:
        return False
    jobs = _job_queue(order)
    if jobs is None:
        return False
    local = fn if local is None else local
    came: queue.SimpleQueue = queue.SimpleQueue()  # each result's pickle as it came; None once all ended
    procs: list = []
    conns: list = []

    def receive() -> None:
        live = list(conns)
        while live:
            for conn in wait(live):
                try:
                    came.put(conn.recv_bytes())  # type: ignore[union-attr]
                except (EOFError, OSError):  # the worker ended (or died mid-message)
                    live.remove(conn)
        came.put(None)

    done: set[int] = set()
    ended = False

    def drain(block: bool) -> None:
        nonlocal ended
        while not ended:
            try:
                data = came.get(block)
            except queue.Empty:
                return
            if data is None:
                ended = True
                return
            i, result = pickle.loads(data)
            take(i, result)
            done.add(i)

    receiver = None
    try:
        for _ in range(n - 1):
            mine, theirs = context.Pipe(duplex=False)
            _widen(theirs.fileno(), _WIDE)
            proc = context.Process(target=_serve, args=(fn, items, jobs, theirs), daemon=True)
            proc.start()
            theirs.close()  # closed here, the pipe ends when the worker does
            procs.append(proc)
            conns.append(mine)
        receiver = threading.Thread(target=receive, daemon=True)
        receiver.start()
        while True:
            got = os.read(jobs, _JOB)
            if not got:
                break
            i = int.from_bytes(got, "little")
            take(i, local(items[i]))
            done.add(i)
            drain(False)
        drain(True)
    finally:
        os.close(jobs)
        for proc in procs:
            if not ended and proc.is_alive():  # this process is leaving on an error: so do they
                proc.terminate()
            proc.join()
        if receiver is not None:
            receiver.join()  # every worker has ended: so has every pipe
        for conn in conns:
            conn.close()
    for i in order:
        if i not in done:
            take(i, local(items[i]))
    return True


def forked_map(fn: Callable[[T], R], items: Sequence[T], n: int,
               order: Optional[Iterable[int]] = None) -> Optional[list[R]]:
    """``fn`` of each item by ``n`` processes, this one and ``n - 1`` forked ones, which share
    ``fn``, the items and all they reach without pickling them (``pulled``: each result comes back
    pickled), in the order of ``items``; ``order``: the indices in the order to start them (say,
    the largest first). None where processes cannot be forked: the caller then works alone."""
    if forking() is None or n < 2:
        return None
    # What the main process holds is left out of the collector's passes, so that a worker's do not
    # write to (and so copy) the pages it shares with it.
    gc.freeze()
    made: dict[int, R] = {}
    if not pulled(fn, items, n, made.__setitem__, order):
        return None
    return [made[i] for i in range(len(items))]
