"""Reading WARC: the pages in our own captures and in anyone else's.

:class:`CaptureReader` takes ``.warc``, ``.warc.gz`` and ``.wacz`` files (a
WACZ is a zip whose ``archive/*.warc[.gz]`` entries are read in name order)
and yields a :class:`Page` — the :class:`pipelines.RawDocument` with its real
URL, status, headers and capture date — for every page a crawl would archive:

* **our captures** (a file whose ``warcinfo`` names :data:`SOFTWARE`, or that
  holds ``page-kind`` annotations): exactly the ``response`` and ``resource``
  records a ``metadata`` record took for an ``article`` (with the list page's
  ``hints``) or a ``gone`` page.  A record with no annotation was not a page
  (a list page, a challenge) or was cut short by a kill before the crawler
  annotated it.
* attachments (``page-kind: attachment``, the linking page in ``hints``) of ours; of
  anyone else's, every ``response`` with status 200 holding a PDF, Word, Excel, WPS or
  OFD file (its page is found by the links archived pages make to it).
* **anyone else's** (wget ``--warc-file``, Browsertrix/WACZ, Heritrix, Common
  Crawl): every ``response`` with status 200 and an HTML payload (the HTTP
  ``Content-Type``, else Common Crawl's ``WARC-Identified-Payload-Type``, else
  the first bytes), and every ``resource`` record of an HTML page at an
  ``http(s)`` URL.  The rest is counted by reason: ``non_html``, ``non_200``,
  ``revisit`` (a deduplicated capture without its payload), ``too_large``
  (over :data:`pipelines.MAX_PAGE_BYTES`, the crawl's own cap).

Damage is reported per file and never stops the reading (``FileReport.errors``):
a gzip member that does not decompress or parse is skipped from its offset to
the next member that does; a file that ends inside a record (a copy cut short)
is read up to that record.

Annotations may follow their response in a later file (the writer rotates), so
the reader makes two passes: :meth:`CaptureReader.scan` (annotations, counts,
damage — all a ``--dry-run`` needs, and where each page's record starts) and
iteration (the pages, in capture order), which reads only the pages' records.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from pipelines import MAX_PAGE_BYTES, RawDocument

from pipelines.attachments.formats import IMAGE_KINDS, declared_kind

from .writer import ARTICLE, ATTACHMENT, GONE, HINTS, PAGE_KIND, SOFTWARE

WARC_SUFFIXES = (".warc", ".warc.gz", ".wacz")
HTML_TYPES = ("text/html", "application/xhtml+xml")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_HTML_START = (b"<!doctype html", b"<html", b"<head", b"<body")
# Errors a damaged record or gzip member raises from warcio or zlib.
_DAMAGE = (ArchiveLoadFailed, zlib.error, EOFError, ValueError, OSError)
_SEARCH_CHUNK = 1 << 20
_BLANK = b"\r\n\0 "
# Records are read whole up to the page cap (and the HTTP headers around it);
# a larger one is skipped unread as ``too_large``.
_PAYLOAD_MAX = MAX_PAGE_BYTES + 65536


def is_capture_file(path: Path) -> bool:
    """A WARC or WACZ file, by its name or, for a file named otherwise, by its first bytes."""
    if path.name.lower().endswith(WARC_SUFFIXES):
        return True
    try:
        with path.open("rb") as stream:
            head = stream.read(512)
    except OSError:
        return False
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(31).decompress(head, 16)
        except zlib.error:
            return False
    return head.startswith((b"WARC/1.0", b"WARC/1.1"))


@dataclass
class Page:
    kind: str  # ARTICLE, GONE or ATTACHMENT
    raw: RawDocument


@dataclass
class FileReport:
    """What one WARC file (or WACZ entry) held and what could not be read."""

    name: str
    own: bool = False
    pages: int = 0
    attachments: int = 0
    skipped: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.pages} page(s)"]
        if self.attachments:
            parts.append(f"{self.attachments} attachment(s)")
        if self.skipped:
            parts.append("skipped " + ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())))
        parts += self.errors
        return f"{self.name}: " + "; ".join(parts)


@dataclass
class _Source:
    """One WARC stream: a file, or an entry of a WACZ."""

    name: str
    path: Path
    entry: str | None = None

    @contextmanager
    def open(self) -> Iterator[tuple[BinaryIO, int]]:
        if self.entry is None:
            with self.path.open("rb") as stream:
                yield stream, self.path.stat().st_size
        else:
            with zipfile.ZipFile(self.path) as wacz, wacz.open(self.entry) as stream:
                yield stream, wacz.getinfo(self.entry).file_size


def _sources(path: Path, root: Path | None) -> list[_Source]:
    name = str(path.relative_to(root)) if root else path.name
    if not path.name.lower().endswith(".wacz"):
        return [_Source(name, path)]
    with zipfile.ZipFile(path) as wacz:
        entries = sorted(
            n for n in wacz.namelist() if n.startswith("archive/") and n.lower().endswith((".warc", ".warc.gz"))
        )
    return [_Source(f"{name}!{entry}", path, entry) for entry in entries]


def _records(source: _Source, report: FileReport | None) -> Iterator[object]:
    """Every whole, readable record of ``source`` (warcio records), its payload
    read into ``record.payload`` (None past :data:`_PAYLOAD_MAX`) and where it
    starts into ``record.offset``; damage goes to ``report``."""

    def damage(message: str) -> None:
        if report is not None:
            report.errors.append(message)

    with source.open() as (stream, size):
        start = 0
        while start is not None:
            stream.seek(start)
            iterator = ArchiveIterator(stream)
            end = start
            # A record is whole once the next one starts; the last one is checked at the end.
            pending = None
            try:
                for record in _parsed(iterator):
                    try:
                        _read_payload(record)
                    except _DAMAGE as exc:
                        damage(f"record at offset {end}: its payload does not decode ({_reason(exc)})")
                        record.payload = b""
                        record.damaged = True
                    iterator.read_to_end()
                    offset, length = iterator.member_info
                    end = offset + length
                    if record.raw_stream.limit:
                        damage(f"truncated at offset {offset}: the last record is cut short")
                    elif not getattr(record, "damaged", False):
                        record.offset = offset
                        if pending is not None:
                            yield pending
                        pending, pending_end = record, end
                start = None
                if pending is not None and not _ends_whole(stream, pending.offset, pending_end):
                    damage(f"truncated at offset {pending.offset}: the last record is cut short")
                    pending = None
                elif size > end and not _blank_tail(stream, end):
                    end = _after_blank(stream, end)
                    damage(f"truncated at offset {end}: {size - end} byte(s) after the last whole record")
            except _DAMAGE as exc:
                if _one_gzip_stream(exc):
                    damage(f"not read: compressed as one gzip stream, not one gzip member per record; "
                           f"`warcio recompress {source.name} NEW.warc.gz` rewrites it readable")
                    break
                end = _after_blank(stream, end)
                gzipped = _is_gzip(stream, end)
                following = _next_member(stream, end + 1) if gzipped else None
                if following is None and gzipped and _ends_inside_member(stream, end):
                    damage(f"truncated at offset {end}: {size - end} byte(s) of a record cut short")
                else:
                    skipped = (following if following is not None else size) - end
                    damage(f"corrupt record at offset {end} ({_reason(exc)}): {skipped} byte(s) skipped")
                start = following
            if pending is not None:
                yield pending


def _ends_whole(stream: BinaryIO, offset: int, end: int) -> bool:
    """True when the record read from ``offset`` to ``end`` is complete: its gzip member
    reaches its end, or (uncompressed) the two CRLFs that close a record follow it —
    warcio reads headers cut short as a record with whatever they still hold."""
    if _is_gzip(stream, offset):
        return not _ends_inside_member(stream, offset)
    stream.seek(end)
    return stream.read(4) == b"\r\n\r\n"


class _HeadersCutShort(ValueError):
    """warcio met WARC headers that stop before a field it needs (the URI, the length)."""


def _parsed(iterator: ArchiveIterator) -> Iterator[object]:
    """The records of ``iterator``; warcio's AttributeError or TypeError on headers that stop
    short (a file cut inside them) becomes damage, not a crash."""
    records = iter(iterator)
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except (AttributeError, TypeError) as exc:
            raise _HeadersCutShort(f"WARC headers incomplete ({exc})") from exc
        if record.length is None:
            raise _HeadersCutShort("WARC headers incomplete (no Content-Length)")
        yield record


def _read_payload(record) -> None:
    record.payload = record.content_stream().read() if record.length <= _PAYLOAD_MAX else None


class CaptureChanged(Exception):
    """A file changed between the scan and the reading of its pages."""


def _record_at(source: _Source, stream: BinaryIO, offset: int, record_id: str):
    """The record ``record_id`` that the scan found at ``offset``, its payload read."""
    stream.seek(offset)
    try:
        record = next(iter(ArchiveIterator(stream)), None)
        if record is not None and record.rec_headers.get_header("WARC-Record-ID") == record_id:
            _read_payload(record)
            return record
    except _DAMAGE:
        pass
    raise CaptureChanged(f"{source.name} changed while it was read: record {record_id} is no longer at offset {offset}")


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:80] if text else type(exc).__name__


def _one_gzip_stream(exc: Exception) -> bool:
    """warcio's refusal of a file gzipped whole: valid, but its records cannot be sought."""
    return isinstance(exc, ArchiveLoadFailed) and "non-chunked gzip" in str(exc)


