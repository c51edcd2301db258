"""A local stand-in for the real sites: one loopback HTTP server per real host.

Fixture pages live in ``sites/<host>/<path>`` and are served byte for byte at
the real site's path (``index.html`` for a path ending in ``/``).  A query
string selects the file ``<path>@<normalised query>`` when it exists — the
query's non-empty parameters sorted by name, ``k=v`` joined by ``&``, values
percent-decoded — and falls back to the plain file otherwise (as static
servers ignore cache-busting parameters).

``sites/hosts.yaml`` says what each real server sends on top of the bytes:
the charset in its Content-Type header (which may disagree with the page, as
on people.com.cn), the path robots.txt disallows, whether the host sits
behind the JavaScript cookie challenge, and whether it is the fault site,
served only by a mirror started with ``faults`` (see ``faults.py``).
"""

from __future__ import annotations

import http.cookies
import io
import ipaddress
import mimetypes
import secrets
import socket
import struct
import threading
import time
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from crawler.mirror.blockpages import (
    CAPTCHA_PAGE,
    CHALLENGE_COOKIE,
    challenge_cookie_value,
    challenge_page,
)
from crawler.mirror.faults import FAULTS, FaultReply, Faults, Outage, status

SITES_DIR = Path(__file__).resolve().parent / "sites"
HOSTS_FILE = "hosts.yaml"
HTML_SUFFIXES = {".html", ".shtml", ".htm", ""}
NOT_FOUND_PAGE = b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>"


def stand_in_page(title: str) -> bytes:
    """The page a stand-in site answers its start pages with: its title and no link to follow
    (a home page where discovery finds no column, a column with an empty list)."""
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body><h1>{title}</h1><p>Test mirror stand-in: the real page was never saved.</p></body></html>'
    ).encode("utf-8")


def normalised_query(query: str) -> str:
    """The file-name form of a query string (see the module docstring)."""
    pairs = sorted((k, v) for k, v in parse_qsl(query) if v)
    return "&".join(f"{k}={v}" for k, v in pairs)


# The CMS-family test sites are built with normalised_query, above.
from crawler.mirror.families import SITES_BY_HOST as FAMILY_SITES  # noqa: E402


class SiteTree:
    """The fixture tree: ``<sites_dir>/<real host>/<path>`` plus ``hosts.yaml``."""

    def __init__(self, sites_dir: Path | None = None) -> None:
        self.sites_dir = Path(sites_dir or SITES_DIR)
        hosts = yaml.safe_load((self.sites_dir / HOSTS_FILE).read_text("utf-8"))
        self.hosts: dict[str, dict] = {host: rules or {} for host, rules in hosts.items()}

    def file_for(self, real_host: str, path: str, query: str = "") -> Path | None:
        """The file serving ``path?query`` on ``real_host`` (path percent-decoded), or None."""
        root = (self.sites_dir / real_host).resolve()
        file = (root / path.lstrip("/")).resolve()
        if path.endswith("/"):
            file = file / "index.html"
        if not file.is_relative_to(root):
            return None
        variant = file.with_name(f"{file.name}@{normalised_query(query)}") if query else None
        for candidate in (variant, file):
            if candidate is not None and candidate.is_file():
                return candidate
        return None

    def content_type(self, real_host: str, file: Path) -> str:
        """The Content-Type header the real server sends for ``file``."""
        suffix = Path(file.name.partition("@")[0]).suffix
        if suffix in HTML_SUFFIXES:
            charset = self.hosts[real_host].get("charset")
            return f"text/html; charset={charset}" if charset else "text/html"
        return mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream"


