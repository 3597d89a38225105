"""Progress on a terminal: a line on stderr that a long run rewrites, and nothing elsewhere.

Shown only when the stream is a terminal and the run has already taken ``after`` seconds:
quick runs, CI logs and pipes never see it.
"""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO

AFTER = 2.0
"""Seconds before the first progress line: a run quicker than this shows none."""


class Progress:
    """``progress(done, total)`` as files are read; ``done()`` clears the line."""

    def __init__(self, label: str, stream: Optional[TextIO] = None, *, enabled: Optional[bool] = None,
                 after: float = AFTER):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.start = time.monotonic()
        self.after = after
        self.shown = False
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.after or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        percent = 100 * done // total if total else 100
        self.stream.write(f"\r{self.label}: {done}/{total} files ({percent}%)")
        self.stream.flush()
        self.shown = True

    def step(self, what: str) -> None:
        """Name the step a run has moved on to (after the files are read)."""
        if self.enabled and time.monotonic() - self.start >= self.after:
            self.stream.write(f"\r\x1b[K{self.label}: {what}")
            self.stream.flush()
            self.shown = True

    def done(self) -> None:
        """Clear the line, so that what follows starts on a clean one."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False
