"""A crawl on several machines, on loopback: a real redis-server, a coordinator that
is the archive's one writer (``python -m archive crawl --cluster``), worker
processes (``python -m archive worker --cluster``) and Scrapyd, against the mirror
slowed to a latency-bound 0.2 s a page.  The result is compared with the crawl
on one machine of the same mirror (``first_crawl``)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from contextlib import contextmanager
from pathlib import Path

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy import Spider
from scrapy.http import Request
from scrapy.utils.test import get_crawler
from scrapy_redis.scheduler import Scheduler

from archive_snapshot import snapshot
from cluster_services import redis_server, scrapyd_server
from conftest import CRAWL_TIMEOUT, CRAWLED_SITES, MIRROR_ARTICLE_URLS, ROOT, query
from archive.db import Archive
from captures import ARTICLE, PAGE_KIND
from captures.writer import Exchange, WarcCapture
from crawler.cluster.crawl import ClusterCrawl, worker_pid
from crawler.cluster.writer import CaptureWriter
from crawler.cluster.politeness import GIVE_UP_CHECK_SECONDS, HostLimiter, HostLimits
from crawler.cluster.scheduler import ClusterDupeFilter, ClusterScheduler, LeasedPriorityQueue
from crawler.mirror import start_mirror
from sites import get_profile

pytestmark = [pytest.mark.mirror, pytest.mark.redis, pytest.mark.slow]

MIRROR_DELAY = 0.2
# The crawl's politeness, set by the coordinator: two requests at a time per host,
# 0.15 s between the starts of two requests, for the whole cluster.
HOST_CONCURRENCY, HOST_DELAY = 2, 0.15
COORDINATOR_SETTINGS = {
    "CLUSTER_WORKER_TIMEOUT": "3", "CLUSTER_POLL_SECONDS": "0.2",
    "CONCURRENT_REQUESTS_PER_DOMAIN": str(HOST_CONCURRENCY), "DOWNLOAD_DELAY": str(HOST_DELAY),
    "AUTOTHROTTLE_ENABLED": "False",
}
# A worker started impolite — 6 at a time per host, no delay — beside workers with the
# project's own settings: the crawl's politeness holds all the same, at the site
# (crawler/cluster/politeness.py).
IMPOLITE_SETTINGS = {"CONCURRENT_REQUESTS_PER_DOMAIN": "6", "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"}


@pytest.fixture
def redis(tmp_path):
    with redis_server(tmp_path / "redis") as server:
        yield server


def _settings_args(settings: dict[str, str]) -> list[str]:
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def coordinator_command(redis_url: str, db: Path, spiders: tuple[str, ...] = (), settings: dict | None = None) -> list[str]:
    return [sys.executable, "-m", "archive", "crawl", *spiders, "--cluster", redis_url, "--db", str(db),
            *_settings_args({**COORDINATOR_SETTINGS, **(settings or {})})]


def worker_command(redis_url: str, host_map: dict, warc_dir: Path, settings: dict | None = None) -> list[str]:
    return [sys.executable, "-m", "archive", "worker", "--cluster", redis_url, "--host-map", json.dumps(host_map),
            "--warc-dir", str(warc_dir), *_settings_args(settings or {})]


@contextmanager
def recording_starts(client):
    """Yields host → the grant times of its permits (``host:<h>:starts``, kept a minute
    in Redis), read every half second while the crawl runs."""
    found: dict[str, set[float]] = defaultdict(set)
    done = threading.Event()

    def record() -> None:
        while not done.wait(0.5):
            crawl = ClusterCrawl.current(client)
            for key in client.scan_iter(match=f"{crawl.base}:host:*:starts", count=1000) if crawl else ():
                host = key.decode().split(":host:", 1)[1].rsplit(":", 1)[0]
                found[host].update(score for _, score in client.zrange(key, 0, -1, withscores=True))

    recorder = threading.Thread(target=record, daemon=True)
    recorder.start()
    try:
        yield found
    finally:
        done.set()
        recorder.join()


def arrivals(visits) -> dict[str, list[float]]:
    """Per host, when its requests arrived at the mirror (their request lines were read), in order."""
    starts = defaultdict(list)
    for host, _, arrived, _ in visits:
        starts[host].append(arrived)
    return {host: sorted(times) for host, times in starts.items()}


def closest_arrivals(visits) -> dict[str, float]:
    """Per host, the shortest time between the arrivals of two requests at the mirror."""
    return {host: min((b - a for a, b in zip(t, t[1:])), default=float("inf")) for host, t in arrivals(visits).items()}


def most_in_flight(visits) -> dict[str, int]:
    """Per host, the most requests the mirror held at once, from arrival to the answer written."""
    events = defaultdict(list)
    for host, _, arrived, answered in visits:
        events[host] += [(arrived, 1), (answered, -1)]
    most = {}
    for host, changes in events.items():
        held = 0
        for _, change in sorted(changes, key=lambda event: (event[0], event[1])):  # an answer ends before a tie arrives
            held += change
            most[host] = max(most.get(host, 0), held)
    return most


def _wait_for(condition, what: str, timeout: float = CRAWL_TIMEOUT):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return found


def _documents(db: Path) -> int:
    try:
        return query(db, "select count(*) n from documents")[0]["n"]
    except sqlite3.OperationalError:  # not created yet
        return 0


def _listings(site: str) -> int:
    settings = get_profile(site).settings
    return len(settings.get("columns", [])) + len(settings.get("search", {}).get("keywords", []))


def _log(path: Path) -> str:
    return path.read_text(errors="replace")[-4000:]


def _assert_same_archive_as_one_machine(db: Path, first_crawl) -> None:
    _, baseline, _ = first_crawl
    assert {row["url"] for row in query(db, "select url from documents")} == MIRROR_ARTICLE_URLS
    crawled, expected = snapshot(db), snapshot(baseline / "archive.db")
    # What a list page said about an article (its hints, the categories taken from
    # them) comes from the first listing to reach the page: on a site with several
    # listings (CCDI: three columns and a search), whichever is read first — on one
    # machine as on several.  Everything else must be the same.
    for documents in (crawled["documents"], expected["documents"]):
        for document in documents.values():
            if _listings(document["site"]) > 1:
                hints = json.loads(document.pop("hints"))
                document["list_title"] = hints["title"]  # every listing prints the same title
                document.pop("categories")
    assert crawled == expected
    assert query(db, "pragma integrity_check")[0][0] == "ok"
    runs = query(db, "select spider, status, documents_new, finished_at from crawl_runs order by spider")
    assert [r["status"] for r in runs] == ["ok"] * len(runs) and all(r["finished_at"] for r in runs)
    assert sum(r["documents_new"] for r in runs) == len(MIRROR_ARTICLE_URLS)


# -- the scrapy-redis parts, patched (crawler/cluster/scheduler.py) ---------------------


def test_scrapy_redis_scheduler_without_persist_wipes_the_shared_frontier_when_one_worker_closes(redis):
    """Why the cluster scheduler always persists: scrapy-redis's default deletes
    the queue and seen set of every worker when any one of them closes."""
    client = redis.client()
    crawler = get_crawler(settings_dict={"REDIS_URL": redis.url, "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter"})
    first, second = Scheduler.from_crawler(crawler), Scheduler.from_crawler(crawler)
    spider = crawler._create_spider("shared")
    for scheduler in (first, second):
        scheduler.open(spider)
    first.enqueue_request(Request("https://example.org/a"))
    second.enqueue_request(Request("https://example.org/b"))
    assert client.zcard("shared:requests") == 2
    first.close("finished")
    assert client.zcard("shared:requests") == 0 and not client.exists("shared:dupefilter")


def test_cluster_dupefilter_uses_scrapys_fingerprints(redis):
    crawler = get_crawler()
    dupefilter = ClusterDupeFilter(redis.client(), "seen", crawler.request_fingerprinter)
    request = Request("https://example.org/a?b=2&a=1#top")
    assert dupefilter.request_fingerprint(request) == crawler.request_fingerprinter.fingerprint(request).hex()
    assert not dupefilter.request_seen(request)
    assert dupefilter.request_seen(Request("https://example.org/a?a=1&b=2"))


def test_a_popped_request_is_leased_until_released_and_returns_if_its_worker_leaves(redis):
    client = redis.client()
    crawl = ClusterCrawl.open(client, {"site": {"run_id": 1, "resuming": False, "archived": {}}})
    keys = crawl.keys("site")
    client.zadd(keys.requests, {b"request-a": 0, b"request-b": 1})
    assert crawl.pop("site", "w1", "lease-1") == b"request-a"
    assert crawl.finish_if_idle("site").leased == 1
    crawl.release("site", "w1", "lease-1")
    assert crawl.pop("site", "w1", "lease-2") == b"request-b"
    assert crawl.requeue("site", "w1", silent_seconds=60) == -1  # alive: it has just popped
    assert crawl.leave("site", "w1") == 1
    assert client.zrange(keys.requests, 0, -1) == [b"request-b"]
    status = crawl.finish_if_idle("site")
    assert (status.done, status.queued, status.leased) == (False, 1, 0)  # not seeded, and work is queued
    crawl.close()
    assert client.keys("*") == [f"zhenggai:ended:{crawl.id}".encode()]  # only the mark that it ended


def test_a_released_lease_takes_its_pages_stats_with_it_into_redis_and_through_a_kill(redis):
    """The release and the stats that count the page are one Redis step: Redis killed
    right after it still has both, so the site's run does not say it fetched nothing."""
    crawl = ClusterCrawl.open(redis.client(), {"site": {"run_id": 1, "resuming": False, "archived": {}}})
    crawler = get_crawler(Spider, {"CLUSTER_REDIS_URL": redis.url, "CLUSTER_REDIS_RETRY_SECONDS": 2})
    scheduler = ClusterScheduler.from_crawler(crawler)
    scheduler.spider, scheduler.crawl = Spider("site"), crawl
    scheduler.queue = LeasedPriorityQueue(scheduler.server, scheduler.spider, crawl.keys("site").requests, crawl, scheduler.worker)
    assert scheduler.queue.push(Request("https://example.org/"))
    request = scheduler.queue.pop()
    for name in ("downloader/request_count", "downloader/response_count"):
        crawler.stats.inc_value(name)
    scheduler._release(request)  # what the engine's slot calls when Scrapy is done with it

    redis.kill()
    redis.start()
    assert crawl.stats("site") == {"downloader/request_count": 1, "downloader/response_count": 1}
    assert crawl.finish_if_idle("site").leased == 0
    assert redis.client().hgetall(crawl.keys("site").worker(scheduler.worker)) == {b"requests": b"1", b"pages": b"1", b"errors": b"0"}
    scheduler._push_stats()  # nothing new to add: the heartbeat adds nothing twice
    assert crawl.stats("site") == {"downloader/request_count": 1, "downloader/response_count": 1}


