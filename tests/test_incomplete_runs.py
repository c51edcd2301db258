"""A crawl that could not archive every page never ends ``ok``: pages lost to a
passing fault (the server answering 500, the network) make the run ``incomplete``
and the crawl exit non-zero, whatever the error rate; the next run fetches exactly
those pages first and does not fetch the unchanged ones again because of them.

A real crawl (``python -m crawler.run``) of the Beijing site on the mirror, whose
host answers 500 to a list page and an article during the first run only; and a
cluster crawl (real Redis, coordinator and worker processes) of the same site while
its host answers 500 to everything for 20 s (``crawler.mirror.faults.Outage``)."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter

import pytest

from cluster_services import redis_server
from conftest import CRAWL_TIMEOUT, ROOT, query, run_crawl_process
from crawler.archive_pipeline import run_status
from crawler.failures import is_transient
from crawler.mirror import start_mirror
from crawler.mirror.faults import Outage
from test_cluster import _log, coordinator_command, worker_command

HOST = "www.bjsupervision.gov.cn"
COLUMN = "/zt/shejswxc/xsfk/"
LOST_LIST_PAGE = COLUMN + "index_1.html"  # lists t20210806_81230
LOST_ARTICLE = COLUMN + "202111/t20211122_83977.html"
ARCHIVED_IN_FIRST_RUN = COLUMN + "202112/t20211210_84512.html"
FOUND_ON_LOST_LIST_PAGE = COLUMN + "202108/t20210806_81230.html"
# One retry, no back-off: the pages are lost within the run.  The site is small, so the
# error-rate threshold is lifted: the run must not be "ok" whatever the error rate.  One
# request at a time, no delay: the mirror sees the requests in the crawler's order (one in
# the downloader at all: requests waiting there for the host's permit are not in priority order).
SETTINGS = {
    "RETRY_TIMES": "1", "RETRY_BACKOFF_BASE": "0", "CRAWL_ERROR_RATE_MAX": "1.0",
    "CONCURRENT_REQUESTS": "1", "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False",
}


def _failing(mirror, paths: set[str]) -> None:
    """``HOST`` answers 500 to ``paths`` while the set is not empty."""
    respond = mirror.respond

    def respond_or_fail(real_host, raw_path, *request):
        if real_host == HOST and raw_path in paths:
            mirror.request_log.append((real_host, raw_path))
            return 500, {"Content-Type": "text/html"}, b"<html><body>Internal Server Error</body></html>"
        return respond(real_host, raw_path, *request)

    mirror.respond = respond_or_fail


def _pages(log: list[tuple[str, str]]) -> list[str]:
    return [path for host, path in log if host == HOST and path != "/robots.txt"]


@pytest.mark.slow
@pytest.mark.mirror
def test_a_run_with_lost_pages_is_incomplete_and_the_next_fetches_exactly_them_first(tmp_path):
    db, warc = tmp_path / "archive.db", tmp_path / "warc"
    outage = {LOST_LIST_PAGE, LOST_ARTICLE}
    with start_mirror(challenge=False) as mirror:
        _failing(mirror, outage)
        first = run_crawl_process(db, mirror.host_map, ("beijing",), warc_dir=warc, jobdir=tmp_path / "jobs", politeness=True, settings=SETTINGS)
        first_log = list(mirror.request_log)
        outage.clear()
        mirror.request_log.clear()
        second = run_crawl_process(db, mirror.host_map, ("beijing",), warc_dir=warc, jobdir=tmp_path / "jobs", politeness=True, settings=SETTINGS)
        second_log = list(mirror.request_log)

    # Run 1: two of its pages lost, under the error-rate threshold — incomplete, exit 1.
    assert first.returncode == 1, first.stdout + first.stderr[-3000:]
    assert _pages(first_log).count(LOST_ARTICLE) == 2  # tried, retried once
    runs = query(db, "select id, status, message, documents_new from crawl_runs order by id")
    assert (runs[0]["status"], runs[0]["documents_new"]) == ("incomplete", 1)
    assert runs[0]["message"].startswith("2 page(s) could not be archived")
    assert "incomplete" in first.stdout
    lost = query(db, "select url, kind, retry from failures where run_id = ? order by id", [runs[0]["id"]])
    by_path = {row["url"].split(HOST, 1)[1]: row for row in lost}
    assert set(by_path) == {LOST_LIST_PAGE, LOST_ARTICLE} and {row["kind"] for row in lost} == {"http_500"}
    assert json.loads(by_path[LOST_LIST_PAGE]["retry"])["callback"] == "parse_list"
    article_retry = json.loads(by_path[LOST_ARTICLE]["retry"])
    assert article_retry["callback"] == "parse_article"
    assert article_retry["cb_kwargs"]["hints"]["published_at"].startswith("2021-11-22")

    # Run 2: the lost pages first, then what they lead to; the article run 1 archived is
    # not fetched again (its column stops at it, as incremental crawls do).
    assert second.returncode == 0, second.stdout + second.stderr[-3000:]
    fetched = _pages(second_log)
    assert set(fetched[:2]) == {LOST_LIST_PAGE, LOST_ARTICLE}, fetched
    assert ARCHIVED_IN_FIRST_RUN not in fetched
    assert sorted(fetched) == sorted([LOST_LIST_PAGE, LOST_ARTICLE, COLUMN, FOUND_ON_LOST_LIST_PAGE])
    assert query(db, "select status, documents_new from crawl_runs where id = ?", [runs[0]["id"] + 1])[0][:] == ("ok", 2)
    urls = {row["url"].split(HOST, 1)[1] for row in query(db, "select url from documents")}
    assert urls == {ARCHIVED_IN_FIRST_RUN, LOST_ARTICLE, FOUND_ON_LOST_LIST_PAGE}
    # Nothing left to retry once they are archived.
    from archive.db import Archive

    with Archive(db) as archive:
        assert archive.pages_to_retry("beijing") == []


@pytest.mark.slow
@pytest.mark.mirror
@pytest.mark.redis
def test_a_host_answering_500_for_20_s_leaves_a_cluster_run_incomplete_and_the_next_fetches_its_pages_first(tmp_path):
    # The outage begins after robots.txt, the two list pages and the first article (the
    # worker takes the frontier's newest first): the two other articles meet 20 s of 500s,
    # each tried twice; the next run comes after them.
    outage = Outage(HOST, seconds=20.0, after_requests=4)
    archived_first, lost = LOST_ARTICLE, {ARCHIVED_IN_FIRST_RUN, FOUND_ON_LOST_LIST_PAGE}
    db = tmp_path / "archive.db"

    def cluster_crawl(run: int) -> int:
        logs = tmp_path / f"run-{run}"
        logs.mkdir()
        coordinator = subprocess.Popen(coordinator_command(redis.url, db, ("beijing",), SETTINGS), cwd=ROOT,
                                       stdout=(logs / "coordinator.log").open("w"), stderr=subprocess.STDOUT)
        worker = subprocess.Popen(worker_command(redis.url, mirror.host_map, logs / "warc", SETTINGS), cwd=ROOT,
                                  stdout=(logs / "worker.log").open("w"), stderr=subprocess.STDOUT)
        try:
            returncode = coordinator.wait(timeout=CRAWL_TIMEOUT)
            assert worker.wait(timeout=60) == 0, _log(logs / "worker.log")
        finally:
            for process in (coordinator, worker):
                if process.poll() is None:
                    process.kill()
                    process.wait()
        return returncode

    with redis_server(tmp_path / "redis") as redis, start_mirror(challenge=False, outage=outage) as mirror:
        first = cluster_crawl(1)
        first_log, failed = list(mirror.request_log), list(outage.paths_failed)
        assert not outage.over(), "the first run outlasted the outage: nothing to test"
        time.sleep(outage.seconds_left())
        mirror.request_log.clear()
        second = cluster_crawl(2)
        second_log = list(mirror.request_log)

    # Run 1: two pages met the outage — incomplete, the coordinator exits 1.
    assert first == 1, _log(tmp_path / "run-1" / "coordinator.log")
    assert Counter(failed) == {page: 2 for page in lost}, first_log
    assert _pages(first_log)[:3] == [COLUMN, LOST_LIST_PAGE, archived_first], first_log
    runs = query(db, "select id, status, message, documents_new from crawl_runs order by id")
    assert (runs[0]["status"], runs[0]["documents_new"]) == ("incomplete", 1)
    assert runs[0]["message"].startswith("2 page(s) could not be archived")
    recorded = query(db, "select url, kind from failures where run_id = ?", [runs[0]["id"]])
    assert sorted((row["url"].split(HOST, 1)[1], row["kind"]) for row in recorded) == sorted((page, "http_500") for page in lost)

    # Run 2, after the outage: exactly the failed pages first, then the column, which stops
    # at the article run 1 archived: neither it nor the second list page is fetched again.
    assert second == 0, _log(tmp_path / "run-2" / "coordinator.log")
    fetched = _pages(second_log)
    print(f"run 1: {_pages(first_log)}; failed {sorted(lost)}; run 2: {fetched}")
    assert set(fetched[:2]) == lost and fetched[2:] == [COLUMN], fetched
    assert [tuple(row) for row in query(db, "select status, documents_new from crawl_runs order by id")] == [("incomplete", 1), ("ok", 2)]
    urls = {row["url"].split(HOST, 1)[1] for row in query(db, "select url from documents")}
    assert urls == {archived_first, *lost}


def test_passing_faults_are_told_from_the_pages_own():
    assert all(is_transient(kind) for kind in ("http_500", "http_503", "http_429", "timeout", "connection_reset", "download_failed"))
    assert not any(is_transient(kind) for kind in ("http_404", "http_410", "too_large", "redirect_loop", "template_mismatch"))


def test_a_page_lost_makes_a_run_incomplete_whatever_the_error_rate_but_failing_wins():
    errors = {"http_500": 1, "download_error": 2}
    assert run_status("finished", errors, 100, 0.2, None, unarchived=1)[0] == "incomplete"
    assert run_status("finished", errors, 100, 0.2, None, unarchived=0)[0] == "ok"
    assert run_status("finished", {"http_500": 30}, 100, 0.2, None, unarchived=30)[0] == "failing"
    assert run_status("closespider_errorcount", errors, 100, 0.2, None, unarchived=1)[0] == "failing"
