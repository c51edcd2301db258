"""Run crawls: ``run_crawl`` (``python -m archive crawl``) and ``run_worker``
(``python -m archive worker``: a cluster worker, see ``crawler/cluster``).

The caller hands ``run_crawl`` the archive's opener (``crawler.port``); the
command line is the archive's (``archive/cli.py``).

Scrapy's reactor starts once per process: call ``run_crawl`` once per process
(run several crawls as subprocesses).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

from crawler.anti_bot import CHALLENGE
from crawler.archive_pipeline import INTERRUPTED, OK, STOPPED, STOPPED_EARLY, last_run_state
from crawler.discovery import RENDER_LISTS
from crawler.port import OPENER_SETTING, ArchiveOpener
from sites import get_profile

SETTINGS_MODULE = "crawler.settings"


def project_settings():
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", SETTINGS_MODULE)
    from scrapy.utils.project import get_project_settings

    return get_project_settings()


def _crawl_settings(db_path, host_map, cookie_file, politeness, warc_dir, extra_settings, open_archive=None):
    settings = project_settings()
    overrides = {"POLITENESS_OFF": not politeness}
    if db_path:
        overrides["ARCHIVE_DB"] = str(db_path)
    if open_archive:
        overrides[OPENER_SETTING] = open_archive
    if host_map:
        overrides["MIRROR_HOST_MAP"] = dict(host_map)
    if cookie_file:
        overrides["COOKIE_FILE"] = str(cookie_file)
    if warc_dir:
        overrides["WARC_DIR"] = str(warc_dir)
    settings.setdict({**overrides, **(extra_settings or {})}, priority="cmdline")
    return settings


def _prepare_jobdir(jobdir: Path, previous_run: str | None) -> Path:
    """Scrapy keeps a stopped crawl's request queue in JOBDIR.

    Only a run that stopped cleanly before its end left a consistent queue to
    resume; after SIGKILL the queue's bookkeeping was never written, so its
    files would replay stale requests.  That case and a complete run start
    afresh: the archive, keyed by URL, keeps everything already fetched, and
    the pipeline makes a run after an interrupted one walk every list again.
    """
    if previous_run != INTERRUPTED and jobdir.exists():
        shutil.rmtree(jobdir)
    jobdir.mkdir(parents=True, exist_ok=True)
    return jobdir


def _hang_up_as_terminate(signum, frame) -> None:
    """SIGHUP (a closed terminal, an ended ssh session) stops the crawl as SIGTERM
    does — cleanly, its runs closed as ``stopped``; a second one forces it, as a
    second SIGTERM does.  Before Scrapy's handlers are in place, it ends the process."""
    handler = signal.getsignal(signal.SIGTERM)
    if callable(handler):
        handler(signum, frame)
    else:
        sys.exit(128 + signum)


def _site_settings(spidercls) -> dict | None:
    """The crawler's part of the spider's site profile (None for a spider without one)."""
    if getattr(spidercls, "profile", None) is not None:
        return spidercls.profile.settings
    profile_name = getattr(spidercls, "profile_name", None)
    return None if profile_name is None else get_profile(profile_name).settings


def _needs_browser(spidercls) -> bool:
    site = _site_settings(spidercls)
    # render: lists — discovery reads a list a script draws in Chromium.
    return site is None or site.get("render") in (CHALLENGE, RENDER_LISTS)


def _is_test_site(spidercls) -> bool:
    return bool((_site_settings(spidercls) or {}).get("test_site"))


def run_crawl(
    spiders: list[str] | None,
    db_path: str,
    *,
    open_archive: ArchiveOpener,
    host_map: dict | None = None,
    cookie_file: str | None = None,
    jobdir: str | None = None,
    politeness: bool = True,
    warc_dir: str | None = None,
    extra_settings: dict | None = None,
    spider_classes: tuple[type, ...] = (),
) -> int:
    """Crawl with the named spiders (when None and no ``spider_classes``, all but test
    sites) and the spiders of ``spider_classes`` (discovery of registry hosts) into the
    archive at ``db_path``, opened with ``open_archive(db_path)``.

    ``host_map`` ``{real_host: mirror_origin}`` sends those hosts to a local
    mirror; ``jobdir`` is the folder holding one Scrapy JOBDIR per spider
    (default ``<db folder>/jobs``); ``warc_dir`` defaults to ``WARC_DIR``;
    ``extra_settings`` are Scrapy settings on top (like ``scrapy crawl -s``).
    Prints a summary per spider; returns 0 when every site was ok, 1 when a
    site failed or stopped at a CAPTCHA, 2 for an unknown spider name.
    """
    from scrapy.crawler import CrawlerProcess

    settings = _crawl_settings(db_path, host_map, cookie_file, politeness, warc_dir, extra_settings, open_archive)
    process = CrawlerProcess(settings)
    names = spider_names(process.spider_loader, spiders) if spiders or not spider_classes else []
    if names is None:
        return 2
    by_name = {**{name: name for name in names}, **{cls.name: cls for cls in spider_classes}}
    names = list(by_name)
    jobs_root = Path(jobdir) if jobdir else Path(db_path).parent / "jobs"
    signal.signal(signal.SIGHUP, _hang_up_as_terminate)
    with open_archive(db_path) as archive:
        archive.close_dead_runs()
        previous_runs = {name: last_run_state(archive, name) for name in names}
    crawlers = {}
    for name in names:
        crawler = _crawler(process, by_name[name])
        spider_jobdir = _prepare_jobdir(jobs_root / name, previous_runs[name])
        crawler.settings.set("JOBDIR", str(spider_jobdir), priority="cmdline")
        process.crawl(crawler)
        crawlers[name] = crawler
    process.start()
    run_ids = {name: crawler.stats.get_value("archive/run_id") for name, crawler in crawlers.items()}
    with open_archive(db_path) as archive:
        # A spider stopped while it was still starting (its browser, say) never closes.
        archive.close_open_runs(run_ids.values(), STOPPED, f"{STOPPED_EARLY} (the crawl ended before this spider closed)")
    return report(open_archive, db_path, run_ids)


