"""The archive's writer lock: ``<db>.lock`` beside the database (``flock``).

Writers share it: a crawl, an import, a distributed crawl's writer process
(:class:`archive.db.Archive` takes it when it opens an archive to write).
SQLite lets one of them write at a time — each write transaction is short and
begins ``IMMEDIATE``, the others wait on the busy timeout — so they run side by
side and each finishes with what it would have alone.

A rebuild takes it exclusively: it replaces everything the archive holds, so
nothing may be written meanwhile.  A writer that starts during a rebuild waits
for it to end and says so; a rebuild that finds writers at work (or another
rebuild) stops with a message, or waits when asked to.  A writer that finds
the schema missing or outdated (a new archive) takes it exclusively for the
moment it creates it, so two writers starting on a new file do not both.  The lock is the
kernel's: a process killed with SIGKILL releases it.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from pathlib import Path


class ArchiveBusy(Exception):
    """The lock is held and the caller chose not to wait."""


def lock_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}.lock")


class ArchiveLock:
    def __init__(self, db_path: str | Path):
        self.db_path = Path(db_path)
        self.path = lock_path(db_path)
        self._fd: int | None = None

    def acquire(self, exclusive: bool = False, wait: bool = True, what: str = "") -> ArchiveLock:
        """Take the lock, shared (a writer) or exclusive (a rebuild, named by ``what``).

        When it is held: wait, telling stderr who holds it, or raise :class:`ArchiveBusy`.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(fd) if not exclusive else "an import, a crawl or another rebuild"
            if not wait:
                os.close(fd)
                raise ArchiveBusy(f"{self.db_path} is in use by {holder}") from None
            print(f"waiting for {holder} to finish with {self.db_path} …", file=sys.stderr, flush=True)
            started = time.monotonic()
            fcntl.flock(fd, mode)
            print(f"… {self.db_path} is free after {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        if exclusive:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{what or 'a rebuild'} (pid {os.getpid()})".encode(), 0)
        self._fd = fd
        return self

    @staticmethod
    def _holder(fd: int) -> str:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "a rebuild"

    def share(self) -> None:
        """Turn an exclusive lock into a shared one (after creating the schema)."""
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> ArchiveLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
