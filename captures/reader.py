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
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.exceptions import ArchiveLoadFailed

from pipelines import MAX_PAGE_BYTES, RawDocument
from pipelines.text import printable

from pipelines.attachments.formats import IMAGE_KINDS, MAX_ATTACHMENT_BYTES, declared_kind

from .decoding import DECODING_ERRORS, TooLarge, UnknownEncoding, decoded_body
from .writer import ARTICLE, ATTACHMENT, GONE, HINTS, PAGE_KIND, SOFTWARE

WARC_SUFFIXES = (".warc", ".warc.gz", ".wacz")
HTML_TYPES = ("text/html", "application/xhtml+xml")
_GZIP_MAGIC = b"\x1f\x8b\x08"
# A gzip header and the first block's code tables, before the first byte comes out.
_GZIP_HEADER_MAX = 512
_HTML_START = (b"<!doctype html", b"<html", b"<head", b"<body")
# Errors a damaged record or gzip member raises from warcio or zlib.
_DAMAGE = (ArchiveLoadFailed, zlib.error, EOFError, ValueError, OSError)
_SEARCH_CHUNK = 1 << 20
_BLANK = b"\r\n\0 "
# Records are read whole up to the page cap (an attachment's: MAX_ATTACHMENT_BYTES) and
# the HTTP headers around it; a larger one is skipped unread as ``too_large``, and so is
# one whose payload decodes (Content-Encoding) to more than the cap.
_HEADERS_MAX = 65536


class _MemberDamaged(Exception):
    """A gzip member of the file stops decompressing part-way: damage inside it."""


class _StrictMemberReader(DecompressingBufferedReader):
    """warcio's reader of a WARC file, except that a gzip member which fails to
    decompress after its start raises :class:`_MemberDamaged`.  warcio prints the
    zlib error and reads on as if the file ended there, which would take every
    later record for lost to a truncation."""

    def _decompress(self, data):
        if self.decompressor and data and self.num_block_read:
            try:
                return self.decompressor.decompress(data)
            except zlib.error as exc:
                raise _MemberDamaged(f"gzip data does not decompress ({exc})") from exc
        return super()._decompress(data)


class _RecordGarbled(_MemberDamaged):
    """A record's member decompresses, but not to a record: its data was damaged."""