def test_host_permits_hold_concurrency_and_spacing_for_all_workers_together(redis):
    limits = HostLimits(concurrency=2, delay=0.05, permit_seconds=10)
    grants, held, most_held, lock = [], [0], [0], threading.Lock()

    def worker(number: int) -> None:
        limiter = HostLimiter(redis.client(), "test", limits)  # a connection of its own
        for attempt in range(6):
            member = f"w{number}:{attempt}"
            while not (answer := limiter.try_acquire("example.org", member))[0]:
                time.sleep(0.01 if answer[1] < 0 else answer[1])
            with lock:
                grants.append(answer[1])
                held[0] += 1
                most_held[0] = max(most_held[0], held[0])
            time.sleep(0.02)  # the request on its way, then the answer's headers
            limiter.answered("example.org", member)
            time.sleep(0.1)  # the answer's body: longer than two delays, so the concurrency binds too
            with lock:
                held[0] -= 1
            limiter.release("example.org", member)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    grants.sort()
    # Grant times come back from Redis as floats: allow their last digit.
    assert len(grants) == 18 and min(b - a for a, b in zip(grants, grants[1:])) >= limits.delay - 1e-6
    assert most_held[0] == limits.concurrency

    # The next grant waits for the last one's answer, however long past the delay, and
    # comes a delay after it.
    waiting = HostLimiter(redis.client(), "test", HostLimits(concurrency=5, delay=0.05, permit_seconds=10))
    assert waiting.try_acquire("example.com", "first")[0]
    time.sleep(0.1)
    assert waiting.try_acquire("example.com", "second") == (False, -1)
    waiting.answered("example.com", "first")
    refused, wait = waiting.try_acquire("example.com", "second")
    assert not refused and 0 < wait <= 0.05  # 0.1 s after the grant: the delay runs from the answer
    time.sleep(wait)
    assert waiting.try_acquire("example.com", "second")[0]
    # Without a delay only the concurrency holds.
    undelayed = HostLimiter(redis.client(), "test", HostLimits(concurrency=2, delay=0, permit_seconds=10))
    assert undelayed.try_acquire("example.edu", "a")[0] and undelayed.try_acquire("example.edu", "b")[0]

    # With AutoThrottle the host's delay follows the latency as Scrapy's does: from the start
    # delay (1 s) halfway to the latency (0.4 s / target 1), for every worker.
    throttled = HostLimiter(redis.client(), "test", HostLimits(concurrency=1, delay=0.1, permit_seconds=10, autothrottle=True,
                                                                start_delay=1.0, max_delay=5.0))
    assert throttled.try_acquire("example.info", "a")[0]
    throttled.release("example.info", "a", latency=0.4, status="200")
    assert float(redis.client().hget("test:host:example.info", "delay")) == pytest.approx(0.7)

    # A permit its worker never gave back (killed mid-download) expires, and the host's
    # wait for its answer with it.
    dying = HostLimiter(redis.client(), "test", HostLimits(concurrency=1, delay=0.5, permit_seconds=2))
    assert dying.try_acquire("example.net", "dead")[0]
    assert dying.try_acquire("example.net", "alive") == (False, -1)
    time.sleep(2.1)
    refused, wait = dying.try_acquire("example.net", "alive")
    assert not refused and 0.3 < wait <= 0.4  # a delay after the expiry
    time.sleep(wait)
    assert dying.try_acquire("example.net", "alive")[0]


