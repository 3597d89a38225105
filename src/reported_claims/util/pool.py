"""How many processes a step runs in: one per core the process may use, once it is large enough
for a pool to pay; ``--jobs`` sets the number."""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

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


def forking() -> Optional[multiprocessing.context.BaseContext]:
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


_SHARED: Optional[tuple] = None
"""What the workers of ``forked_map`` share with the main process, as it stood when they forked."""


def _call(i: int) -> object:
    gc.disable()  # a worker makes what it returns and ends: collecting would only touch shared pages
    fn, items = _SHARED  # type: ignore[misc]
    return fn(items[i])


def forked_map(fn: Callable[[T], R], items: Sequence[T], n: int,
               order: Optional[Iterable[int]] = None) -> Optional[list[R]]:
    """``fn`` of each item by ``n`` processes, this one and ``n - 1`` forked ones, which share
    ``fn``, the items and all they reach without pickling them (only each index goes, and each
    result comes back pickled), in the order of ``items``; ``order``: the indices in the order to
    start them (say, the largest first). None where processes cannot be forked, or when the pool
    broke: the caller then works alone."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = forking()
    if context is None or n < 2:
        return None
    global _SHARED
    order = list(order) if order is not None else list(range(len(items)))
    _SHARED = (fn, items)
    # What the main process holds is left out of the collector's passes, so that a worker's do not
    # write to (and so copy) the pages it shares with it.
    gc.freeze()
    made: dict[int, R] = {}
    try:
        with ProcessPoolExecutor(n - 1, mp_context=context) as pool:
            share_out(n, order, lambda i: pool.submit(_call, i), lambda i: fn(items[i]), made.__setitem__)
    except BrokenProcessPool:
        return None
    finally:
        _SHARED = None  # what was frozen stays so: the records a load froze are still there
    return [made[i] for i in range(len(items))]
