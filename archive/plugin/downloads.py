"""The whole database as one SQLite file, at ``/<database>.db``: a consistent snapshot, not the live file.

Datasette offers a download only of an immutable database; the archive is
written while it is served, and its live file is not the whole of it (the last
transactions sit in its WAL).  Here a download is a copy made by SQLite's
backup API inside one read transaction (every committed write up to that
moment, nothing half-written), with its journal switched out of WAL so it is
one file that any ``sqlite3`` opens and searches (the index holds its own
text: ``archive.search_index`` says how).  A copy serves every download until the
archive changes; it is sent with its size, its date and a dated file name.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import sqlite3
import tempfile
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

from datasette import NotFound
from datasette.utils.asgi import AsgiFileDownload

from .bounds import archive_state

ROUTE = r"^/(?P<database>[^/]+)\.db$"
_snapshots: dict[str, tuple[tuple, Path, datetime]] = {}
_lock = asyncio.Lock()


def snapshot(source: str, target: Path) -> None:
    """Copy the database at ``source`` into ``target`` in one read transaction, as a single-file database."""
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)  # all pages in one step: one consistent read of the archive
        writer.execute("pragma journal_mode = delete")
    finally:
        writer.close()
        reader.close()


def last_changed(path: str) -> datetime:
    """When the archive was last written: its file's or its WAL's modification time."""
    times = [os.stat(p).st_mtime for p in (path, path + "-wal") if os.path.exists(p)]
    return datetime.fromtimestamp(max(times), timezone.utc)


def live_size(path: str) -> int:
    """The archive's size on disk now (file and WAL): about the size of a snapshot."""
    return sum(os.stat(p).st_size for p in (path, path + "-wal") if os.path.exists(p))


async def _current_snapshot(datasette, database) -> tuple[Path, datetime]:
    async with _lock:
        state = archive_state(datasette)
        kept = _snapshots.get(database.name)
        if kept and kept[0] == state and kept[1].exists():
            return kept[1], kept[2]
        taken = datetime.now(timezone.utc)
        folder = Path(tempfile.mkdtemp(prefix="zhenggai-snapshot-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)  # the copies go with the server
        target = folder / f"{database.name}-{taken:%Y%m%dT%H%M%SZ}.db"
        await asyncio.to_thread(snapshot, database.path, target)
        if kept:  # the older copy: a download still reading it keeps its open file
            kept[1].unlink(missing_ok=True)
            kept[1].parent.rmdir()
        _snapshots[database.name] = (state, target, taken)
        return target, taken


async def database_download(datasette, request):
    name = request.url_vars["database"]
    try:
        database = datasette.get_database(name)
    except KeyError:
        raise NotFound(f"no database {name}") from None
    if not database.path or name == "_internal":
        raise NotFound(f"{name} is not a database file")
    path, taken = await _current_snapshot(datasette, database)
    return AsgiFileDownload(
        path, filename=path.name, content_type="application/vnd.sqlite3",
        headers={"last-modified": format_datetime(taken, usegmt=True), "cache-control": "no-store"},
    )


ROUTES = [(ROUTE, database_download)]
