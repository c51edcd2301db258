"""Serving the archive: Datasette in a child process that stops with its parent.

The entry points (``archive serve``, ``archive demo``) call
:func:`serve_archive`; nothing here parses a command line.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .children import die_with_parent
from .schema import METADATA, METADATA_DB_KEY


def datasette_command(db_path: str | Path, port: int, host: str, metadata_path: Path) -> list[str]:
    # Not immutable (-i): the archive is written while it is served.  Datasette
    # reads it through read-only connections; in WAL mode each query sees the
    # last committed transaction, so new pages show on the next request.
    return [
        sys.executable, "-m", "datasette", "serve", str(db_path),
        "--metadata", str(metadata_path),
        "--host", host, "--port", str(port),
        "--setting", "sql_time_limit_ms", "3000",
        "--setting", "default_page_size", "50",
        "--setting", "facet_time_limit_ms", "500",
        # Suggesting facets runs a query per column of the table: seconds on a large archive.
        "--setting", "suggest_facets", "off",
        "--setting", "truncate_cells_html", "100",
    ]


def metadata_for(db_path: str | Path) -> dict:
    """The project's metadata, keyed by the served database's name (its file stem)."""
    metadata = json.loads(METADATA.read_text(encoding="utf-8"))
    name = Path(db_path).stem
    databases = metadata.get("databases", {})
    if METADATA_DB_KEY in databases:
        databases[name] = databases.pop(METADATA_DB_KEY)
    for dashboard in metadata.get("plugins", {}).get("datasette-dashboards", {}).values():
        for chart in dashboard.get("charts", {}).values():
            if chart.get("db") == METADATA_DB_KEY:
                chart["db"] = name
    return metadata


class NoArchive(Exception):
    """The archive to serve does not exist."""


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_GRACE_S = 10


def serve_archive(db_path: str | Path, port: int = 8001, host: str = "127.0.0.1") -> int:
    """Serve the archive read-only in Datasette until stopped (SIGTERM, SIGINT or SIGHUP).

    Serving never creates an archive: a missing file is an error (a mistyped
    ``--db`` would otherwise serve an empty one).  Datasette runs as a child
    process: a stop signal is passed on to it and waited for, and the child
    also dies with this process if it is killed outright.
    """
    if not Path(db_path).is_file():
        raise NoArchive(f"no archive at {db_path}: serve never creates one (import, crawl or rebuild do)")
    with tempfile.TemporaryDirectory() as tmp:
        metadata_path = Path(tmp) / "metadata.json"
        metadata_path.write_text(json.dumps(metadata_for(db_path), ensure_ascii=False), encoding="utf-8")
        print(f"serving {db_path} at http://{host}:{port}/", flush=True)
        child = subprocess.Popen(datasette_command(db_path, port, host, metadata_path), preexec_fn=die_with_parent)
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