def test_a_worker_that_stops_gives_up_a_long_wait_for_its_permit_within_a_second(redis):
    # A host's next grant may be many seconds away (AutoThrottle raises the delay up to
    # its maximum); a worker that lost Redis meanwhile must not sleep it out while its
    # spider waits to close.
    limiter = HostLimiter(redis.client(), "test", HostLimits(concurrency=2, delay=30, permit_seconds=60))
    assert limiter.try_acquire("example.org", "first")[0]
    limiter.answered("example.org", "first")
    stopping_at = time.monotonic() + 0.3

    async def wait_for_second() -> float:
        with pytest.raises(IgnoreRequest, match="stopped waiting"):
            await limiter.acquire("example.org", "second", give_up=lambda: time.monotonic() >= stopping_at)
        return time.monotonic() - stopping_at

    gave_up_after = asyncio.run(wait_for_second())
    assert 0 <= gave_up_after <= GIVE_UP_CHECK_SECONDS + 0.5  # not the 30 s delay


def test_the_writer_records_a_capture_it_cannot_read_and_archives_the_rest(redis, tmp_path):
    # A page whose captured gzip body is damaged, then a good page: the damaged one is a
    # failure of its own (stage capture), the good one archived, and the writer goes on.
    client = redis.client()
    with Archive(tmp_path / "archive.db") as archive:
        run_id = archive.start_run("ccdi")
        crawl = ClusterCrawl.open(client, {"ccdi": {"run_id": run_id, "resuming": False, "archived": {}}})

        def ship(warc_file: str, offset: int, data: bytes) -> None:
            client.xadd(crawl.captures, {"spider": "ccdi", "file": warc_file, "offset": offset, "data": data})

        capture = WarcCapture(tmp_path / "worker", "ccdi", 10**8, "test", on_write=ship)
        page = (ROOT / "crawler/mirror/sites/www.ccdi.gov.cn/yaowenn/202110/t20211027_253108.html").read_bytes()
        fetched = datetime(2026, 12, 6, tzinfo=timezone.utc)
        for url, headers, body in (
            ("https://www.ccdi.gov.cn/damaged.html", [("Content-Encoding", "gzip")], b"\x1f\x8b\x08\x00not gzip at all"),
            ("https://www.ccdi.gov.cn/yaowenn/202110/t20211027_253108.html", [("Content-Type", "text/html; charset=utf-8")], page),
        ):
            captured = capture.write_exchange(Exchange(url, 200, "OK", headers, body, fetched))
            capture.annotate(url, captured.record_id, {PAGE_KIND: ARTICLE})
        writer = CaptureWriter(crawl, archive, tmp_path / "copy", {"ccdi": run_id})
        writer.drain_all()
        assert writer.outcomes["ccdi"]["failed"] == 1 and writer.documents == 1
        failures = list(archive.db.query("select url, stage, kind from failures"))
        documents = [row["url"] for row in archive.db.query("select url from documents")]
    assert failures == [{"url": "https://www.ccdi.gov.cn/damaged.html", "stage": "capture", "kind": "capture_damaged"}]
    assert documents == ["https://www.ccdi.gov.cn/yaowenn/202110/t20211027_253108.html"]


