"""A crawl stopped part-way — killed with SIGKILL, or stopped cleanly with
Ctrl-C (SIGINT: Scrapy saves its JOBDIR queue) — and started again ends with
the same archive as a crawl that was never interrupted."""

from __future__ import annotations

import hashlib
import signal

import pytest

from conftest import (
    MIRROR_ARTICLE_URLS, STEADY_CRAWL, crawl_process, document_count, query, read_warc, run_crawl_process, stop_crawl_part_way,
)
from crawler.mirror import start_mirror

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

KILL_AFTER_DOCUMENTS = 5


def _content(db) -> dict[str, str]:
    return {row["url"]: row["content_sha256"] for row in query(db, "select url, content_sha256 from documents")}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    base = tmp_path_factory.mktemp("uninterrupted")
    with start_mirror(challenge=False) as mirror:
        outcome = run_crawl_process(base / "archive.db", mirror.host_map, warc_dir=base / "warc")
    assert outcome.returncode == 0, outcome.stdout
    return _content(base / "archive.db")


@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_stopped_crawl_resumes_to_the_same_archive(tmp_path, uninterrupted, stop_signal):
    db, warc, jobs = tmp_path / "archive.db", tmp_path / "warc", tmp_path / "jobs"
    with start_mirror(challenge=False) as mirror:
        command = crawl_process(db, mirror.host_map, warc_dir=warc, jobdir=jobs, politeness=True, settings=STEADY_CRAWL)
        stop_crawl_part_way(command, db, stop_signal, KILL_AFTER_DOCUMENTS)
        archived_when_killed = document_count(db)
        assert KILL_AFTER_DOCUMENTS <= archived_when_killed < len(MIRROR_ARTICLE_URLS)
        unfinished = query(
            db, "select count(*) n from crawl_runs where finished_at is null or message like 'stopped before the end%'"
        )[0]["n"]
        assert unfinished > 0

        rerun = run_crawl_process(db, mirror.host_map, warc_dir=warc, jobdir=jobs)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr[-3000:]

    assert _content(db) == uninterrupted
    assert set(uninterrupted) == MIRROR_ARTICLE_URLS
    assert query(db, "select count(*) n, count(distinct url) d from documents")[0][:] == (len(MIRROR_ARTICLE_URLS),) * 2
    new_in_rerun = query(
        db, "select sum(documents_new) n from crawl_runs where id in (select max(id) from crawl_runs group by spider)"
    )[0]["n"]
    assert new_in_rerun == len(MIRROR_ARTICLE_URLS) - archived_when_killed
    # Documents archived before the kill still point at complete WARC records of their bytes.
    responses = {r.header("WARC-Record-ID"): r for r in read_warc(warc) if r.type == "response"}
    for row in query(db, "select warc_record_id, raw_sha256 from documents"):
        assert hashlib.sha256(responses[row["warc_record_id"]].payload).hexdigest() == row["raw_sha256"]
