"""Import local files through the same pipelines as a crawl.

Folders are walked for the document formats we know; a file named directly is
imported whatever its name.  Each new or changed file's bytes are first
written to a WARC ``resource`` record (``warc/`` beside the database), so a
rebuild from the captures covers imports too.  A file that cannot be read or
processed is recorded in ``failures`` with its reason, and the import goes on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from crawler.capture import ARTICLE, PAGE_KIND, SOFTWARE, WarcCapture
from pipelines import Failure, ProcessResult, RawDocument, now_utc

from .db import Archive, warc_dir_for

DOCUMENT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".shtml", ".xhtml"}
_HTML_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml"}
WARC_MAX_BYTES = 1 << 30


@dataclass
class ImportReport:
    outcomes: Counter = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)


def iter_files(paths: list[Path]):
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES and not p.name.startswith(".")
            )
        else:
            yield path


def raw_document_for(path: Path) -> RawDocument:
    """Read one file; raises OSError when it cannot be read."""
    content_type = "text/html" if path.suffix.lower() in _HTML_SUFFIXES else None
    return RawDocument(
        url=path.resolve().as_uri(), body=path.read_bytes(), content_type=content_type, fetched_at=now_utc()
    )


def _capture(capture: WarcCapture, raw: RawDocument) -> None:
    record = capture.write_resource(raw.url, raw.body, raw.content_type, datetime.fromisoformat(raw.fetched_at))
    capture.annotate(raw.url, record.record_id, {PAGE_KIND: ARTICLE})
    raw.warc_file, raw.warc_record_id = record.warc_file, record.record_id


def import_paths(paths: list[Path], archive: Archive, on_file=None, warc_dir: Path | None = None) -> ImportReport:
    report = ImportReport()
    capture = WarcCapture(warc_dir or warc_dir_for(archive.path), "import", WARC_MAX_BYTES, SOFTWARE)
    try:
        for path in iter_files(paths):
            try:
                raw = raw_document_for(path)
            except OSError as exc:
                result = ProcessResult(
                    RawDocument(url=path.resolve().as_uri(), body=b"", fetched_at=now_utc()),
                    failure=Failure("read", "unreadable", exc.strerror or str(exc)),
                )
                outcome = archive.save(result)
            else:
                if not archive.has_bytes(raw):
                    _capture(capture, raw)
                outcome, result = archive.ingest(raw)
            report.outcomes[outcome] += 1
            if result is not None and result.failure:
                report.failures.append((str(path), f"{result.failure.stage}/{result.failure.kind}: {result.failure.message}"))
            if on_file:
                on_file(path, outcome, result)
    finally:
        capture.close()
    return report