def _is_gzip(stream: BinaryIO, at: int) -> bool:
    stream.seek(at)
    return stream.read(3) == _GZIP_MAGIC


def _ends_inside_member(stream: BinaryIO, at: int) -> bool:
    """True when the gzip member at ``at`` decompresses without error up to the
    end of the file, which comes before the member's end: a file cut short."""
    stream.seek(at)
    decompressor = zlib.decompressobj(31)
    try:
        while chunk := stream.read(_SEARCH_CHUNK):
            decompressor.decompress(chunk, 0)
            if decompressor.eof:
                return False
    except zlib.error:
        return False
    return True


def _blank_tail(stream: BinaryIO, at: int) -> bool:
    stream.seek(at)
    return not stream.read(4096).strip(_BLANK)


def _after_blank(stream: BinaryIO, at: int) -> int:
    """Where the next record starts after ``at``: past the CRLFs that close an uncompressed record."""
    stream.seek(at)
    head = stream.read(64)
    return at + len(head) - len(head.lstrip(_BLANK))


def _next_member(stream: BinaryIO, at: int) -> int | None:
    """Offset of the next gzip member that starts a WARC record, after ``at``."""
    while True:
        stream.seek(at)
        chunk = stream.read(_SEARCH_CHUNK)
        if len(chunk) < len(_GZIP_MAGIC):
            return None
        found = chunk.find(_GZIP_MAGIC)
        if found < 0:
            at += len(chunk) - len(_GZIP_MAGIC) + 1
            continue
        candidate = at + found
        stream.seek(candidate)
        try:
            head = zlib.decompressobj(31).decompress(stream.read(4096), 16)
        except zlib.error:
            head = b""
        if head.startswith(b"WARC/"):
            return candidate
        at = candidate + 1


