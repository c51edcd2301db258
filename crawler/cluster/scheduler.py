"""scrapy-redis's Scheduler and RFPDupeFilter for a cluster worker — and everything
this project changes in them, in this one module.

Checked against Scrapy 2.19 with scrapy-redis 0.9.1 (tests/test_cluster.py):
the scheduler, its priority queue and the duplicate filter work; scrapy-redis's
spiders (``RedisSpider``) still start from ``start_requests()``, which Scrapy 2.16+
no longer calls (rmax/scrapy-redis #305, PR #316, review #317), so we use none of
them: our own spiders seed the shared frontier from their ``start()``.

What is patched here, and why:

* **Scrapy's order within a priority.**  scrapy-redis scores a request by its
  priority alone, and Redis orders equal scores by their bytes — the pickled
  request's: the frontier was walked in random order.  Here, as in Scrapy's own
  scheduler, the last request found goes first (a column's next page is not kept
  waiting behind the articles of the pages before it, and every worker has work),
  then the start requests in the order the spider gave them.
* **Leases instead of a plain pop.**  scrapy-redis pops a request and forgets it:
  a worker killed with SIGKILL loses every request it was working on.  Here a pop
  moves the request into the worker's leases in the same Redis step; the lease is
  released only when Scrapy is completely done with the request (callback or
  errback run, items through the pipelines, new requests scheduled), and the
  coordinator returns a dead worker's leases to the frontier.
* **Persistent, crawl-scoped keys.**  With ``SCHEDULER_PERSIST`` off, scrapy-redis
  deletes the queue and the seen set when *a* worker closes — the other workers'
  crawl with it.  Keys here belong to the cluster crawl (``crawler.cluster.crawl``);
  the coordinator deletes them when the whole crawl is over.
* **Seen and queued in one step.**  scrapy-redis adds a request's fingerprint to the
  seen set, then queues it: Redis failing between the two left a request seen and
  never queued, lost for the crawl.  Here one Redis script does both.
* **A request's lease goes with the stats that count it.**  Stats were summed in Redis
  at each heartbeat only: Redis failing after a page's lease was released but before
  the next beat left the page fetched, never fetched again and counted nowhere — its
  site's run "fetched no page".  The release carries the worker's stats so far, in
  one Redis step.
* **Redis failing is never the page's failure.**  When Redis stays unreachable
  beyond the client's retries, or answers without the crawl (restarted without its
  data), the worker stops at once without releasing a lease (:meth:`lose_cluster`):
  the coordinator returns what it held to the frontier.
* **Scrapy's fingerprints.**  scrapy-redis hashes requests its own way; the filter
  here uses the crawler's ``request_fingerprinter`` (``REQUEST_FINGERPRINTER_CLASS``).
* **No ``spider=`` to the stats collector** (deprecated since Scrapy 2.13; fixed in
  scrapy-redis master, unreleased).
* **Two engine hooks, the only private Scrapy API the cluster uses.**  Scrapy tells a
  scheduler nothing when a request is finished: the engine's slot knows
  (``remove_request``), so the lease is released there.  And an idle engine asks
  its scheduler for work only every 5 s (``_SLOT_HEARTBEAT_INTERVAL``), while other
  workers fill the shared frontier at any moment: the interval becomes
  ``CLUSTER_POLL_SECONDS``.
"""

from __future__ import annotations

import logging
import secrets
import time
import weakref

import redis
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.http import Request
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis import picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from crawler.capture import capture_for
from crawler.cluster.crawl import DEFAULT_PREFIX, OPEN, ClusterCrawl, StatsUpdate, connect, new_worker_id

logger = logging.getLogger(__name__)

LEASE_KEY = "cluster_lease"
# scrapy-playwright's: the request is rendered in this worker's browser, and its page
# object handed to this worker's middlewares — it cannot go to another worker.
BROWSER_META_KEY = "playwright"
# Summed over the workers into the run's crawl_runs row (crawler/archive_pipeline.py).
SHARED_STATS = (
    "downloader/request_count",
    "downloader/response_count",
    "downloader/exception_count",
    "robotstxt/request_count",
    "robotstxt/response_count",
    "anti_bot/challenge_unsolved",
)
SHARED_NOTES = ("anti_bot/captcha_message",)
# Why a worker stops when the cluster fails it: Redis unreachable beyond the client's
# retries, or Redis answering without the crawl (restarted without its data).
CLUSTER_UNREACHABLE, CLUSTER_LOST = "cluster_unreachable", "cluster_lost"
# Close reasons that end only this worker's part, not the site's crawl.
_WORKER_ONLY_REASONS = {"finished", "shutdown", "cancelled", CLUSTER_UNREACHABLE, CLUSTER_LOST}


