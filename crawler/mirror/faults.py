"""The fault mirror: a fixture site whose pages fail the way government servers do.

``start_mirror(faults=Faults())`` also serves the fault site ``www.faultsite.test``
(profile ``faultsite``; ``faults_only`` in ``sites/hosts.yaml``, so a mirror
started without faults does not serve it).  Its column ``/xsxc/`` lists good
articles and one article per fault.  The mirror refuses faults on anything but
a loopback address: a stalled socket, a 20 MB answer or a gzip bomb is for our own tests.

A path of :data:`FAULTS` answers with its fault; any other path is served from
the fixture tree as usual.  Some faults are only a page and live there as
files: the site's own error template and nginx's "404 Not Found" page, both
answered with status 200 (``faults/site-error.html``, ``faults/soft-404.html``),
and an article in a redesigned template that no profile selector matches
(``faults/redesigned.html``).  The list also links to a page that does not
exist (a plain 404).  Faults that need a page (cut short, or whole after a
first failure) use the fixture file at their own path.

The stall lasts ``Faults.stall_seconds``: set it just past the crawl's
``DOWNLOAD_TIMEOUT``, so the test waits no longer than it must.

A fault in time rather than in a page: ``start_mirror(outage=Outage(host))`` makes a
real site's host answer 500 to every request for 20 s (``seconds``) from its first
request (or from the one after its first ``after_requests``) — a server restarting,
a broken deploy — and serve its pages again afterwards.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import socket
import struct
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qsl

FAULT_HOST = "www.faultsite.test"
FAULTS_DIR = "/xsxc/faults/"
HTML = "text/html; charset=utf-8"
_CHUNK = 64 * 1024
_BODY_LENGTH = object()


@dataclass
class Faults:
    """Switches the fault site on; its numbers are the knobs a test may turn."""

    stall_seconds: float = 3.0
    retry_after_seconds: int = 1
    huge_bytes: int = 20 * 1024 * 1024
    attempts: Counter = field(default_factory=Counter, init=False)
    """Requests seen per fault path (a fault may behave differently on a retry)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def count_attempt(self, path: str) -> int:
        with self._lock:
            self.attempts[path] += 1
            return self.attempts[path]


@dataclass
class Outage:
    """``host`` answers ``status`` to every request for ``seconds``, from the request
    after its first ``after_requests`` on; ``paths_failed``: what it refused."""

    host: str
    seconds: float = 20.0
    after_requests: int = 0
    status: int = 500
    started_at: float | None = field(default=None, init=False)
    paths_failed: list[str] = field(default_factory=list, init=False)
    _requests: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def refuses(self, host: str, path: str) -> bool:
        """Whether the request for ``path`` to ``host``, arriving now, meets the outage."""
        if host != self.host:
            return False
        with self._lock:
            self._requests += 1
            if self.started_at is None and self._requests > self.after_requests:
                self.started_at = time.monotonic()
            refused = self.started_at is not None and not self.over()
            if refused:
                self.paths_failed.append(path)
            return refused

    def over(self) -> bool:
        return self.started_at is not None and time.monotonic() >= self.started_at + self.seconds

    def seconds_left(self) -> float:
        return 0.0 if self.started_at is None else max(0.0, self.started_at + self.seconds - time.monotonic())


class FaultReply:
    """One request to a fault path: what a fault needs to answer it, or not to."""

    def __init__(self, fault: Fault, handler: BaseHTTPRequestHandler, faults: Faults, path: str, query: str, page: Path | None, send_body: bool):
        self.fault = fault
        self.handler = handler
        self.faults = faults
        self.path = path
        self.query = dict(parse_qsl(query))
        self.page = page
        self.send_body = send_body
        self.attempt = faults.count_attempt(path)

    def run(self) -> None:
        self.fault(self)

    def page_bytes(self) -> bytes:
        return self.page.read_bytes()

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, *, content_length=_BODY_LENGTH) -> None:
        """Status line and headers, then ``body``.  ``content_length`` is the
        Content-Length announced: the body's by default, or another number, or
        None for none at all (the body then ends when the connection closes)."""
        length = len(body) if content_length is _BODY_LENGTH else content_length
        with self._client_may_be_gone():
            self.handler.send_response(HTTPStatus(status))
            for name, value in {"Content-Type": HTML, **(headers or {})}.items():
                self.handler.send_header(name, value)
            if length is not None:
                self.handler.send_header("Content-Length", str(length))
            self.handler.end_headers()
            if self.send_body:
                self.handler.wfile.write(body)

    def stream(self, status: int, total: int, chunk: bytes) -> None:
        """``total`` bytes of ``chunk`` repeated, written as they are made."""
        with self._client_may_be_gone():
            self.send(status, b"", content_length=total)
            for offset in range(0, total, len(chunk)):
                self.handler.wfile.write(chunk[: total - offset])

    def reset(self) -> None:
        """Abort the connection with a TCP RST, before any byte of an answer."""
        connection = self.handler.connection
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
        self._discard_further_output()

    @contextlib.contextmanager
    def _client_may_be_gone(self):
        # The crawler hangs up on purpose (timeout, size limit): that is the point.
        try:
            yield
        except OSError:
            self._discard_further_output()

    def _discard_further_output(self) -> None:
        # The request handler flushes its output after we return: give it a sink.
        self.handler.wfile = io.BytesIO()
        self.handler.close_connection = True


