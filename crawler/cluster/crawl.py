"""One cluster crawl in Redis: its keys, and the steps on them that must be atomic.

A Redis database holds at most one open crawl, described by ``<prefix>:crawl``
(its id and spiders); ``<prefix>:ended:<id>`` marks, for an hour, a crawl its
coordinator closed (a crawl gone without it was lost with Redis's data).  Everything else lives under ``<prefix>:<crawl id>:``, so
closing a crawl deletes one key space and a worker of an old crawl cannot touch
a new one:

``<spider>:run``         hash: ``run_id`` (the archive's ``crawl_runs`` row),
                         ``state`` (open → done | stopped), ``resuming`` (the last
                         run was interrupted: nothing counts as known), ``recheck``
                         (fetch every archived page again), ``seeded``
                         (a worker has scheduled the whole of the spider's ``start()``),
                         ``reason`` and ``message`` of a stop, ``retry`` (JSON: the
                         pages the last run lost to a passing fault, fetched first)
``<spider>:requests``    sorted set: the frontier (scrapy-redis's priority queue, in
                         Scrapy's order within a priority: ``<spider>:pushed`` counts)
``<spider>:seen``        set: request fingerprints (scrapy-redis's duplicate filter)
``<spider>:leases:<w>``  hash: the requests worker ``w`` took and has not finished,
                         ``lease id → "<score> <request>"``; a dead worker's go back
``<spider>:workers``     hash: worker → its last heartbeat (Redis server time)
``<spider>:seeding``     set: workers still scheduling their ``start()``
``<spider>:stats``       hash: the workers' Scrapy stats, summed
``<spider>:archived``    hash: URL → ``{"published_at", "hints"}`` of the pages the
                         archive held when the crawl opened (incremental crawling)
``captures``             stream: WARC bytes from the workers to the writer
``politeness``           hash: the crawl's per-host limits, set by the coordinator
``host:<h>``             politeness state per host (``crawler.cluster.politeness``)
``<spider>:worker:<w>``  hash: worker ``w``'s own figures (requests, pages, errors)
                         for ``archive cluster status`` (``crawler.cluster.operate``)

Every time is Redis's own clock (``TIME``), so workers on machines whose clocks
disagree still agree on heartbeats and request intervals.
"""

from __future__ import annotations

import json
import secrets
import socket
import os
from dataclasses import dataclass

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from crawler.cluster.credentials import checked_url, redis_password

DEFAULT_PREFIX = "zhenggai"
OPEN, DONE, STOPPED = "open", "done", "stopped"
WRITER_GROUP = "writer"
ENDED_MARK_SECONDS = 3600


def connect(url: str, retry_seconds: float = 120.0) -> redis.Redis:
    """A client that rides out a Redis restart: commands are retried for about
    ``retry_seconds`` (backing off up to 2 s) before an error is raised.  The
    password comes from the environment, never the URL (``credentials``)."""
    retries = max(1, int(retry_seconds / 2) + 5)
    return redis.Redis.from_url(
        checked_url(url),
        password=redis_password(),
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), retries),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        socket_connect_timeout=5,
        socket_timeout=30,
        health_check_interval=10,
    )


def new_worker_id() -> str:
    """``<host>-<pid>-<random>``: unique among workers on any number of machines."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


def worker_pid(worker_id: str) -> int:
    return int(worker_id.rsplit("-", 2)[1])


# KEYS: requests, sequence, seen; ARGV: priority, start ('1': from the spider's start()),
# request, fingerprint ('': not filtered).  The fingerprint joins the seen set in the
# same step as the request joins the frontier: Redis failing between the two cannot
# leave a request seen and never queued.  Returns 0 for a request seen before.  The frontier is walked as Scrapy's scheduler walks its own: by priority,
# then the last found first (a column's next page before the articles of the pages
# before it), then the start requests in the order they came.  scrapy-redis scores by
# priority only, and Redis orders equal scores by their bytes (a pickled request's:
# at random).  Exact in a double for |priority| < 2^12 and 2^38 pushes.
_PUSH = """
if ARGV[4] ~= '' and redis.call('SADD', KEYS[3], ARGV[4]) == 0 then return 0 end
local sequence = redis.call('INCR', KEYS[2])
local order = 274877906944 - sequence
if ARGV[2] == '1' then order = 274877906944 + sequence end
redis.call('ZADD', KEYS[1], -tonumber(ARGV[1]) * 1099511627776 + order, ARGV[3])
return sequence
"""

# KEYS: run, requests, leases, workers; ARGV: lease id, worker
_POP = """
if redis.call('HGET', KEYS[1], 'state') ~= 'open' then return false end
local popped = redis.call('ZPOPMIN', KEYS[2])
if #popped == 0 then return false end
redis.call('HSET', KEYS[3], ARGV[1], popped[2] .. ' ' .. popped[1])
local now = redis.call('TIME')
redis.call('HSET', KEYS[4], ARGV[2], now[1] .. '.' .. string.format('%06d', now[2]))
return popped[1]
"""

# KEYS: requests, leases, workers, seeding; ARGV: worker, seconds of silence that make
# it dead ('-1': the worker itself, leaving).  Returns the number of requests returned.
_REQUEUE = """
if ARGV[2] ~= '-1' then
  local beat = redis.call('HGET', KEYS[3], ARGV[1])
  local now = redis.call('TIME')
  if beat and tonumber(now[1]) + tonumber(now[2]) / 1e6 - tonumber(beat) < tonumber(ARGV[2]) then
    return -1
  end