def annotation_fields(payload: bytes) -> dict[str, str]:
    """The fields of a `metadata` record (`name: value` lines; names lower-cased)."""
    fields = {}
    for line in payload.decode("utf-8", "replace").splitlines():
        name, _, value = line.partition(":")
        if value:
            fields[name.strip().lower()] = value.strip()
    return fields


def _target(record) -> str:
    return (record.rec_headers.get_header("WARC-Target-URI") or "").strip().strip("<>")


def _foreign_verdict(record) -> str | None:
    """None when a record of a foreign capture is an HTML page to take, else why not."""
    if record.rec_type == "revisit":
        return "revisit"
    if record.rec_type == "resource":
        if not _target(record).startswith(("http://", "https://")):
            return "not_a_page"
        content_type = record.rec_headers.get_header("Content-Type") or ""
    elif record.rec_type == "response":
        if record.http_headers is None:
            return "not_a_page"  # dns:, whois: and other non-HTTP responses
        if record.http_headers.get_statuscode() != "200":
            return "non_200"
        content_type = (
            record.http_headers.get_header("Content-Type")
            or record.rec_headers.get_header("WARC-Identified-Payload-Type")
            or ""
        )
    else:
        return "not_a_page"
    media_type = content_type.split(";")[0].strip().lower()
    if media_type and media_type not in HTML_TYPES:
        # A document file (PDF, Word, Excel, WPS, OFD) is a page's attachment; an image is
        # more often a logo than a table, and nothing here says which page links it.
        kind = declared_kind(_target(record), media_type)
        return ATTACHMENT if kind and kind not in IMAGE_KINDS and record.payload is not None else "non_html"
    if record.payload is None:
        return "too_large"
    if media_type or record.payload.lstrip()[:14].lower().startswith(_HTML_START):
        return None
    return "non_html"


def raw_document(record, warc_file: str, annotation: dict[str, str | None]) -> RawDocument:
    """A ``response`` or ``resource`` record (warcio) as the pipelines' input, with
    the list page's hints from its annotation; ``warc_file`` names where it lies
    (relative to the WARC folder).  For a process that reads records itself — a
    distributed crawl's writer fed a stream of captures."""
    http = record.http_headers if record.rec_type == "response" else None
    body = record.payload if getattr(record, "payload", None) is not None else record.content_stream().read()
    return RawDocument(
        url=_target(record),
        body=body,
        content_type=http.get_header("Content-Type") if http else record.rec_headers.get_header("Content-Type"),
        status=int(http.get_statuscode()) if http else 200,
        headers=dict(http.headers) if http else {},
        fetched_at=record.rec_headers.get_header("WARC-Date"),
        warc_file=warc_file,
        warc_record_id=record.rec_headers.get_header("WARC-Record-ID"),
        hints=json.loads(annotation.get(HINTS) or "{}"),
    )


