"""Import local files through the same pipelines as a crawl.

Inputs are documents (Markdown with front matter, plain text, HTML) and
captures (``.warc``, ``.warc.gz``, ``.wacz`` — ours or anyone's: wget,
Browsertrix, Heritrix, Common Crawl; a WARC named otherwise is recognised by
its first bytes).  Folders are walked for both; a file named directly is
imported whatever its name.

Each new or changed document is first written to our own WARC (``warc/``
beside the database): a file as a ``resource`` record, a page of a capture as
a ``response`` record with its real URL and headers, both annotated as
articles — so a rebuild from the captures covers imports too.

A file a page links (a PDF, Word, Excel, WPS, OFD or image file in a folder, a document
file in someone's capture, a ``page-kind: attachment`` record of ours) is imported as an
attachment of the page whose link names it (``archive/attachments.py``), read in the
attachments stage's bounded child, and kept in our WARC like the pages.

Nothing is lost silently: a file that cannot be read (missing, unreadable
folder, a symlink loop, a FIFO or device, over the crawl's 10 MB page cap), a
capture's damaged record, or a page that fails a stage is a row of
``failures`` with its reason, reported, and the import goes on.  A full disk
stops it (:class:`archive.disk.DiskFull`, with what was imported before it):
every stored batch is whole, and no part of a WARC record stays behind.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tqdm import tqdm

from captures import ARTICLE, ATTACHMENT, HINTS, PAGE_KIND, SOFTWARE, CaptureReader, Exchange, FileReport, Page, WarcCapture
from captures.reader import WARC_SUFFIXES, CaptureChanged, is_capture_file
from pipelines import MAX_PAGE_BYTES, Failure, ProcessResult, RawDocument, now_utc
from pipelines.attachments.formats import EXTENSIONS, MAX_ATTACHMENT_BYTES

from .db import PARALLEL_FROM, Archive, warc_dir_for
from .disk import DiskFull, is_disk_full, size_of

DOCUMENT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".shtml", ".xhtml"}
# Files a page links (PDF, Word, Excel, WPS, OFD, images): imported as attachments of the
# page whose link names them (archive/attachments.py).
ATTACHMENT_SUFFIXES = set(EXTENSIONS)
_HTML_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml"}
WARC_MAX_BYTES = 1 << 30
STAGE = "read"
# Files a walked folder holds beside its articles, skipped and counted by kind (a file
# named on the command line is imported whatever it is): notes about the folder, and a
# site's search-result pages saved with the articles.
NOTE, SEARCH_RESULTS = "note", "search_results"
_NOTE_NAME = re.compile(r"(?:readme|sources?|licen[cs]e|changelog|notes?|manifest|todo|authors|说明|来源)(?:[._ -].*)?", re.I)
_SEARCH_ADDRESS = re.compile(r"(?:^|[/_.@-])search(?:$|[/_.@?&=-])|searchword=|[?&](?:q|query|keyword|kw)=", re.I)
_SEARCH_TEXT = re.compile(r"搜索结果|检索结果|共找到\s*\d+\s*[条篇]|相关结果约")
_LISTED_DATE = re.compile(r"20\d\d[-./年]\d{1,2}[-./月]\d{1,2}")
_SAVED_ADDRESS = re.compile(r"saved from url=\(\d+\)(\S+)|<link[^>]+rel=[\"']canonical[\"'][^>]*href=[\"']([^\"']+)", re.I)
_SNIFF_BYTES = 65536


@dataclass
class ImportReport:
    outcomes: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    """Files of walked folders that are not articles, by kind (``note``, ``search_results``)."""
    failures: list[tuple[str, str]] = field(default_factory=list)
    captures: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def docs_per_second(self) -> float:
        return sum(self.outcomes.values()) / self.seconds if self.seconds else 0.0


@dataclass
class _Entry:
    path: Path
    failure: Failure | None = None
    skipped: str | None = None


def not_an_article(path: Path) -> str | None:
    """Why a walked file is no article (``note``, ``search_results``), or None (an attachment
    is imported as one, whatever its name: ``说明.pdf`` is a report's file, not a folder's note)."""
    name = path.name.lower()
    if path.suffix.lower() in ATTACHMENT_SUFFIXES:
        return None
    if _NOTE_NAME.fullmatch(path.stem) and not name.endswith(WARC_SUFFIXES):
        return NOTE
    if path.suffix.lower() not in _HTML_SUFFIXES:
        return None
    try:
        with path.open("rb") as file:
            head = file.read(_SNIFF_BYTES).decode("utf-8", "replace")
    except OSError:
        return None  # reading it fails again, and is recorded, when it is imported
    saved = _SAVED_ADDRESS.search(head)
    address = next((a for a in saved.groups() if a), "") if saved else ""
    if _SEARCH_ADDRESS.search(path.name) or _SEARCH_ADDRESS.search(address):
        return SEARCH_RESULTS
    if _SEARCH_TEXT.search(head) and len(_LISTED_DATE.findall(head)) >= 5:  # a list of dated results
        return SEARCH_RESULTS
    return None


def _walked(path: Path) -> bool:
    name = path.name.lower()
    suffix = path.suffix.lower()
    return not name.startswith(".") and (
        suffix in DOCUMENT_SUFFIXES or suffix in ATTACHMENT_SUFFIXES or name.endswith(WARC_SUFFIXES))


def _stat_failure(exc: OSError) -> Failure:
    if exc.errno == errno.ELOOP:
        return Failure(STAGE, "symlink_loop", "a symbolic link that leads back to itself")
    return Failure(STAGE, "unreadable", exc.strerror or str(exc))


def _not_a_file(mode: int) -> Failure:
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return Failure(STAGE, "not_a_file", f"{kind}, not a regular file")


def iter_entries(paths: list[Path]) -> Iterator[_Entry]:
    """Every file to import, or why a path cannot be: folders walked in name order,
    symbolic links followed, each folder once (a link back up is a loop)."""
    for path in paths:
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            yield _Entry(path, _stat_failure(exc))
            continue
        if stat.S_ISDIR(mode):
            yield from _walk(path, set())
        elif stat.S_ISREG(mode):
            yield _Entry(path)
        else:
            yield _Entry(path, _not_a_file(mode))


def _walk(folder: Path, seen: set[tuple[int, int]]) -> Iterator[_Entry]:
    info = folder.stat()
    if (info.st_dev, info.st_ino) in seen:
        yield _Entry(folder, Failure(STAGE, "symlink_loop", "a symbolic link to a folder that contains it"))
        return
    seen = seen | {(info.st_dev, info.st_ino)}
    try:
        with os.scandir(folder) as scan:
            names = sorted(entry.name for entry in scan)
    except OSError as exc:
        yield _Entry(folder, Failure(STAGE, "unreadable", f"folder not readable: {exc.strerror or exc}"))
        return
    for name in names:
        path = folder / name
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            if _walked(path):
                yield _Entry(path, _stat_failure(exc))
            continue
        if stat.S_ISDIR(mode):
            if not name.startswith("."):
                yield from _walk(path, seen)
        elif _walked(path):
            if not stat.S_ISREG(mode):
                yield _Entry(path, _not_a_file(mode))
            else:
                yield _Entry(path, skipped=not_an_article(path))


def raw_document_for(path: Path) -> RawDocument:
    """Read one file; raises OSError when it cannot be read."""
    content_type = "text/html" if path.suffix.lower() in _HTML_SUFFIXES else None
    return RawDocument(
        url=path.resolve().as_uri(), body=path.read_bytes(), content_type=content_type, fetched_at=now_utc()
    )


def _failed(path: Path, failure: Failure) -> ProcessResult:
    return ProcessResult(RawDocument(url=path.absolute().as_uri(), body=b"", fetched_at=now_utc()), failure=failure)


class _Importer:
    def __init__(self, archive: Archive, capture: WarcCapture, report: ImportReport):
        self.archive, self.capture, self.report = archive, capture, report

    def items(self, entries: list[_Entry], readers: dict[Path, CaptureReader]) -> Iterator[Page | ProcessResult]:
        for entry in entries:
            if entry.failure is not None:
                yield _failed(entry.path, entry.failure)
            elif entry.path in readers:
                yield from self._capture_pages(entry.path, readers[entry.path])
            else:
                yield self._document(entry.path)

    def _document(self, path: Path) -> Page | ProcessResult:
        kind = ATTACHMENT if path.suffix.lower() in ATTACHMENT_SUFFIXES else ARTICLE
        cap, what = (MAX_ATTACHMENT_BYTES, "an attachment") if kind == ATTACHMENT else (MAX_PAGE_BYTES, "a page")
        try:
            size = path.stat().st_size
            if size > cap:
                return _failed(path, Failure(STAGE, "too_large", f"{size / 1e6:.1f} MB, over the {cap // 2**20} MB cap on {what}"))
            raw = raw_document_for(path)
        except OSError as exc:
            return _failed(path, _stat_failure(exc))
        if kind == ATTACHMENT or not self.archive.has_bytes(raw):
            record = self.capture.write_resource(
                raw.url, raw.body, raw.content_type, datetime.fromisoformat(raw.fetched_at)
            )
            self.capture.annotate(raw.url, record.record_id, {PAGE_KIND: kind})
            raw.warc_file, raw.warc_record_id = record.warc_file, record.record_id
        return Page(kind, raw)

    def _capture_pages(self, path: Path, reader: CaptureReader) -> Iterator[Page | ProcessResult]:
        for report in reader.reports.values():
            self.report.captures.append(report)
            for error in report.errors:
                yield _failed(path, Failure(STAGE, "damaged_capture", f"{report.name}: {error}"))
            for url, why in report.too_large:
                raw = RawDocument(url=url, body=b"", fetched_at=now_utc())
                yield ProcessResult(raw, failure=Failure(STAGE, "too_large", f"{report.name}: {why}"))
        try:
            yield from self._archived_captures(reader)
        except CaptureChanged as exc:  # rewritten since the scan: what was read stays, the rest next time
            yield _failed(path, Failure(STAGE, "capture_changed", str(exc)))

    def _archived_captures(self, reader: CaptureReader) -> Iterator[Page]:
        for page in reader:
            raw = page.raw
            if not self.archive.has_bytes(raw):
                record = self.capture.write_exchange(Exchange(
                    url=raw.url, status=raw.status, reason="", response_headers=_decoded_headers(raw.headers),
                    body=raw.body, fetched_at=datetime.fromisoformat(raw.fetched_at or now_utc()),
                ))
                self.capture.annotate(raw.url, record.record_id, {PAGE_KIND: page.kind, HINTS: json.dumps(raw.hints, ensure_ascii=False)})
                raw.warc_file, raw.warc_record_id = record.warc_file, record.record_id
            yield page


def _decoded_headers(headers: dict[str, str]) -> list[tuple[str, str]]:
    """The reader hands over the body decoded: its encodings no longer apply."""
    return [(k, v) for k, v in headers.items() if k.lower() not in ("content-encoding", "transfer-encoding")]


def import_paths(
    paths: list[Path], archive: Archive, on_file=None, warc_dir: Path | None = None, progress: bool = False
) -> ImportReport:
    """Import ``paths`` into ``archive``; ``on_file(path or URL, outcome, result)`` after each is stored.

    ``progress``: a progress bar with docs/s on stderr (when it is a terminal)."""
    started = time.perf_counter()
    report = ImportReport()
    entries = list(iter_entries([Path(p) for p in paths]))
    report.skipped.update(entry.skipped for entry in entries if entry.skipped)
    entries = [entry for entry in entries if not entry.skipped]
    readers = {
        entry.path: CaptureReader([entry.path]).scan()
        for entry in entries
        if entry.failure is None and is_capture_file(entry.path)
    }
    size = len(entries) - len(readers) + sum(reader.total for reader in readers.values())
    capture = WarcCapture(warc_dir or warc_dir_for(archive.path), "import", WARC_MAX_BYTES, SOFTWARE)
    bar = tqdm(total=size, unit="doc", desc="import", disable=None if progress else True)
    try:
        items = _Importer(archive, capture, report).items(entries, readers)
        for raw, outcome, result in _stopped_by_a_full_disk(
            archive.ingest_all(items, parallel=size >= PARALLEL_FROM and (os.cpu_count() or 1) > 1),
            archive, capture, entries, report,
        ):
            bar.update()
            report.outcomes[outcome] += 1
            if result is not None and result.failure:
                failure = result.failure
                report.failures.append((raw.url, f"{failure.stage}/{failure.kind}: {failure.message}"))
            if on_file:
                with bar.external_write_mode():
                    on_file(_local_name(raw.url), outcome, result)
    finally:
        bar.close()
        capture.close()
    report.seconds = time.perf_counter() - started
    return report


def _stopped_by_a_full_disk(results: Iterator, archive: Archive, capture: WarcCapture, entries: list[_Entry], report: ImportReport) -> Iterator:
    """``results``, with the error of a full disk turned into :class:`archive.disk.DiskFull`."""
    try:
        yield from results
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        full = capture.warc_dir if isinstance(exc, OSError) else archive.path.parent
        error = DiskFull(full, size_of(*(entry.path for entry in entries)), "the import")
        error.stored = sum(report.outcomes.values())
        raise error from exc


def _local_name(url: str) -> str:
    """A file's path as the user knows it; a captured page's URL."""
    if url.startswith("file:"):
        return unquote(urlsplit(url).path)
    return url