def spider_names(spider_loader, requested: list[str] | None) -> list[str] | None:
    """The spiders to crawl: those named, or every site but the test sites;
    None (and a message) when a name is unknown."""
    available = spider_loader.list()
    names = list(requested) if requested else sorted(
        name for name in available if not _is_test_site(spider_loader.load(name))
    )
    unknown = [name for name in names if name not in available]
    if unknown:
        print(f"unknown spider(s): {', '.join(unknown)}; available: {', '.join(sorted(available))}", file=sys.stderr)
        return None
    return names


def _crawler(process, spider: str | type):
    crawler = process.create_crawler(spider)
    if not _needs_browser(crawler.spidercls):
        # Plain Scrapy handlers: no Playwright driver started for a site that never needs one.
        crawler.settings.set("DOWNLOAD_HANDLERS", {}, priority="cmdline")
    return crawler


def run_worker(
    cluster_url: str,
    spiders: list[str] | None = None,
    *,
    host_map: dict | None = None,
    cookie_file: str | None = None,
    politeness: bool = True,
    warc_dir: str | None = None,
    extra_settings: dict | None = None,
) -> int:
    """Work on the cluster crawl open at ``cluster_url`` (all its spiders, or those
    named) until it is over; the coordinator (``python -m archive crawl --cluster``)
    writes the archive.  Returns 0 when every spider's part ended normally."""
    from scrapy.crawler import CrawlerProcess

    from crawler.cluster.credentials import PasswordInURL
    from crawler.cluster.crawl import connect

    settings = _crawl_settings(
        None, host_map, cookie_file, politeness, warc_dir, {**(extra_settings or {}), "CLUSTER_REDIS_URL": cluster_url}
    )
    try:
        client = connect(cluster_url)
    except PasswordInURL as exc:
        print(exc, file=sys.stderr)
        return 2
    crawl = _wait_for_crawl(client, settings)
    if crawl is None:
        print(f"no cluster crawl is open at {cluster_url}", file=sys.stderr)
        return 1
    names = [name for name in crawl.spiders if not spiders or name in spiders]
    if not names:
        print(f"the open crawl has none of {', '.join(spiders)}: it crawls {', '.join(crawl.spiders)}", file=sys.stderr)
        return 2
    process = CrawlerProcess(settings)
    signal.signal(signal.SIGHUP, _hang_up_as_terminate)
    crawlers = {name: _crawler(process, name) for name in names}
    for crawler in crawlers.values():
        process.crawl(crawler)
    process.start()
    print("\nspider               ended by          requests  captured")
    exit_code = 0
    for name, crawler in crawlers.items():
        stats = crawler.stats.get_stats()
        reason = stats.get("finish_reason", "did not start")
        print(f"{name:20} {reason:16} {stats.get('downloader/request_count', 0):9} {stats.get('archive/documents_captured', 0):9}")
        exit_code = exit_code or int(reason not in ("finished", STOPPED))
    return exit_code


def _wait_for_crawl(client, settings):
    from crawler.cluster.crawl import ClusterCrawl

    deadline = time.monotonic() + settings.getfloat("CLUSTER_JOIN_TIMEOUT")
    while (crawl := ClusterCrawl.current(client, settings.get("CLUSTER_KEY_PREFIX"))) is None and time.monotonic() < deadline:
        time.sleep(0.5)
    return crawl


def report(open_archive: ArchiveOpener, db_path: str, run_ids: dict[str, int | None]) -> int:
    """Print each spider's run from ``crawl_runs``; 0 when all were ok."""
    exit_code = 0
    with open_archive(db_path) as archive:
        print("\nspider               status           requests  pages  new  updated  unchanged  failed")
        for name, run_id in run_ids.items():
            run = archive.run(run_id) if run_id else None
            if run is None:
                print(f"{name:20} {'failing':15}  (the spider did not start; see the log above)")
                exit_code = 1
                continue
            print(
                f"{name:20} {run['status']:15} {run['requests'] or 0:9} {run['pages_fetched'] or 0:6} "
                f"{run['documents_new'] or 0:4} {run['documents_updated'] or 0:8} "
                f"{run['documents_unchanged'] or 0:10} {run['failures'] or 0:7}"
            )
            if run["status"] != OK:
                print(f"{'':20} {run['message']}")
                exit_code = 1
            if run.get("reachability"):
                print(f"{'':20} reachability: {run['reachability']}")
    return exit_code
