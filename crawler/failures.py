"""Pages lost before they reach the archive pipeline, told apart by kind.

Every request a spider makes gets an errback (:class:`ErrbackMiddleware` sets
the spider's ``download_failed`` on any request without one, including those a
spider adds later), so a page lost to the network, the server or a redirect
loop is never only a log line: :func:`report_download_failure` classifies it
and sends the :data:`page_lost` signal, and the archive pipeline records it in
``failures`` (stage ``fetch``, with the WARC record of the last response
when there was one) and counts it in the run's errors.  Transient faults
(429/5xx, resets, timeouts, cut transfers) reach the errback only once the
retry middleware has given up on them.

Kinds, besides ``http_<status>``: ``timeout``, ``connection_reset`` (closed or
reset before a whole response), ``connection_refused``, ``dns_error``,
``truncated`` (closed before the announced Content-Length), ``proxy_bad_gateway``
and ``proxy_gateway_timeout`` (the proxy's own 502/504: it could not reach the
host, see crawler/proxies.py), ``too_large``
(over ``DOWNLOAD_MAXSIZE`` as it came, or once decoded: Scrapy's
``HttpCompressionMiddleware`` decodes gzip, deflate, br and zstd in pieces and
stops at the same cap, so a decompression bomb costs a few megabytes), ``redirect_loop`` (``REDIRECT_MAX_TIMES`` hops,
or a redirect back to a page of its own chain) and ``download_failed``.

A page lost to a fault another attempt may cure (:func:`is_transient`: 5xx, 408,
429, timeouts, resets, refused connections, DNS, cut transfers) carries ``retry``,
how its spider asks for it again (``ProfileSpider.retry_spec``): the run ends
``incomplete`` and the next run fetches it first.

Requests the crawler drops on purpose are not failures of the site and are
not recorded here: robots.txt, offsite links, a site stopped at a CAPTCHA
(its run status says so).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from twisted.internet import defer, error
from twisted.python.failure import Failure as TwistedFailure
from twisted.web.client import ResponseFailed

from crawler.middlewares import reason_phrase
from crawler.proxies import PROXY_FAILURE_KINDS, proxy_answered
from pipelines import Failure

logger = logging.getLogger(__name__)

FETCH = "fetch"
REDIRECT_LOOP = "redirect_loop"

page_lost = object()
"""Signal: a page is lost for this run; handlers get ``lost`` (a :class:`LostPage`)."""

# (exception types, kind, what happened)
_EXCEPTION_KINDS: tuple[tuple[tuple[type[BaseException], ...], str, str], ...] = (
    ((DownloadTimeoutError, error.TimeoutError, defer.TimeoutError), "timeout", "no whole answer within DOWNLOAD_TIMEOUT"),
    ((ResponseDataLossError,), "truncated", "the connection closed before the announced Content-Length"),
    # DOWNLOAD_MAXSIZE is the one thing that cancels a download and tells the
    # spider (a timeout's cancel arrives as DownloadTimeoutError).
    ((DownloadCancelledError, defer.CancelledError), "too_large", "larger than DOWNLOAD_MAXSIZE"),
    ((DownloadConnectionRefusedError, error.ConnectionRefusedError), "connection_refused", "the server refused the connection"),
    ((CannotResolveHostError, error.DNSLookupError), "dns_error", "the host name does not resolve"),
    (
        (DownloadFailedError, ResponseFailed, error.ConnectionLost, error.ConnectionDone),
        "connection_reset",
        "the connection was reset or closed before a whole answer",
    ),
)


@dataclass(frozen=True)
class LostPage:
    url: str
    """The URL the spider asked for (the start of a redirect chain)."""
    failure: Failure
    status: int | None = None
    """HTTP status of the last response, when there was one."""
    warc_file: str | None = None
    warc_record_id: str | None = None
    retry: dict | None = None
    """How the spider asks for the page again next run (JSON); None: no retry."""


# Kinds of loss another attempt may cure, besides ``http_5xx``.
_TRANSIENT_KINDS = {
    "timeout", "connection_reset", "connection_refused", "dns_error", "truncated", "download_failed",
    "proxy_bad_gateway", "proxy_gateway_timeout", "http_408", "http_429",
}


def is_transient(kind: str) -> bool:
    """A fault of the moment (the server, the network), not of the page."""
    return kind in _TRANSIENT_KINDS or bool(re.fullmatch(r"http_5\d\d", kind))


def _asked_url(request: Request) -> str:
    return (request.meta.get("redirect_urls") or [request.url])[0]


def lost_page(failure: TwistedFailure, max_redirects: int) -> LostPage | None:
    """What a request's errback got, as a lost page; None for a deliberate drop."""
    request: Request = failure.request
    exception = failure.value
    if isinstance(exception, HttpError):
        response = exception.response
        answer = f"answered {response.status} {reason_phrase(response.status)}".rstrip()
        if response.status in PROXY_FAILURE_KINDS and proxy_answered(request, response):
            kind, what = PROXY_FAILURE_KINDS[response.status], f"the proxy {request.meta['proxy']} {answer} for {response.url}"
        else:
            kind, what = f"http_{response.status}", f"{response.url} {answer}"
        return LostPage(
            _asked_url(request),
            Failure(FETCH, kind, what),
            status=response.status,
            warc_file=response.meta.get("warc_file"),
            warc_record_id=response.meta.get("warc_record_id"),
        )
    if isinstance(exception, IgnoreRequest) and isinstance(exception.__cause__, _DecompressionMaxSizeExceeded):
        return LostPage(
            _asked_url(request),
            Failure(FETCH, "too_large", f"larger than DOWNLOAD_MAXSIZE once decoded ({exception})"),
            warc_file=request.meta.get("warc_file"),
            warc_record_id=request.meta.get("warc_record_id"),
        )
    if isinstance(exception, IgnoreRequest):
        if request.meta.get("redirect_times", 0) < max_redirects:
            return None
        message = f"still redirecting after {max_redirects} hops (last to {request.url})"
        return LostPage(
            _asked_url(request),
            Failure(FETCH, REDIRECT_LOOP, message),
            warc_file=request.meta.get("warc_file"),
            warc_record_id=request.meta.get("warc_record_id"),
        )
    kind, what = next(
        ((kind, what) for types, kind, what in _EXCEPTION_KINDS if isinstance(exception, types)),
        ("download_failed", "the download failed"),
    )
    # No response arrived (the capture middleware clears a previous attempt's record).
    return LostPage(_asked_url(request), Failure(FETCH, kind, f"{what} ({_detail(exception)})"))


