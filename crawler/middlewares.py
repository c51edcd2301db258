"""Downloader middlewares: local mirror host map, WARC capture, retry with backoff;
and the duplicate filter the scheduler uses.

Order (see ``DOWNLOADER_MIDDLEWARES`` in settings): retry 550 < anti-bot 585 <
capture 650 < cookies 700 < mirror 760.  On the way out the mirror rewrite is
the last step, so cookies, robots.txt and the scheduler only ever see real
URLs; on the way back it is the first, so capture, redirects, the anti-bot
layer and the spiders get the real URL too.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
from datetime import datetime, timezone
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from captures import Exchange
from crawler.capture import capture_for
from pipelines.extract import incomplete_body

logger = logging.getLogger(__name__)

REAL_URL_KEY = "mirror_real_url"


def parse_host_map(value: dict | str | None) -> dict[str, str]:
    """``MIRROR_HOST_MAP`` as a dict ``{real_host: "http://127.0.0.1:PORT"}``.

    Accepts a dict or its JSON text (what ``-s MIRROR_HOST_MAP=…`` gives).
    """
    if not value:
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    return {host.lower(): origin.rstrip("/") for host, origin in dict(value).items()}


class MirrorHostMapMiddleware:
    """Sends requests for mapped hosts to the local mirror, under their real URLs.

    The request is rewritten in place just before the download and restored
    as soon as the response (or error) comes back, so the rest of Scrapy keeps
    the real URL: the scheduler, the cookie jar, redirects, capture, spiders.
    """

    def __init__(self, host_map: dict[str, str]):
        self.host_map = host_map
        self._real_origin_of = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        host_map = parse_host_map(crawler.settings.get("MIRROR_HOST_MAP"))
        if not host_map:
            raise NotConfigured("no MIRROR_HOST_MAP: crawling the live sites")
        return cls(host_map)

    def process_request(self, request: Request) -> None:
        real = urlsplit(request.url)
        mirror_origin = self.host_map.get((real.hostname or "").lower())
        if mirror_origin is None:
            return None
        # Every mirror listens on 127.0.0.1; keep one download slot (and so
        # one politeness budget) per real site anyway.
        request.meta.setdefault("download_slot", real.hostname)
        request.meta[REAL_URL_KEY] = request.url
        # What a reverse proxy tells the server: the scheme the mirror's address loses.
        request.headers["X-Forwarded-Proto"] = real.scheme
        self._real_origin_of[mirror_origin] = f"{real.scheme}://{real.netloc}"
        request._set_url(mirror_origin + real._replace(scheme="", netloc="", fragment="").geturl())
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        real_url = self._restore(request)
        if real_url is None:
            return response
        location = response.headers.get("Location")
        headers = response.headers.copy()
        if location:
            headers["Location"] = self._real_location(location.decode("latin-1"))
        return response.replace(url=real_url, headers=headers)

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._restore(request)
        return None

    def _restore(self, request: Request) -> str | None:
        real_url = request.meta.pop(REAL_URL_KEY, None)
        if real_url is not None:
            request._set_url(real_url)
        return real_url

    def _real_location(self, location: str) -> str:
        for mirror_origin, real_origin in self._real_origin_of.items():
            if location.startswith(mirror_origin):
                return real_origin + location[len(mirror_origin):]
        return location


def _header_pairs(headers) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


class CaptureMiddleware:
    """Writes every response to the run's WARC file before anything parses it.

    Sets ``response.meta["warc_file"]`` (relative to ``WARC_DIR``) and
    ``["warc_record_id"]`` for the spiders to put into their items.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        # A retry or redirect copies its request's meta: until this attempt's
        # response is captured, the request points at no record.
        request.meta.pop("warc_file", None)
        request.meta.pop("warc_record_id", None)

    def process_response(self, request: Request, response: Response) -> Response:
        captured = capture_for(self.crawler).write_exchange(
            Exchange(
                url=response.url,
                method=request.method,
                request_headers=_header_pairs(request.headers),
                request_body=request.body,
                status=response.status,
                reason=reason_phrase(response.status),
                response_headers=_header_pairs(response.headers),
                body=response.body,
                fetched_at=datetime.now(timezone.utc),
            )
        )
        request.meta["warc_file"] = captured.warc_file
        request.meta["warc_record_id"] = captured.record_id
        self.crawler.stats.inc_value("warc/records")
        return response


def reason_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, but waiting before the retry goes out.

    The wait doubles with each attempt (``RETRY_BACKOFF_BASE`` · 2ⁿ⁻¹, capped at
    ``RETRY_BACKOFF_MAX``); a ``Retry-After`` header (429, 503) wins when the
    site sends one.  A busy government server should not see us come back at once.

    Besides the status codes and exceptions Scrapy retries, an HTML page that
    arrived empty or cut inside a character (a server that closed the
    connection mid-page without announcing a length) is retried too.
    """

    def __init__(self, settings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX")

    async def process_response(self, request: Request, response: Response):
        result = super().process_response(request, response)
        if result is response and not request.meta.get("dont_retry") and (incomplete := _incomplete_page(response)):
            result = self._retry(request, f"{incomplete} body") or response
        if isinstance(result, Request):
            await self._wait(result, retry_after_seconds(response))
        return result

    async def process_exception(self, request: Request, exception: Exception):
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result, None)
        return result

    def backoff_delay(self, retry_times: int, retry_after: float | None) -> float:
        """Seconds to wait before attempt ``retry_times`` + 1 goes out."""
        if retry_after is not None:
            return min(retry_after, self.backoff_max)
        return min(self.backoff_base * 2 ** (retry_times - 1), self.backoff_max)

    async def _wait(self, retry: Request, retry_after: float | None) -> None:
        delay = self.backoff_delay(retry.meta["retry_times"], retry_after)
        if delay > 0:
            logger.info("Backing off %.1fs before retrying %s", delay, retry.url)
            await asyncio.sleep(delay)


def _incomplete_page(response: Response) -> str | None:
    """``empty`` or ``truncated`` for a 200 HTML page that cannot be whole."""
    content_type = response.headers.get("Content-Type", b"").decode("latin-1").lower()
    if response.status != 200 or not content_type.startswith("text/html"):
        return None
    incomplete = incomplete_body(response.body)
    return incomplete[0] if incomplete else None


def retry_after_seconds(response: Response) -> float | None:
    """The ``Retry-After`` header in seconds (it may be a number or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": a time in UTC whose source zone is unknown (RFC 5322)
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class RunScopedDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter, remembering only this run's requests even with a JOBDIR.

    A stopped crawl loses its in-flight requests (Ctrl-C cancels them, SIGKILL
    loses the queue too) while the JOBDIR's seen-list keeps them, so a resumed
    run would never fetch them again.  The archive is the record of what is
    done; a resumed run walks the lists again and only this run's duplicates
    are filtered.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        return cls(
            None,
            crawler.settings.getbool("DUPEFILTER_DEBUG"),
            fingerprinter=crawler.request_fingerprinter,
        )
