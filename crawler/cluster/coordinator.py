"""``python -m archive crawl --cluster redis://HOST:PORT/DB``: a crawl shared by workers.

Runs on the archive's machine, for the whole crawl:

* opens the crawl in Redis (per spider: its ``crawl_runs`` row, whether the last
  run was interrupted, what the archive holds for incremental crawling) — or,
  when one is open already, resumes it: a coordinator killed mid-crawl is simply
  started again, and the workers never noticed;
* optionally starts ``--workers N`` worker processes on this machine;
* is the writer (``crawler.cluster.writer``);
* returns the requests of workers whose heartbeat stopped (killed, machine lost)
  to the frontier, so another worker fetches them;
* ends each site's crawl when nothing is queued, leased or being seeded — or when
  a worker met a CAPTCHA or too many errors there, the operator ran ``archive
  cluster stop``, or no worker came for ``CLUSTER_WORKERLESS_TIMEOUT`` seconds —
  then finishes its ``crawl_runs`` row with the workers' summed stats, prints the
  summary and exits like ``archive crawl``;
* while a site's crawl runs, keeps its ``crawl_runs.message`` at the cluster's
  figures (``crawler.cluster.operate.status_line``), for the crawl health page;
* when Redis answers without the crawl (restarted without its data), says so in
  one line, ends every open run early and exits 1: the next crawl opens afresh
  from what the archive holds, and one whose coordinator was not there to see it
  ends the runs it left ``running`` (:data:`CLUSTER_RUN_MARK`).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import redis

from crawler.archive_pipeline import INTERRUPTED, KILLED, STOPPED_EARLY, errors_by_kind, last_run_state, run_status
from crawler.cluster.credentials import PasswordInURL
from crawler.cluster.crawl import OPEN, ClusterCrawl, ClusterLost, connect
from crawler.cluster.operate import crawl_status, status_line
from crawler.cluster.politeness import crawl_politeness
from crawler.cluster.scheduler import CLUSTER_LOST
from crawler.cluster.writer import CaptureWriter
from crawler.port import ArchiveOpener, WritingArchive
from crawler.run import project_settings, report, spider_names
from sites import get_profile

logger = logging.getLogger(__name__)

# How long a site's crawl may wait, once over, for its workers to leave (with their last stats).
_LEAVE_GRACE_SECONDS = 10.0
# How often the open runs' crawl_runs.message shows the cluster's figures.
_STATUS_SECONDS = 5.0
# How a running cluster run's message begins: a run still ``running`` with it after its
# crawl is gone from Redis was left by a coordinator that never saw the loss.
CLUSTER_RUN_MARK = "cluster crawl "


def _snapshot(archive: WritingArchive, spider_cls) -> dict[str, dict]:
    """What the archive holds for the site, as the spiders ask it (crawler/mixins.py)."""
    return archive.known_pages(get_profile(spider_cls.profile_name).hosts)


def open_or_resume(client, archive: WritingArchive, spiders: list[str] | None, prefix: str, recheck: bool,
                   politeness: dict[str, str] | None = None) -> ClusterCrawl | None:
    crawl = ClusterCrawl.current(client, prefix)
    if crawl is not None:
        if spiders and sorted(spiders) != crawl.spiders:
            print(f"a cluster crawl of {', '.join(crawl.spiders)} is open: run again without spider names "
                  f"to finish it", file=sys.stderr)
            return None
        print(f"resuming cluster crawl {crawl.id} of {', '.join(crawl.spiders)}", flush=True)
        return _adopted(archive, crawl)
    from scrapy.spiderloader import SpiderLoader

    loader = SpiderLoader.from_settings(project_settings())
    names = spider_names(loader, spiders)
    if names is None:
        return None
    left = archive.end_runs_left_running(CLUSTER_RUN_MARK, f"{STOPPED_EARLY} (its cluster crawl was lost in Redis)")
    if left:
        print(f"ended {left} run(s) of a cluster crawl Redis lost; this crawl starts afresh from the archive", flush=True)
    archive.close_dead_runs()  # any other run whose process was killed (a single-machine crawl's)
    runs = {}
    for name in names:
        resuming = last_run_state(archive, name) in (INTERRUPTED, KILLED)
        run_id = archive.start_run(name)
        # Marked before the crawl is opened in Redis: a coordinator killed between the two
        # leaves runs that the next one still knows for a cluster crawl's.
        archive.update_run(run_id, message=f"{CLUSTER_RUN_MARK}opening")
        runs[name] = {
            "run_id": run_id,
            "resuming": resuming,
            "recheck": recheck,
            "archived": _snapshot(archive, loader.load(name)),
            "retry": archive.pages_to_retry(name),
        }
    crawl = ClusterCrawl.open(client, runs, prefix, politeness)
    print(f"opened cluster crawl {crawl.id} of {', '.join(names)}", flush=True)
    return _adopted(archive, crawl)


def _adopted(archive: WritingArchive, crawl: ClusterCrawl) -> ClusterCrawl:
    """The crawl's runs are this process's now. Their message keeps the cluster mark: a
    coordinator killed before its first status line leaves runs the next one can end."""
    archive.adopt_runs(list(crawl.run_ids().values()), f"{CLUSTER_RUN_MARK}{crawl.id}: coordinated by process {os.getpid()}")
    return crawl


def run_cluster_crawl(
    cluster_url: str,
    spiders: list[str] | None,
    db_path: str,
    *,
    open_archive: ArchiveOpener,
    warc_dir: str,
    workers: int = 0,
    worker_command: list[str] | None = None,
    recheck: bool = False,
    settings: dict | None = None,
) -> int:
    """Coordinate and write the cluster crawl (see the module docstring); returns
    0 when every site was ok, 1 when one failed, 2 when the crawl could not start.
    ``open_archive(db_path)`` opens the archive; ``warc_dir`` is where the workers'
    captures are copied; ``workers`` local worker processes run ``worker_command``.
    ``settings`` are Scrapy settings on top of the project's (the ``CLUSTER_*`` ones
    count here)."""
    extra_settings = settings
    settings = project_settings()
    settings.setdict(extra_settings or {}, priority="cmdline")
    prefix = settings.get("CLUSTER_KEY_PREFIX")
    try:
        client = connect(cluster_url, settings.getfloat("CLUSTER_REDIS_RETRY_SECONDS"))
        client.ping()
    except PasswordInURL as exc:
        print(exc, file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"cannot reach Redis at {cluster_url}: {exc}", file=sys.stderr)
        return 2
    warc_dir = Path(warc_dir)
    with open_archive(db_path) as archive:
        crawl = open_or_resume(client, archive, spiders, prefix, recheck, crawl_politeness(settings))
        if crawl is None:
            return 2
        run_ids = crawl.run_ids()
        local = [subprocess.Popen(worker_command) for _ in range(workers)]
        writer = CaptureWriter(crawl, archive, warc_dir, run_ids)
        coordinator = Coordinator(crawl, archive, writer, settings)
        lost_in_redis = False
        try:
            coordinator.run()
        except ClusterLost as lost:
            lost_in_redis = True
            print(f"{lost}: {len(coordinator.open)} site(s) ended early; the next crawl starts afresh from the archive",
                  file=sys.stderr, flush=True)
            coordinator.end_all(CLUSTER_LOST)
        except redis.ConnectionError as exc:
            retry = settings.getfloat("CLUSTER_REDIS_RETRY_SECONDS")
            print(f"lost Redis at {cluster_url} for longer than {retry:.0f} s ({exc}): run the same command again to "
                  f"resume the crawl ({len(coordinator.open)} site(s) not finished)", file=sys.stderr, flush=True)
            return 1
        else:
            print(f"writer: {writer.documents} documents in {writer.busy_seconds:.1f} s of writing "
                  f"({writer.documents / max(writer.busy_seconds, 1e-9):.1f} documents/s), "
                  f"{writer.written / 1e6:.1f} MB of captures copied to {warc_dir}")
        finally:
            for process in local:
                try:
                    process.wait(timeout=_LEAVE_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    process.terminate()
                    process.wait()
        # A crawl Redis lost is not marked ended: its workers must not take it for finished.
        crawl.close(mark_ended=not lost_in_redis)
    return report(open_archive, db_path, run_ids)


class Coordinator:
    def __init__(self, crawl: ClusterCrawl, archive: WritingArchive, writer: CaptureWriter, settings):
        self.crawl = crawl
        self.archive = archive
        self.writer = writer
        self.worker_timeout = settings.getfloat("CLUSTER_WORKER_TIMEOUT")
        self.workerless_timeout = settings.getfloat("CLUSTER_WORKERLESS_TIMEOUT")
        self.error_rate_max = settings.getfloat("CRAWL_ERROR_RATE_MAX")
        self.check_seconds = settings.getfloat("CLUSTER_POLL_SECONDS")
        self.open = list(crawl.spiders)
        self.over_since: dict[str, float] = {}
        self.last_worker_seen = {spider: time.monotonic() for spider in self.open}

    def run(self) -> None:
        next_check = next_status = 0.0
        while self.open:
            self.writer.drain(block_ms=int(self.check_seconds * 1000))
            if time.monotonic() >= next_check:
                if not self.crawl.is_current():
                    raise ClusterLost(f"cluster crawl {self.crawl.id} is gone from Redis (restarted without its data?)")
                for spider in list(self.open):
                    self._check(spider)
                next_check = time.monotonic() + self.check_seconds
            if time.monotonic() >= next_status:
                self._show_status()
                next_status = time.monotonic() + _STATUS_SECONDS
        self.writer.drain_all()

    def _show_status(self) -> None:
        """The cluster's figures as the open runs' message (the crawl health page)."""
        status = crawl_status(self.crawl)
        for spider in self.open:
            line = status_line(status, spider)
            self.archive.update_run(self.writer.run_ids[spider], message=f"{CLUSTER_RUN_MARK}{self.crawl.id}: {line}")

    def end_all(self, reason: str) -> None:
        """End every open site's run now, as stopped early for ``reason``."""
        for spider in list(self.open):
            self._finish(spider, reason)
            self.open.remove(spider)

    def _check(self, spider: str) -> None:
        now = time.monotonic()
        for worker in self.crawl.workers(spider):
            returned = self.crawl.requeue(spider, worker, silent_seconds=self.worker_timeout)
            if returned >= 0:
                logger.warning("Worker %s went silent: %d of its request(s) back to the frontier", worker, returned)
        run = self.crawl.run(spider)
        if not run.get("run_id"):
            raise ClusterLost(f"cluster crawl {self.crawl.id} is gone from Redis (restarted without its data?)")
        status = self.crawl.finish_if_idle(spider)
        if status.workers:
            self.last_worker_seen[spider] = now
        if run.get("state") == OPEN:
            if run.get("reason"):
                self.crawl.end(spider)
            elif now - self.last_worker_seen[spider] > self.workerless_timeout:
                self.crawl.stop(spider, "no worker", f"no worker came for {self.workerless_timeout:.0f} s")
                self.crawl.end(spider)
            elif not status.done:
                return
        over_since = self.over_since.setdefault(spider, now)
        if status.workers and now - over_since < _LEAVE_GRACE_SECONDS:
            return  # workers are closing: their last stats are on the way
        self.writer.drain_all()
        self._finish(spider)
        self.open.remove(spider)

    def _finish(self, spider: str, reason: str | None = None) -> None:
        run = self.crawl.run(spider)
        run_id = self.writer.run_ids[spider]
        stats = self.crawl.stats(spider)
        requests = stats.get("downloader/request_count", 0) - stats.get("robotstxt/request_count", 0)
        pages_fetched = stats.get("downloader/response_count", 0) - stats.get("robotstxt/response_count", 0)
        failure_kinds = Counter(self.archive.failures_by_kind(run_id))
        errors = errors_by_kind(stats, failure_kinds)
        captcha_message = stats.get("anti_bot/captcha_message") or run.get("message")
        status, message = run_status(reason or run.get("reason") or "finished", errors, pages_fetched, self.error_rate_max,
                                     captcha_message, len(self.archive.unarchived_pages(run_id)))
        outcomes = self.writer.outcomes[spider]
        self.archive.finish_run(
            run_id,
            requests=requests,
            pages_fetched=pages_fetched,
            documents_new=outcomes["new"],
            documents_updated=outcomes["updated"],
            documents_unchanged=outcomes["unchanged"],
            failures=sum(failure_kinds.values()),
            errors=errors,
            status=status,
            message=message,
        )
