"""Politeness for the crawl as a whole: per host, every worker asks Redis first.

On one machine Scrapy keeps each site polite by itself: at most
``CONCURRENT_REQUESTS_PER_DOMAIN`` requests at once, ``DOWNLOAD_DELAY`` between
them, AutoThrottle stretching the delay when the site slows down.  Three workers
doing the same would each be polite and together three times as heavy.  So the
politeness belongs to the crawl: the coordinator stores its own settings' limits
with the crawl (:func:`crawl_politeness`, ``<crawl>:politeness``) and every worker
obeys those, whatever its own settings say; a worker's own delay is off
(``crawler.cluster.worker_settings``) and its downloader (:class:`ClusterDownloader`)
takes a permit for the request's host from Redis at the last moment — after the
worker's own download slot has let the request go, right before the download handler
sends it — in one atomic step that holds only when

* fewer than the host's concurrency limit of permits are out,
* the host's delay has passed since the last permit was given (any worker's), and
* with a delay, the last request granted on the host has been answered (its answer
  began, or it failed).

The third condition is what makes the delay hold *at the site*.  A granted request
still has to leave its worker, and a busy worker (two cores, other processes) can
take hundreds of milliseconds to send it: spacing grants alone let a late request
and the next one arrive together (measured: 0.047 s apart with a 0.15 s delay).  The
answer proves the request arrived; so the next one is granted no sooner than the
delay after that proof, and two requests can never reach a host closer than its
delay, however late either leaves.  The price: with a delay, a host's requests overlap
only while an answer's body is still coming (its headers are in).  With no delay
there is nothing to wait for: only the concurrency limit holds.

The permit is given back when the download is over, and — with AutoThrottle on —
the host's delay follows the latency the way Scrapy's AutoThrottle does, for every
worker at once.  A permit carries an expiry, so a worker killed mid-download cannot
hold one (or the host's wait for an answer) for good.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from scrapy import Request, signals
from scrapy.core.downloader import Downloader
from scrapy.core.downloader.handlers import DownloadHandlers
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings

from crawler.cluster.crawl import ClusterLost
from crawler.cluster.scheduler import CLUSTER_LOST, CLUSTER_UNREACHABLE
from crawler.middlewares import REAL_URL_KEY

logger = logging.getLogger(__name__)

PERMIT_KEY = "cluster_permit"
# While a host is at its concurrency limit (or waits for an answer), ask again this often.
FULL_POLL_SECONDS = 0.05

# The host's last grant answered (KEYS[2]: host state; ARGV[1]: its member; the delay
# floor in ARGV[3]): the next grant is due a delay from now.
_ANSWERED_STEP = """
if redis.call('HGET', KEYS[2], 'unanswered') == ARGV[1] then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
  local delay = tonumber(redis.call('HGET', KEYS[2], 'delay') or ARGV[3])
  local next_at = tonumber(redis.call('HGET', KEYS[2], 'next_at') or '0')
  redis.call('HSET', KEYS[2], 'next_at', tostring(math.max(next_at, now + delay)))
  redis.call('HDEL', KEYS[2], 'unanswered', 'unanswered_until')
end
"""

# KEYS: permits (sorted set member → expiry), host state (hash: next_at, delay, the
# unanswered grant and its expiry), starts (sorted set member → grant time, the last
# minute's: ``archive cluster status``)
# ARGV: member, concurrency, delay floor, permit lifetime.
# Returns {1, grant time} or {0, seconds to wait before asking again; -1: the host
# is at its concurrency, or its last grant is unanswered}, times as text (Lua
# numbers would come back as integers).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {0, '-1'} end
local delay = tonumber(redis.call('HGET', KEYS[2], 'delay') or ARGV[3])
local next_at = tonumber(redis.call('HGET', KEYS[2], 'next_at') or '0')
local unanswered = redis.call('HGET', KEYS[2], 'unanswered')
if unanswered then
  if redis.call('ZSCORE', KEYS[1], unanswered) then return {0, '-1'} end
  -- Its permit expired (its worker died): it arrived, if ever, before that.
  next_at = math.max(next_at, tonumber(redis.call('HGET', KEYS[2], 'unanswered_until')) + delay)
  redis.call('HSET', KEYS[2], 'next_at', tostring(next_at))
  redis.call('HDEL', KEYS[2], 'unanswered', 'unanswered_until')
end
if now < next_at then return {0, tostring(next_at - now)} end
local expiry = now + tonumber(ARGV[4])
redis.call('HSET', KEYS[2], 'next_at', tostring(now + delay))
if delay > 0 then redis.call('HSET', KEYS[2], 'unanswered', ARGV[1], 'unanswered_until', tostring(expiry)) end
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 60)
return {1, tostring(now)}
"""