Fault = Callable[[FaultReply], None]


def status(code: int, retry_after: bool = False) -> Fault:
    """The server's error page with status ``code`` (and ``Retry-After`` if asked)."""

    def answer(reply: FaultReply) -> None:
        headers = {"Retry-After": str(reply.faults.retry_after_seconds)} if retry_after else {}
        phrase = HTTPStatus(code).phrase
        reply.send(code, f"<html><head><title>{code} {phrase}</title></head><body><h1>{code} {phrase}</h1></body></html>".encode(), headers)

    return answer


def first_attempt_only(fault: Fault) -> Fault:
    """``fault`` on the first request, the page itself from then on (a transient fault)."""

    def answer(reply: FaultReply) -> None:
        if reply.attempt == 1:
            fault(reply)
        else:
            reply.send(200, reply.page_bytes())

    return answer


def connection_reset(reply: FaultReply) -> None:
    reply.reset()


def stall(reply: FaultReply) -> None:
    """Answers only after ``stall_seconds``, when the crawler has given up."""
    time.sleep(reply.faults.stall_seconds)
    reply.send(200, "<html><body><p>迟到的页面</p></body></html>".encode())


def cut_inside_a_character(body: bytes) -> int:
    """An offset past the middle of ``body`` that falls inside a multi-byte UTF-8 character."""
    offset = len(body) // 2
    while body[offset] < 0xC0:  # not the first byte of a multi-byte character
        offset += 1
    return offset + 1


def truncated(announce_length: bool) -> Fault:
    """The page cut inside a UTF-8 character, then the connection closed.

    With its full Content-Length announced the client can tell data is missing;
    without one (the body ends at the close) only the bytes can.
    """

    def answer(reply: FaultReply) -> None:
        body = reply.page_bytes()
        cut = body[: cut_inside_a_character(body)]
        reply.send(200, cut, content_length=len(body) if announce_length else None)

    return answer


def empty(reply: FaultReply) -> None:
    reply.send(200, b"")


def word_attachment() -> bytes:
    """A small .docx (a zip archive), as a CMS serves an attachment behind an .html link."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (
            ("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types/>'),
            ("word/document.xml", '<?xml version="1.0" encoding="UTF-8"?><w:document><w:body><w:p><w:r><w:t>整改台账</w:t></w:r></w:p></w:body></w:document>'),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2022, 4, 8, 9, 0, 0)), text)
    return buffer.getvalue()


def binary(reply: FaultReply) -> None:
    reply.send(200, word_attachment())


def redirect_loop(reply: FaultReply) -> None:
    """Each answer redirects to the same page with the next ``hop`` number: endless."""
    hop = int(reply.query.get("hop", "0")) + 1
    reply.send(302, headers={"Location": f"{reply.path}?hop={hop}"})


def redirect_to(path: str) -> Fault:
    def answer(reply: FaultReply) -> None:
        reply.send(302, headers={"Location": path})

    return answer


def gzip_bomb(reply: FaultReply) -> None:
    """1 GiB of zeros in 1 MB of gzip (members of 16 MB each, one after the other)."""
    member = gzip.compress(bytes(16 << 20), compresslevel=9)
    reply.send(200, member * 64, headers={"Content-Encoding": "gzip"})


def huge(reply: FaultReply) -> None:
    paragraph = "<p>巡视整改进展情况。</p>\n".encode()
    reply.stream(200, reply.faults.huge_bytes, paragraph * (_CHUNK // len(paragraph)))


FAULTS: dict[str, Fault] = {
    f"{FAULTS_DIR}status-500.html": status(500),
    f"{FAULTS_DIR}status-502.html": status(502),
    f"{FAULTS_DIR}status-503.html": status(503),
    f"{FAULTS_DIR}status-503-retry-after.html": status(503, retry_after=True),
    f"{FAULTS_DIR}status-429.html": status(429, retry_after=True),
    f"{FAULTS_DIR}status-503-once.html": first_attempt_only(status(503)),
    f"{FAULTS_DIR}reset.html": connection_reset,
    f"{FAULTS_DIR}reset-once.html": first_attempt_only(connection_reset),
    f"{FAULTS_DIR}stall.html": stall,
    f"{FAULTS_DIR}truncated-length.html": truncated(announce_length=True),
    f"{FAULTS_DIR}truncated-close.html": truncated(announce_length=False),
    f"{FAULTS_DIR}empty.html": empty,
    f"{FAULTS_DIR}attachment.html": binary,
    f"{FAULTS_DIR}redirect-loop.html": redirect_loop,
    # A → B → A: the way back is a page already requested.
    f"{FAULTS_DIR}redirect-ping.html": redirect_to(f"{FAULTS_DIR}redirect-pong.html"),
    f"{FAULTS_DIR}redirect-pong.html": redirect_to(f"{FAULTS_DIR}redirect-ping.html"),
    f"{FAULTS_DIR}huge.html": huge,
    f"{FAULTS_DIR}gzip-bomb.html": gzip_bomb,
}
