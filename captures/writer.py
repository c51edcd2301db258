"""Writing WARC: what came in — a crawl's responses, imported files, pages of
imported captures — before any parsing.

The archive keeps what we *made* of a page; the WARC files keep what the site
*sent*, so a better extractor can rebuild the archive later without crawling
again, and a disputed record can be checked against the server's bytes.

A writer (:class:`WarcCapture`) appends to ``<warc dir>/<prefix>-<UTC start>-<pid>-<nnnnn>.warc.gz``
(a new ``nnnnn`` each time a file passes ``max_bytes``); every file starts with
a ``warcinfo`` record naming :data:`SOFTWARE`, which tells the reader that the
file is ours and its pages carry annotations.  A crawled exchange is a
``response`` record followed by its ``request`` record (``WARC-Concurrent-To``
the response); the target URI is always the real site URL, never a mirror's.
An imported file is a ``resource`` record.  What a page was taken for is a
``metadata`` record that ``WARC-Refers-To`` its response (:meth:`WarcCapture.annotate`).
Records are gzip members flushed one by one, so a writer killed with SIGKILL
leaves every finished record readable.

One writer per process and prefix: the file name carries the pid, so any
number of processes (crawl workers on several machines, imports) may write
captures into one folder side by side.

A capture may also hand each write's bytes to a listener (``on_write``) once they
are in the file: a cluster worker ships them to the one writer of the archive
(``crawler/cluster``), which appends them to a byte-identical copy.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

SOFTWARE = "zhenggai-archive/0.1 (warcio)"

# What a ``metadata`` record says about the response it refers to; a rebuild
# from the captures (archive/rebuild.py) reads it to process exactly the pages
# a crawl did: ``article`` (with the list page's ``hints`` as JSON), ``gone``
# (an archived page answering 404/410), ``challenge`` or ``captcha``; and, from
# a cluster worker, ``failed`` (with ``stage``, ``kind``, ``message``; without a
# response to refer to when none came), which its writer records in ``failures``;
# ``attachment``: a file an article links (``hints``: its ``page_url`` and ``name``).
PAGE_KIND, HINTS = "page-kind", "hints"
ARTICLE, GONE, FAILED, ATTACHMENT = "article", "gone", "failed", "attachment"
# Twisted hands us the body already de-chunked; keeping the header would make
# WARC readers try to de-chunk it again.
_HEADERS_NOT_STORED = {"transfer-encoding"}


@dataclass(frozen=True)
class CapturedRecord:
    warc_file: str
    """Path of the WARC file relative to WARC_DIR."""
    record_id: str
    """``WARC-Record-ID`` of the response record, e.g. ``<urn:uuid:…>``."""


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and the response it got, with the real URL."""

    url: str
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes
    fetched_at: datetime
    method: str | None = None
    """None when the request is not known (a page taken from another capture): no request record."""
    request_headers: list[tuple[str, str]] = ()
    request_body: bytes = b""


WriteListener = Callable[[str, int, bytes], None]
"""Called with (WARC file name, offset of the bytes in it, the bytes: whole records)."""


