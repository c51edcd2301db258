"""Scrapy settings of the archive crawler.

Polite by default: these are small government sites and we crawl them on a
schedule, so one or two connections per site, a one-second floor between
requests, AutoThrottle, robots.txt obeyed and an honest User-Agent naming a
contact page.  ``POLITENESS_OFF`` (benchmark, local mirror demo) lifts the
rate limits but still obeys robots.txt.

Project settings beyond Scrapy's own:

``ARCHIVE_DB``        SQLite archive the pipeline writes (``data/archive.db``)
``ARCHIVE_OPENER``    ``open_archive(db_path)``, the archive's opener (``crawler.port``):
                      set by ``run_crawl``, which ``python -m archive crawl`` calls; a
                      cluster worker needs none
``WARC_DIR``          where every response is captured (``data/warc``)
``WARC_MAX_BYTES``    size at which a run's WARC file rotates to the next one
``MIRROR_HOST_MAP``   ``{real_host: "http://127.0.0.1:PORT"}`` or the same as a
                      JSON string; empty means the live sites
``COOKIE_FILE``       cookies exported from a real browser (Netscape
                      cookies.txt or a JSON list), loaded into the jar at start
``CONTACT_URL``       where a site administrator can reach us; goes into the UA
``POLITENESS_OFF``    see above
``RETRY_BACKOFF_BASE`` / ``RETRY_BACKOFF_MAX``  seconds of exponential backoff
                      before a retry (``Retry-After`` wins when a site sends it)
``ANTI_BOT_SOLVE_TIMEOUT``  seconds the browser may take to pass a challenge
``CRAWL_ERROR_RATE_MAX``    share of failed pages above which a run is "failing"
``CRAWL_PROXY``             proxy URLs used in turn; ``CRAWL_PROXY_BY_HOST`` per host (crawler/proxies.py)
``RECHECK_ARCHIVED``  also fetch every archived page of the site, to see edits
                      (new versions) and removals (404/410: gone) after publication
``CLUSTER_REDIS_URL`` ``redis://host:port/db``: crawl as one worker of the cluster
                      crawl open there (``crawler/cluster``); the frontier, seen
                      set and politeness are shared, captures go to its writer
``CLUSTER_KEY_PREFIX``, ``CLUSTER_POLL_SECONDS``, ``CLUSTER_HEARTBEAT_SECONDS``,
``CLUSTER_JOIN_TIMEOUT``, ``CLUSTER_REDIS_RETRY_SECONDS``, ``CLUSTER_WORKER_TIMEOUT``,
``CLUSTER_WORKERLESS_TIMEOUT``, ``CLUSTER_WARC_DIR``: see ``crawler/cluster``
"""

from __future__ import annotations

from scrapy.settings import BaseSettings

from pipelines import MAX_PAGE_BYTES

BOT_NAME = "zhenggai-archive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Deployments set their own page (project README, issue tracker, e-mail form).
CONTACT_URL = "https://example.org/zhenggai-archive/contact"
# The User-Agent is built from CONTACT_URL by CrawlerSettingsAddon below, so a
# deployment that sets its own contact page gets an honest UA without repeating it.
USER_AGENT_TEMPLATE = "zhenggai-archive/0.1 (+{contact_url})"

ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_TIMEOUT = 60
# Past pipelines.MAX_PAGE_BYTES (10 MB) a download is cancelled and recorded as ``too_large``.
DOWNLOAD_MAXSIZE = MAX_PAGE_BYTES

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 120.0

# A spider that keeps failing (site down, blocked) stops early instead of
# hammering the site; the run is then reported as failing.
CLOSESPIDER_ERRORCOUNT = 25
CRAWL_ERROR_RATE_MAX = 0.2

COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
# Scheduled batch crawls need no control port (and parallel runs would fight over it).
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"

ARCHIVE_DB = "data/archive.db"
ARCHIVE_OPENER = None
WARC_DIR = "data/warc"
WARC_MAX_BYTES = 1024 * 1024 * 1024
MIRROR_HOST_MAP: dict[str, str] = {}
COOKIE_FILE = None
POLITENESS_OFF = False
RECHECK_ARCHIVED = False
ANTI_BOT_SOLVE_TIMEOUT = 60.0