def worker_figures(stats: dict) -> dict[str, int]:
    """What ``archive cluster status`` shows of one worker: requests and pages (not
    robots.txt), and errors (failed downloads, answers 429 and 5xx)."""
    failed_answers = sum(
        int(count) for name, count in stats.items()
        if name.startswith("downloader/response_status_count/") and (name.endswith("/429") or name.rsplit("/", 1)[1].startswith("5"))
    )
    return {
        "requests": int(stats.get("downloader/request_count", 0)) - int(stats.get("robotstxt/request_count", 0)),
        "pages": int(stats.get("downloader/response_count", 0)) - int(stats.get("robotstxt/response_count", 0)),
        "errors": int(stats.get("downloader/exception_count", 0)) + failed_answers,
    }


class ClusterDupeFilter(RFPDupeFilter):
    """scrapy-redis's seen set, with the crawler's request fingerprints."""

    def __init__(self, server, key, fingerprinter, debug=False):
        super().__init__(server, key, debug)
        self.fingerprinter = fingerprinter

    def request_fingerprint(self, request: Request) -> str:
        return self.fingerprinter.fingerprint(request).hex()

    def close(self, reason=""):
        """The seen set is the crawl's, not this worker's: it stays."""


class LeasedPriorityQueue(PriorityQueue):
    """scrapy-redis's priority queue, in Scrapy's order within a priority, whose pop
    leases the request to this worker."""

    def __init__(self, server, spider, key, crawl: ClusterCrawl, worker: str, serializer=picklecompat):
        super().__init__(server, spider, key, serializer)
        self.crawl = crawl
        self.worker = worker
        self._kept: list[Request] = []

    def keep(self, request: Request) -> None:
        """Leased to this worker and handed back by the next pop, never queued: a
        request to render in this worker's browser, whose page object comes back
        to this worker's anti-bot middleware (crawler/anti_bot.py)."""
        request.meta.pop(LEASE_KEY, None)
        lease_id = secrets.token_hex(8)
        self.crawl.hold(self.spider.name, self.worker, lease_id, request.priority, self._encode_request(request))
        request.meta[LEASE_KEY] = lease_id
        self._kept.append(request)

    def push(self, request: Request, fingerprint: str = "") -> bool:
        """Queue ``request``; with its ``fingerprint``, only when not seen before."""
        # A retry or redirect copies its request's meta, lease included: the copy
        # is a new request and gets a lease of its own when popped.
        request.meta.pop(LEASE_KEY, None)
        start = bool(request.meta.get("is_start_request"))
        return self.crawl.push(self.spider.name, request.priority, self._encode_request(request), start, fingerprint)

    def __len__(self) -> int:
        return super().__len__() + len(self._kept)

    def pop(self, timeout=0) -> Request | None:
        if self._kept:
            return self._kept.pop(0)
        lease_id = secrets.token_hex(8)
        data = self.crawl.pop(self.spider.name, self.worker, lease_id)
        if data is None:
            return None
        request = self._decode_request(data)
        request.meta[LEASE_KEY] = lease_id
        return request

    def release(self, request: Request, stats: StatsUpdate | None = None) -> bool:
        """Release the request's lease with ``stats`` (False: it held none)."""
        lease_id = request.meta.get(LEASE_KEY)
        if lease_id is None:
            return False
        self.crawl.release(self.spider.name, self.worker, lease_id, stats)
        return True


# The schedulers of this process (one per spider of the worker).  Redis failing one fails
# them all (one Redis, one crawl): they stop together, rather than each spending the retry
# window in turn on the one reactor thread (~5 s a spider: minutes for a worker of 50 sites).
_THIS_PROCESS: weakref.WeakSet[ClusterScheduler] = weakref.WeakSet()


