"""Writing files so that a reader never sees half of one: write beside, fsync, rename.

Every file the project publishes or rewrites (generated schemas, formatted records, release
assets, exports) goes through ``atomic_write``: the content is written to a temporary file in
the same folder, flushed to disk, renamed over the target (atomic on POSIX and Windows), and
the folder entry is flushed too. On any failure the temporary file is removed and the target
is left as it was. ``locked`` is the one lock that keeps two writers of a folder apart.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

from reported_claims.errors import ReportedClaimsError

POLL = 0.1
"""Seconds between two attempts to take a lock that another process holds."""


def fsync_dir(folder: Union[str, os.PathLike]) -> None:
    """Flush a folder's entries (a rename in it) to disk; a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; its renames are durable already
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: Union[str, os.PathLike], mode: str = "wb", buffering: int = -1) -> Iterator:
    """A file object whose content replaces ``path`` atomically when the block ends without error
    (``buffering`` as ``open`` takes it)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file private (0600); the result must be as readable as a plain write.
        os.chmod(tmp, _mode(path))
        with os.fdopen(fd, mode, buffering, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def _mode(path: Path) -> int:
    """The permissions of ``path`` when it exists, else those a new file gets under the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path: Union[str, os.PathLike], data: Union[bytes, str]) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8, ``\\n`` kept as is)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_file(path, "wb") as f:
        f.write(data)


def link_or_copy(source: Union[str, os.PathLike], target: Union[str, os.PathLike]) -> None:
    """Make ``target`` (which must not exist) the file ``source`` is: a hard link where the file
    system allows it, else a copy written as ``atomic_write`` writes. Only for files that are
    replaced, never written in place: the two names share one file until one is replaced."""
    try:
        os.link(source, target)
    except OSError:
        with open(source, "rb") as f:
            atomic_write(target, f.read())


def remove(path: Union[str, os.PathLike]) -> None:
    """Remove a file, a link or a whole folder (never following a link); nothing if absent."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


class LockTimeout(ReportedClaimsError, TimeoutError):
    """Another process still held a lock when the time to wait for it ran out."""


def _try_lock(f) -> bool:
    """Take the exclusive lock of the open file ``f`` if it is free; never wait."""
    try:
        import fcntl
    except ImportError:  # Windows: msvcrt locks the first byte of the file
        import msvcrt

        f.seek(0)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(f) -> None:
    try:
        import fcntl
    except ImportError:
        import msvcrt

        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def locked(path: Union[str, os.PathLike], wait: Optional[float] = None,
           on_wait: Optional[Callable[[], None]] = None) -> Iterator[None]:
    """Hold the exclusive lock of the file ``path`` (created if absent) for the block.

    When another process holds it, ``on_wait`` is called once, at once, and the lock is tried
    again until it is free; after ``wait`` seconds (None: no bound) ``LockTimeout`` is raised.
    The lock is the operating system's, so it is released when its holder dies.
    """
    with open(path, "a") as f:
        if not _try_lock(f):
            if on_wait is not None:
                on_wait()
            deadline = None if wait is None else time.monotonic() + wait
            while not _try_lock(f):
                if deadline is not None and time.monotonic() >= deadline:
                    raise LockTimeout(f"{Path(path).name} is still held after {wait:g} s")
                time.sleep(POLL)
        try:
            yield
        finally:
            _unlock(f)
