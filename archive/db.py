"""The archive database: one SQLite file, opened through :class:`Archive`.

Every connection registers the search index's SQL function (the triggers
that keep the index in step call it) and runs in WAL mode, so a crash mid-write never
leaves a half-written document: each page is stored in one transaction.  Every
write is ``db.atomic()``: inside a caller's transaction it is a savepoint, so the
cluster writer commits a page together with its own bookkeeping.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from sqlite_utils import Database

from pipelines import ProcessResult, RawDocument, now_utc, process
from pipelines.store import UNCHANGED, record_failure, store

from . import schema, search
from .rounds import load_rounds

DEFAULT_DB = Path("data/archive.db")


def warc_dir_for(db_path: str | Path) -> Path:
    """Where the raw captures of an archive live: ``warc/`` beside the database."""
    return Path(db_path).resolve().parent / "warc"


CACHE_KIB = 64 * 1024  # the dedupe and search indexes stay in memory as the archive grows


def connect(path: str | Path) -> Database:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30)
    search.register_functions(conn)
    db = Database(conn)
    db.enable_wal()
    # WAL with synchronous=NORMAL never corrupts the file on a crash; at worst
    # the last commits before a power loss are lost, and a re-run redoes them.
    conn.execute("pragma synchronous = normal")
    conn.execute(f"pragma cache_size = -{CACHE_KIB}")
    return db


class Archive:
    def __init__(self, path: str | Path = DEFAULT_DB):
        self.path = Path(path)
        self.db = connect(self.path)
        schema.create(self.db)
        self._load_rounds()

    def _load_rounds(self) -> None:
        rounds = load_rounds().astype(object).where(lambda f: f.notna(), None)
        with self.db.atomic():
            self.db["rounds"].upsert_all(rounds.to_dict(orient="records"), pk="round_id")

    def save(self, result: ProcessResult, raw=None, run_id: int | None = None) -> str:
        """Store one processed page; returns new / updated / unchanged / failed."""
        return store(self.db, result, run_id)

    def ingest(self, raw: RawDocument, run_id: int | None = None) -> tuple[str, ProcessResult | None]:
        """Process and store one raw page — the one path of crawl, import and rebuild.

        Bytes identical to the archived ones are not processed again: the page
        is only marked as seen (outcome ``unchanged``, no result).
        """
        if self.has_bytes(raw):
            self.touch(raw.url, raw.fetched_at)
            return UNCHANGED, None
        result = process(raw)
        return self.save(result, run_id=run_id), result

    def has_bytes(self, raw: RawDocument) -> bool:
        """True when the archived record of ``raw.url`` was made from exactly these bytes."""
        previous = self.document_for_url(raw.url)
        return previous is not None and previous["raw_sha256"] == raw.sha256

    def touch(self, url: str, seen_at: str | None = None) -> None:
        """Record that ``url`` was seen again, unchanged."""
        with self.db.atomic():
            self.db.execute(
                "update documents set last_seen_at = ?, gone_at = null where url = ?", [seen_at or now_utc(), url]
            )

    def record_failure(self, result: ProcessResult, run_id: int | None = None) -> None:
        with self.db.atomic():
            record_failure(self.db, result, run_id)

    def document_for_url(self, url: str) -> dict | None:
        rows = list(self.db["documents"].rows_where("url = ?", [url], limit=1))
        return rows[0] if rows else None

    def pages_on_hosts(self, hosts) -> list[tuple[str, dict]]:
        """(url, list hints) of every archived page on one of ``hosts``."""
        hosts = {h.lower() for h in hosts}
        return [
            (url, json.loads(hints or "{}"))
            for url, hints in self.db.execute("select url, hints from documents order by url")
            if (urlsplit(url).hostname or "") in hosts
        ]

    def mark_gone(self, url: str, at: str | None = None) -> bool:
        """A page that now answers 404/410 is marked, never deleted."""
        with self.db.atomic():
            cursor = self.db.execute(
                "update documents set gone_at = coalesce(gone_at, ?) where url = ?", [at or now_utc(), url]
            )
        return cursor.rowcount > 0

    def start_run(self, spider: str) -> int:
        with self.db.atomic():
            return self.db["crawl_runs"].insert({"spider": spider, "started_at": now_utc(), "status": "running"}).last_pk

    def update_run(self, run_id: int, **columns) -> None:
        """Counts of a run so far (a cluster writer keeps its row current)."""
        if isinstance(columns.get("errors"), dict):
            columns["errors"] = json.dumps(columns["errors"], ensure_ascii=False, sort_keys=True)
        with self.db.atomic():
            self.db["crawl_runs"].update(run_id, columns)

    def finish_run(self, run_id: int, **stats) -> None:
        self.update_run(run_id, **stats, finished_at=now_utc())

    def stream_position(self, stream: str) -> str | None:
        """The last entry of ``stream`` the cluster writer applied."""
        row = self.db.execute("select last_entry from writer_progress where stream = ?", [stream]).fetchone()
        return row[0] if row else None

    def record_stream_position(self, stream: str, entry_id: str) -> None:
        with self.db.atomic():
            self.db["writer_progress"].upsert({"stream": stream, "last_entry": entry_id}, pk="stream")

    def failures_by_kind(self, run_id: int) -> dict[str, int]:
        return dict(self.db.execute("select kind, count(*) from failures where run_id = ? group by kind", [run_id]).fetchall())

    def count(self, table: str) -> int:
        return self.db[table].count

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
