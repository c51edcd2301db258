"""A crawl that could not archive every page never ends ``ok``: pages lost to a
passing fault (the server answering 500, the network) make the run ``incomplete``
and the crawl exit non-zero, whatever the error rate; the next run fetches exactly
those pages first and does not fetch the unchanged ones again because of them.

A real crawl (``python -m crawler.run``) of the Beijing site on the mirror, whose
host answers 500 to a list page and an article during the first run only."""

from __future__ import annotations

import json

import pytest

from conftest import query, run_crawl_process
from crawler.archive_pipeline import run_status
from crawler.failures import is_transient
from crawler.mirror import start_mirror

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


def test_passing_faults_are_told_from_the_pages_own():
    assert all(is_transient(kind) for kind in ("http_500", "http_503", "http_429", "timeout", "connection_reset", "download_failed"))
    assert not any(is_transient(kind) for kind in ("http_404", "http_410", "too_large", "redirect_loop", "template_mismatch"))


def test_a_page_lost_makes_a_run_incomplete_whatever_the_error_rate_but_failing_wins():
    errors = {"http_500": 1, "download_error": 2}
    assert run_status("finished", errors, 100, 0.2, None, unarchived=1)[0] == "incomplete"
    assert run_status("finished", errors, 100, 0.2, None, unarchived=0)[0] == "ok"
    assert run_status("finished", {"http_500": 30}, 100, 0.2, None, unarchived=30)[0] == "failing"
    assert run_status("closespider_errorcount", errors, 100, 0.2, None, unarchived=1)[0] == "failing"