# KEYS: permits, host state.  ARGV: member, delay floor.
_ANSWERED = _ANSWERED_STEP.replace("ARGV[3]", "ARGV[2]")

# KEYS: permits, host state.  ARGV: member, latency ('' when unknown), min delay, status
# ('' for an error), target concurrency, max delay, start delay ('' without AutoThrottle).
_RELEASE = _ANSWERED_STEP + """
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[7] == '' or ARGV[2] == '' then return 0 end
local delay = tonumber(redis.call('HGET', KEYS[2], 'delay') or math.max(tonumber(ARGV[3]), tonumber(ARGV[7])))
local target = tonumber(ARGV[2]) / tonumber(ARGV[5])
local new = math.max(target, (delay + target) / 2)
new = math.min(math.max(tonumber(ARGV[3]), new), tonumber(ARGV[6]))
if ARGV[4] ~= '200' and new <= delay then new = delay end
redis.call('HSET', KEYS[2], 'delay', tostring(new))
return 1
"""


# The settings the crawl's politeness is made of (the coordinator's, after POLITENESS_OFF).
_POLITENESS_SETTINGS = (
    "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY", "DOWNLOAD_TIMEOUT", "AUTOTHROTTLE_ENABLED",
    "AUTOTHROTTLE_TARGET_CONCURRENCY", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_MAX_DELAY",
)


def crawl_politeness(settings: BaseSettings) -> dict[str, str]:
    """The politeness the coordinator stores with the crawl: its settings as a
    crawl on one machine would apply them (``POLITENESS_OFF`` included)."""
    from crawler.settings import CrawlerSettingsAddon

    applied = settings.copy()
    CrawlerSettingsAddon().update_settings(applied)
    return {name: str(applied.get(name)) for name in _POLITENESS_SETTINGS}


@dataclass(frozen=True)
class HostLimits:
    concurrency: int
    delay: float
    permit_seconds: float
    """An answer takes at most DOWNLOAD_TIMEOUT: a permit older than that was a dead worker's."""
    autothrottle: bool = False
    target_concurrency: float = 1.0
    start_delay: float = 0.0
    max_delay: float = 60.0

    @classmethod
    def of_crawl(cls, politeness: dict[str, str]) -> HostLimits:
        """The limits of :func:`crawl_politeness`, as the crawl stores them."""
        settings = BaseSettings(politeness)
        return cls(
            concurrency=settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
            delay=settings.getfloat("DOWNLOAD_DELAY"),
            permit_seconds=settings.getfloat("DOWNLOAD_TIMEOUT") + 5,
            autothrottle=settings.getbool("AUTOTHROTTLE_ENABLED"),
            target_concurrency=settings.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY"),
            start_delay=settings.getfloat("AUTOTHROTTLE_START_DELAY"),
            max_delay=settings.getfloat("AUTOTHROTTLE_MAX_DELAY"),
        )


class HostLimiter:
    """Permits per host under ``<base>:host:<host>``, shared by every worker."""

    def __init__(self, client: redis.Redis, base: str, limits: HostLimits):
        self.redis = client
        self.base = base
        self.limits = limits
        self._acquire = client.register_script(_ACQUIRE)
        self._answered = client.register_script(_ANSWERED)
        self._release = client.register_script(_RELEASE)

    def _keys(self, host: str) -> list[str]:
        return [f"{self.base}:host:{host}:permits", f"{self.base}:host:{host}"]

    def starts(self, host: str) -> list[float]:
        """When the permits of the last minute were granted (Redis's clock), in order."""
        return [score for _, score in self.redis.zrange(f"{self.base}:host:{host}:starts", 0, -1, withscores=True)]

    def try_acquire(self, host: str, member: str) -> tuple[bool, float]:
        """(True, grant time in Redis's clock), or (False, seconds to wait; -1 when
        the host is at its concurrency and only a release will free a permit)."""
        limits = self.limits
        granted, value = self._acquire(
            keys=[*self._keys(host), f"{self.base}:host:{host}:starts"], args=[member, limits.concurrency, limits.delay, limits.permit_seconds]
        )
        return bool(granted), float(value)

    async def acquire(self, host: str, member: str, give_up=lambda: False) -> float:
        """Wait for a permit; ``give_up()`` true: stop waiting (IgnoreRequest)."""
        while True:
            if give_up():
                raise IgnoreRequest("stopped waiting for a politeness permit")
            granted, value = self.try_acquire(host, member)
            if granted:
                return value
            await asyncio.sleep(FULL_POLL_SECONDS if value < 0 else value)

    def answered(self, host: str, member: str) -> None:
        """The answer to ``member``'s request began: it has arrived, the next may follow a delay from now."""
        self._answered(keys=self._keys(host), args=[member, self.limits.delay])

    def release(self, host: str, member: str, latency: float | None = None, status: str = "") -> None:
        """The download is over (answered, if not yet said, and the permit back)."""
        limits = self.limits
        throttle = [limits.target_concurrency, limits.max_delay, limits.start_delay if limits.autothrottle else ""]
        self._release(keys=self._keys(host), args=[member, "" if latency is None else latency, limits.delay, status, *throttle])