class CaptureReader:
    """The pages of WARC/WACZ files; ``root`` names them relative to a folder (a rebuild's)."""

    def __init__(self, paths: list[Path], root: Path | None = None):
        self.root = root
        self.sources = [source for path in paths for source in _sources(Path(path), root)]
        self.reports = {source.name: FileReport(source.name) for source in self.sources}
        self._kinds: dict[str, str] = {}
        self._hints: dict[str, str] = {}
        # Per source: (record id, offset, kind) of every page, in capture order.
        self._pages: dict[str, list[tuple[str, int, str]]] = {}
        self._scanned = False

    @classmethod
    def from_folder(cls, folder: Path) -> CaptureReader:
        files = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.name.lower().endswith(WARC_SUFFIXES))
        return cls(files, root=Path(folder))

    @property
    def total(self) -> int:
        return sum(report.pages + report.attachments for report in self.reports.values())

    def scan(self) -> CaptureReader:
        """First pass: annotations, which files are ours, pages and skips per file, damage."""
        if self._scanned:
            return self
        verdicts: dict[str, list[tuple[str, str | None, int]]] = {}
        for source in self.sources:
            report = self.reports[source.name]
            found = verdicts[source.name] = []
            for record in _records(source, report):
                if record.rec_type == "warcinfo":
                    software = annotation_fields(record.payload or b"").get("software", "")
                    report.own = report.own or software.startswith(SOFTWARE.split("/")[0])
                elif record.rec_type == "metadata" and record.rec_headers.get_header("WARC-Refers-To"):
                    fields = annotation_fields(record.payload or b"")
                    if PAGE_KIND in fields:
                        refers_to = record.rec_headers.get_header("WARC-Refers-To")
                        self._kinds[refers_to] = fields[PAGE_KIND]
                        if HINTS in fields:
                            self._hints[refers_to] = fields[HINTS]
                        report.own = True
                elif record.rec_type in ("response", "resource", "revisit"):
                    found.append((record.rec_headers.get_header("WARC-Record-ID"), _foreign_verdict(record), record.offset))
        for source in self.sources:
            report = self.reports[source.name]
            pages = self._pages[source.name] = []
            for record_id, verdict, offset in verdicts[source.name]:
                if report.own:
                    kind = self._kinds.get(record_id)
                else:
                    kind = ARTICLE if verdict is None else ATTACHMENT if verdict == ATTACHMENT else None
                if kind in (ARTICLE, GONE, ATTACHMENT):
                    report.attachments += kind == ATTACHMENT
                    report.pages += kind != ATTACHMENT
                    pages.append((record_id, offset, kind))
                elif not report.own and verdict != "not_a_page":
                    report.skipped[verdict] += 1
        self._scanned = True
        return self

    def __iter__(self) -> Iterator[Page]:
        """Second pass: the pages, in capture order (:class:`CaptureChanged` when a file changed since the scan)."""
        self.scan()
        for source in self.sources:
            with source.open() as (stream, _):
                for record_id, offset, kind in self._pages[source.name]:
                    record = _record_at(source, stream, offset, record_id)
                    if record.payload is not None:
                        yield Page(kind, raw_document(record, source.name, {HINTS: self._hints.get(record_id)}))


def record_bytes(warc_dir: str | Path, warc_file: str, record_id: str) -> bytes | None:
    """The stored bytes of record ``record_id`` in ``warc_file`` (a gzip member for .warc.gz), else None.

    ``warc_file`` is relative to ``warc_dir`` and must stay inside it.
    """
    root = Path(warc_dir).resolve()
    path = (root / warc_file).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            if record.rec_headers.get_header("WARC-Record-ID") != record_id:
                continue
            record.content_stream().read()
            offset, length = records.get_record_offset(), records.get_record_length()
            stream.seek(offset)
            return stream.read(length)
    return None


def record_payload(warc_dir: str | Path, warc_file: str, record_id: str) -> bytes | None:
    """The payload (the HTTP body) of record ``record_id`` in ``warc_file``, else None."""
    data = record_bytes(warc_dir, warc_file, record_id)
    if data is None:
        return None
    for record in ArchiveIterator(io.BytesIO(data)):
        return record.content_stream().read()
    return None
