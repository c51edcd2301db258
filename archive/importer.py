"""Import local files through the same pipelines as a crawl.

Folders are walked for the document formats we know; a file named directly is
imported whatever its name.  A file that cannot be read or processed is
recorded in ``failures`` with its reason, and the import goes on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import Failure, ProcessResult, RawDocument, now_utc, process

from .db import Archive

DOCUMENT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".shtml", ".xhtml"}
_HTML_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml"}


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


def import_paths(paths: list[Path], archive: Archive, on_file=None) -> ImportReport:
    report = ImportReport()
    for path in iter_files(paths):
        try:
            result = process(raw_document_for(path))
        except OSError as exc:
            result = ProcessResult(
                RawDocument(url=path.resolve().as_uri(), body=b"", fetched_at=now_utc()),
                failure=Failure("read", "unreadable", exc.strerror or str(exc)),
            )
        outcome = archive.save(result)
        report.outcomes[outcome] += 1
        if result.failure:
            report.failures.append((str(path), f"{result.failure.stage}/{result.failure.kind}: {result.failure.message}"))
        if on_file:
            on_file(path, outcome, result)
    return report
