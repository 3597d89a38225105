"""The cyclic garbage collector, paused over work that makes millions of objects and no cycles."""

from __future__ import annotations

import gc


class paused:
    """``with paused():`` runs the block with the collector off, as it was again after (nested
    blocks leave it to the outermost). Records, rows, cells and pickles hold no cycles, and
    reference counting frees them all the same; collecting while they are made only walks them
    again and again: at 100,000 claims, half the time of writing the package. A class rather than
    a generator: it is entered once a file read from the cache, where a generator's cost shows."""

    __slots__ = ("enabled",)

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            gc.enable()