class ClusterScheduler(Scheduler):
    """A worker's scheduler: the frontier, seen set and leases of the open cluster crawl."""

    def __init__(self, crawler, server, prefix: str):
        super().__init__(server, persist=True)
        self.crawler = crawler
        self.stats = crawler.stats
        self.prefix = prefix
        self.worker = new_worker_id()
        self.poll_seconds = crawler.settings.getfloat("CLUSTER_POLL_SECONDS")
        self.heartbeat_seconds = crawler.settings.getfloat("CLUSTER_HEARTBEAT_SECONDS")
        self.join_timeout = crawler.settings.getfloat("CLUSTER_JOIN_TIMEOUT")
        self.crawl: ClusterCrawl | None = None
        self.run: dict[str, str] = {}
        self._pushed_stats: dict[str, int] = {}
        self._unreleased: list[Request] = []
        self._lost_redis = False
        self._heartbeat = None
        _THIS_PROCESS.add(self)

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        server = connect(settings.get("CLUSTER_REDIS_URL"), settings.getfloat("CLUSTER_REDIS_RETRY_SECONDS"))
        server.ping()
        return cls(crawler, server, settings.get("CLUSTER_KEY_PREFIX") or DEFAULT_PREFIX)

    # -- life cycle -------------------------------------------------------------

    def open(self, spider) -> None:
        self.spider = spider
        self.crawl = self._join_open_crawl(spider.name)
        self.run = self.crawl.run(spider.name)
        keys = self.crawl.keys(spider.name)
        self.queue = LeasedPriorityQueue(self.server, spider, keys.requests, self.crawl, self.worker)
        self.df = ClusterDupeFilter(
            self.server, keys.seen, self.crawler.request_fingerprinter, self.crawler.settings.getbool("DUPEFILTER_DEBUG")
        )
        self.crawl.join(spider.name, self.worker)
        capture_for(self.crawler, name_tag=self.worker, on_write=self._ship)
        self._hook_engine()
        self.crawler.signals.connect(self._idle, signal=signals.spider_idle)
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(self.heartbeat_seconds, now=False)
        logger.info("Worker %s joined cluster crawl %s of %s (%d requests queued)",
                    self.worker, self.crawl.id, spider.name, len(self.queue))

    def _join_open_crawl(self, spider_name: str) -> ClusterCrawl:
        """The open crawl that includes this spider; waits ``CLUSTER_JOIN_TIMEOUT``
        for one (workers and the coordinator may be started in any order)."""
        deadline = time.monotonic() + self.join_timeout
        while True:
            crawl = ClusterCrawl.current(self.server, self.prefix)
            state = crawl.run(spider_name).get("state") if crawl is not None and spider_name in crawl.spiders else None
            if state == OPEN:
                return crawl
            if state is not None:  # this site's crawl is over already: nothing to do here
                raise CloseSpider("finished")
            if time.monotonic() >= deadline:
                raise CloseSpider(f"no open cluster crawl of {spider_name}")
            time.sleep(min(1.0, self.join_timeout))

    def _hook_engine(self) -> None:
        engine = self.crawler.engine
        engine._SLOT_HEARTBEAT_INTERVAL = self.poll_seconds
        slot = engine._slot
        remove_request = slot.remove_request

        def remove_and_release(request: Request) -> None:
            try:
                self._release(request)
            finally:
                remove_request(request)

        slot.remove_request = remove_and_release

    def close(self, reason: str) -> None:
        if self.crawl is None:
            return
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        if self._lost_redis:
            return  # nothing to hand back to: the coordinator returns this worker's requests
        try:
            self._push_stats()
            if reason not in _WORKER_ONLY_REASONS:
                self.crawl.stop(self.spider.name, reason, str(self.stats.get_value("anti_bot/captcha_message") or ""))
            returned = self.crawl.leave(self.spider.name, self.worker)
        except Exception:
            logger.exception("Could not leave the cluster crawl: its coordinator returns this worker's requests "
                             "to the frontier once the heartbeats stop")
            return
        if returned:
            logger.info("Worker %s returned %d unfinished request(s) to the frontier", self.worker, returned)

    # -- the scheduler interface (scrapy-redis's, without spider= to the stats) ---

    def enqueue_request(self, request: Request) -> bool:
        if self._lost_redis:
            return False  # the request that found this one is fetched again
        # Seen and queued in one Redis step (crawl.py's _PUSH), not scrapy-redis's two.
        fingerprint = "" if request.dont_filter else self.df.request_fingerprint(request)
        try:
            if request.meta.get(BROWSER_META_KEY):
                self.queue.keep(request)
                return True
            queued = self.queue.push(request, fingerprint)
        except redis.RedisError:
            # The request that found this one keeps its lease: fetched again, it finds it again.
            self.lose_cluster(CLUSTER_UNREACHABLE)
            return False
        if not queued:
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if self._lost_redis:
            return None
        try:
            request = self.queue.pop()
        except redis.RedisError:
            self.lose_cluster(CLUSTER_UNREACHABLE)
            return None
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    # -- the crawl as a whole -------------------------------------------------------

    def seeded(self) -> None:
        """This worker has scheduled all of its spider's ``start()``."""
        self.crawl.seeded(self.spider.name, self.worker)

    def _idle(self, spider) -> None:
        """Idle here is not the end: other workers may still add requests.  The
        spider closes when the coordinator says the site's crawl is over."""
        if self._lost_redis:
            raise DontCloseSpider  # its own close is under way (a second one would hang)
        run = self.crawl.run(self.spider.name)
        if not run.get("run_id"):
            self._crawl_gone()
            raise DontCloseSpider
        if run.get("state") == OPEN:
            raise DontCloseSpider
        if run.get("reason"):
            raise CloseSpider(run["reason"])

    def _release(self, request: Request) -> None:
        """The request is finished: its lease goes, with the stats that count it.  Not
        when a capture could not be shipped — then the coordinator returns this
        worker's leases to the frontier."""
        if self._lost_redis:
            return
        try:
            self._release_with_stats(request)
        except Exception:
            logger.exception("Could not release the lease of %s; retrying at the next heartbeat", request.url)
            self._unreleased.append(request)

    def _beat(self) -> None:
        if self._lost_redis:
            return
        try:
            if not self.crawl.is_current():
                self._crawl_gone()
                return
            self.crawl.heartbeat(self.spider.name, self.worker)
            while self._unreleased:
                self._release_with_stats(self._unreleased[-1])
                self._unreleased.pop()
            self._push_stats()
        except (redis.ConnectionError, redis.TimeoutError):
            # The client retried for CLUSTER_REDIS_RETRY_SECONDS: Redis is gone for longer.
            self.lose_cluster(CLUSTER_UNREACHABLE)
        except Exception:  # the next beat tries again; the crawl goes on
            logger.exception("Heartbeat to the cluster failed")

    def _release_with_stats(self, request: Request) -> None:
        update = self._stats_update()
        if self.queue.release(request, update):
            self._stats_added(update)

    def _push_stats(self) -> None:
        update = self._stats_update()
        if update is not None:
            self.crawl.add_stats(self.spider.name, update, self.worker)
            self._stats_added(update)

    def _stats_added(self, update: StatsUpdate | None) -> None:
        for name, delta in (update.deltas if update else {}).items():
            self._pushed_stats[name] = self._pushed_stats.get(name, 0) + delta

    def _stats_update(self) -> StatsUpdate | None:
        """This worker's stats not yet added to the spider's sums (None: nothing new)."""
        stats = self.stats.get_stats()
        deltas = {}
        for name in SHARED_STATS:
            delta = int(stats.get(name, 0)) - self._pushed_stats.get(name, 0)
            if delta:
                deltas[name] = delta
        notes = {name: str(stats[name]) for name in SHARED_NOTES if stats.get(name)}
        if not (deltas or notes):
            return None
        return StatsUpdate(deltas, notes, worker_figures(stats))

    def _ship(self, warc_file: str, offset: int, data: bytes) -> None:
        """Hands captured WARC bytes to the writer (``crawler.cluster.writer``).

        Redis gone for longer than the client retries: this worker stops without
        releasing anything, so every request whose capture may be missing is
        fetched again by another worker (the local WARC file keeps what came);
        what it writes meanwhile is not shipped."""
        if self._lost_redis:
            return
        try:
            self.server.xadd(
                self.crawl.captures,
                {"spider": self.spider.name, "file": warc_file, "offset": offset, "data": data},
            )
        except redis.RedisError:
            self.lose_cluster(CLUSTER_UNREACHABLE)

    @property
    def cluster_lost(self) -> bool:
        """Redis failed this worker: it is stopping, and asks Redis nothing more."""
        return self._lost_redis

    def _crawl_gone(self) -> None:
        """The crawl is no longer in Redis: closed by its coordinator (this worker was
        slow to leave: it just closes), or lost with Redis's data."""
        if self.crawl.has_ended():
            self._lost_redis = True  # nothing left to hand back to
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="finished"))
        else:
            self.lose_cluster(CLUSTER_LOST)

    def lose_cluster(self, reason: str, found_by: str | None = None) -> None:
        """Redis failed this worker (``reason``): it stops at once and releases
        nothing, so every request it holds — whatever became of it here — is
        returned to the frontier by the coordinator and fetched again.  The
        process's other schedulers stop with it (``found_by``: the spider whose
        scheduler found the failure), asking Redis nothing more."""
        if self._lost_redis:
            return
        self._lost_redis = True
        if found_by is not None:
            logger.critical("Worker %s stops with the scheduler of %s: the cluster's Redis failed it", self.worker, found_by)
        elif reason == CLUSTER_LOST:
            logger.critical("Cluster crawl %s is gone from Redis (restarted without its data?): worker %s stops",
                            self.crawl.id, self.worker)
        else:
            logger.critical("Cannot reach the cluster's Redis: worker %s stops", self.worker)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))
        if found_by is None:  # the scheduler that found it stops the others
            for other in list(_THIS_PROCESS):
                if other.crawl is not None and other.crawler.crawling:  # joined, and not yet closed
                    other.lose_cluster(reason, found_by=self.spider.name)
