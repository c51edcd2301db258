"""Rebuild the archive from raw WARC captures through the current pipelines.

The WARC files are the evidence: what the sites sent (``response`` records,
written by the crawler before any parsing) and the files imported
(``resource`` records).  ``metadata`` records that refer to a response say
what the crawler took it for — an article (with the list page's hints), a
page that has gone (404/410), a challenge — so a rebuild processes exactly
the pages a crawl would, in the order they were captured, and the result
equals a fresh crawl of the same pages: same ids, same text, same
disclosures, and versions where a page changed between captures.  A folder of
other people's captures (wget, Browsertrix…) rebuilds from their HTML pages
(:mod:`captures.reader`).

Safe to run on the archive being served and crawled into:

* it takes the archive's writer lock exclusively (:mod:`archive.lock`): it
  stops with a message when a crawl, an import or another rebuild is writing
  (or waits for them, ``wait=True``), and writers that start meanwhile wait;
* it reads every file and reports per file what it read and skipped; damage
  (a truncated file, a corrupt gzip member) is skipped with its name and
  offset and the rest is read;
* it refuses an empty source;
* it compares what it would lose: every document of the archive that the
  rebuilt one lacks (by URL) is listed with its origin (crawled, imported) and
  whether its capture was among the sources, and the rebuild refuses unless
  told to keep them (``--keep-missing``: copied over as they are) or to drop
  them (``--drop-missing``, or ``--force``).  A document with no capture at all
  (stored before captures were kept) is kept unless told to drop it;
* it checks first that the disk has room for the new archive beside the old
  one and for the copy into it (about twice the archive's size; for a first
  build, the captures' size); a disk that fills anyway stops it with one line
  (:class:`archive.disk.DiskFull`), the partial ``<db>.rebuilding`` removed;
* the new archive is built beside the old one (``<db>.rebuilding``) with the
  old one's ``crawl_runs`` and ``failures`` history, then copied into it with
  SQLite's online backup in one write transaction: readers (Datasette) see the
  old archive or the new one, never a mix, and a rebuild killed at any point
  leaves the old archive as it was.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from captures import CaptureReader, FileReport
from pipelines import prepare
from pipelines.text import printable

from .children import ingest_worker
from .db import PARALLEL_FROM, Archive, connect
from .disk import DiskFull, free_bytes, is_disk_full, size_of
from .lock import ArchiveLock
from . import units
from .schema import indexes_built_afterwards

HISTORY_TABLES = ("crawl_runs", "failures")
REBUILD_RUN = "rebuild"


class RebuildRefused(Exception):
    """The rebuild would lose documents, or has nothing to build from; the archive is untouched."""

    def __init__(self, message: str, report: RebuildReport | None = None):
        super().__init__(message)
        self.report = report


KEEP_MISSING, DROP_MISSING = "keep", "drop"
CRAWLED, IMPORTED, NO_CAPTURE = "crawled", "imported", "no capture"
# Tables whose rows belong to one document (``document_id``), copied with a document kept.
_DOCUMENT_TABLES = (
    "disclosures", "problems", "outcomes", "versions", "minhash", "minhash_bands", "attachments", "attachment_links",
)


@dataclass(frozen=True)
class MissingDocument:
    """A document of the archive that the rebuilt archive lacks."""

    url: str
    warc_file: str | None
    in_sources: bool
    """Its capture file is one the rebuild read (the record gave no document: damaged, or it failed)."""

    @property
    def origin(self) -> str:
        if self.warc_file is None:
            return NO_CAPTURE
        return IMPORTED if self.url.startswith("file:") or Path(self.warc_file).name.startswith("import-") else CRAWLED

    def line(self) -> str:
        if self.warc_file is None:
            where = "stored without a capture"
        elif self.in_sources:
            where = f"its capture in {printable(self.warc_file)} gave no document"
        else:
            where = f"its capture {printable(self.warc_file)} is not among the sources"
        return f"missing {self.origin}: {printable(self.url)} ({where})"


@dataclass
class RebuildReport:
    files: list[FileReport] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    pages: int = 0
    documents_before: int | None = None
    documents_after: int | None = None
    seconds: float = 0.0
    replaced: bool = False
    missing: list[MissingDocument] = field(default_factory=list)
    kept: int = 0

    @property
    def docs_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def document_count(db_path: Path) -> int | None:
    """Documents in the archive at ``db_path``; None when there is no archive there."""
    if not db_path.exists():
        return None
    try:
        connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return connection.execute("select count(*) from documents").fetchone()[0]
    except sqlite3.DatabaseError:
        return None
    finally:
        connection.close()


def rebuild(
    warc_dir: str | Path,
    db_path: str | Path,
    progress: bool = True,
    *,
    force: bool = False,
    dry_run: bool = False,
    wait: bool = False,
    missing: str | None = None,
) -> RebuildReport:
    """Rebuild the archive at ``db_path`` from the captures in ``warc_dir``.

    Raises :class:`RebuildRefused` (nothing to build from; documents of the
    archive the rebuilt one lacks, unless ``missing`` says to keep or drop
    them or ``force`` drops them; the target is not an archive without
    ``force``) and :class:`archive.lock.ArchiveBusy` (another writer, unless
    ``wait``).  ``dry_run``: read the captures and report, change nothing.
    ``missing``: :data:`KEEP_MISSING` or :data:`DROP_MISSING`.
    Raises :class:`archive.disk.DiskFull` before it starts when the disk has
    not the room, or when it fills meanwhile (the archive as it was).
    """
    warc_dir, db_path = Path(warc_dir), Path(db_path)
    lock = ArchiveLock(db_path)
    if not dry_run:
        lock.acquire(exclusive=True, wait=wait, what="a rebuild")
    try:
        report = RebuildReport()
        reader = CaptureReader.from_folder(warc_dir)
        if not reader.sources:
            raise RebuildRefused(f"no WARC file (.warc, .warc.gz, .wacz) in {warc_dir}: nothing to rebuild from")
        reader = reader.scan() if dry_run else _scan_while_preparing(reader)
        report.files = list(reader.reports.values())
        report.pages = reader.total
        report.documents_before = document_count(db_path)
        if report.pages == 0:
            raise RebuildRefused(f"the {len(reader.sources)} WARC file(s) in {warc_dir} hold no page: nothing to rebuild from", report)
        if db_path.exists() and report.documents_before is None and not force:
            raise RebuildRefused(f"{db_path} is not an archive: not replaced (--force replaces it)", report)
        if dry_run:
            return report
        needed = _space_needed(db_path, reader, report)
        if free_bytes(db_path.parent) < needed:
            raise DiskFull(db_path.parent, needed, "the rebuild")
        try:
            _build(reader, db_path, report, progress)
            if report.documents_before is not None:
                _settle_missing(reader, db_path, report, DROP_MISSING if force and missing is None else missing)
            _replace(db_path, report)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            building = _building_path(db_path)
            _remove_database(building, lock=True)
            raise DiskFull(db_path.parent, needed, "the rebuild") from exc
        return report
    finally:
        lock.release()


def _space_needed(db_path: Path, reader: CaptureReader, report: RebuildReport) -> int:
    """About what a rebuild writes at most: the new archive — as large as the old one, or
    twice its captures' compressed size (their text and its search indexes; 3.3 times in
    tests/test_disk_full.py) — beside the old one, then as much again in the old one's WAL
    while it is copied in."""
    new_archive = max(size_of(db_path, Path(f"{db_path}-wal")), 2 * size_of(*{source.path for source in reader.sources}))
    return new_archive if report.documents_before is None else 2 * new_archive


def _scan_while_preparing(reader: CaptureReader) -> CaptureReader:
    """The reader, scanned in a child process while this one loads the pipelines
    (:func:`pipelines.prepare`, which the ingest's workers are forked after): the
    two serial steps before any page is processed take a core each."""
    if (os.cpu_count() or 1) < 2:
        prepare()
        return reader.scan()
    with multiprocessing.Pool(1, initializer=ingest_worker) as pool:
        scanning = pool.apply_async(_scanned, (reader,))
        prepare()
        return scanning.get()


def _scanned(reader: CaptureReader) -> CaptureReader:
    return reader.scan()


def _building_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".rebuilding")


def _remove_database(path: Path, lock: bool = False) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), *([Path(f"{path}.lock")] if lock else [])):
        leftover.unlink(missing_ok=True)


def _build(reader: CaptureReader, db_path: Path, report: RebuildReport, progress: bool) -> None:
    building = _building_path(db_path)
    _remove_database(building, lock=True)  # left by a rebuild that was killed: start afresh
    started = time.perf_counter()
    with Archive(building) as archive:
        if report.documents_before is not None:
            _copy_history(archive, db_path)
        run_id = archive.start_run(REBUILD_RUN)
        pages = tqdm(reader, total=report.pages, unit="doc", desc="rebuild", disable=None if progress else True)
        with indexes_built_afterwards(archive.db):  # the new archive is not served until it replaces the old
            for _, outcome, _ in archive.ingest_all(pages, run_id=run_id, parallel=report.pages >= PARALLEL_FROM):
                report.outcomes[outcome] += 1
            pages.close()
        report.seconds = time.perf_counter() - started
        archive.finish_run(
            run_id,
            pages_fetched=report.pages,
            documents_new=report.outcomes["new"],
            documents_updated=report.outcomes["updated"],
            documents_unchanged=report.outcomes["unchanged"],
            failures=report.outcomes["failed"],
            status="ok",
            message=f"rebuilt from {len(report.files)} WARC file(s) at {report.docs_per_second:.0f} docs/s",
        )
        report.documents_after = archive.count("documents")
        archive.db.execute("pragma wal_checkpoint(truncate)")


def _copy_history(archive: Archive, db_path: Path) -> None:
    """The old archive's crawl runs and failures, with their ids (failures name their run)."""
    db = archive.db
    db.execute("attach database ? as old", [f"file:{db_path}?mode=ro"])
    try:
        with archive.transaction():
            for table in HISTORY_TABLES:
                old_columns = {row[1] for row in db.execute(f"pragma old.table_info({table})")}
                columns = ", ".join(f"[{c}]" for c in db[table].columns_dict if c in old_columns)
                if columns:
                    db.execute(f"insert into main.{table} ({columns}) select {columns} from old.{table}")
    finally:
        db.execute("detach database old")


def _settle_missing(reader: CaptureReader, db_path: Path, report: RebuildReport, missing: str | None) -> None:
    """Compare the rebuilt archive with the old one: refuse to lose documents
    unless ``missing`` says what to do; copy the kept ones over."""
    building = _building_path(db_path)
    db = connect(building)
    try:
        db.execute("attach database ? as old", [f"file:{db_path}?mode=ro"])
        sources = {source.name for source in reader.sources} | {source.path.name for source in reader.sources}
        report.missing = [
            MissingDocument(url, warc_file, warc_file in sources)
            for url, warc_file in db.execute(
                "select url, warc_file from old.documents where url not in (select url from main.documents) order by url"
            )
        ]
        decide = [m for m in report.missing if m.warc_file is not None]
        if decide and missing is None:
            db.conn.close()
            _remove_database(building, lock=True)
            raise RebuildRefused(
                f"the rebuilt archive would lose {len(decide)} of the {report.documents_before} documents of "
                f"{printable(str(db_path))} (listed above): not replaced (--keep-missing keeps them, --drop-missing drops them)",
                report,
            )
        kept = [m for m in report.missing if missing == KEEP_MISSING or (m.warc_file is None and missing != DROP_MISSING)]
        if kept:
            _copy_documents(db, [m.url for m in kept])
        report.kept = len(kept)
        report.documents_after = db["documents"].count
        db.execute("detach database old")
    finally:
        db.conn.close()


def _copy_documents(db, urls: list[str]) -> None:
    """The documents at ``urls`` from the attached old archive, with their rows in every
    table of one document (new row ids where a table numbers its rows: ``versions``); then
    every text linked to its unit again (:func:`archive.units.refresh`), theirs too.  An
    attachment the rebuild read again (its file was among the sources) keeps that reading."""
    with db.conn:
        db.execute("create temp table kept (id text primary key)")
        db.conn.executemany("insert into kept select id from old.documents where url = ?", [(url,) for url in urls])
        for table in ("documents", *_DOCUMENT_TABLES):
            key = "id" if table == "documents" else "document_id"
            # table_info leaves out generated columns, which compute themselves.
            old_columns = {row[1] for row in db.execute(f"pragma old.table_info([{table}])")}
            columns = ", ".join(
                f"[{name}]" for _, name, type_, _, _, key in db.execute(f"pragma main.table_info([{table}])")
                if name in old_columns and not (key and type_.upper() == "INTEGER")
            )
            db.execute(f"insert or ignore into main.[{table}] ({columns}) select {columns} from old.[{table}] "
                       f"where [{key}] in (select id from kept)")
        db.execute("drop table kept")
        units.refresh(db)


def _replace(db_path: Path, report: RebuildReport) -> None:
    building = _building_path(db_path)
    if report.documents_before is None:
        # No archive there (or, forced, a file that is none): nobody can be reading one.
        _remove_database(db_path)
        if _move_new(building, db_path):
            report.replaced = True
            return
    source = connect(building)
    target = connect(db_path)
    try:
        # One step: the whole copy is one write transaction of the target.
        source.conn.backup(target.conn, pages=-1)
        target.execute("pragma wal_checkpoint(passive)")
    finally:
        target.conn.close()
        source.conn.close()
    _remove_database(building, lock=True)
    report.replaced = True


def _move_new(building: Path, db_path: Path) -> bool:
    """Give the rebuilt file the name of an archive that does not exist (instead of
    copying it): a hard link never replaces a file that appeared meanwhile (then, or
    where the file system has no hard links, the caller copies into it)."""
    try:
        os.link(building, db_path)
    except OSError:
        return False
    _remove_database(building, lock=True)
    return True


def summary_line(report: RebuildReport, db_path: Path, dry_run: bool = False) -> str:
    name = printable(str(db_path))
    if dry_run:
        now = "no archive yet" if report.documents_before is None else f"{report.documents_before} documents now"
        return f"would rebuild {name} from {report.pages} page(s) in {len(report.files)} file(s) ({now})"
    before = "no archive before" if report.documents_before is None else f"{report.documents_before} before"
    counts = ", ".join(f"{n} {k}" for k, n in sorted(report.outcomes.items()))
    dropped = len(report.missing) - report.kept
    settled = "".join(
        f"; {n} missing document(s) {what}" for n, what in ((report.kept, "kept"), (dropped, "dropped")) if n
    )
    return (
        f"rebuilt {name}: {counts or 'nothing captured'}; {report.documents_after} documents ({before}){settled}; "
        f"{report.pages} pages in {report.seconds:.1f} s, {report.docs_per_second:.0f} docs/s"
    )

