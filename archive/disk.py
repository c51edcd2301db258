"""A full disk, told apart from other errors and said in one line.

SQLite says ``database or disk is full`` (SQLITE_FULL) and a file write raises
``OSError`` ENOSPC (or EDQUOT, a quota); either may come from any write of an
import or a rebuild.  The commands turn it into :class:`DiskFull`: the folder
whose disk is full, what is free there and about how much the work needs.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from pipelines.text import printable

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


class DiskFull(Exception):
    """The disk holding ``folder`` has not the room the work needs; ``stored``: pages an
    import stored (whole) before it stopped."""

    stored = 0

    def __init__(self, folder: Path, needed: int, what: str):
        self.folder, self.needed = folder, needed
        super().__init__(
            f"the disk holding {printable(str(folder))} has {megabytes(free_bytes(folder))} free; "
            f"{what} needs about {megabytes(needed)}"
        )


def is_disk_full(exc: BaseException) -> bool:
    """True for an error that says the disk (or the user's quota) is full, or one caused by it."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if isinstance(exc, sqlite3.Error) and (
            getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def free_bytes(path: Path) -> int:
    """Free bytes on the disk holding ``path`` (its nearest existing folder)."""
    path = Path(path).absolute()
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


def size_of(*paths: Path) -> int:
    """Bytes of the files among ``paths`` and in the folders among them."""
    files = (file for path in map(Path, paths) for file in ([path] if path.is_file() else path.rglob("*")))
    return sum(file.stat().st_size for file in files if file.is_file())


def megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"
