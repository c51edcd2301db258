"""The fault site crawled for real (Scrapy over HTTP against the fault mirror,
into a real SQLite archive and WARC files): each fault a government server
shows ends as the README's fault matrix promises — retried when transient,
then recorded in ``failures`` with its stage and kind (and the WARC record of
the last response, when there was one), never stored as a document — while
every good page of the same site is archived and the run says the site is
failing."""

from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.db import Archive
from conftest import query, read_warc, run_crawl_process
from crawler.mirror import Mirror, start_mirror
from crawler.mirror.faults import FAULT_HOST, Faults, Outage, cut_inside_a_character
from crawler.mirror.responses import fixture_response
from pipelines import Failure, ProcessResult, RawDocument, process
from pipelines.extract import incomplete_body

pytestmark = pytest.mark.mirror

DOWNLOAD_TIMEOUT = 2
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 4
SETTINGS = {
    "DOWNLOAD_TIMEOUT": str(DOWNLOAD_TIMEOUT),
    "RETRY_TIMES": str(RETRY_TIMES),
    "RETRY_BACKOFF_BASE": "0.1",
    "REDIRECT_MAX_TIMES": str(REDIRECT_MAX_TIMES),
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
}
COLUMN = f"http://{FAULT_HOST}/xsxc/"
TRIES = 1 + RETRY_TIMES

GOOD_PAGES = {
    f"{COLUMN}202203/t20220315_10021.html",
    f"{COLUMN}202203/t20220322_10034.html",
    f"{COLUMN}202204/t20220408_10057.html",
    # Transient faults that clear up on the retry: nothing is lost.
    f"{COLUMN}faults/status-503-once.html",
    f"{COLUMN}faults/reset-once.html",
    # A redesigned page matches no template of the profile: archived all the same,
    # read by the generic reader (the run still says the profile needs updating).
    f"{COLUMN}faults/redesigned.html",
}

# page (below the column) → stage and kind recorded, requests the server saw,
# page whose last response the failure's WARC record holds (None: no response came)
FAULT_MATRIX = {
    "faults/status-500.html": ("fetch", "http_500", TRIES, "faults/status-500.html"),
    "faults/status-502.html": ("fetch", "http_502", TRIES, "faults/status-502.html"),
    "faults/status-503.html": ("fetch", "http_503", TRIES, "faults/status-503.html"),
    "faults/status-503-retry-after.html": ("fetch", "http_503", TRIES, "faults/status-503-retry-after.html"),
    "faults/status-429.html": ("fetch", "http_429", TRIES, "faults/status-429.html"),
    "faults/reset.html": ("fetch", "connection_reset", TRIES, None),
    "faults/stall.html": ("fetch", "timeout", TRIES, None),
    "faults/truncated-length.html": ("fetch", "truncated", TRIES, None),
    "faults/truncated-close.html": ("extract", "truncated", TRIES, "faults/truncated-close.html"),
    "faults/empty.html": ("extract", "empty", TRIES, "faults/empty.html"),
    "faults/site-error.html": ("extract", "site_error_page", 1, "faults/site-error.html"),
    "faults/soft-404.html": ("extract", "site_error_page", 1, "faults/soft-404.html"),
    "faults/redirect-loop.html": ("fetch", "redirect_loop", 1 + REDIRECT_MAX_TIMES, f"faults/redirect-loop.html?hop={REDIRECT_MAX_TIMES}"),
    "faults/redirect-ping.html": ("fetch", "redirect_loop", 1, "faults/redirect-pong.html"),
    "faults/huge.html": ("fetch", "too_large", 1, None),
    # 1 GiB of zeros in 1 MB of gzip: Scrapy stops decoding at DOWNLOAD_MAXSIZE; the WARC keeps the gzip as sent.
    "faults/gzip-bomb.html": ("fetch", "too_large", 1, "faults/gzip-bomb.html"),
    "faults/attachment.html": ("extract", "binary", 1, "faults/attachment.html"),
    "202204/t20220406_10049.html": ("fetch", "http_404", 1, "202204/t20220406_10049.html"),
}
ERRORS_BY_KIND = Counter(kind for _, kind, _, _ in FAULT_MATRIX.values()) + Counter(template_mismatch=1)
# Download attempts that ended in an exception: resets, stalls and cut transfers
# on every try, the reset that clears up once, the oversized page once.
FAILED_ATTEMPTS = 3 * TRIES + 1 + 1


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory):
    base = tmp_path_factory.mktemp("fault-crawl")
    # The stall outlasts the crawl's timeout by a second: long enough, no longer.
    with start_mirror(faults=Faults(stall_seconds=DOWNLOAD_TIMEOUT + 1)) as mirror:
        outcome = run_crawl_process(
            base / "archive.db", mirror.host_map, ("faultsite",), warc_dir=base / "warc", politeness=True, settings=SETTINGS
        )
        requests = Counter(path.partition("?")[0] for host, path in mirror.request_log if host == FAULT_HOST)
    return outcome, base, requests


