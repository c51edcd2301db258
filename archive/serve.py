"""Serving the archive: Datasette in a child process that stops with its parent.

The entry points (``archive serve``, ``archive demo``) call
:func:`serve_archive`; nothing here parses a command line.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from .children import die_with_parent
from .db import BUSY_TIMEOUT_S, close_dead_runs
from .plugin import limits
from .plugin.database import PLUGIN_NAME
from .schema import METADATA, METADATA_DB_KEY

SQL_TIME_LIMIT_MS = 3000


def datasette_command(
    db_path: str | Path, port: int, host: str, metadata_path: Path, base_path: str = "/", allow_sql: bool = True
) -> list[str]:
    # Not immutable (-i): the archive is written while it is served.  Datasette
    # reads it through read-only connections; in WAL mode each query sees the
    # last committed transaction, so new pages show on the next request.
    return [
        sys.executable, "-m", "datasette", "serve", str(db_path),
        "--metadata", str(metadata_path),
        "--host", host, "--port", str(port),
        "--setting", "sql_time_limit_ms", str(SQL_TIME_LIMIT_MS),
        "--setting", "num_sql_threads", str(limits.SQL_THREADS),
        "--setting", "default_page_size", "50",
        "--setting", "facet_time_limit_ms", "500",
        # Suggesting facets runs a query per column of the table: seconds on a large archive.
        "--setting", "suggest_facets", "off",
        "--setting", "truncate_cells_html", "100",
        "--setting", "base_url", base_path,
        *(() if allow_sql else ("--setting", "default_allow_sql", "off")),
    ]


# The columns holding the archive's longest values: texts of pages and of their earlier
# versions (under the page cap), and what was read from attachments (a 50 MB file may
# unpack to more text than any page holds).
STORED_TEXTS = (("documents", "body_text"), ("versions", "body_text"), ("attachments", "text"), ("attachments", "tables"))


def longest_stored_text(db_path: str | Path) -> int:
    """Bytes of the longest text the archive stores (:data:`STORED_TEXTS`)."""
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        tables = {name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")}
        return max(
            (conn.execute(f"select coalesce(max(length(cast([{column}] as blob))), 0) from [{table}]").fetchone()[0]
             for table, column in STORED_TEXTS if table in tables),
            default=0,
        )
    except sqlite3.DatabaseError:  # not an archive: Datasette says what it is
        return 0
    finally:
        conn.close()


def close_runs_of_dead_crawls(db_path: str | Path) -> list[int]:
    """Runs left ``running`` by a crawl killed outright are marked ``interrupted``
    before the archive is served (crawl health shows them as they are)."""
    conn = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_S)
    try:
        if not conn.execute("select 1 from sqlite_master where name = 'crawl_runs'").fetchone():
            return []
        with conn:
            conn.execute("begin immediate")
            return close_dead_runs(conn)
    except sqlite3.DatabaseError as error:  # read-only here, or not an archive: serving is still possible
        print(f"crawl runs not checked: {error}", file=sys.stderr, flush=True)
        return []
    finally:
        conn.close()


def base_url_parts(base_url: str) -> tuple[str, str]:
    """(origin, path prefix) of a base URL such as ``https://archive.example.org/zhenggai/``."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.netloc.isascii():
        raise ValueError(f"the base URL must be http(s)://HOST[:PORT][/PATH/] in ASCII (punycode), not {base_url!r}")
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/") + "/"


def metadata_for(db_path: str | Path, base_url: str | None = None) -> dict:
    """The project's metadata, keyed by the served database's name (its file stem);
    the plugin's settings: the base URL, the SQL length limit fitting the archive's texts."""
    metadata = json.loads(METADATA.read_text(encoding="utf-8"))
    name = Path(db_path).stem
    databases = metadata.get("databases", {})
    if METADATA_DB_KEY in databases:
        databases[name] = databases.pop(METADATA_DB_KEY)
    for dashboard in metadata.get("plugins", {}).get("datasette-dashboards", {}).values():
        for chart in dashboard.get("charts", {}).values():
            if chart.get("db") == METADATA_DB_KEY:
                chart["db"] = name
    plugins = metadata.setdefault("plugins", {})
    plugins[PLUGIN_NAME] = {
        **plugins.get(PLUGIN_NAME, {}),
        "sql_length_limit": limits.length_limit_for(longest_stored_text(db_path)),
        **({"base_url": base_url_parts(base_url)[0]} if base_url else {}),
    }
    return metadata


class NoArchive(Exception):
    """The archive to serve does not exist."""


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_GRACE_S = 10


def serve_archive(
    db_path: str | Path, port: int = 8001, host: str = "127.0.0.1", base_url: str | None = None, allow_sql: bool = True
) -> int:
    """Serve the archive read-only in Datasette until stopped (SIGTERM, SIGINT or SIGHUP).

    Absolute URLs in its answers use ``base_url`` (default ``http://HOST:PORT/``
    of the bound address), whatever Host a request names; ``allow_sql`` False
    turns ad-hoc SQL off.

    Serving never creates an archive: a missing file is an error (a mistyped
    ``--db`` would otherwise serve an empty one).  Datasette runs as a child
    process: a stop signal is passed on to it and waited for, and the child
    also dies with this process if it is killed outright.
    """
    if not Path(db_path).is_file():
        raise NoArchive(f"no archive at {db_path}: serve never creates one (import, crawl or rebuild do)")
    for run_id in close_runs_of_dead_crawls(db_path):
        print(f"crawl run {run_id} was left running by a process that has ended: marked interrupted", flush=True)
    base_url = base_url or f"http://{host}:{port}/"
    base_path = base_url_parts(base_url)[1]
    with tempfile.TemporaryDirectory() as tmp:
        metadata_path = Path(tmp) / "metadata.json"
        metadata_path.write_text(json.dumps(metadata_for(db_path, base_url), ensure_ascii=False), encoding="utf-8")
        print(f"serving {db_path} at http://{host}:{port}{base_path} as {base_url}", flush=True)
        child = subprocess.Popen(
            datasette_command(db_path, port, host, metadata_path, base_path, allow_sql), preexec_fn=die_with_parent
        )
        stopped = []

        def stop(signum, frame):
            stopped.append(signum)
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

        previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
        try:
            while True:
                try:
                    code = child.wait(timeout=STOP_GRACE_S if stopped else None)
                    break
                except subprocess.TimeoutExpired:  # stopping, and the server does not
                    child.kill()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if child.poll() is None:
                child.kill()
                child.wait()
        return 0 if stopped else code