class ClusterDownloader(Downloader):
    """Scrapy's downloader, whose every download takes the crawl's permit for its host
    at the last moment: after the worker's own download slot has let the request go,
    right before the download handler (HTTP or the browser) sends it — not when it
    enters the downloader, where a granted request could still wait behind others."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.handlers = PermittedDownloadHandlers(crawler, self.handlers)
        crawler.signals.connect(self.handlers.answer_began, signal=signals.headers_received)


class PermittedDownloadHandlers:
    """The downloader's handlers, each download between taking its host's permit
    and giving it back (with the latency AutoThrottle's delay follows)."""

    def __init__(self, crawler: Crawler, handlers: DownloadHandlers):
        self.crawler = crawler
        self.handlers = handlers
        self._limiter: HostLimiter | None = None

    @property
    def limiter(self) -> HostLimiter:
        if self._limiter is None:  # the scheduler has joined the crawl by the first request
            scheduler = self.crawler.engine.scheduler
            limits = HostLimits.of_crawl(scheduler.crawl.politeness())
            self._limiter = HostLimiter(scheduler.server, scheduler.crawl.base, limits)
        return self._limiter

    async def download_request_async(self, request: Request) -> Response:
        # The real host: the mirror's rewrite (crawler.middlewares) keeps it in meta.
        host = (urlsplit(request.meta.get(REAL_URL_KEY, request.url)).hostname or "").lower()
        scheduler = self.crawler.engine.scheduler
        if scheduler.cluster_lost:
            raise IgnoreRequest("the worker is stopping: the cluster's Redis failed it")
        member = f"{scheduler.worker}:{secrets.token_hex(6)}"
        try:
            await self.limiter.acquire(host, member, give_up=lambda: scheduler.cluster_lost)
        except (redis.RedisError, ClusterLost) as exc:
            # Not the page's failure: the request stays leased, the worker stops, and
            # the coordinator returns the request to the frontier.
            scheduler.lose_cluster(CLUSTER_LOST if isinstance(exc, ClusterLost) else CLUSTER_UNREACHABLE)
            raise IgnoreRequest(f"no politeness permit for {host}: the cluster's Redis failed ({type(exc).__name__})") from exc
        request.meta[PERMIT_KEY] = (host, member)
        sent = time.monotonic()
        latency, status = None, ""
        try:
            response = await self.handlers.download_request_async(request)
            # Scrapy's (to the headers), as AutoThrottle takes it; a handler without it: to the end.
            latency, status = request.meta.get("download_latency", time.monotonic() - sent), str(response.status)
            return response
        finally:
            del request.meta[PERMIT_KEY]
            self._redis_step(self.limiter.release, host, member, latency, status)

    def answer_began(self, headers, body_length, request: Request, spider) -> None:
        """``headers_received``: the request has arrived; the next on its host may follow."""
        if PERMIT_KEY in request.meta:
            self._redis_step(self.limiter.answered, *request.meta[PERMIT_KEY])

    def _redis_step(self, step, host: str, *args) -> None:
        if self.crawler.engine.scheduler.cluster_lost:
            return
        try:
            step(host, *args)
        except redis.RedisError:
            logger.warning("Could not tell the cluster about a request to %s: its permit expires by itself", host)

    def __getattr__(self, name: str):
        return getattr(self.handlers, name)
