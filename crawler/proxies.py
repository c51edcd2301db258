"""Egress through proxies, and what a run's failures say about reaching a host.

Many Chinese government hosts refuse connections from abroad; a crawl from
outside China goes through a proxy inside it.  ``CRAWL_PROXY`` is a list of
proxy URLs used in turn, request by request (one is a fixed egress, several a
rotation); ``CRAWL_PROXY_BY_HOST`` maps a host to its own list, which wins for that
host.  Only ``http://`` and ``https://`` proxies: Scrapy's downloader speaks no SOCKS
(put a local HTTP-to-SOCKS bridge in front of a SOCKS proxy).  The proxy is chosen
by the request's real host, before the mirror's host map rewrites the URL, so a
crawl of the mirror goes through the proxy like a crawl of the live sites.

:func:`reachability` sorts a run's final errors into the classes an operator acts
on: ``refused/reset`` (typical of a foreign vantage point), ``timeout``, ``dns``,
``403``, ``challenge`` (a JavaScript challenge not passed) and ``captcha``.

Through a proxy, a host that resets or refuses the connection is not seen as a
reset: the proxy answers ``502 Bad Gateway`` itself (``504`` when the host does not
answer in time).  :func:`proxy_answered` tells such an answer from the host's own
502 by the marks proxies put on their own pages (proxy.py's ``Proxy-agent``,
Squid's ``X-Squid-Error``), and the failure is recorded as ``proxy_bad_gateway``
or ``proxy_gateway_timeout``, classed with resets and timeouts.
"""

from __future__ import annotations

import itertools
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.middlewares import REAL_URL_KEY

# Failure kinds (crawler/failures.py, the archive pipeline's errors) by reachability class.
REACHABILITY_CLASSES: dict[str, tuple[str, ...]] = {
    "refused/reset": ("connection_refused", "connection_reset", "proxy_bad_gateway"),
    "timeout": ("timeout", "proxy_gateway_timeout"),
    "dns": ("dns_error",),
    "403": ("http_403",),
    "challenge": ("challenge_unsolved",),
}
CAPTCHA = "captcha"

# Headers a proxy puts on an answer it wrote itself, not relayed from the host.
_PROXY_OWN_ANSWER_HEADERS = (b"Proxy-agent", b"X-Squid-Error")
# A proxy's own answer with these statuses: the host could not be reached through it.
PROXY_FAILURE_KINDS = {502: "proxy_bad_gateway", 504: "proxy_gateway_timeout"}


def proxy_answered(request: Request, response) -> bool:
    """The response came from the request's proxy itself, not from the host behind it."""
    return bool(request.meta.get("proxy")) and any(name in response.headers for name in _PROXY_OWN_ANSWER_HEADERS)


def reachability(errors: dict[str, int], stopped_at_captcha: bool) -> dict[str, int]:
    """The run's final errors by reachability class (classes with none left out)."""
    classes = {name: sum(errors.get(kind, 0) for kind in kinds) for name, kinds in REACHABILITY_CLASSES.items()}
    if stopped_at_captcha:
        classes[CAPTCHA] = 1
    return {name: count for name, count in classes.items() if count}


def _proxy_list(value) -> list[str]:
    proxies = [value] if isinstance(value, str) else list(value or [])
    for proxy in proxies:
        if urlsplit(proxy).scheme not in ("http", "https"):
            raise ValueError(f"proxy {proxy!r}: only http:// and https:// proxies are supported")
    return proxies


class ProxyMiddleware:
    """Sets ``request.meta["proxy"]`` from ``CRAWL_PROXY`` / ``CRAWL_PROXY_BY_HOST``
    (Scrapy's HttpProxyMiddleware and download handler do the rest)."""

    def __init__(self, proxies: list[str], by_host: dict[str, list[str]]):
        self.rotation = itertools.cycle(proxies) if proxies else None
        self.by_host = {host.lower(): itertools.cycle(urls) for host, urls in by_host.items() if urls}

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        proxies = _proxy_list(crawler.settings.getlist("CRAWL_PROXY"))
        by_host = {host: _proxy_list(urls) for host, urls in crawler.settings.getdict("CRAWL_PROXY_BY_HOST").items()}
        if not proxies and not by_host:
            raise NotConfigured("no CRAWL_PROXY: direct connections")
        return cls(proxies, by_host)

    def process_request(self, request: Request) -> None:
        if "proxy" in request.meta:
            return None
        host = (urlsplit(request.meta.get(REAL_URL_KEY, request.url)).hostname or "").lower()
        rotation = self.by_host.get(host, self.rotation)
        if rotation is not None:
            request.meta["proxy"] = next(rotation)
        return None