class Mirror:
    """Serves ``sites_dir`` (default: the bundled fixtures) on one port per host.

    ``challenge``: answer hosts marked ``challenge: js_cookie`` in hosts.yaml
    with the cookie challenge unless the request carries :attr:`challenge_cookie`.
    ``captcha_paths``: path prefixes (on every host) answered with the slider
    CAPTCHA; a set, so tests may add to it while the mirror runs.
    ``request_log``: (host, path with query) of every request, in order.
    ``faults``: also serve the fault site (hosts marked ``faults_only``), whose
    fault paths fail as :mod:`crawler.mirror.faults` describes; loopback only.
    ``delay``: seconds every answer takes, like a distant server (a latency-bound crawl).
    ``outage``: a host answering 500 for a while (:class:`crawler.mirror.faults.Outage`).
    ``visits``: (host, path, start, end) of every answer, in ``time.monotonic()`` seconds —
    start: when its request line was read (the request's arrival, what a site's log
    records), end: when the answer was written — and ``max_in_flight``: the most requests
    each host was answering at once — what a politeness limit promises the site.
    """

    def __init__(
        self,
        sites_dir: Path | None = None,
        host: str = "127.0.0.1",
        *,
        challenge: bool = True,
        captcha_paths: set[str] | frozenset[str] = frozenset(),
        port_base: int | None = None,
        faults: Faults | None = None,
        delay: float = 0.0,
        outage: Outage | None = None,
    ) -> None:
        if faults is not None and not _is_loopback(host):
            raise ValueError(f"the fault mirror serves loopback addresses only, not {host}")
        self.tree = SiteTree(sites_dir)
        self.faults = faults
        self.outage = outage
        self.bind_host = host
        self.challenge = challenge
        self.captcha_paths = set(captcha_paths)
        self.challenge_seed = secrets.token_hex(4)
        self.request_log: list[tuple[str, str]] = []
        self.delay = delay
        self.visits: list[tuple[str, str, float, float]] = []
        self.max_in_flight: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}
        self._visits_lock = threading.Lock()
        self.host_map: dict[str, str] = {}
        self._port_base = port_base
        self._servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    @property
    def sites_dir(self) -> Path:
        return self.tree.sites_dir

    @property
    def challenge_cookie(self) -> dict[str, str]:
        """The cookie that passes the challenge, for clients that run no JavaScript."""
        return {CHALLENGE_COOKIE: challenge_cookie_value(self.challenge_seed)}

    def url(self, real_url: str) -> str:
        """The mirror URL serving ``real_url``."""
        parts = urlsplit(real_url)
        rest = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.host_map[parts.hostname] + rest

    @property
    def served_hosts(self) -> list[str]:
        return sorted(
            [host for host, rules in self.tree.hosts.items() if self.faults is not None or not rules.get("faults_only")]
            + list(FAMILY_SITES)
        )

    def start(self) -> "Mirror":
        for index, real_host in enumerate(self.served_hosts):
            port = 0 if self._port_base is None else self._port_base + index
            server = ThreadingHTTPServer((self.bind_host, port), _handler_for(self, real_host))
            server.daemon_threads = True
            thread = threading.Thread(target=server.serve_forever, name=f"mirror {real_host}", daemon=True)
            thread.start()
            self._servers.append((server, thread))
            self.host_map[real_host] = f"http://{self.bind_host}:{server.server_address[1]}"
        return self

    def stop(self) -> None:
        # shutdown() waits out a poll interval (0.5 s); one at a time that adds up.
        stoppers = [threading.Thread(target=server.shutdown) for server, _ in self._servers]
        for stopper in stoppers:
            stopper.start()
        for stopper, (server, thread) in zip(stoppers, self._servers):
            stopper.join()
            server.server_close()
            thread.join()
        self._servers.clear()

    def __enter__(self) -> "Mirror":
        return self if self._servers else self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- answering one request -------------------------------------------------

    @contextmanager
    def visit(self, real_host: str, raw_path: str, arrived: float):
        """Counts the answer in flight on ``real_host`` while it is being made
        (``arrived``: when its request line was read)."""
        with self._visits_lock:
            in_flight = self._in_flight[real_host] = self._in_flight.get(real_host, 0) + 1
            self.max_in_flight[real_host] = max(in_flight, self.max_in_flight.get(real_host, 0))
        try:
            if self.delay:
                time.sleep(self.delay)
            yield
        finally:
            with self._visits_lock:
                self._in_flight[real_host] -= 1
                self.visits.append((real_host, raw_path, arrived, time.monotonic()))

    def respond(
        self, real_host: str, raw_path: str, cookie_header: str | None, request_headers=None, form: str = ""
    ) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for a request to ``real_host`` (``form``: a POST's body)."""
        self.request_log.append((real_host, raw_path))
        site = self.tree.hosts.get(real_host, {})
        path, _, query = raw_path.partition("?")
        path = unquote(path)
        html_type = "text/html; charset=utf-8"
        # Before the challenge: a crawler obeying robots.txt reads it without a browser.
        if path == "/robots.txt":
            robots = f"User-agent: *\nDisallow: {site.get('robots_disallow', '/admin/')}\n"
            return 200, {"Content-Type": "text/plain"}, robots.encode("ascii")
        if family := FAMILY_SITES.get(real_host):
            headers = request_headers or {}
            # The crawler's mirror map says the real URL's scheme (a reverse proxy's header).
            scheme = headers.get("X-Forwarded-Proto", "http")
            answer = family.respond(scheme, path, query, form, headers.get("User-Agent", ""))
            return answer or (404, {"Content-Type": html_type}, NOT_FOUND_PAGE)
        if any(path.startswith(prefix) for prefix in self.captcha_paths):
            return 200, {"Content-Type": html_type}, CAPTCHA_PAGE
        if self.challenge and site.get("challenge") and not self._passes_challenge(cookie_header):
            return 200, {"Content-Type": html_type}, challenge_page(self.challenge_seed)
        file = self.tree.file_for(real_host, path, query)
        if file is None and path in site.get("stand_in", {}).get("paths", ()):
            return 200, {"Content-Type": html_type}, stand_in_page(site["stand_in"]["title"])
        if file is None:
            return 404, {"Content-Type": html_type}, NOT_FOUND_PAGE
        return 200, {"Content-Type": self.tree.content_type(real_host, file)}, file.read_bytes()

    def fault_reply(self, real_host: str, raw_path: str, handler: BaseHTTPRequestHandler, send_body: bool) -> FaultReply | None:
        """The fault ``raw_path`` answers with (on the fault site, or on a host in its outage),
        ready to run, or None."""
        path, _, query = raw_path.partition("?")
        path = unquote(path)
        if self.outage is not None and self.outage.refuses(real_host, raw_path):
            self.request_log.append((real_host, raw_path))
            return FaultReply(status(self.outage.status), handler, self.faults or Faults(), path, query, None, send_body)
        if self.faults is None or not self.tree.hosts[real_host].get("faults_only") or path not in FAULTS:
            return None
        self.request_log.append((real_host, raw_path))
        page = self.tree.file_for(real_host, path)
        return FaultReply(FAULTS[path], handler, self.faults, path, query, page, send_body)

    def _passes_challenge(self, cookie_header: str | None) -> bool:
        cookies = http.cookies.SimpleCookie()
        try:
            cookies.load(cookie_header or "")
        except http.cookies.CookieError:
            return False
        sent = cookies.get(CHALLENGE_COOKIE)
        return sent is not None and sent.value == self.challenge_cookie[CHALLENGE_COOKIE]


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name: only an address says where it listens
        return False


# Linux stamps every packet it receives when asked (CLOCK_REALTIME, nanoseconds).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


class _ArrivalStampedReader(io.RawIOBase):
    """A connection's bytes, and when the kernel received the latest of them: a
    request's arrival at the host as a capture on its network would see it, free of
    the mirror's own delay in reading it (a busy process, Python's threads)."""

    def __init__(self, connection: socket.socket):
        self.connection = connection
        connection.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.received_at = time.monotonic()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size, ancillary, _, _ = self.connection.recvmsg_into([buffer], socket.CMSG_SPACE(16))
        self.received_at = time.monotonic()
        for level, kind, data in ancillary:
            if (level, kind) == (socket.SOL_SOCKET, SO_TIMESTAMPNS):
                seconds, nanoseconds = struct.unpack("qq", data[:16])
                self.received_at += seconds + nanoseconds / 1e9 - time.time()
        return size


def _handler_for(mirror: Mirror, real_host: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "mirror"

        def setup(self) -> None:
            super().setup()
            self._reader = _ArrivalStampedReader(self.connection)
            self.rfile = io.BufferedReader(self._reader)

        def parse_request(self) -> bool:
            # Called as soon as the request line is read: it arrived with the latest bytes.
            self.arrived = self._reader.received_at
            return super().parse_request()

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def do_POST(self) -> None:
            # ASP.NET pagers post their form back (crawler/mirror/families.py).
            length = int(self.headers.get("Content-Length") or 0)
            self._answer(send_body=True, form=self.rfile.read(length).decode("latin-1") if length else "")

        def _answer(self, send_body: bool, form: str = "") -> None:
            with mirror.visit(real_host, self.path, self.arrived):
                fault = mirror.fault_reply(real_host, self.path, self, send_body)
                if fault is not None:
                    fault.run()
                    return
                status, headers, body = mirror.respond(real_host, self.path, self.headers.get("Cookie"), self.headers, form)
                self.send_response(HTTPStatus(status))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(body)
                    self.wfile.flush()

        def log_message(self, format: str, *args) -> None:
            # request_log keeps what tests need; stderr stays quiet.
            pass

    return Handler