def _failures(db: Path) -> dict[str, list[sqlite3.Row]]:
    by_url: dict[str, list[sqlite3.Row]] = {}
    for row in query(db, "select * from failures order by id"):
        by_url.setdefault(row["url"], []).append(row)
    return by_url


@pytest.mark.slow
@pytest.mark.parametrize("page, stage, kind, requests, last_response", [(p, *v) for p, v in FAULT_MATRIX.items()], ids=list(FAULT_MATRIX))
def test_each_fault_is_retried_if_transient_then_recorded_with_its_kind(fault_crawl, page, stage, kind, requests, last_response):
    _, base, requests_seen = fault_crawl
    assert requests_seen[f"/xsxc/{page}"] == requests
    [failure] = _failures(base / "archive.db")[COLUMN + page]
    assert (failure["stage"], failure["kind"]) == (stage, kind)
    assert failure["message"]
    if last_response:
        record = next(r for r in read_warc(base / "warc") if r.header("WARC-Record-ID") == failure["warc_record_id"])
        assert (record.type, record.warc_file) == ("response", failure["warc_file"])
        assert record.header("WARC-Target-URI") == COLUMN + last_response
    else:
        assert (failure["warc_file"], failure["warc_record_id"]) == (None, None)


@pytest.mark.slow
def test_every_good_page_is_archived_whole_and_no_fault_page_is_stored(fault_crawl):
    _, base, requests_seen = fault_crawl
    db = base / "archive.db"
    stored = {row["url"]: row["content_sha256"] for row in query(db, "select url, content_sha256 from documents")}
    assert set(stored) == GOOD_PAGES
    for url in GOOD_PAGES:
        # The same text as the page's own fixture bytes give: nothing cut, nothing from an error page.
        assert stored[url] == process(_fixture_raw(url)).document["content_sha256"]
    assert requests_seen["/xsxc/faults/status-503-once.html"] == requests_seen["/xsxc/faults/reset-once.html"] == 2
    assert set(_failures(db)) == {COLUMN + page for page in FAULT_MATRIX}
    reports = query(db, "select count(*) n from disclosures")[0]["n"]
    assert reports == len(GOOD_PAGES)


@pytest.mark.slow
def test_the_run_says_the_site_is_failing_with_errors_by_kind(fault_crawl):
    outcome, base, _ = fault_crawl
    assert outcome.returncode == 1, outcome.stdout + outcome.stderr[-3000:]
    [run] = query(base / "archive.db", "select * from crawl_runs")
    assert (run["status"], run["documents_new"], run["failures"]) == ("failing", len(GOOD_PAGES), len(FAULT_MATRIX))
    errors = {**ERRORS_BY_KIND, "download_error": FAILED_ATTEMPTS}
    assert json.loads(run["errors"]) == errors
    assert run["message"] == (
        "1 page(s) match no article template of the site profile (archived, read by the generic reader): "
        "the site's layout has probably changed; "
        "errors: " + ", ".join(f"{kind} {count}" for kind, count in sorted(errors.items()))
    )
    assert re.search(rf"\nfaultsite +failing +\d+ +\d+ +{len(GOOD_PAGES)} +0 +0 +{len(FAULT_MATRIX)}\n", outcome.stdout)
    assert f"\n{'':20} {run['message']}\n" in outcome.stdout