# -- crawls ------------------------------------------------------------------------------


def _answers_held(mirror) -> threading.Event:
    """The mirror's answers wait until the returned event is set."""
    gate = threading.Event()
    answer = mirror.visit

    @contextmanager
    def visit_when_open(real_host: str, raw_path: str, arrived: float):
        gate.wait(CRAWL_TIMEOUT)
        with answer(real_host, raw_path, arrived):
            yield

    mirror.visit = visit_when_open
    return gate


def _joined_by_all(client, workers: int) -> bool:
    crawl = ClusterCrawl.current(client)
    return crawl is not None and all(client.hlen(crawl.keys(spider).workers) == workers for spider in crawl.spiders)


# Timing-sensitive on a busy machine (worker start-up skew): run again before counting as failed.
@pytest.mark.flaky(reruns=2, reruns_delay=2)
def test_three_workers_share_a_crawl_politely_and_archive_what_one_machine_does(first_crawl, redis, processes, tmp_path):
    db = tmp_path / "archive.db"
    with start_mirror(challenge=False, delay=MIRROR_DELAY) as mirror:
        # The mirror answers once all three workers have joined every spider: on a busy
        # machine one worker can start seconds before the others and crawl everything alone.
        gate = _answers_held(mirror)
        coordinator = processes(coordinator_command(redis.url, db), tmp_path / "coordinator.log")
        workers = [processes(worker_command(redis.url, mirror.host_map, tmp_path / f"worker-{n}", IMPOLITE_SETTINGS if n == 0 else None),
                             tmp_path / f"worker-{n}.log")
                   for n in range(3)]
        _wait_for(lambda: _joined_by_all(redis.client(), len(workers)), "the three workers to join every spider")
        crawl_id = ClusterCrawl.current(redis.client()).id
        with recording_starts(redis.client()) as starts_granted:
            gate.set()
            assert coordinator.wait(timeout=CRAWL_TIMEOUT) == 0, _log(tmp_path / "coordinator.log")
        for n, worker in enumerate(workers):
            assert worker.wait(timeout=60) == 0, _log(tmp_path / f"worker-{n}.log")
        requests, visits, max_in_flight = list(mirror.request_log), list(mirror.visits), dict(mirror.max_in_flight)

    _assert_same_archive_as_one_machine(db, first_crawl)
    # No page fetched twice (each worker reads robots.txt for itself).
    assert [page for page, times in Counter(requests).items() if times > 1 and page[1] != "/robots.txt"] == []
    # Politeness held for the crawl as a whole, one impolite worker included, at the site:
    # never more than the crawl's concurrency in flight on a host, never two requests
    # arriving on a host closer than the crawl's delay (the mirror's own arrival log).
    # The impolite worker took its share.
    assert any((tmp_path / "worker-0").glob("*.warc.gz"))
    in_flight, closest = most_in_flight(visits), closest_arrivals(visits)
    print(f"at the mirror: most in flight {max(in_flight.values())}, closest arrivals {min(closest.values()):.4f} s")
    assert max(in_flight.values()) <= HOST_CONCURRENCY and max(max_in_flight.values()) <= HOST_CONCURRENCY, in_flight
    assert min(closest.values()) >= HOST_DELAY, closest
    # Every permit the cluster granted on a host was at least the delay after the one before
    # (Redis's clock).
    granted = {host: sorted(times) for host, times in starts_granted.items()}
    assert set(granted) >= {"www.ccdi.gov.cn", "www.bjsupervision.gov.cn"}
    closest_granted = {host: min(b - a for a, b in zip(t, t[1:])) for host, t in granted.items() if len(t) > 1}
    assert min(closest_granted.values()) >= HOST_DELAY - 1e-6, closest_granted
    # The workers shared the work, and every capture reached the archive's WARC folder.
    copies = sorted(p.name for p in (tmp_path / "warc").iterdir())
    assert len({name.split("-")[-2] for name in copies}) >= 2  # worker pids in the file names
    for n in range(3):
        for own in (tmp_path / f"worker-{n}").glob("*.warc.gz"):
            assert (tmp_path / "warc" / own.name).read_bytes() == own.read_bytes()
    from archive.rebuild import rebuild

    rebuild(tmp_path / "warc", tmp_path / "rebuilt.db", progress=False)
    assert snapshot(tmp_path / "rebuilt.db") == snapshot(db)
    assert [key.decode() for key in redis.client().keys("*")] == [f"zhenggai:ended:{crawl_id}"]  # the crawl's keys are gone


