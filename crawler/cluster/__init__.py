"""One crawl on several machines: a shared frontier in Redis, workers, one writer.

::

    coordinator + writer (python -m archive crawl --cluster URL, on the archive's machine)
        │ opens the crawl in Redis: per spider its crawl_runs row and what the
        │ archive already holds; returns dead workers' requests to the frontier;
        │ ends each site's crawl when nothing is queued or in flight; turns the
        │ captures into archive records (Archive.ingest, the one ingest path)
        ▼
    Redis ── frontier + seen set (scrapy-redis) · leases · heartbeats · per-host
        ▲     politeness · summed stats · the captures stream
        │
    workers (python -m archive worker --cluster URL, or Scrapyd running
        `scrapy crawl <spider> -s CLUSTER_REDIS_URL=URL`, on any machine)
          the usual spiders and middlewares; WARC capture first, every record
          shipped to the writer; never open the SQLite archive

Modules: ``crawl`` (the Redis key space and its atomic steps), ``scheduler``
(scrapy-redis's Scheduler and RFPDupeFilter as this project uses them: the one
place that patches them), ``politeness`` (per-host limits for the whole crawl),
``cookies`` (challenge cookies shared), ``credentials`` (the Redis password),
``worker`` (the worker's archive pipeline and seeding), ``writer``,
``coordinator`` and ``operate`` (``archive cluster status|workers|stop``).

A worker is a normal crawl with ``CLUSTER_REDIS_URL`` set: the settings addon
(``crawler.settings.CrawlerSettingsAddon``) applies :func:`worker_settings`.
"""

from __future__ import annotations

from scrapy.settings import BaseSettings

ARCHIVE_PIPELINE = "crawler.archive_pipeline.ArchivePipeline"
ANTI_BOT = "crawler.anti_bot.AntiBotMiddleware"


def worker_settings(settings: BaseSettings) -> dict:
    """What makes a crawl a cluster worker, derived from its settings as they stand."""
    pipelines = {name: order for name, order in settings.getdict("ITEM_PIPELINES").items() if name != ARCHIVE_PIPELINE}
    downloader_middlewares = {name: order for name, order in settings.getdict("DOWNLOADER_MIDDLEWARES").items() if name != ANTI_BOT}
    overrides = {
        "SCHEDULER": "crawler.cluster.scheduler.ClusterScheduler",
        "ITEM_PIPELINES": {**pipelines, "crawler.cluster.worker.CapturePipeline": settings.getdict("ITEM_PIPELINES").get(ARCHIVE_PIPELINE, 300)},
        "DOWNLOADER_MIDDLEWARES": {
            **downloader_middlewares,
            # One browser solve of a host's challenge for the whole cluster (cookies.py).
            "crawler.cluster.cookies.ClusterAntiBotMiddleware": settings.getdict("DOWNLOADER_MIDDLEWARES").get(ANTI_BOT, 585),
        },
        # Every download takes the crawl's permit for its host right before it is sent.
        "DOWNLOADER": "crawler.cluster.politeness.ClusterDownloader",
        "SPIDER_MIDDLEWARES": {**settings.getdict("SPIDER_MIDDLEWARES"), "crawler.cluster.worker.SeedingMiddleware": 1},
        # Per-host concurrency, delay and AutoThrottle are the crawl's, stored in Redis by
        # the coordinator (politeness.py); the worker keeps none of its own, which would
        # only add to them.
        "DOWNLOAD_DELAY": 0.0,
        "AUTOTHROTTLE_ENABLED": False,
        # The frontier is in Redis; a JOBDIR would keep a second, stale one.
        "JOBDIR": None,
    }
    if settings.getpriority("WARC_DIR") <= settings.getpriority("CLUSTER_WARC_DIR"):
        overrides["WARC_DIR"] = settings.get("CLUSTER_WARC_DIR")
    return overrides