@pytest.mark.slow
def test_retries_wait_retry_after_or_back_off(fault_crawl):
    outcome, _, _ = fault_crawl
    waits = Counter(re.findall(r"Backing off (\S+)s before retrying \S+/faults/(\S+)\n", outcome.stderr))
    for page in ("status-503-retry-after.html", "status-429.html"):
        assert waits[("1.0", page)] == RETRY_TIMES
    # RETRY_BACKOFF_BASE, doubled on the second retry.
    assert (waits[("0.1", "status-500.html")], waits[("0.2", "status-500.html")]) == (1, 1)


def test_a_gzip_bomb_is_captured_as_sent_and_never_decoded(fault_crawl):
    """The WARC keeps the bomb's 1 MB of gzip with its Content-Encoding, not what it decodes to."""
    _, base, _ = fault_crawl
    [failure] = _failures(base / "archive.db")[COLUMN + "faults/gzip-bomb.html"]
    assert "DOWNLOAD_MAXSIZE (10485760 B) during decompression" in failure["message"]
    with (base / "warc" / failure["warc_file"]).open("rb") as stream:
        record = next(r for r in ArchiveIterator(stream) if r.rec_headers.get_header("WARC-Record-ID") == failure["warc_record_id"])
        assert record.http_headers.get_header("Content-Encoding") == "gzip"
        assert 500_000 < len(record.raw_stream.read()) < 2_000_000


# -- the parts, without a crawl ---------------------------------------------------


def _fixture_raw(url: str, body: bytes | None = None) -> RawDocument:
    response = fixture_response(url)
    return RawDocument(url=url, body=response.body if body is None else body, content_type=response.headers["Content-Type"].decode())


def test_fault_site_list_links_good_pages_and_one_page_per_fault():
    from crawler.spiders import FaultsiteSpider

    spider = FaultsiteSpider()
    [column] = spider.columns()
    requests = list(spider.parse_list(fixture_response(COLUMN), column=column))
    assert [r.url for r in requests] == [
        COLUMN + page
        for page in (
            "faults/redesigned.html", "faults/truncated-close.html", "faults/truncated-length.html",
            "faults/reset-once.html", "faults/status-503-once.html", "faults/status-500.html",
            "faults/status-502.html", "faults/status-503.html", "faults/status-503-retry-after.html",
            "faults/status-429.html", "faults/reset.html", "faults/stall.html", "faults/empty.html",
            "faults/site-error.html", "faults/soft-404.html", "faults/redirect-loop.html",
            "faults/redirect-ping.html", "faults/huge.html", "faults/gzip-bomb.html", "faults/attachment.html",
            "202204/t20220408_10057.html", "202204/t20220406_10049.html",
            "202203/t20220322_10034.html", "202203/t20220315_10021.html",
        )
    ]
    assert requests[0].cb_kwargs["hints"] == {
        "title": "中共松岗区委关于十一届省委第九轮巡视整改进展情况的通报", "published_at": "2022-04-18", "column": "巡视巡察",
    }


def test_the_fault_mirror_is_loopback_only_and_off_by_default():
    with pytest.raises(ValueError, match="loopback"):
        Mirror(host="0.0.0.0", faults=Faults())
    assert FAULT_HOST not in Mirror().served_hosts
    assert FAULT_HOST in Mirror(faults=Faults()).served_hosts


def test_a_body_cut_inside_a_character_is_truncated_and_a_whole_one_is_not():
    url = COLUMN + "faults/truncated-close.html"
    whole = fixture_response(url).body
    cut = whole[: cut_inside_a_character(whole)]
    assert incomplete_body(whole) is None
    assert incomplete_body(cut) == ("truncated", f"the body stops inside a UTF-8 character, after {len(cut)} bytes")
    assert incomplete_body(b" \r\n") == ("empty", "the response body is empty")
    # GBK bytes are not UTF-8 at all: nothing to say about where they stop.
    assert incomplete_body("巡视整改情况".encode("gb18030")) is None
    assert process(_fixture_raw(url, cut)).failure == Failure("extract", "truncated", incomplete_body(cut)[1])