end
local entries = redis.call('HGETALL', KEYS[2])
for i = 2, #entries, 2 do
  local entry = entries[i]
  local space = string.find(entry, ' ', 1, true)
  redis.call('ZADD', KEYS[1], string.sub(entry, 1, space - 1), string.sub(entry, space + 1))
end
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
return #entries / 2
"""

# KEYS: run, requests, seeding, workers; ARGV: leases key prefix.  The spider's crawl is
# done when nothing is queued, leased or still being seeded, and a worker seeded it:
# then nothing can make a new request.  Returns {done?, queued, leased, seeding, workers}.
_FINISH_IF_IDLE = """
local queued = redis.call('ZCARD', KEYS[2])
local leased = 0
local workers = redis.call('HKEYS', KEYS[4])
for _, worker in ipairs(workers) do leased = leased + redis.call('HLEN', ARGV[1] .. worker) end
local seeding = redis.call('SCARD', KEYS[3])
local done = 0
if redis.call('HGET', KEYS[1], 'state') == 'open' and queued == 0 and leased == 0 and seeding == 0
   and redis.call('HGET', KEYS[1], 'seeded') == '1' then
  redis.call('HSET', KEYS[1], 'state', 'done')
  done = 1
end
return {done, queued, leased, seeding, #workers}
"""


class ClusterLost(Exception):
    """Redis answers, but without the crawl: restarted without its data, or flushed."""


class SpiderKeys:
    """The names of one spider's keys in a crawl (see the module docstring)."""

    PARTS = ("run", "requests", "pushed", "seen", "workers", "seeding", "stats", "archived")

    def __init__(self, base: str):
        self.base = base
        for part in self.PARTS:
            setattr(self, part, f"{base}:{part}")
        self.leases_prefix = f"{base}:leases:"

    def leases(self, worker: str) -> str:
        return self.leases_prefix + worker

    def worker(self, worker: str) -> str:
        return f"{self.base}:worker:{worker}"


@dataclass(frozen=True)
class StatsUpdate:
    """What a worker adds to its spider's summed stats: ``deltas`` of counters since its
    last update, ``notes`` (text values, the last one stands) and ``own``: the worker's
    figures so far (``archive cluster status``)."""

    deltas: dict[str, int]
    notes: dict[str, str]
    own: dict[str, int]


@dataclass(frozen=True)
class SpiderStatus:
    done: bool
    queued: int
    leased: int
    seeding: int
    workers: int


class ClusterCrawl:
    """The open crawl of one Redis database, as seen by a worker or the coordinator."""

    def __init__(self, client: redis.Redis, crawl_id: str, spiders: list[str], prefix: str = DEFAULT_PREFIX):
        self.redis = client
        self.id = crawl_id
        self.spiders = spiders
        self.prefix = prefix
        self.base = f"{prefix}:{crawl_id}"
        self._push = client.register_script(_PUSH)
        self._pop = client.register_script(_POP)
        self._requeue = client.register_script(_REQUEUE)
        self._finish_if_idle = client.register_script(_FINISH_IF_IDLE)

    # -- the crawl ------------------------------------------------------------

    @staticmethod
    def pointer(prefix: str) -> str:
        return f"{prefix}:crawl"

    @classmethod
    def current(cls, client: redis.Redis, prefix: str = DEFAULT_PREFIX) -> ClusterCrawl | None:
        described = client.hgetall(cls.pointer(prefix))
        if not described:
            return None
        return cls(client, described[b"id"].decode(), json.loads(described[b"spiders"]), prefix)

    @classmethod
    def open(cls, client: redis.Redis, runs: dict[str, dict], prefix: str = DEFAULT_PREFIX,
             politeness: dict[str, str] | None = None) -> ClusterCrawl:
        """Open a crawl of ``runs`` (spider → ``{"run_id", "resuming", "recheck",
        "archived": {url: {"published_at", "hints"}}}``).

        Everything is in place before the pointer is set, so a worker never
        joins a crawl half opened."""
        crawl = cls(client, secrets.token_hex(6), sorted(runs), prefix)
        crawl.remove_leftovers()
        for spider, run in runs.items():
            keys = crawl.keys(spider)
            client.hset(keys.run, mapping={
                "run_id": run["run_id"], "state": OPEN, "seeded": 0,
                "resuming": int(run["resuming"]), "recheck": int(run.get("recheck", False)),
                "retry": json.dumps(run.get("retry", []), ensure_ascii=False),
            })
            archived = list(run["archived"].items())
            for start in range(0, len(archived), 1000):
                client.hset(keys.archived, mapping={url: json.dumps(page, ensure_ascii=False) for url, page in archived[start:start + 1000]})
        if politeness:
            client.hset(crawl.politeness_key, mapping=politeness)
        client.xgroup_create(crawl.captures, WRITER_GROUP, id="0", mkstream=True)
        client.hset(cls.pointer(prefix), mapping={"id": crawl.id, "spiders": json.dumps(crawl.spiders)})
        return crawl

    def remove_leftovers(self) -> None:
        """Keys of earlier crawls (a crawl closed while a stray worker still wrote)."""
        for key in self.redis.scan_iter(match=f"{self.prefix}:*", count=1000):
            name = key.decode()
            if name != self.pointer(self.prefix) and not name.startswith((self.base + ":", self.ended_key(self.prefix, ""))):
                self.redis.delete(key)

    @staticmethod
    def ended_key(prefix: str, crawl_id: str) -> str:
        return f"{prefix}:ended:{crawl_id}"

    def close(self, mark_ended: bool = True) -> None:
        """The crawl is over: its keys go, and the pointer with them.  A mark that it
        ended stays an hour, so a worker still closing tells it from Redis losing it."""
        if mark_ended:
            self.redis.set(self.ended_key(self.prefix, self.id), 1, ex=ENDED_MARK_SECONDS)
        self.redis.delete(self.pointer(self.prefix))
        for key in self.redis.scan_iter(match=f"{self.base}:*", count=1000):
            self.redis.delete(key)

    def has_ended(self) -> bool:
        """Closed by its coordinator (not lost with Redis's data)."""
        return bool(self.redis.exists(self.ended_key(self.prefix, self.id)))

    def is_current(self) -> bool:
        return self.redis.hget(self.pointer(self.prefix), "id") == self.id.encode()

    @property
    def captures(self) -> str:
        return f"{self.base}:captures"

    @property
    def politeness_key(self) -> str:
        return f"{self.base}:politeness"

    def politeness(self) -> dict[str, str]:
        """The crawl's per-host limits (``crawler.cluster.politeness.crawl_politeness``)."""
        stored = {k.decode(): v.decode() for k, v in self.redis.hgetall(self.politeness_key).items()}
        if not stored:
            raise ClusterLost(f"cluster crawl {self.id} has no politeness in Redis")
        return stored

    def keys(self, spider: str) -> SpiderKeys:
        return SpiderKeys(f"{self.base}:{spider}")

    def run(self, spider: str) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.redis.hgetall(self.keys(spider).run).items()}

    def run_ids(self) -> dict[str, int]:
        """Each spider's run in the archive."""
        return {spider: int(self.redis.hget(self.keys(spider).run, "run_id")) for spider in self.spiders}

    # -- a worker's steps -------------------------------------------------------

    def push(self, spider: str, priority: int, request: bytes, start: bool = False, fingerprint: str = "") -> bool:
        """Queue ``request`` — unless ``fingerprint`` is in the seen set already (False)."""
        keys = self.keys(spider)
        return bool(self._push(keys=[keys.requests, keys.pushed, keys.seen], args=[priority, int(start), request, fingerprint]))

    def pop(self, spider: str, worker: str, lease_id: str) -> bytes | None:
        """The next request of the frontier, leased to ``worker`` until released."""
        keys = self.keys(spider)
        return self._pop(keys=[keys.run, keys.requests, keys.leases(worker), keys.workers], args=[lease_id, worker])

    def hold(self, spider: str, worker: str, lease_id: str, priority: int, request: bytes) -> None:
        """Lease ``request`` to ``worker`` without queueing it (a request only this worker
        can make); should the worker die, it goes to the frontier like any lease."""
        score = -priority * 1099511627776 + 274877906944  # _PUSH's, before every pushed one of its priority
        self.redis.hset(self.keys(spider).leases(worker), lease_id, f"{score} ".encode() + request)

    def release(self, spider: str, worker: str, lease_id: str, stats: StatsUpdate | None = None) -> None:
        """The request is finished: its lease goes, in one Redis step with the worker's
        ``stats`` so far.  Redis failing between the two would leave a page fetched,
        never fetched again, and counted nowhere: its site's run "fetched no page"."""
        keys = self.keys(spider)
        with self.redis.pipeline() as pipe:
            pipe.hdel(keys.leases(worker), lease_id)
            if stats is not None:
                self._queue_stats(pipe, keys, stats, worker)
            pipe.execute()

    def heartbeat(self, spider: str, worker: str) -> None:
        seconds, micros = self.redis.time()
        self.redis.hset(self.keys(spider).workers, worker, f"{seconds}.{micros:06d}")

    def join(self, spider: str, worker: str) -> None:
        keys = self.keys(spider)
        self.heartbeat(spider, worker)
        self.redis.sadd(keys.seeding, worker)

    def seeded(self, spider: str, worker: str) -> None:
        keys = self.keys(spider)
        with self.redis.pipeline() as pipe:
            pipe.hset(keys.run, "seeded", 1)
            pipe.srem(keys.seeding, worker)
            pipe.execute()

    def leave(self, spider: str, worker: str) -> int:
        """A worker stops: whatever it still holds goes back to the frontier."""
        return self.requeue(spider, worker, silent_seconds=None)

    def requeue(self, spider: str, worker: str, silent_seconds: float | None) -> int:
        """Return a worker's leased requests to the frontier and forget the worker —
        only if it has been silent ``silent_seconds`` (None: unconditionally).
        Returns the number of requests returned, -1 when the worker is alive."""
        keys = self.keys(spider)
        limit = "-1" if silent_seconds is None else str(silent_seconds)
        return int(self._requeue(keys=[keys.requests, keys.leases(worker), keys.workers, keys.seeding], args=[worker, limit]))

    def add_stats(self, spider: str, stats: StatsUpdate, worker: str) -> None:
        """Add a worker's new stats to the spider's sums."""
        with self.redis.pipeline() as pipe:
            self._queue_stats(pipe, self.keys(spider), stats, worker)
            pipe.execute()

    @staticmethod
    def _queue_stats(pipe, keys: SpiderKeys, stats: StatsUpdate, worker: str) -> None:
        pipe.hset(keys.worker(worker), mapping=stats.own)
        for name, delta in stats.deltas.items():
            pipe.hincrby(keys.stats, name, delta)
        if stats.notes:
            pipe.hset(keys.stats, mapping=stats.notes)

    def stop(self, spider: str, reason: str, message: str = "") -> None:
        """A worker met what ends the site's crawl (a CAPTCHA, too many errors):
        the first reason stands; the coordinator ends the run."""
        keys = self.keys(spider)
        if self.redis.hsetnx(keys.run, "reason", reason):
            self.redis.hset(keys.run, "message", message)

    # -- the coordinator's steps --------------------------------------------------

    def workers(self, spider: str) -> list[str]:
        return [worker.decode() for worker in self.redis.hkeys(self.keys(spider).workers)]

    def finish_if_idle(self, spider: str) -> SpiderStatus:
        keys = self.keys(spider)
        done, queued, leased, seeding, workers = self._finish_if_idle(
            keys=[keys.run, keys.requests, keys.seeding, keys.workers], args=[keys.leases_prefix]
        )
        return SpiderStatus(bool(done), queued, leased, seeding, workers)

    def end(self, spider: str, state: str = STOPPED) -> None:
        """End the spider's crawl now: what is queued is dropped, workers close."""
        keys = self.keys(spider)
        with self.redis.pipeline() as pipe:
            pipe.hset(keys.run, "state", state)
            pipe.delete(keys.requests)
            pipe.execute()

    def stats(self, spider: str) -> dict[str, int | str]:
        stats = {}
        for name, value in self.redis.hgetall(self.keys(spider).stats).items():
            text = value.decode()
            stats[name.decode()] = int(text) if text.lstrip("-").isdigit() else text
        return stats
