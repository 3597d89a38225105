"""How many processes a step runs in: one per core the process may use, once it is large enough
for a pool to pay; ``--jobs`` sets the number."""

from __future__ import annotations

import multiprocessing
import os
import sys
from typing import Optional


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