class WarcCapture:
    """Appends exchanges to the run's current WARC file, rotating by size."""

    def __init__(
        self,
        warc_dir: str | os.PathLike,
        prefix: str,
        max_bytes: int,
        user_agent: str,
        on_write: WriteListener | None = None,
    ):
        self.warc_dir = Path(warc_dir)
        self.on_write = on_write
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        started = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self._stem = f"{prefix}-{started}-{os.getpid()}"
        self._sequence = 0
        self._file = None
        self._writer: WARCWriter | None = None
        self._name = ""

    def write_exchange(self, exchange: Exchange) -> CapturedRecord:
        writer = self._current_writer()
        warc_date = exchange.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        response = writer.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.body),
            http_headers=StatusAndHeaders(
                f"{exchange.status} {exchange.reason}".strip(),
                _stored_headers(exchange.response_headers, len(exchange.body)),
                protocol="HTTP/1.1",
            ),
            warc_headers_dict={"WARC-Date": warc_date},
        )
        if exchange.method is None:
            with self._written():
                writer.write_record(response)
            return CapturedRecord(self._name, response.rec_headers.get_header("WARC-Record-ID"))
        split = urlsplit(exchange.url)
        request_target = (split.path or "/") + (f"?{split.query}" if split.query else "")
        request_headers = [("Host", split.netloc), *exchange.request_headers]
        request = writer.create_warc_record(
            exchange.url,
            "request",
            payload=io.BytesIO(exchange.request_body),
            http_headers=StatusAndHeaders(
                f"{exchange.method} {request_target} HTTP/1.1",
                _stored_headers(request_headers, len(exchange.request_body)),
                is_http_request=True,
            ),
        )
        with self._written():
            writer.write_request_response_pair(request, response)
        return CapturedRecord(self._name, response.rec_headers.get_header("WARC-Record-ID"))

    def write_resource(self, url: str, body: bytes, content_type: str | None, fetched_at: datetime) -> CapturedRecord:
        """Capture a document that did not come over HTTP (an imported file)."""
        writer = self._current_writer()
        record = writer.create_warc_record(
            url,
            "resource",
            payload=io.BytesIO(body),
            warc_content_type=content_type or "application/octet-stream",
            warc_headers_dict={"WARC-Date": fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        with self._written():
            writer.write_record(record)
        return CapturedRecord(self._name, record.rec_headers.get_header("WARC-Record-ID"))

    def annotate(self, url: str, refers_to: str | None, fields: dict[str, str]) -> None:
        """Attach ``fields`` (e.g. ``page-kind: challenge``) to a captured response,
        or, without ``refers_to``, say them about ``url`` (a page no response came for)."""
        writer = self._current_writer()
        # One field per line: a value's own line breaks (an error message) become spaces.
        text = "".join(f"{name}: {_one_line(value)}\n" for name, value in fields.items())
        record = writer.create_warc_record(
            url,
            "metadata",
            payload=io.BytesIO(text.encode("utf-8")),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Refers-To": refers_to} if refers_to else {},
        )
        with self._written():
            writer.write_record(record)

    @contextmanager
    def _written(self):
        """Hands what the block wrote to the listener, once it is in the file; a write
        that fails (a full disk) leaves the file as it was before it, closed."""
        start = self._file.tell()
        try:
            yield
        except OSError:
            self._abandon(start)
            raise
        if self.on_write is not None:
            self._file.flush()
            end = self._file.tell()
            with open(self.warc_dir / self._name, "rb") as written:
                written.seek(start)
                self.on_write(self._name, start, written.read(end - start))

    def _abandon(self, end: int) -> None:
        """Close the file, its unwritten bytes dropped, and cut it back to ``end``: no part
        of a record stays behind (the next write starts a new file)."""
        path = self.warc_dir / self._name
        try:
            self._file.close()
        except OSError:
            pass  # the flush of what is still buffered fails the same way
        self._file = self._writer = None
        os.truncate(path, end)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None

    def _current_writer(self) -> WARCWriter:
        if self._writer is not None and self._file.tell() < self.max_bytes:
            return self._writer
        self.close()
        self._sequence += 1
        self._name = f"{self._stem}-{self._sequence:05d}.warc.gz"
        self.warc_dir.mkdir(parents=True, exist_ok=True)
        self._file = open(self.warc_dir / self._name, "ab")
        self._writer = WARCWriter(self._file, gzip=True, warc_version="1.1")
        with self._written():
            self._writer.write_record(
                self._writer.create_warcinfo_record(
                    self._name,
                    {
                        "software": SOFTWARE,
                        "format": "WARC File Format 1.1",
                        "http-header-user-agent": self.user_agent,
                        "robots": "obey",
                    },
                )
            )
        return self._writer


def _one_line(value) -> str:
    return str(value).replace("\r", " ").replace("\n", " ")


def _stored_headers(headers: list[tuple[str, str]], body_length: int) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in headers if k.lower() not in _HEADERS_NOT_STORED | {"content-length"}]
    return [*kept, ("Content-Length", str(body_length))]