def test_a_page_matching_no_template_of_its_profile_is_read_by_the_generic_reader():
    url = f"{COLUMN}faults/redesigned.html"
    result = process(_fixture_raw(url))
    assert result.failure is None
    doc = result.document
    assert doc["extractor"] == "generic (no template matched)"
    [warning] = json.loads(doc["warnings"])
    assert warning.startswith("template_mismatch: no template of profile 'faultsite' matches the page")
    assert doc["title"] == "中共松岗区委关于十一届省委第九轮巡视整改进展情况的通报"
    assert (doc["published_at"], doc["source"]) == ("2022-04-18", "松岗区纪委监委")
    assert doc["body_text"].startswith("根据省委统一部署，2021年4月至6月")
    assert doc["body_text"].endswith("办理时限压缩至1个工作日。")
    assert "江淮ICP备" not in doc["body_text"] and "当前位置" not in doc["body_text"]
    # The profile still names the publisher: a profile narrows, it never loses a page.
    assert doc["publisher"] == process(_fixture_raw(f"{COLUMN}202203/t20220315_10021.html")).document["publisher"]


def test_error_pages_in_a_200_are_recognised_and_articles_mentioning_them_are_not():
    nginx = fixture_response(COLUMN + "faults/soft-404.html").body
    # A site we have no profile for: the generic rule on <title>/<h1>.
    unknown_site = process(RawDocument(url="https://www.example.gov.cn/a/1.html", body=nginx, content_type="text/html"))
    assert (unknown_site.failure.stage, unknown_site.failure.kind) == ("extract", "site_error_page")
    article = fixture_response(COLUMN + "202203/t20220315_10021.html").body.decode()
    mentions = article.replace("一、提高政治站位", "对群众反映“页面不存在”“404 Not Found”的网站问题，一、提高政治站位")
    assert process(_fixture_raw(COLUMN + "202203/t20220315_10021.html", mentions.encode())).ok


def test_a_page_may_fail_on_every_crawl(tmp_path):
    """failures.url was once a unique index: the second failure of a page was lost."""
    db = tmp_path / "archive.db"
    Archive(db).close()
    with sqlite3.connect(db) as connection:  # an archive made before the fix
        connection.execute("drop index idx_failures_url")
        connection.execute("create unique index idx_failures_url on failures (url)")
        connection.execute("pragma user_version = 0")  # made before the schema had versions
    connection.close()
    url = COLUMN + "faults/status-500.html"
    with Archive(db) as archive:
        for run_id in (1, 2):
            archive.record_failure(
                ProcessResult(RawDocument(url=url, body=b""), failure=Failure("fetch", "http_500", "answered 500")), run_id
            )
        assert [(r["run_id"], r["kind"]) for r in archive.db["failures"].rows] == [(1, "http_500"), (2, "http_500")]
        assert {index.name: index.unique for index in archive.db["failures"].indexes}["idx_failures_url"] == 0


def test_an_outage_answers_500_to_every_request_of_its_host_for_its_time_then_serves_again():
    host, other = "www.bjsupervision.gov.cn", "www.ccdi.gov.cn"
    outage = Outage(host, seconds=1.0, after_requests=1)

    def status(mirror, real_host: str, path: str) -> int:
        try:
            with urllib.request.urlopen(mirror.host_map[real_host] + path, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    with start_mirror(challenge=False, outage=outage) as mirror:
        served_before = status(mirror, host, "/zt/shejswxc/xsfk/")
        during = [status(mirror, host, path) for path in ("/zt/shejswxc/xsfk/", "/robots.txt", "/no-such-page")]
        elsewhere = status(mirror, other, "/robots.txt")
        time.sleep(outage.seconds_left())
        served_after = status(mirror, host, "/zt/shejswxc/xsfk/")
    assert (served_before, during, elsewhere, served_after) == (200, [500, 500, 500], 200, 200)
    assert outage.paths_failed == ["/zt/shejswxc/xsfk/", "/robots.txt", "/no-such-page"]