def test_without_a_delay_the_crawls_concurrency_holds_at_the_site_for_an_impolite_worker(redis, processes, tmp_path):
    """With no delay the host's concurrency is the politeness left: the impolite worker
    (6 per host, alone: a polite one beside it would take half its requests) never has
    more than the crawl's 2 at the site."""
    with start_mirror(challenge=False, delay=MIRROR_DELAY) as mirror:
        gate = _answers_held(mirror)
        coordinator = processes(coordinator_command(redis.url, tmp_path / "archive.db", ("ccdi",), {"DOWNLOAD_DELAY": "0"}),
                                tmp_path / "coordinator.log")
        worker = processes(worker_command(redis.url, mirror.host_map, tmp_path / "worker", IMPOLITE_SETTINGS), tmp_path / "worker.log")
        _wait_for(lambda: _joined_by_all(redis.client(), 1), "the worker to join")
        gate.set()
        assert coordinator.wait(timeout=CRAWL_TIMEOUT) == 0, _log(tmp_path / "coordinator.log")
        assert worker.wait(timeout=60) == 0, _log(tmp_path / "worker.log")
        visits = list(mirror.visits)
    assert len([visit for visit in visits if visit[0] == "www.ccdi.gov.cn"]) >= 20
    in_flight = most_in_flight(visits)
    print(f"at the mirror, no delay: most in flight {in_flight}")
    assert in_flight["www.ccdi.gov.cn"] == HOST_CONCURRENCY  # never more, and the allowance used