DOWNLOADER_MIDDLEWARES = {
    # Retries wait (exponential backoff, Retry-After) before going out again.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    # Sees bodies after decompression (590), before the spider.
    "crawler.anti_bot.AntiBotMiddleware": 585,
    # Between redirects (600) and cookies (700): captures every response,
    # redirects and errors included, with its real URL, as it came off the wire.
    "crawler.middlewares.CaptureMiddleware": 650,
    # Before Scrapy's HttpProxyMiddleware (750) and the host map (760): the proxy of
    # the request's real host (CRAWL_PROXY, CRAWL_PROXY_BY_HOST; crawler/proxies.py).
    "crawler.proxies.ProxyMiddleware": 740,
    # After cookies (700): the jar only ever sees real hosts.
    "crawler.middlewares.MirrorHostMapMiddleware": 760,
}
# Proxies used in turn for every host (a list of http:// URLs), and per host.
CRAWL_PROXY: list[str] = []
CRAWL_PROXY_BY_HOST: dict[str, list[str]] = {}

# JOBDIR keeps the scheduler queue of a cleanly stopped run, not a seen-list
# that would hide the requests that were in flight when it stopped.
DUPEFILTER_CLASS = "crawler.middlewares.RunScopedDupeFilter"

SPIDER_MIDDLEWARES = {
    # Every request gets an errback, so a page lost to the network or the
    # server is recorded in ``failures`` (crawler/failures.py).
    "crawler.failures.ErrbackMiddleware": 0,
}

ITEM_PIPELINES = {
    "crawler.archive_pipeline.ArchivePipeline": 300,
}

ADDONS = {
    "crawler.settings.CrawlerSettingsAddon": 0,
}

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# Installed for both schemes, but a request only goes to the browser when its
# meta has playwright=True, which only the anti-bot middleware sets (profiles
# with ``render: challenge``); everything else is plain HTTP.  run_crawl drops
# them for spiders whose profile never needs a browser (each handler starts a
# Playwright driver process).
DOWNLOAD_HANDLERS = {
    "http": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
    "https": "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": "/usr/bin/chromium",
    "headless": True,
    "args": [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ],
}
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
# The browser keeps its own cookie handling (the challenge script's cookie must
# go out with its reload) and only takes our User-Agent.
PLAYWRIGHT_PROCESS_REQUEST_HEADERS = "crawler.anti_bot.browser_headers_with_our_user_agent"
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 2

CLUSTER_REDIS_URL = None
CLUSTER_KEY_PREFIX = "zhenggai"
CLUSTER_POLL_SECONDS = 0.25
CLUSTER_HEARTBEAT_SECONDS = 1.0
CLUSTER_JOIN_TIMEOUT = 60.0
CLUSTER_REDIS_RETRY_SECONDS = 120.0
# The coordinator's: a worker without a heartbeat this long is dead (its requests
# go back to the frontier); a site's crawl that no worker joins this long ends.
CLUSTER_WORKER_TIMEOUT = 15.0
CLUSTER_WORKERLESS_TIMEOUT = 600.0
# A cluster worker's local WARC files, apart from the copies its writer keeps
# beside the archive (a worker and the writer may share a machine).
CLUSTER_WARC_DIR = "data/worker-warc"

# What POLITENESS_OFF changes; robots.txt stays obeyed.
POLITENESS_OFF_OVERRIDES = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0.0,
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "RETRY_BACKOFF_BASE": 0.0,
}


class CrawlerSettingsAddon:
    """Derives settings from other settings before the crawler freezes them."""

    def update_settings(self, settings: BaseSettings) -> None:
        if settings.getpriority("USER_AGENT") <= settings.getpriority("CONTACT_URL"):
            contact_url = settings.get("CONTACT_URL")
            settings.set(
                "USER_AGENT",
                settings.get("USER_AGENT_TEMPLATE").format(contact_url=contact_url),
                priority=settings.getpriority("CONTACT_URL"),
            )
        if settings.getbool("POLITENESS_OFF"):
            priority = settings.getpriority("POLITENESS_OFF")
            for name, value in settings.getdict("POLITENESS_OFF_OVERRIDES").items():
                settings.set(name, value, priority=priority)
        if settings.get("CLUSTER_REDIS_URL"):
            from crawler.cluster import worker_settings

            priority = settings.getpriority("CLUSTER_REDIS_URL")
            for name, value in worker_settings(settings).items():
                settings.set(name, value, priority=priority)
