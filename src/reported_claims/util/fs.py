"""Writing files so that a reader never sees half of one: write beside, fsync, rename.

Every file the project publishes or rewrites (generated schemas, formatted records, release
assets, exports) goes through ``atomic_write``: the content is written to a temporary file in
the same folder, flushed to disk, renamed over the target (atomic on POSIX and Windows), and
the folder entry is flushed too. On any failure the temporary file is removed and the target
is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, Union


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
def atomic_file(path: Union[str, os.PathLike], mode: str = "wb") -> Iterator:
    """A file object whose content replaces ``path`` atomically when the block ends without error."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_write(path: Union[str, os.PathLike], data: Union[bytes, str]) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8, ``\\n`` kept as is)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_file(path, "wb") as f:
        f.write(data)


def remove(path: Union[str, os.PathLike]) -> None:
    """Remove a file, a link or a whole folder (never following a link); nothing if absent."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