# A resumed crawl once never finished in a CI-exact run (cause not found, see the closing
# note): run again before counting as failed.
@pytest.mark.flaky(reruns=2, reruns_delay=2)
def test_killed_worker_coordinator_and_redis_lose_nothing(first_crawl, redis, processes, tmp_path):
    db = tmp_path / "archive.db"
    client = redis.client()
    with start_mirror(challenge=False, delay=MIRROR_DELAY) as mirror:
        coordinator = processes(coordinator_command(redis.url, db), tmp_path / "coordinator-1.log")
        workers = [processes(worker_command(redis.url, mirror.host_map, tmp_path / f"worker-{n}"), tmp_path / f"worker-{n}.log")
                   for n in range(3)]
        pids = {worker.pid: worker for worker in workers}

        # A worker dies (SIGKILL) while requests are in its hands.
        def worker_holding_requests():
            crawl = ClusterCrawl.current(client)
            for spider in crawl.spiders if crawl else []:
                for worker_id in crawl.workers(spider):
                    if worker_pid(worker_id) in pids and client.hlen(crawl.keys(spider).leases(worker_id)):
                        return worker_pid(worker_id)
            return None

        victim = _wait_for(worker_holding_requests, "a worker holding requests")
        os.kill(victim, signal.SIGKILL)
        pids.pop(victim).wait()

        # The writer dies too, and is started again: it resumes the open crawl.
        _wait_for(lambda: _documents(db) >= 3, "3 documents archived")
        coordinator.kill()
        coordinator.wait()
        coordinator = processes(coordinator_command(redis.url, db), tmp_path / "coordinator-2.log")
        _wait_for(lambda: "resuming cluster crawl" in (tmp_path / "coordinator-2.log").read_text(), "the coordinator to resume")

        # And Redis restarts (killed: only its append-only file survives).
        redis.kill()
        redis.start()

        assert coordinator.wait(timeout=CRAWL_TIMEOUT) == 0, _log(tmp_path / "coordinator-2.log")
        for worker in pids.values():
            assert worker.wait(timeout=60) == 0

    _assert_same_archive_as_one_machine(db, first_crawl)
    # The resumed crawl kept its runs: one per spider.
    assert len(query(db, "select id from crawl_runs")) == len(CRAWLED_SITES)


