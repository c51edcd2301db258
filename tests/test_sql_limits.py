"""Bounds on served SQL (archive/plugin/limits.py), over HTTP against a real ``archive serve``.

Each abuse ends at its limit with an error answer, not a hang, and the site
answers other pages meanwhile.  (The strict latency figure is measured by
``bench/bench_sql_limits.py``; the bound asserted here is generous for a busy machine.)
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from datasette_server import served_archive
from journalist_archive import build

from archive.plugin import limits
from archive.serve import METADATA, longest_stored_text, metadata_for

pytestmark = pytest.mark.slow

# Each abuse, and what stops it.  The time one runs until sql_time_limit_ms (3 s).
ABUSES = {
    "printf width": ("select length(printf('%.*c', 900000000, 'x'))", "string or blob too big"),
    "printf width as text": ("select length(format('%.*c', '2147483647', 'x'))", "string or blob too big"),
    "zeroblob": ("select length(zeroblob(2000000000))", "string or blob too big"),
    "randomblob": ("select length(randomblob(2000000000))", "string or blob too big"),
    "fts3_tokenizer": ("select hex(fts3_tokenizer('simple'))", "not authorized to use function: fts3_tokenizer"),
    "memory": (
        "select " + ", ".join(["hex(zeroblob(16000000))"] * 24),  # 768 MB in one row
        "out of memory",
    ),
    "time": (
        "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n",
        "SQL query took too long",
    ),
}
# Asserted bounds, generous for a machine shared with other test runs; the target
# (pages in 500 ms) is the benchmark's.  Before these limits, one printf took 6.1 s
# and three 14-25 s, while a table page took 12.7 s.
PAGE_BOUND_S = 3.0
SLACK_S = 5.0
TIME_LIMIT_S = 3.0


def ad_hoc(base: str, sql: str) -> tuple[int, dict | str, float]:
    url = f"{base}/archive.json?" + urllib.parse.urlencode({"sql": sql, "_shape": "objects"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    elapsed = time.monotonic() - started
    try:
        return status, json.loads(body), elapsed
    except ValueError:
        return status, body.decode("utf-8", "replace"), elapsed


def page_seconds(url: str) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.status == 200
        response.read()
    return time.monotonic() - started


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("sql-limits") / "archive.db"
    build(db_path)
    return db_path


@pytest.fixture(scope="module")
def base(archive_path):
    with served_archive(archive_path) as base:
        yield base


@pytest.mark.parametrize("name", ABUSES)
def test_each_abuse_ends_at_its_limit_with_an_error(base, name):
    sql, error = ABUSES[name]
    status, answer, elapsed = ad_hoc(base, sql)
    assert status == 400 and error in answer["error"], (status, answer)
    # The time and memory abuses run up to the time limit; the others fail at once.
    limit_s = TIME_LIMIT_S + SLACK_S if name in ("time", "memory") else SLACK_S
    assert elapsed < limit_s, f"{name}: {elapsed:.1f} s"


def test_sql_within_the_limits_still_works(base):
    status, answer, _ = ad_hoc(base, "select printf('%5.1f|%-4s|%.*c', 3.14159, 'ab', 3, 'z') as p, format('%d', 42) as f, "
                                    "length(zeroblob(1000)) as z, (select count(*) from documents) > 0 as docs")
    assert status == 200, answer
    assert answer["rows"] == [{"p": "  3.1|ab  |zzz", "f": "42", "z": 1000, "docs": 1}]


def test_pages_answer_while_abuses_run(base):
    stop = threading.Event()
    answers: list[tuple[str, int, float]] = []

    def abuse(name):
        while not stop.is_set():
            status, _, elapsed = ad_hoc(base, ABUSES[name][0])
            answers.append((name, status, elapsed))
            if status == 429:  # refused at once; a client looping on that is a flood, not a query
                time.sleep(0.2)

    threads = [threading.Thread(target=abuse, args=(name,)) for name in ("printf width", "time", "zeroblob")]
    page_seconds(f"{base}/archive/documents?_size=4")  # templates compiled before the clock runs
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        # Uncached pages (each URL new).
        seconds = [page_seconds(f"{base}/archive/documents?_size={size}") for size in range(5, 25)]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert max(seconds) < PAGE_BOUND_S, f"slowest page {max(seconds):.2f} s while abused; all {seconds}"
    # Every abuse ended: at its limit (400) or refused at once for running too many (429).
    assert {status for _, status, _ in answers} <= {400, 429}, answers
    assert {name for name, status, _ in answers if status == 400} == {"printf width", "time", "zeroblob"}
    slowest = max(answers, key=lambda answer: answer[2])
    assert slowest[2] < TIME_LIMIT_S + SLACK_S, slowest


def test_ad_hoc_sql_is_limited_per_client(base):
    """Two slow statements from one address run; a third at the same time is refused at once."""
    slow = ABUSES["time"][0]
    results = []
    threads = [threading.Thread(target=lambda: results.append(ad_hoc(base, slow))) for _ in range(limits.AD_HOC_PER_CLIENT)]
    for thread in threads:
        thread.start()
    time.sleep(0.7)
    status, answer, elapsed = ad_hoc(base, "select 1")
    try:  # a search's count is a whole pass over the index: bounded with them
        count_status = urllib.request.urlopen(f"{base}/-/count?q=%E6%95%B4%E6%94%B9", timeout=60).status
    except urllib.error.HTTPError as error:
        count_status = error.code
    for thread in threads:
        thread.join()
    assert status == 429 and elapsed < 0.5 and "Too many SQL queries" in answer
    assert count_status == 429
    assert sorted(r[0] for r in results) == [400] * limits.AD_HOC_PER_CLIENT
    # Once they ended, the address may query again.
    status, answer, _ = ad_hoc(base, "select 1 as one")
    assert status == 200 and answer["rows"] == [{"one": 1}]


def test_no_sql_turns_ad_hoc_sql_off(archive_path):
    with served_archive(archive_path, serve_args=("--no-sql",)) as base:
        status, _, _ = ad_hoc(base, "select 1")
        assert status == 403
        with urllib.request.urlopen(f"{base}/archive/latest_reports.json?_shape=array") as response:
            assert response.status == 200 and json.loads(response.read())


def test_the_length_limit_fits_the_longest_stored_text(archive_path):
    longest = longest_stored_text(archive_path)
    assert longest > 1000
    config = metadata_for(archive_path)["plugins"]["zhenggai-archive"]
    assert config["sql_length_limit"] == limits.SQL_LENGTH_LIMIT
    assert limits.length_limit_for(40 * 2**20) == 80 * 2**20 + 1024  # a longer text raises it


def test_the_length_limit_fits_an_attachments_text_longer_than_every_page(tmp_path):
    from archive.db import Archive

    with Archive(tmp_path / "archive.db") as archive, archive.transaction():
        archive.db["attachments"].insert({"id": "a", "text": "表" * 2_000_000, "tables": "[]"})
    assert longest_stored_text(tmp_path / "archive.db") == 6_000_000  # UTF-8 bytes


def test_the_dashboards_chart_queries_are_not_counted(base):
    """The dashboard page asks for its five charts at once; while two slow statements hold
    this address's share, a chart's own query still answers, and another statement does not."""
    charts = json.loads(METADATA.read_text(encoding="utf-8"))["plugins"]["datasette-dashboards"]["rectification"]["charts"]
    chart_sql = charts["problems-by-status"]["query"]
    slow = ABUSES["time"][0]
    threads = [threading.Thread(target=ad_hoc, args=(base, slow)) for _ in range(limits.AD_HOC_PER_CLIENT)]
    for thread in threads:
        thread.start()
    time.sleep(0.7)
    chart_status, chart_answer, _ = ad_hoc(base, chart_sql)
    other_status, _, _ = ad_hoc(base, "select 2")
    for thread in threads:
        thread.join()
    assert other_status == 429
    assert chart_status == 200 and chart_answer["rows"], chart_answer
