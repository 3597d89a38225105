"""Records put aside on disk while a load keeps only their outlines, read back a few at a time.

A build writes every claim and source whole, but holding them all as models while it does costs
about 5 kB a claim (0.8 GiB at 100,000 claims). The load that validates them keeps each one's
outline (``model.outline``) and appends its entry, pickled as the records cache keeps it, to an
unnamed temporary file; the build reads the records back, in the order it writes them, a window
at a time. Forked processes read the same file (``os.pread`` moves no file position).
"""

from __future__ import annotations

import os
import pickle
import tempfile
from array import array
from typing import Iterable, Optional

from reported_claims.model.records import Record


class Spill:
    """Pickled entries (``repo.cache.Entry``) in an unnamed temporary file, each found by its number."""

    def __init__(self, folder: Optional[str] = None) -> None:
        self._file = tempfile.TemporaryFile(prefix="reported-claims-", dir=folder)
        self._offsets = array("Q")
        self._lengths = array("I")
        self._end = 0

    def add(self, blob: bytes) -> int:
        """Put aside one entry's pickle; its number."""
        self._file.write(blob)
        self._offsets.append(self._end)
        self._lengths.append(len(blob))
        self._end += len(blob)
        return len(self._offsets) - 1

    def __len__(self) -> int:
        return len(self._offsets)

    def flush(self) -> None:
        """Make what was added readable (before reading, and before processes that read it fork)."""
        self._file.flush()

    def records(self, numbers: Iterable[int]) -> list[Record]:
        """The records of the entries ``numbers``, in that order: each read in one call where they
        stand one after another in the file (a load adds them in about the order a build asks)."""
        wanted = list(numbers)
        fd = self._file.fileno()
        offsets, lengths = self._offsets, self._lengths
        out: list[Optional[Record]] = [None] * len(wanted)
        order = sorted(range(len(wanted)), key=wanted.__getitem__)
        k = 0
        while k < len(order):
            # A run of entries that follow one another in the file, read at once.
            j = k + 1
            while j < len(order) and wanted[order[j]] == wanted[order[j - 1]] + 1:
                j += 1
            first, last = wanted[order[k]], wanted[order[j - 1]]
            start = offsets[first]
            data = self._read(fd, start, offsets[last] + lengths[last] - start)
            view = memoryview(data)
            for i in order[k:j]:
                n = wanted[i]
                at = offsets[n] - start
                out[i] = pickle.loads(view[at:at + lengths[n]]).record
            k = j
        return out  # type: ignore[return-value]

    def _read(self, fd: int, start: int, size: int) -> bytes:
        """``size`` bytes from ``start``: with ``os.pread``, which moves no position that forked
        readers of the same file would share; where there is none (Windows, where no process
        forks), from the file's position."""
        if hasattr(os, "pread"):
            return os.pread(fd, size, start)
        self._file.seek(start)
        return self._file.read(size)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Spill":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