def _detail(exception: BaseException) -> str:
    """The exception in words; Twisted's ResponseFailed lists its reasons."""
    failed = exception if isinstance(exception, ResponseFailed) else exception.__cause__
    if isinstance(failed, ResponseFailed) and failed.reasons:
        text = "; ".join(message for message in (reason.getErrorMessage() for reason in failed.reasons) if message)
    else:
        text = str(exception)
    return f"{type(exception).__name__}: {text}" if text else type(exception).__name__


def redirect_cycle(request: Request) -> LostPage | None:
    """A redirected request the duplicate filter dropped because it leads back
    into its own chain (A → B → A), as a lost page; None for any other drop."""
    chain = request.meta.get("redirect_urls") or []
    if request.url not in chain:
        return None
    message = f"redirects back to {request.url} after {' → '.join(chain)}"
    return LostPage(
        chain[0],
        Failure(FETCH, REDIRECT_LOOP, message),
        warc_file=request.meta.get("warc_file"),
        warc_record_id=request.meta.get("warc_record_id"),
    )


def report_download_failure(crawler: Crawler, failure: TwistedFailure) -> None:
    """The errback's work: classify the failure and tell the archive pipeline."""
    lost = lost_page(failure, crawler.settings.getint("REDIRECT_MAX_TIMES"))
    retry_spec = getattr(crawler.spider, "retry_spec", None)
    if lost is not None and is_transient(lost.failure.kind) and retry_spec is not None:
        lost = replace(lost, retry=retry_spec(failure.request))
    if lost is not None:
        crawler.signals.send_catch_log(page_lost, lost=lost)


class ErrbackMiddleware:
    """Spider middleware: every request a spider yields without an errback gets
    the spider's ``download_failed``; redirect cycles the duplicate filter drops
    are reported too (no errback ever sees those)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        crawler.signals.connect(self._request_dropped, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        return cls(crawler)

    async def process_start(self, start):
        async for item_or_request in start:
            yield self._with_errback(item_or_request)

    def process_spider_output(self, response, result):
        for item_or_request in result:
            yield self._with_errback(item_or_request)

    async def process_spider_output_async(self, response, result):
        async for item_or_request in result:
            yield self._with_errback(item_or_request)

    def _with_errback(self, item_or_request):
        errback = getattr(self.crawler.spider, "download_failed", None)
        if isinstance(item_or_request, Request) and item_or_request.errback is None and errback is not None:
            item_or_request.errback = errback
        return item_or_request

    def _request_dropped(self, request: Request) -> None:
        lost = redirect_cycle(request)
        if lost is not None:
            self.crawler.signals.send_catch_log(page_lost, lost=lost)