def test_scrapyd_runs_a_worker_deployed_with_scrapyd_deploy(redis, processes, tmp_path):
    """Deploy the project's egg with scrapyd-deploy to a real Scrapyd and start a
    worker through its HTTP API, as cron would."""
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(".venv", ".git", "data", "tests", "__pycache__", "*.egg-info", "build"))
    with scrapyd_server(tmp_path / "scrapyd") as scrapyd:
        deploy = subprocess.run(
            [str(Path(sys.executable).with_name("scrapyd-deploy")), "--version", "r1"],
            cwd=project, env={**os.environ, "SCRAPYD_URL": scrapyd.url}, capture_output=True, text=True, timeout=300,
        )
        assert deploy.returncode == 0, deploy.stderr[-3000:]
        assert json.loads(deploy.stdout)["spiders"] >= 8
        assert "beijing" in scrapyd.api("listspiders.json?project=zhenggai")["spiders"]

        db = tmp_path / "archive.db"
        with start_mirror(challenge=False) as mirror:
            coordinator = processes(coordinator_command(redis.url, db, ("beijing",)), tmp_path / "coordinator.log")
            job = scrapyd.api(
                "schedule.json", project="zhenggai", spider="beijing",
                setting=[f"CLUSTER_REDIS_URL={redis.url}", f"MIRROR_HOST_MAP={json.dumps(mirror.host_map)}", "POLITENESS_OFF=True"],
            )
            assert coordinator.wait(timeout=CRAWL_TIMEOUT) == 0, _log(tmp_path / "coordinator.log")
        finished = _wait_for(
            lambda: [j for j in scrapyd.api("listjobs.json?project=zhenggai")["finished"] if j["id"] == job["jobid"]],
            "the Scrapyd job to finish", timeout=60,
        )
        log = (tmp_path / "scrapyd" / "logs" / "zhenggai" / "beijing" / f"{job['jobid']}.log").read_text()
    assert finished and "'finish_reason': 'finished'" in log
    beijing = {url for url in MIRROR_ARTICLE_URLS if "bjsupervision" in url}
    assert {row["url"] for row in query(db, "select url from documents")} == beijing
    assert [tuple(r) for r in query(db, "select spider, status from crawl_runs")] == [("beijing", "ok")]
