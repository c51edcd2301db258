"""Rebuild the archive from raw WARC captures through the current pipelines.

The WARC files are the evidence: what the sites sent (``response`` records,
written by the crawler before any parsing) and the files imported
(``resource`` records).  ``metadata`` records that refer to a response say
what the crawler took it for — an article (with the list page's hints), a
page that has gone (404/410), a challenge — so a rebuild processes exactly
the pages a crawl would, in the order they were captured, and the result
equals a fresh crawl of the same pages: same ids, same text, same
disclosures, and versions where a page changed between captures.

The new archive is written next to the target and moved over it only when
complete, so an interrupted rebuild never leaves a half-built archive.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm
from warcio.archiveiterator import ArchiveIterator

from crawler.capture import ARTICLE, GONE, HINTS, PAGE_KIND
from pipelines import RawDocument

from .db import Archive


@dataclass
class Captured:
    kind: str  # ARTICLE or GONE
    raw: RawDocument


def warc_files(warc_dir: Path) -> list[Path]:
    return sorted(p for p in Path(warc_dir).rglob("*") if p.name.endswith((".warc.gz", ".warc")))


def annotation_fields(payload: bytes) -> dict[str, str]:
    fields = {}
    for line in payload.decode("utf-8", "replace").splitlines():
        name, _, value = line.partition(":")
        if value:
            fields[name.strip().lower()] = value.strip()
    return fields


def raw_document(record, warc_file: str, annotation: dict[str, str]) -> RawDocument:
    """A captured ``response`` or ``resource`` record as the pipelines' input, with the
    list page's hints from its annotation (``warc_file``: relative to the WARC folder)."""
    http = record.http_headers
    return RawDocument(
        url=record.rec_headers.get_header("WARC-Target-URI"),
        body=record.content_stream().read(),
        content_type=(http.get_header("Content-Type") if http else record.rec_headers.get_header("Content-Type")),
        status=int(http.get_statuscode()) if http else 200,
        headers=dict(http.headers) if http else {},
        fetched_at=record.rec_headers.get_header("WARC-Date"),
        warc_file=warc_file,
        warc_record_id=record.rec_headers.get_header("WARC-Record-ID"),
        hints=json.loads(annotation.get(HINTS) or "{}"),
    )


def _annotations(files: list[Path]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for path in files:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                refers_to = record.rec_headers.get_header("WARC-Refers-To")
                if record.rec_type == "metadata" and refers_to:
                    found.setdefault(refers_to, {}).update(annotation_fields(record.content_stream().read()))
    return found


def captured_documents(warc_dir: Path) -> tuple[int, Iterator[Captured]]:
    """The number of captured documents and an iterator over them, in capture order."""
    files = warc_files(warc_dir)
    annotations = _annotations(files)
    kinds = {record_id: fields.get(PAGE_KIND) for record_id, fields in annotations.items()}
    total = sum(kind in (ARTICLE, GONE) for kind in kinds.values())

    def iterate() -> Iterator[Captured]:
        for path in files:
            relative = str(path.relative_to(warc_dir))
            with path.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    record_id = record.rec_headers.get_header("WARC-Record-ID")
                    kind = kinds.get(record_id)
                    if record.rec_type not in ("response", "resource") or kind not in (ARTICLE, GONE):
                        continue
                    yield Captured(kind, raw_document(record, relative, annotations[record_id]))

    return total, iterate()


def rebuild(warc_dir: str | Path, db_path: str | Path, progress: bool = True) -> Counter:
    """Build a new archive at ``db_path`` from the captures in ``warc_dir``."""
    db_path = Path(db_path)
    building = db_path.with_name(db_path.name + ".rebuilding")
    for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        leftover.unlink(missing_ok=True)
    outcomes: Counter = Counter()
    total, documents = captured_documents(Path(warc_dir))
    with Archive(building) as archive:
        for captured in tqdm(documents, total=total, unit="doc", disable=not progress, desc="rebuild"):
            if captured.kind == GONE:
                archive.mark_gone(captured.raw.url, captured.raw.fetched_at)
                outcomes["gone"] += 1
            else:
                outcomes[archive.ingest(captured.raw)[0]] += 1
        archive.db.execute("pragma wal_checkpoint(truncate)")
    _fold_wal(db_path)
    os.replace(building, db_path)
    for stale in (Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        stale.unlink(missing_ok=True)
    return outcomes


def _fold_wal(db_path: Path) -> None:
    """Checkpoint the old archive's WAL into its file before the file is replaced.

    SQLite applies whatever ``<db>-wal`` lies beside a database when it opens
    it: a rebuild killed between the replace and the removal of the old WAL
    (left by a crawl that was killed) would hand the new archive the old
    one's pages.  An emptied WAL is ignored; until the replace the old archive
    keeps all it had.
    """
    wal = Path(f"{db_path}-wal")
    if not wal.exists():
        return
    connection = sqlite3.connect(db_path)
    try:
        connection.execute("pragma wal_checkpoint(truncate)")
    except sqlite3.DatabaseError:  # not an archive: its WAL holds nothing to keep
        wal.unlink()
    finally:
        connection.close()
