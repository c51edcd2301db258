"""A crawl's ``crawl_runs`` rows are closed on every exit it can see, and a run left
``running`` by a process killed outright is marked ``interrupted`` by the next crawl
or when the archive is next served.  Real crawl processes over HTTP against the mirror."""

from __future__ import annotations

import signal
import socket
import subprocess

import pytest
from datasette_server import served_archive

from conftest import STEADY_CRAWL, crawl_process, document_count, query, run_crawl_process, stop_crawl_part_way
from crawler.mirror import start_mirror

pytestmark = [pytest.mark.slow, pytest.mark.mirror]

STOP_AFTER_DOCUMENTS = 4


def _stopped_part_way(db, mirror, tmp_path, signum, log=subprocess.DEVNULL) -> subprocess.Popen:
    command = crawl_process(db, mirror.host_map, warc_dir=tmp_path / "warc", politeness=True, settings=STEADY_CRAWL)
    return stop_crawl_part_way(command, db, signum, STOP_AFTER_DOCUMENTS, log)


def _runs(db) -> list[dict]:
    return [dict(row) for row in query(db, "select * from crawl_runs order by id")]


def test_a_hung_up_crawl_stops_cleanly_and_closes_its_runs(tmp_path):
    db = tmp_path / "archive.db"
    log = tmp_path / "crawl.log"
    with start_mirror(challenge=False) as mirror, log.open("w") as output:
        crawl = _stopped_part_way(db, mirror, tmp_path, signal.SIGHUP, output)
    assert crawl.returncode == 1, log.read_text()[-2000:]  # stopped before the end: not a success
    runs = _runs(db)
    assert runs and all(run["finished_at"] for run in runs), [(r["spider"], r["status"], r["finished_at"]) for r in runs]
    assert {run["status"] for run in runs} <= {"stopped", "ok"} and "stopped" in {run["status"] for run in runs}
    stopped = [run for run in runs if run["status"] == "stopped"]
    assert all(run["message"].startswith("stopped before the end (") for run in stopped)
    assert sum(run["documents_new"] for run in runs) == document_count(db) >= STOP_AFTER_DOCUMENTS
    assert "Received SIGHUP, shutting down gracefully" in log.read_text()


def _killed_crawl(db, mirror, tmp_path) -> tuple[subprocess.Popen, list[dict]]:
    crawl = _stopped_part_way(db, mirror, tmp_path, signal.SIGKILL)
    running = [run for run in _runs(db) if run["status"] == "running"]
    assert running and all(run["finished_at"] is None for run in running)
    assert {(run["pid"], run["host"]) for run in running} == {(crawl.pid, socket.gethostname())}
    return crawl, running


def _assert_interrupted(db, killed: list[dict], archived: int) -> None:
    rows = {run["id"]: run for run in _runs(db)}
    for run in killed:
        row = rows[run["id"]]
        assert row["status"] == "interrupted", row
        assert f"process {run['pid']} on {run['host']} ended without closing its run" in row["message"]
        assert f"archived before: {row['documents_new']} new" in row["message"]
    # What the killed runs had archived (each counts its pages as it stores them; the
    # kill may fall between a page and its count).
    counted = sum(rows[run["id"]]["documents_new"] for run in killed)
    assert archived - len(killed) <= counted <= archived, (counted, archived)


def test_a_killed_crawl_is_marked_interrupted_by_the_next_crawl(tmp_path):
    db = tmp_path / "archive.db"
    with start_mirror(challenge=False) as mirror:
        _, killed = _killed_crawl(db, mirror, tmp_path)
        archived_when_killed = document_count(db)
        next_crawl = run_crawl_process(db, mirror.host_map, ("tongxi",), warc_dir=tmp_path / "warc")
    assert next_crawl.returncode == 0, next_crawl.stdout
    assert [run["status"] for run in _runs(db)][-1] == "ok"
    _assert_interrupted(db, killed, archived_when_killed)


def test_a_killed_crawl_is_marked_interrupted_when_the_archive_is_served(tmp_path):
    db = tmp_path / "archive.db"
    with start_mirror(challenge=False) as mirror:
        _, killed = _killed_crawl(db, mirror, tmp_path)
    archived_when_killed = document_count(db)
    with served_archive(db):
        _assert_interrupted(db, killed, archived_when_killed)
        assert query(db, "select count(*) n from crawl_runs where status = 'running'")[0]["n"] == 0