def _archive_iterator(stream: BinaryIO) -> ArchiveIterator:
    iterator = ArchiveIterator(stream)
    # Set before the first record is read: its records come through this reader.
    iterator.reader = _StrictMemberReader(iterator.fh, block_size=iterator.reader.block_size)
    return iterator


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
    too_large: list[tuple[str, str]] = field(default_factory=list)
    """(URL, why) of each page skipped as ``too_large``."""

    def summary(self) -> str:
        parts = [f"{self.pages} page(s)"]
        if self.attachments:
            parts.append(f"{self.attachments} attachment(s)")
        if self.skipped:
            parts.append("skipped " + ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items())))
        parts += self.errors
        return f"{printable(self.name)}: " + "; ".join(parts)


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
    read into ``record.payload`` (None past a page's cap) and where it
    starts into ``record.offset``; damage goes to ``report``."""

    def damage(message: str) -> None:
        if report is not None:
            report.errors.append(message)

    with source.open() as (stream, size):
        # Told once: the damage may have hit the gzip magic of the member it is in.
        gzip_members = _is_gzip(stream, 0) or (source.name.lower().endswith(".gz") and not _starts_record(stream, 0))
        start = 0
        while start is not None:
            stream.seek(start)
            iterator = _archive_iterator(stream)
            end = start
            # A record is whole once the next one starts; the last one is checked at the end.
            pending = None
            try:
                for record in _parsed(iterator):
                    try:
                        _read_payload(record)
                    except (*_DAMAGE, *DECODING_ERRORS, UnknownEncoding) as exc:
                        damage(f"record at offset {end}: its payload does not decode ({_reason(exc)})")
                        record.payload = b""
                        record.damaged = True
                    errors_before = iterator.err_count
                    iterator.read_to_end()
                    if gzip_members and iterator.err_count > errors_before:
                        # Other bytes where the blank lines that close the record should be,
                        # inside its own member: the member decompressed to garbage.
                        raise _RecordGarbled("the record is not followed by the lines that end it")
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
                if pending is not None and (state := _record_end(stream, pending.offset, pending_end, gzip_members)) != _WHOLE:
                    end = pending.offset
                    pending = None
                    if state == _CUT:
                        damage(f"truncated at offset {end}: the last record is cut short")
                    else:
                        raise _MemberDamaged("gzip data does not decompress")
                elif size > end and not _blank_tail(stream, end):
                    # warcio stopped before the end (a damaged gzip header reads as an empty member).
                    raise _MemberDamaged("no record where one should start")
            except (*_DAMAGE, _MemberDamaged) as exc:
                if _one_gzip_stream(exc):
                    damage(f"not read: compressed as one gzip stream, not one gzip member per record; "
                           f"`warcio recompress {source.name} NEW.warc.gz` rewrites it readable")
                    break
                if pending is not None and _record_end(stream, pending.offset, pending_end, gzip_members) != _WHOLE:
                    end, pending = pending.offset, None  # read, but its member does not end right: damaged too
                end = _after_blank(stream, end)
                gzipped = gzip_members or _is_gzip(stream, end)
                following = _next_member(stream, end + 1) if gzipped else _next_plain_record(stream, end + 1)
                cut = _member_end(stream, end) == _CUT if gzipped else _starts_record(stream, end)
                if following is None and cut and not isinstance(exc, _RecordGarbled):
                    damage(f"truncated at offset {end}: {size - end} byte(s) of a record cut short")
                elif following is None:
                    damage(f"damaged at offsets {end}-{size} ({_reason(exc)}): {size - end} byte(s) skipped, "
                           f"no readable record after them")
                else:
                    damage(f"damaged at offsets {end}-{following} ({_reason(exc)}): {following - end} byte(s) skipped, "
                           f"read on from offset {following}")
                start = following
            if pending is not None:
                yield pending


_WHOLE, _CUT, _DAMAGED = "whole", "cut", "damaged"


def _record_end(stream: BinaryIO, offset: int, end: int, gzipped: bool) -> str:
    """How the record read from ``offset`` to ``end`` ends: ``whole`` when its gzip member
    decompresses to its end (its CRC checked) — or, uncompressed, the two CRLFs that close a
    record follow it; ``cut`` when the file ends first; ``damaged`` when it does not decompress.
    (warcio takes a record for read once it has its Content-Length of bytes, and reads
    headers cut short as a record with whatever they still hold.)"""
    if gzipped:
        return _member_end(stream, offset)
    stream.seek(end)
    return _WHOLE if stream.read(4) == b"\r\n\r\n" else _CUT


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


def _read_payload(record, limit: int = MAX_PAGE_BYTES) -> None:
    """``record.payload``: the bytes of its page, de-chunked and decoded
    (:func:`captures.decoding.decoded_body`); None past ``limit`` (a page's,
    :data:`MAX_PAGE_BYTES`; an attachment's, ``MAX_ATTACHMENT_BYTES``), before
    decoding or after, with why in ``record.too_large`` ("" when it fits)."""
    record.payload, record.too_large = None, ""
    if record.length > limit + _HEADERS_MAX:
        record.too_large = f"a record of {record.length} bytes, past the cap of {limit}"
        return
    http = record.http_headers
    try:
        record.payload = decoded_body(
            record.raw_stream,
            limit,
            chunked=http is not None and (http.get_header("Transfer-Encoding") or "").lower() == "chunked",
            content_encoding=http.get_header("Content-Encoding") if http is not None else None,
        )
    except TooLarge as exc:
        record.too_large = f"a payload {exc}"


class CaptureChanged(Exception):
    """A file changed between the scan and the reading of its pages."""


def _payload_limit(kind: str | None) -> int:
    """What a record may hold: an attachment (a scanned 一览表) more than a page."""
    return MAX_ATTACHMENT_BYTES if kind == ATTACHMENT else MAX_PAGE_BYTES


def _record_at(source: _Source, stream: BinaryIO, offset: int, record_id: str, limit: int = MAX_PAGE_BYTES):
    """The record ``record_id`` that the scan found at ``offset``, its payload read up to ``limit``."""
    stream.seek(offset)
    try:
        record = next(iter(_archive_iterator(stream)), None)
        if record is not None and record.rec_headers.get_header("WARC-Record-ID") == record_id:
            _read_payload(record, limit)
            return record
    except (*_DAMAGE, _MemberDamaged):
        pass
    raise CaptureChanged(f"{source.name} changed while it was read: record {record_id} is no longer at offset {offset}")


def _reason(exc: Exception) -> str:
    """The first line of an error, without the bytes it may quote (a damaged record's first line)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.split(", first line:")[0]
    return "".join(c if c.isprintable() else "?" for c in text)[:80]


def _one_gzip_stream(exc: Exception) -> bool:
    """warcio's refusal of a file gzipped whole: valid, but its records cannot be sought."""
    return isinstance(exc, ArchiveLoadFailed) and "non-chunked gzip" in str(exc)


def _is_gzip(stream: BinaryIO, at: int) -> bool:
    stream.seek(at)
    return stream.read(3) == _GZIP_MAGIC


def _member_end(stream: BinaryIO, at: int) -> str:
    """``whole``: the gzip member at ``at`` decompresses to its end; ``cut``: without
    error up to the end of the file, which comes first, into the start of a record
    (a damaged header can make the rest read as a file name: nothing comes out);
    else ``damaged``."""
    stream.seek(at)
    decompressor = zlib.decompressobj(31)
    head, read = b"", 0
    try:
        while chunk := stream.read(_SEARCH_CHUNK):
            read += len(chunk)
            head = (head + decompressor.decompress(chunk, 0))[:8]
            if decompressor.eof:
                return _WHOLE
    except zlib.error:
        return _DAMAGED
    if head[:5] == b"WARC/"[:len(head)] and (head or read <= _GZIP_HEADER_MAX):
        return _CUT
    return _DAMAGED


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


def _starts_record(stream: BinaryIO, at: int) -> bool:
    stream.seek(at)
    return stream.read(8) in (b"WARC/1.0", b"WARC/1.1")


def _next_plain_record(stream: BinaryIO, at: int) -> int | None:
    """Offset of the next line that starts an uncompressed WARC record, after ``at``."""
    while True:
        stream.seek(at)
        chunk = stream.read(_SEARCH_CHUNK)
        found = min((i for i in (chunk.find(b"\nWARC/1.0\r\n"), chunk.find(b"\nWARC/1.1\r\n")) if i >= 0), default=-1)
        if found >= 0:
            return at + found + 1
        if len(chunk) < _SEARCH_CHUNK:
            return None
        at += len(chunk) - 12


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
        # (One past a page's cap is still an attachment: the scan reads it again with a file's.)
        kind = declared_kind(_target(record), media_type)
        return ATTACHMENT if kind and kind not in IMAGE_KINDS else "non_html"
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
    limit = _payload_limit(annotation.get(PAGE_KIND))
    if not hasattr(record, "payload"):
        _read_payload(record, limit)
    if record.payload is None:
        raise TooLarge(record.length, limit, [])
    body = record.payload
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
        verdicts: dict[str, list[tuple[str, str | None, int, str, str]]] = {}
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
                    found.append((
                        record.rec_headers.get_header("WARC-Record-ID"), _foreign_verdict(record), record.offset,
                        _target(record), getattr(record, "too_large", ""),
                    ))
        for source in self.sources:
            report = self.reports[source.name]
            pages = self._pages[source.name] = []
            for record_id, verdict, offset, url, too_large in verdicts[source.name]:
                if report.own:
                    kind = self._kinds.get(record_id)
                else:
                    kind = ARTICLE if verdict is None else ATTACHMENT if verdict == ATTACHMENT else None
                if too_large and kind == ATTACHMENT:  # past a page's cap: is it past a file's?
                    too_large = self._too_large_as_file(source, offset, record_id)
                if too_large and (kind in (ARTICLE, GONE, ATTACHMENT) or verdict == "too_large"):
                    report.skipped["too_large"] += 1
                    report.too_large.append((url, too_large))
                elif kind in (ARTICLE, GONE, ATTACHMENT):
                    report.attachments += kind == ATTACHMENT
                    report.pages += kind != ATTACHMENT
                    pages.append((record_id, offset, kind))
                elif not report.own and verdict != "not_a_page":
                    report.skipped[verdict] += 1
        self._scanned = True
        return self

    @staticmethod
    def _too_large_as_file(source: _Source, offset: int, record_id: str) -> str:
        """Why the record at ``offset`` is past an attachment's cap; "" when it is not."""
        with source.open() as (stream, _):
            return _record_at(source, stream, offset, record_id, _payload_limit(ATTACHMENT)).too_large

    def __iter__(self) -> Iterator[Page]:
        """Second pass: the pages, in capture order (:class:`CaptureChanged` when a file changed since the scan)."""
        self.scan()
        for source in self.sources:
            with source.open() as (stream, _):
                for record_id, offset, kind in self._pages[source.name]:
                    record = _record_at(source, stream, offset, record_id, _payload_limit(kind))
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
            records.read_to_end()  # the stored bytes only: a payload is never decoded here
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
