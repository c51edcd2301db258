"""The archive database: one SQLite file, opened through :class:`Archive`.

Every connection registers the search index's SQL function (the triggers
that keep the index in step call it) and runs in WAL mode: readers (Datasette)
never block the writer and always see a whole transaction or none of it, and a
crash mid-write never leaves a half-written document.

Writes: an :class:`Archive` opened to write holds the shared writer lock
(:mod:`archive.lock`); every write transaction begins ``IMMEDIATE`` (the write
lock is taken before anything is read, so two writers queue on SQLite's busy
timeout instead of failing with "database is locked").  A crawl stores each page
in its own transaction; :meth:`Archive.ingest_all` (import, rebuild, a
distributed crawl's writer) processes pages in worker processes and stores
them a batch per transaction — each batch whole or not at all.
Inside a caller's transaction a write joins it, so the cluster writer commits a
page together with its own bookkeeping.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlite_utils import Database

from captures import ATTACHMENT, GONE, Page
from pipelines import (
    MAX_PAGE_BYTES, RETURN_FREED_FROM, ProcessResult, RawDocument, dedupe, now_utc, prepare, process, return_freed_memory,
)
from pipelines.attachments import extract_attachment
from pipelines.disclosure.rounds import load_rounds

from crawler.port import RUN_INTERRUPTED, RUN_RUNNING

from . import attachments, liveness, schema, search_index, units
from .children import ingest_worker
from .lock import ArchiveLock
from .rows import query_rows
from .store import FAILED, UNCHANGED, record_failure, store

DEFAULT_DB = Path("data/archive.db")


def warc_dir_for(db_path: str | Path) -> Path:
    """Where the raw captures of an archive live: ``warc/`` beside the database."""
    return Path(db_path).resolve().parent / "warc"


CACHE_KIB = 64 * 1024  # the dedupe and search indexes stay in memory as the archive grows


# How long a writer waits for another one's transaction (a batch lasts well under a second).
BUSY_TIMEOUT_S = 120
# Pages per write transaction of ingest_all: large enough that a commit costs
# little per page, small enough that readers see new pages within a second or
# two and another writer waits no longer than that.
BATCH_PAGES = 64
# ... and at most half the memory budget: a batch is processed (in parallel) while the one
# before is stored, so two batches are in memory at once.  What a page takes, processed and
# until its batch is stored, is estimated from its size: PAGE_MEMORY_MULTIPLE times it, plus
# PAGE_MEMORY_FIXED (bench/bench_page_memory.py: at most 14.7 MB per MB of a 9.9 MB page above
# the process's own memory, SQLite's page cache included; a small page's rows, signature and
# text, well under a megabyte).
PAGE_MEMORY_MULTIPLE = 15
PAGE_MEMORY_FIXED = 1 << 20
# The budget: ARCHIVE_MEMORY_MB, else room for two batches of two pages at the 10 MB cap
# (as the 20 MB bound on a batch's bytes allowed before): 604 MB.
MEMORY_ENV = "ARCHIVE_MEMORY_MB"
DEFAULT_MEMORY_MB = 4 * (PAGE_MEMORY_FIXED + PAGE_MEMORY_MULTIPLE * MAX_PAGE_BYTES) // 2**20
# ingest_all processes pages in worker processes from this many pages on.
PARALLEL_FROM = 100


def connect(path: str | Path) -> Database:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
    search_index.register_functions(conn)
    db = Database(conn)
    db.enable_wal()
    # WAL with synchronous=NORMAL never corrupts the file on a crash; at worst
    # the last commits before a power loss are lost, and a re-run redoes them.
    conn.execute("pragma synchronous = normal")
    conn.execute(f"pragma cache_size = -{CACHE_KIB}")
    return db


class Archive:
    """The archive, opened to write (the shared writer lock is held until :meth:`close`).

    It is what a crawl writes to: it has the methods of ``crawler.port.WritingArchive``."""

    def __init__(self, path: str | Path = DEFAULT_DB, wait: bool = True):
        self.path = Path(path)
        self.lock = ArchiveLock(self.path)
        up_to_date = self.path.exists() and schema.is_current(self.path)
        self.lock.acquire(exclusive=not up_to_date, wait=wait, what="a writer creating the archive's tables")
        try:
            self.db = connect(self.path)
            if not up_to_date:
                schema.create(self.db)
                self._load_rounds()
                self.lock.share()
        except BaseException:
            self.lock.release()
            raise

    def _load_rounds(self) -> None:
        rounds = load_rounds().astype(object).where(lambda f: f.notna(), None)
        with self.transaction():
            self.db["rounds"].upsert_all(rounds.to_dict(orient="records"), pk="round_id")

    @contextmanager
    def transaction(self):
        """One write transaction, begun IMMEDIATE; a block inside another joins it."""
        conn = self.db.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def save(self, result: ProcessResult, raw=None, run_id: int | None = None) -> str:
        """Store one processed page; returns new / updated / unchanged / failed."""
        with self.transaction():
            outcome = store(self.db, result, run_id)
            if result.ok:
                attachments.page_stored(self.db, result)
            return outcome

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

    def ingest_all(
        self, items: Iterable[Page | ProcessResult], run_id: int | None = None, parallel: bool | None = None,
        memory: int | None = None,
    ) -> Iterator[tuple[RawDocument, str, ProcessResult | None]]:
        """:meth:`ingest` for many pages, in order, with the same result: (raw, outcome, result) of each
        (a page processed here is handed back without its bytes: :func:`process_and_sign`).

        ``items``: pages (``Page.kind`` ``article``, ``gone`` or ``attachment``: a file, read
        and stored by :meth:`_store_attachment` while its batch is written) and results
        that already failed (a file that could not be read).  Pages are
        processed in worker processes (``parallel``; by default when
        ``items`` has a length of at least :data:`PARALLEL_FROM`) and stored
        :data:`BATCH_PAGES` per transaction, one batch while the workers
        process the next; the pages of two batches are estimated to take at most
        ``memory`` bytes (:func:`memory_budget` unless given; :func:`_batches`).  A page whose URL is in a batch not yet stored
        waits for it, so repeated captures of one page give versions exactly
        as one by one.
        """
        if parallel is None:
            parallel = hasattr(items, "__len__") and len(items) >= PARALLEL_FROM and (os.cpu_count() or 1) > 1
        if parallel:
            prepare()  # once, before the workers are forked, not once in each
        pool = multiprocessing.Pool(os.cpu_count(), initializer=ingest_worker) if parallel else None
        waiting: _Batch | None = None  # processed (or being processed), not yet stored
        try:
            for items_of_batch in _batches(items, memory_budget() if memory is None else memory):
                if waiting is not None and waiting.urls & {item.raw.url for item in items_of_batch}:
                    yield from self._store_batch(waiting, run_id)
                    waiting = None
                batch = self._decide(items_of_batch, pool)
                if waiting is not None:
                    yield from self._store_batch(waiting, run_id)
                waiting = batch
            if waiting is not None:
                yield from self._store_batch(waiting, run_id)
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()

    def _decide(self, items: list, pool) -> _Batch:
        """What each page of a batch needs, its processing started (in the pool, when there is one)."""
        batch = _Batch()
        to_process = []
        for item in items:
            batch.urls.add(item.raw.url)
            if isinstance(item, ProcessResult):
                batch.steps.append((item.raw, FAILED, item))
            elif item.kind == GONE:
                batch.steps.append((item.raw, GONE, None))
            elif item.kind == ATTACHMENT:  # read here, before the write transaction (OCR takes minutes)
                batch.steps.append((item.raw, ATTACHMENT, _read_attachment(item.raw)))
            elif self.has_bytes(item.raw):
                batch.steps.append((item.raw, UNCHANGED, None))
            else:
                batch.steps.append((item.raw, _PROCESS, None))
                to_process.append(item.raw)
        if pool is not None:
            batch.processed = pool.map_async(process_and_sign, to_process)
        else:
            batch.processed = [process_and_sign(raw) for raw in to_process]
        return batch

    def _store_batch(self, batch: _Batch, run_id: int | None) -> list:
        processed = iter(batch.processed if isinstance(batch.processed, list) else batch.processed.get())
        done = []
        with self.transaction():
            for raw, step, result in batch.steps:
                if step == GONE:
                    self.mark_gone(raw.url, raw.fetched_at)
                    outcome = GONE
                elif step == UNCHANGED:
                    self.touch(raw.url, raw.fetched_at)
                    outcome = UNCHANGED
                elif step == ATTACHMENT:
                    outcome, result = self._store_attachment(raw, result, run_id)
                else:
                    result = next(processed) if step == _PROCESS else result
                    outcome = store(self.db, result, run_id)
                    if result.ok:
                        attachments.page_stored(self.db, result)
                done.append((raw, outcome, result))
        return done

    def read_attachment(self, raw: RawDocument):
        """The text of a file a page links, or :data:`_READ_BEFORE` when the archive holds a reading
        of these very bytes (a re-crawl fetches every file again: a scan is not OCR'd again).
        Safe in any thread: it looks through a read-only connection of its own."""
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            held = attachments.holds_reading(conn, (raw.hints or {}).get("page_url"), raw.url, raw.body)
        finally:
            conn.close()
        return _READ_BEFORE if held else _read_attachment(raw)

    def ingest_attachment(self, raw: RawDocument, run_id: int | None = None, attachment=None
                          ) -> tuple[str, ProcessResult | None]:
        """Store one file a page links (``raw.hints``: ``page_url``, ``name``), read first unless
        ``attachment`` is its reading (:meth:`read_attachment`), as :meth:`ingest_all` does:
        ``attachment``, ``unchanged`` (these bytes were read before), or ``failed`` with the reason."""
        if attachment is _READ_BEFORE or (attachment is None and attachments.holds_reading(
                self.db.conn, (raw.hints or {}).get("page_url"), raw.url, raw.body)):
            return UNCHANGED, None
        attachment = attachment or _read_attachment(raw)
        with self.transaction():
            return self._store_attachment(raw, attachment, run_id)

    def _store_attachment(self, raw: RawDocument, attachment, run_id: int | None) -> tuple[str, ProcessResult | None]:
        """A file of an import or a capture, as read: ``attachment``, or ``failed`` with the reason."""
        attachments.store_attachment(self.db, (raw.hints or {}).get("page_url"), raw.url, attachment, warc_file=raw.warc_file,
                                     warc_record_id=raw.warc_record_id, fetched_at=raw.fetched_at, run_id=run_id)
        if attachment.failure is not None:
            return FAILED, ProcessResult(raw, failure=attachment.failure)
        return ATTACHMENT, None

    def has_bytes(self, raw: RawDocument) -> bool:
        """True when the archived record of ``raw.url`` was made from exactly these bytes."""
        previous = self.document_for_url(raw.url)
        return previous is not None and previous["raw_sha256"] == raw.sha256

    def touch(self, url: str, seen_at: str | None = None) -> None:
        """Record that ``url`` was seen again, unchanged."""
        with self.transaction():
            self.db.execute(
                "update documents set last_seen_at = ?, gone_at = null where url = ?", [seen_at or now_utc(), url]
            )

    def record_failure(self, result: ProcessResult, run_id: int | None = None, retry: dict | None = None) -> None:
        """A page that failed a stage; ``retry``: it was lost to a passing fault,
        and this is how its spider asks for it again (``crawler.failures``)."""
        with self.transaction():
            record_failure(self.db, result, run_id, retry)

    def unarchived_pages(self, run_id: int) -> list[tuple[str, dict]]:
        """(url, retry) of the pages run ``run_id`` lost to a passing fault and
        nothing has archived since, in the order they were lost."""
        rows = self.db.execute(
            "select url, retry from failures where run_id = ? and retry is not null"
            " and url not in (select url from documents) group by url order by min(id)",
            [run_id],
        ).fetchall()
        return [(url, json.loads(retry)) for url, retry in rows]

    def pages_to_retry(self, spider: str) -> list[tuple[str, dict]]:
        """:meth:`unarchived_pages` of the spider's last finished run."""
        row = self.db.execute(
            "select max(id) from crawl_runs where spider = ? and finished_at is not null", [spider]
        ).fetchone()
        return self.unarchived_pages(row[0]) if row[0] is not None else []

    def document_for_url(self, url: str) -> dict | None:
        return next(iter(query_rows(self.db.conn, "select * from documents where url = ? limit 1", [url])), None)

    def known_pages(self, hosts) -> dict[str, dict]:
        """``{url: {"published_at", "hints"}}`` of every archived page on one of ``hosts``, by URL."""
        hosts = {h.lower() for h in hosts}
        return {
            url: {"published_at": published_at, "hints": json.loads(hints or "{}")}
            for url, published_at, hints in self.db.execute("select url, published_at, hints from documents order by url")
            if (urlsplit(url).hostname or "") in hosts
        }

    def pages_on_hosts(self, hosts) -> list[tuple[str, dict]]:
        """(url, list hints) of every archived page on one of ``hosts``."""
        return [(url, page["hints"]) for url, page in self.known_pages(hosts).items()]

    def mark_gone(self, url: str, at: str | None = None) -> bool:
        """A page that now answers 404/410 is marked, never deleted."""
        with self.transaction():
            cursor = self.db.execute(
                "update documents set gone_at = coalesce(gone_at, ?) where url = ?", [at or now_utc(), url]
            )
        return cursor.rowcount > 0

    def last_run(self, spider: str) -> dict | None:
        """The spider's latest ``crawl_runs`` row, or None before its first run."""
        rows = query_rows(self.db.conn, "select * from crawl_runs where spider = ? order by id desc limit 1", [spider])
        return next(iter(rows), None)

    def run(self, run_id: int) -> dict | None:
        """A ``crawl_runs`` row, or None."""
        return next(iter(query_rows(self.db.conn, "select * from crawl_runs where id = ?", [run_id])), None)

    def discovered_columns(self, hosts) -> list:
        """Columns discovery found on ``hosts`` (:mod:`archive.discovered`)."""
        from .discovered import known_columns

        return known_columns(self, hosts)

    def record_discovered_column(self, url: str, host: str, name: str | None, found_by: str, depth: int,
                                 articles_listed: int) -> None:
        from .discovered import DiscoveredColumn, record_column

        record_column(self, DiscoveredColumn(url, host, name, found_by, depth), articles_listed)

    def start_run(self, spider: str) -> int:
        """A new run row, naming this process so that its death can be told (:mod:`archive.liveness`)."""
        row = {"spider": spider, "started_at": now_utc(), "status": RUN_RUNNING, **liveness.this_process()}
        with self.transaction():
            return self.db["crawl_runs"].insert(row).last_pk

    def adopt_runs(self, run_ids, message: str) -> None:
        """Runs a resumed crawl carries on (a cluster coordinator started again): ``running``
        again, naming this process, with ``message``, unless they have ended."""
        process = liveness.this_process()
        with self.transaction():
            for run_id in run_ids:
                self.db.execute(
                    "update crawl_runs set status = ?, message = ?, pid = ?, host = ?, process_started = ? "
                    "where id = ? and finished_at is null",
                    [RUN_RUNNING, message, process["pid"], process["host"], process["process_started"], run_id],
                )

    def close_open_runs(self, run_ids, status: str, message: str) -> list[int]:
        """Finish those of ``run_ids`` still open (their spider never closed); returns their ids."""
        run_ids = [run_id for run_id in run_ids if run_id is not None]
        with self.transaction():
            open_runs = [
                row[0] for row in self.db.execute(
                    f"select id from crawl_runs where finished_at is null and id in ({','.join('?' * len(run_ids))})", run_ids
                )
            ]
            for run_id in open_runs:
                _close_run(self.db.conn, run_id, status, message, finished_at=now_utc())
        return open_runs

    def close_dead_runs(self) -> list[int]:
        """:func:`close_dead_runs` in a transaction of this archive."""
        with self.transaction():
            return close_dead_runs(self.db.conn)

    def update_run(self, run_id: int, **columns) -> None:
        """Counts of a run so far (a cluster writer keeps its row current)."""
        if isinstance(columns.get("errors"), dict):
            columns["errors"] = json.dumps(columns["errors"], ensure_ascii=False, sort_keys=True)
        with self.transaction():
            self.db["crawl_runs"].update(run_id, columns)

    def finish_run(self, run_id: int, **stats) -> None:
        self.update_run(run_id, **stats, finished_at=now_utc())

    def end_runs_left_running(self, message_prefix: str, message: str) -> int:
        """End the runs still ``running`` whose message begins with ``message_prefix``
        (a cluster crawl's, lost with Redis's data while no coordinator watched) as
        ``failing`` with ``message``; returns how many."""
        with self.transaction():
            cursor = self.db.execute(
                "update crawl_runs set status = 'failing', message = ?, finished_at = ?"
                " where status = 'running' and finished_at is null and substr(message, 1, ?) = ?",
                [message, now_utc(), len(message_prefix), message_prefix],
            )
        return cursor.rowcount

    def stream_position(self, stream: str) -> str | None:
        """The last entry of ``stream`` the cluster writer applied."""
        row = self.db.execute("select last_entry from writer_progress where stream = ?", [stream]).fetchone()
        return row[0] if row else None

    def record_stream_position(self, stream: str, entry_id: str) -> None:
        with self.transaction():
            self.db["writer_progress"].upsert({"stream": stream, "last_entry": entry_id}, pk="stream")

    def failures_by_kind(self, run_id: int) -> dict[str, int]:
        return dict(self.db.execute("select kind, count(*) from failures where run_id = ? group by kind", [run_id]).fetchall())

    def count(self, table: str) -> int:
        return self.db[table].count

    def close(self) -> None:
        # Units and inspections are derived from the texts: linked again once per writer, at its end,
        # when what they are derived from changed.
        try:
            units.refresh_if_changed(self.db, self.transaction)
        finally:
            self.db.conn.close()
            self.lock.release()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def close_dead_runs(conn: sqlite3.Connection) -> list[int]:
    """Mark ``interrupted`` every run still ``running`` whose process has ended (killed
    outright: SIGKILL, power loss), with what it had archived; returns their ids.
    A run of another host, or one that names no process, is left as it is."""
    closed = []
    for run in query_rows(conn, "select * from crawl_runs where status = ? and finished_at is null", [RUN_RUNNING]):
        if liveness.is_running(run.get("pid"), run.get("host"), run.get("process_started")) is not False:
            continue
        message = (
            f"interrupted: process {run['pid']} on {run['host']} ended without closing its run "
            f"(SIGKILL or power loss); archived before: {run['documents_new'] or 0} new, "
            f"{run['documents_updated'] or 0} updated, {run['documents_unchanged'] or 0} unchanged, "
            f"{run['failures'] or 0} failed"
        )
        _close_run(conn, run["id"], RUN_INTERRUPTED, message)
        closed.append(run["id"])
    return closed


def _close_run(conn: sqlite3.Connection, run_id: int, status: str, message: str, finished_at: str | None = None) -> None:
    """A run closed by someone else than its pipeline: its counts are those it recorded as it went."""
    conn.execute(
        "update crawl_runs set status = ?, message = ?, finished_at = ?, documents_new = coalesce(documents_new, 0), "
        "documents_updated = coalesce(documents_updated, 0), documents_unchanged = coalesce(documents_unchanged, 0), "
        "failures = coalesce(failures, 0) where id = ?",
        [status, message, finished_at, run_id],
    )


_PROCESS = "process"
# What read_attachment answers for a file whose bytes the archive has read before.
_READ_BEFORE = object()


@dataclass
class _Batch:
    """Pages of one write transaction: (raw, step, result) each, and their processing."""

    steps: list = field(default_factory=list)
    urls: set = field(default_factory=set)
    processed: object = None  # the results of the pages to process, in order: a list or the pool's AsyncResult


def _read_attachment(raw: RawDocument):
    """The text of a file of an import or a capture (its reader runs in a bounded child)."""
    name = (raw.hints or {}).get("name") or unquote(urlsplit(raw.url).path.rsplit("/", 1)[-1])
    return extract_attachment(raw.body, name, raw.content_type)


def process_and_sign(raw: RawDocument) -> ProcessResult:
    """:func:`pipelines.process` plus the text's MinHash signature, so the
    signature is computed once, in the worker, not again when stored."""
    result = process(raw)
    if result.ok:
        result.signature = dedupe.signature(result.document["body_text"])
    # Processed, the page's bytes are dropped (``raw.body`` is empty after): they are in the WARC
    # record written before, their hash in the document; a worker does not send them back, and
    # a batch does not hold them while it is stored (10 MB of a 10 MB page's peak).
    large = len(raw.body) >= RETURN_FREED_FROM
    raw.body = b""
    if large:  # what the stages freed, handed back before the store needs memory
        return_freed_memory()
    return result


def page_memory(size: int) -> int:
    """The memory a page of ``size`` bytes is estimated to take, processed and waiting to be stored."""
    return PAGE_MEMORY_FIXED + PAGE_MEMORY_MULTIPLE * size


def memory_budget() -> int:
    """What the pages in flight in :meth:`Archive.ingest_all` may take together, in bytes
    (``ARCHIVE_MEMORY_MB``, else :data:`DEFAULT_MEMORY_MB`)."""
    value = os.environ.get(MEMORY_ENV, "").strip()
    try:
        megabytes = float(value) if value else DEFAULT_MEMORY_MB
    except ValueError:
        raise ValueError(f"{MEMORY_ENV}={value!r}: a number of megabytes is needed") from None
    if megabytes <= 0:
        raise ValueError(f"{MEMORY_ENV}={value!r}: a number of megabytes is needed")
    return int(megabytes * 2**20)


def _batches(items: Iterable, budget: int) -> Iterator[list]:
    """Pages in batches of at most :data:`BATCH_PAGES` pages whose :func:`page_memory` adds
    up to at most half of ``budget`` (a larger page alone), each URL once in a batch."""
    batch, urls, memory = [], set(), 0
    for item in items:
        url, needs = item.raw.url, page_memory(len(item.raw.body))
        if batch and (len(batch) >= BATCH_PAGES or url in urls or memory + needs > budget // 2):
            yield batch
            batch, urls, memory = [], set(), 0
        batch.append(item)
        urls.add(url)
        memory += needs
    if batch:
        yield batch
