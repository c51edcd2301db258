"""Politeness for the crawl as a whole: per host, every worker asks Redis first.

On one machine Scrapy keeps each site polite by itself: at most
``CONCURRENT_REQUESTS_PER_DOMAIN`` requests at once, ``DOWNLOAD_DELAY`` between
them, AutoThrottle stretching the delay when the site slows down.  Three workers
doing the same would each be polite and together three times as heavy.  So the
politeness belongs to the crawl: the coordinator stores its own settings' limits
with the crawl (:func:`crawl_politeness`, ``<crawl>:politeness``) and every worker
obeys those, whatever its own settings say; a worker's own delay is off
(``crawler.cluster.worker_settings``) and, just before a
request goes out, :class:`ClusterPolitenessMiddleware` takes a permit for its host
from Redis, in one atomic step that holds only when

* fewer than the host's concurrency limit of permits are out, and
* the host's delay has passed since the last permit was given (any worker's);

it gives the permit back when the answer (or the error) is in, and — with
AutoThrottle on — adjusts the host's delay from the latency the way Scrapy's
AutoThrottle does, for every worker at once.  A permit carries an expiry, so a
worker killed mid-download cannot hold one for good.

What Redis spaces is the permits; a request leaves its worker a moment after
(a busy worker's reactor adds its lag), so at the site the spacing holds within
that jitter, and the rate over any stretch of requests holds.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings

from crawler.cluster.crawl import ClusterLost
from crawler.cluster.scheduler import CLUSTER_LOST, CLUSTER_UNREACHABLE

logger = logging.getLogger(__name__)

PERMIT_KEY = "cluster_permit"
# While a host is at its concurrency limit, ask again this often.
FULL_POLL_SECONDS = 0.05

# KEYS: permits (sorted set member → expiry), host state (hash: next_at, delay), starts
# (sorted set member → grant time, the last minute's: ``archive cluster status``)
# ARGV: member, concurrency, delay floor, permit lifetime.
# Returns {1, grant time} or {0, seconds to wait before asking again; -1: the host
# is at its concurrency}, times as text (Lua numbers would come back as integers).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {0, '-1'} end
local next_at = tonumber(redis.call('HGET', KEYS[2], 'next_at') or '0')
if now < next_at then return {0, tostring(next_at - now)} end
local delay = tonumber(redis.call('HGET', KEYS[2], 'delay') or ARGV[3])
redis.call('HSET', KEYS[2], 'next_at', tostring(now + delay))
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - 60)
return {1, tostring(now)}
"""

# KEYS: permits, host state.  ARGV: member, latency ('' when unknown), status ('' for
# an error), target concurrency, min delay, max delay, start delay ('' without AutoThrottle).
_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[7] == '' or ARGV[2] == '' then return 0 end
local delay = tonumber(redis.call('HGET', KEYS[2], 'delay') or math.max(tonumber(ARGV[5]), tonumber(ARGV[7])))
local target = tonumber(ARGV[2]) / tonumber(ARGV[4])
local new = math.max(target, (delay + target) / 2)
new = math.min(math.max(tonumber(ARGV[5]), new), tonumber(ARGV[6]))
if ARGV[3] ~= '200' and new <= delay then new = delay end
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

    def release(self, host: str, member: str, latency: float | None = None, status: str = "") -> None:
        limits = self.limits
        throttle = [limits.target_concurrency, limits.delay, limits.max_delay, limits.start_delay if limits.autothrottle else ""]
        self._release(keys=self._keys(host), args=[member, "" if latency is None else latency, status, *throttle])


class ClusterPolitenessMiddleware:
    """Downloader middleware (just before the mirror rewrite, so it sees real hosts)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self._limiter: HostLimiter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        if not crawler.settings.get("CLUSTER_REDIS_URL"):
            raise NotConfigured("not a cluster worker")
        return cls(crawler)

    @property
    def limiter(self) -> HostLimiter:
        if self._limiter is None:  # the scheduler has joined the crawl by the first request
            scheduler = self.crawler.engine.scheduler
            limits = HostLimits.of_crawl(scheduler.crawl.politeness())
            self._limiter = HostLimiter(scheduler.server, scheduler.crawl.base, limits)
        return self._limiter

    async def process_request(self, request: Request) -> None:
        host = (urlsplit(request.url).hostname or "").lower()
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

    def process_response(self, request: Request, response: Response) -> Response:
        self._give_back(request, str(response.status))
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._give_back(request, "")
        return None

    def _give_back(self, request: Request, status: str) -> None:
        permit = request.meta.pop(PERMIT_KEY, None)
        if permit is not None and not self.crawler.engine.scheduler.cluster_lost:
            host, member = permit
            try:
                self.limiter.release(host, member, request.meta.get("download_latency"), status)
            except redis.RedisError:
                logger.warning("Could not give back the permit for %s: it expires by itself", host)
