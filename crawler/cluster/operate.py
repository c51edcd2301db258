"""Operating a running cluster crawl: ``archive cluster status|workers|stop``.

Read from Redis alone, so it works from any machine that reaches it, beside the
coordinator (after Scrapy Cluster's Redis Monitor and Scrapyd's ``listjobs``):

* the crawl: its id and, per site, state, frontier size, requests held by
  workers (leased: waiting for a permit or downloading), workers, and
  requests/pages summed;
* the hosts: permits out (requests in flight at the site), requests started in
  the last minute and the current delay;
* the workers: per worker and site, requests held, requests, pages, errors and
  seconds since its last heartbeat.

``stop`` ends every site's crawl as stopped by the operator: the coordinator drops
what is queued, the workers finish what they hold and leave, the runs end
``stopped`` and the crawl is closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import redis

from crawler.archive_pipeline import STOPPED as STOPPED_BY_OPERATOR
from crawler.cluster.crawl import OPEN, ClusterCrawl, connect

STOP_MESSAGE = "stopped by the operator (archive cluster stop)"


@dataclass
class WorkerStatus:
    worker: str
    spider: str
    last_seen: float | None
    """Seconds since its last heartbeat (Redis's clock); None once it has left."""
    held: int
    requests: int = 0
    pages: int = 0
    errors: int = 0


@dataclass
class SiteStatus:
    state: str
    reason: str
    queued: int
    held: int
    seeding: int
    requests: int
    pages: int
    workers: list[WorkerStatus] = field(default_factory=list)


@dataclass
class CrawlStatus:
    id: str
    sites: dict[str, SiteStatus]
    hosts: dict[str, tuple[int, int, float | None]]
    """host → (permits out, requests started in the last minute, delay in seconds
    when AutoThrottle set one)."""
    politeness: dict[str, str]

    @property
    def workers(self) -> list[WorkerStatus]:
        return [worker for site in self.sites.values() for worker in site.workers]


def current_crawl(cluster_url: str) -> ClusterCrawl | None:
    """The crawl open at ``cluster_url`` (the project's ``CLUSTER_KEY_PREFIX``), or None."""
    from crawler.run import project_settings

    settings = project_settings()
    client = connect(cluster_url, settings.getfloat("CLUSTER_REDIS_RETRY_SECONDS"))
    return ClusterCrawl.current(client, settings.get("CLUSTER_KEY_PREFIX"))


def _now(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1e6


def _text(mapping: dict) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in mapping.items()}


def crawl_status(crawl: ClusterCrawl) -> CrawlStatus:
    client = crawl.redis
    now = _now(client)
    sites = {}
    for spider in crawl.spiders:
        keys = crawl.keys(spider)
        run = crawl.run(spider)
        stats = crawl.stats(spider)
        beats = {w: float(t) for w, t in _text(client.hgetall(keys.workers)).items()}
        known = beats.keys() | {key.decode().rsplit(":", 1)[1] for key in client.scan_iter(match=keys.worker("*"), count=1000)}
        workers = []
        for worker in sorted(known):
            own = {k: int(v) for k, v in _text(client.hgetall(keys.worker(worker))).items()}
            last_seen = now - beats[worker] if worker in beats else None
            workers.append(WorkerStatus(worker, spider, last_seen, client.hlen(keys.leases(worker)), **own))
        sites[spider] = SiteStatus(
            state=run.get("state", "?"),
            reason=run.get("reason", ""),
            queued=client.zcard(keys.requests),
            held=sum(worker.held for worker in workers),
            seeding=client.scard(keys.seeding),
            requests=int(stats.get("downloader/request_count", 0)) - int(stats.get("robotstxt/request_count", 0)),
            pages=int(stats.get("downloader/response_count", 0)) - int(stats.get("robotstxt/response_count", 0)),
            workers=workers,
        )
    hosts = {}
    host_prefix = f"{crawl.base}:host:"
    for key in client.scan_iter(match=f"{host_prefix}*:permits", count=1000):
        host = key.decode()[len(host_prefix):-len(":permits")]
        client.zremrangebyscore(key, "-inf", now)  # expired: a dead worker's
        delay = client.hget(f"{host_prefix}{host}", "delay")
        started = client.zcount(f"{host_prefix}{host}:starts", now - 60, "+inf")
        hosts[host] = (client.zcard(key), started, float(delay) if delay else None)
    try:
        politeness = crawl.politeness()
    except Exception:  # a crawl opened before politeness was stored
        politeness = {}
    return CrawlStatus(crawl.id, sites, dict(sorted(hosts.items())), politeness)


def status_line(status: CrawlStatus, spider: str) -> str:
    """One site's figures in a line (also the open run's message in crawl_runs)."""
    site = status.sites[spider]
    alive = sum(1 for worker in site.workers if worker.last_seen is not None)
    return (f"{site.state}, {site.queued} queued, {site.held} held by {alive} worker(s), "
            f"{site.requests} requests, {site.pages} pages")


def format_status(status: CrawlStatus) -> str:
    politeness = status.politeness
    lines = [
        f"cluster crawl {status.id}: {len(status.sites)} site(s); politeness per host: "
        f"{politeness.get('CONCURRENT_REQUESTS_PER_DOMAIN', '?')} at a time, "
        f"{politeness.get('DOWNLOAD_DELAY', '?')} s apart, AutoThrottle {politeness.get('AUTOTHROTTLE_ENABLED', '?')}",
        "",
        f"{'site':20} {'state':8} {'queued':>7} {'held':>5} {'workers':>7} {'requests':>8} {'pages':>6}",
    ]
    for spider, site in status.sites.items():
        alive = sum(1 for worker in site.workers if worker.last_seen is not None)
        state = site.state + (f" ({site.reason})" if site.reason else "")
        lines.append(f"{spider:20} {state:8} {site.queued:7} {site.held:5} {alive:7} {site.requests:8} {site.pages:6}")
    lines += ["", f"{'host':28} {'in flight':>9} {'started/min':>11} {'delay':>6}"]
    for host, (in_flight, started, delay) in status.hosts.items():
        lines.append(f"{host:28} {in_flight:9} {started:11} {'' if delay is None else f'{delay:.2f}':>6}")
    return "\n".join(lines)


def format_workers(status: CrawlStatus) -> str:
    """Workers alive, and those that left after doing some of the work."""
    lines = [f"{'worker':32} {'site':16} {'held':>4} {'requests':>8} {'pages':>6} {'errors':>6} {'last seen':>9}"]
    for worker in status.workers:
        seen = "left" if worker.last_seen is None else f"{worker.last_seen:.1f} s"
        lines.append(f"{worker.worker:32} {worker.spider:16} {worker.held:4} {worker.requests:8} {worker.pages:6} "
                     f"{worker.errors:6} {seen:>9}")
    return "\n".join(lines)


def stop(crawl: ClusterCrawl) -> list[str]:
    """Stop every site still crawling (see the module docstring); returns their names."""
    stopping = [spider for spider in crawl.spiders if crawl.run(spider).get("state") == OPEN]
    for spider in stopping:
        crawl.stop(spider, STOPPED_BY_OPERATOR, STOP_MESSAGE)
    return stopping
