"""Operating a cluster crawl, and Redis failing it — real redis-server, coordinator
and worker processes on loopback, against the mirror:

* ``archive cluster status|workers|stop`` over a running three-worker crawl, with a
  Redis that asks for a password — which no file the test wrote holds but Redis's
  own config (logs, WARC files, the archive);
* Redis restarted without its data: workers stop, the coordinator says so in one
  line, no run stays ``running``, and the next crawl starts afresh from the archive;
* Redis down for longer than the clients retry: nothing is lost — the crawl run
  again archives every page, and no page counts as failed because of Redis.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from cluster_services import redis_server
from conftest import CRAWL_TIMEOUT, MIRROR_ARTICLE_URLS, ROOT, query
from archive.db import Archive
from crawler.cluster.coordinator import CLUSTER_RUN_MARK, open_or_resume
from crawler.cluster.crawl import ClusterCrawl
from crawler.mirror import start_mirror
from crawler.run import project_settings
from test_cluster import _answers_held, _documents, _joined_by_all, _log, _wait_for, coordinator_command, worker_command

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.mirror]

MIRROR_DELAY = 0.3
# How long a worker may take to notice that Redis lost the crawl and leave: a few
# heartbeats (CLUSTER_HEARTBEAT_SECONDS, 1 s) and the time to close its spiders.
WORKER_LEAVE_TIMEOUT = 30


def _archive_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archive", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


def _runs(db: Path) -> list[dict]:
    return [dict(row) for row in query(db, "select id, spider, status, message, finished_at from crawl_runs order by id")]


# Three workers on two shared cores: once the status was read before they had joined.
@pytest.mark.flaky(reruns=2, reruns_delay=2)
def test_cluster_status_workers_and_stop_over_a_running_three_worker_crawl_and_no_password_in_any_file(tmp_path, processes):
    password = secrets.token_hex(16)
    # The coordinator reads the password from the environment, the workers from a file.
    password_file = tmp_path / "redis-password"
    password_file.write_text(password + "\n")
    coordinator_env = {"ZHENGGAI_REDIS_PASSWORD": password}
    worker_env = {"ZHENGGAI_REDIS_PASSWORD_FILE": str(password_file)}
    db = tmp_path / "archive.db"
    with redis_server(tmp_path / "redis", password=password) as redis, \
            start_mirror(challenge=False, delay=MIRROR_DELAY) as mirror:
        gate = _answers_held(mirror)
        coordinator = processes(coordinator_command(redis.url, db), tmp_path / "coordinator.log", coordinator_env)
        workers = [processes(worker_command(redis.url, mirror.host_map, tmp_path / f"worker-{n}"),
                         tmp_path / f"worker-{n}.log", worker_env) for n in range(3)]
        _wait_for(lambda: _joined_by_all(redis.client(), 3), "the three workers to join every spider")
        gate.set()
        _wait_for(lambda: _documents(db) >= 3, "3 documents archived")
        gate.clear()  # the mirror holds its answers: the crawl is caught mid-way, requests in flight
        crawl = ClusterCrawl.current(redis.client())
        spiders = crawl.spiders

        status = _archive_cli("cluster", "status", "--cluster", redis.url, env=coordinator_env)
        assert status.returncode == 0, status.stderr
        assert f"cluster crawl {crawl.id}: {len(spiders)} site(s); politeness per host: 2 at a time, 0.15 s apart" in status.stdout
        site_rows = {line.split()[0]: line.split() for line in status.stdout.splitlines() if line.split()[:1] in ([s] for s in spiders)}
        assert set(site_rows) == set(spiders)
        assert all(row[4] == "3" for row in site_rows.values() if row[1] == "open")  # three workers on each open site
        host_rows = re.findall(r"^(\S+\.\S+) +(\d+)", status.stdout, re.MULTILINE)
        assert "www.ccdi.gov.cn" in dict(host_rows) and all(int(n) <= 2 for _, n in host_rows)

        # The served archive's crawl health page shows the same figures for the sites crawling.
        health_sql = json.loads((ROOT / "archive" / "datasette_metadata.json").read_text())["databases"]["archive"]["queries"]["crawl_health"]["sql"]
        health = {row["spider"]: row["message"] for row in _wait_for(
            lambda: [r for r in query(db, health_sql) if r["status"] == "running" and "queued" in (r["message"] or "")],
            "the health page to show the cluster's figures", timeout=30)}
        assert all(re.fullmatch(rf"cluster crawl {crawl.id}: open, \d+ queued, \d+ held by 3 worker\(s\), \d+ requests, \d+ pages", line)
                   for line in health.values()), health

        listed = _archive_cli("cluster", "workers", "--cluster", redis.url, env=worker_env)
        assert listed.returncode == 0, listed.stderr
        rows = [line.split() for line in listed.stdout.splitlines()[1:]]
        open_sites = {spider for spider, row in site_rows.items() if row[1] == "open"}
        alive = [row for row in rows if row[-1] != "left"]
        # Three workers on each site still crawling, each seen within its last heartbeats.
        assert open_sites and Counter(row[1] for row in alive if row[1] in open_sites) == {site: 3 for site in open_sites}
        assert all(row[-1] == "s" and float(row[-2]) < 10 for row in alive)
        assert {int(row[0].rsplit("-", 2)[1]) for row in rows} == {worker.pid for worker in workers}
        # Their figures add up to the sites' (pages), held requests included.
        for spider in open_sites:
            assert sum(int(row[4]) for row in rows if row[1] == spider) == int(site_rows[spider][6])
            assert sum(int(row[2]) for row in rows if row[1] == spider) == int(site_rows[spider][3])

        stopped = _archive_cli("cluster", "stop", "--cluster", redis.url, env=coordinator_env)
        assert stopped.returncode == 0 and stopped.stdout.startswith(f"stopping cluster crawl {crawl.id}: "), stopped
        gate.set()  # the requests in flight are answered: the workers finish them and leave
        assert coordinator.wait(timeout=120) == 1, _log(tmp_path / "coordinator.log")  # not every page archived
        for n, worker in enumerate(workers):
            assert worker.wait(timeout=60) == 0, _log(tmp_path / f"worker-{n}.log")
        assert [key.decode() for key in redis.client().keys("*")] == [f"zhenggai:ended:{crawl.id}"]
        after = _archive_cli("cluster", "status", "--cluster", redis.url, env=coordinator_env)
        assert after.returncode == 1 and "no cluster crawl is open" in after.stderr

    runs = _runs(db)
    assert len(runs) == len(spiders) and all(run["finished_at"] for run in runs)
    assert {run["status"] for run in runs} <= {"ok", "stopped"} and "stopped" in {run["status"] for run in runs}
    assert all(run["message"] == "stopped before the end (stopped by the operator)" for run in runs if run["status"] == "stopped")
    assert "stopped" in (tmp_path / "coordinator.log").read_text()

    # The password is in no file the crawl wrote: logs, WARC files, the archive.
    written = [path for path in tmp_path.rglob("*") if path.is_file() and path not in (password_file, tmp_path / "redis" / "redis.conf")]
    assert len([p for p in written if p.suffix == ".log"]) >= 5  # coordinator, 3 workers, redis
    assert [str(path) for path in written if password.encode() in path.read_bytes()] == []
    print(status.stdout, listed.stdout, stopped.stdout, f"password in none of {len(written)} files written", sep="\n")


def test_redis_restarted_without_its_data_stops_workers_and_the_next_crawl_starts_afresh(tmp_path, processes):
    db = tmp_path / "archive.db"
    with redis_server(tmp_path / "redis") as redis, start_mirror(challenge=False, delay=MIRROR_DELAY) as mirror:
        coordinator = processes(coordinator_command(redis.url, db), tmp_path / "coordinator-1.log")
        workers = [processes(worker_command(redis.url, mirror.host_map, tmp_path / f"worker-{n}"), tmp_path / f"worker-{n}.log")
                   for n in range(2)]
        _wait_for(lambda: _documents(db) >= 3, "3 documents archived")
        redis.kill()
        redis.forget_data()
        redis.start()

        for n, worker in enumerate(workers):
            assert worker.wait(timeout=WORKER_LEAVE_TIMEOUT) == 1, _log(tmp_path / f"worker-{n}.log")
            assert "is gone from Redis (restarted without its data?)" in (tmp_path / f"worker-{n}.log").read_text()
        assert coordinator.wait(timeout=WORKER_LEAVE_TIMEOUT) == 1, _log(tmp_path / "coordinator-1.log")
        said = [line for line in (tmp_path / "coordinator-1.log").read_text().splitlines() if "gone from Redis" in line]
        assert len(said) == 1 and "site(s) ended early; the next crawl starts afresh from the archive" in said[0]
        assert "Traceback" not in (tmp_path / "coordinator-1.log").read_text()
        first_runs = _runs(db)
        assert first_runs and all(run["finished_at"] and run["status"] != "running" for run in first_runs)
        assert {run["message"] for run in first_runs if run["status"] == "failing"} == {"stopped before the end (cluster_lost)"}

        # The next crawl: opened afresh, every list walked again (the last runs were cut
        # short), and the archive is complete.
        mirror.delay = 0
        coordinator = processes(coordinator_command(redis.url, db), tmp_path / "coordinator-2.log")
        worker = processes(worker_command(redis.url, mirror.host_map, tmp_path / "worker-again"), tmp_path / "worker-again.log")
        assert coordinator.wait(timeout=CRAWL_TIMEOUT) == 0, _log(tmp_path / "coordinator-2.log")
        assert worker.wait(timeout=60) == 0, _log(tmp_path / "worker-again.log")
    assert "opened cluster crawl" in (tmp_path / "coordinator-2.log").read_text()
    assert {row["url"] for row in query(db, "select url from documents")} == MIRROR_ARTICLE_URLS
    assert [run["status"] for run in _runs(db)[len(first_runs):]] == ["ok"] * len(first_runs)


def test_runs_left_running_by_a_coordinator_that_never_saw_redis_lose_the_crawl_are_ended(tmp_path, processes):
    db = tmp_path / "archive.db"
    with redis_server(tmp_path / "redis") as redis, start_mirror(challenge=False, delay=MIRROR_DELAY) as mirror:
        coordinator = processes(coordinator_command(redis.url, db, ("beijing", "zhejiang")), tmp_path / "coordinator-1.log")
        _wait_for(lambda: ClusterCrawl.current(redis.client()) is not None, "the crawl to open")
        coordinator.kill()
        coordinator.wait()
        redis.kill()
        redis.forget_data()
        redis.start()
        assert {run["status"] for run in _runs(db)} == {"running"}
        coordinator = processes(coordinator_command(redis.url, db, ("beijing", "zhejiang")), tmp_path / "coordinator-2.log")
        worker = processes(worker_command(redis.url, mirror.host_map, tmp_path / "worker"), tmp_path / "worker.log")
        assert coordinator.wait(timeout=CRAWL_TIMEOUT) == 0, _log(tmp_path / "coordinator-2.log")
        worker.wait(timeout=60)
    assert "ended 2 run(s) of a cluster crawl Redis lost" in (tmp_path / "coordinator-2.log").read_text()
    assert [(run["spider"], run["status"]) for run in _runs(db)] == [
        ("beijing", "failing"), ("zhejiang", "failing"), ("beijing", "ok"), ("zhejiang", "ok")]


def test_a_coordinator_killed_as_soon_as_its_crawl_is_open_leaves_runs_the_next_can_end(tmp_path, capsys):
    """The moment the first multi-process test above kills its coordinator: the crawl just
    opened in Redis, no status line written yet. Its runs must already carry the cluster mark."""
    prefix = project_settings().get("CLUSTER_KEY_PREFIX")
    with redis_server(tmp_path / "redis") as redis, Archive(tmp_path / "archive.db") as archive:
        crawl = open_or_resume(redis.client(), archive, ["beijing", "zhejiang"], prefix, recheck=False)
        first_runs = [int(crawl.run(spider)["run_id"]) for spider in crawl.spiders]
        assert [run["message"] for run in archive.db.query("select message from crawl_runs order by id")] == [
            f"{CLUSTER_RUN_MARK}{crawl.id}: coordinated by process {os.getpid()}"] * 2
        redis.kill()
        redis.forget_data()
        redis.start()
        again = open_or_resume(redis.client(), archive, ["beijing", "zhejiang"], prefix, recheck=False)
        assert again.id != crawl.id
        ended = {row["id"]: row["status"] for row in archive.db.query("select id, status from crawl_runs")}
    assert [ended[run_id] for run_id in first_runs] == ["failing", "failing"]
    assert "ended 2 run(s) of a cluster crawl Redis lost" in capsys.readouterr().out


def test_a_cluster_crawl_takes_no_politeness_and_refuses_a_jobdir(tmp_path, processes):
    from click.testing import CliRunner

    from archive.cli import cli

    refused = CliRunner().invoke(cli, ["crawl", "--cluster", "redis://127.0.0.1:9/0", "--jobdir", str(tmp_path / "job")])
    assert refused.exit_code == 2
    assert "a cluster crawl keeps its state in Redis, not in a JOBDIR" in refused.output
    with redis_server(tmp_path / "redis") as redis:
        command = [sys.executable, "-m", "archive", "crawl", "beijing", "--cluster", redis.url,
                   "--db", str(tmp_path / "archive.db"), "--no-politeness"]
        coordinator = processes(command, tmp_path / "coordinator.log")
        _wait_for(lambda: ClusterCrawl.current(redis.client()) is not None, "the crawl to open")
        politeness = ClusterCrawl.current(redis.client()).politeness()
        coordinator.kill()
    # What every worker obeys: crawler.settings.POLITENESS_OFF_OVERRIDES, as on one machine.
    assert (politeness["DOWNLOAD_DELAY"], politeness["CONCURRENT_REQUESTS_PER_DOMAIN"], politeness["AUTOTHROTTLE_ENABLED"]) == (
        "0.0", "16", "False")


def test_redis_down_longer_than_the_retry_window_loses_nothing(tmp_path, processes):
    db = tmp_path / "archive.db"
    short_retry = {"CLUSTER_REDIS_RETRY_SECONDS": "2"}
    with redis_server(tmp_path / "redis") as redis, start_mirror(challenge=False, delay=MIRROR_DELAY) as mirror:
        coordinator = processes(coordinator_command(redis.url, db, settings=short_retry), tmp_path / "coordinator-1.log")
        workers = [processes(worker_command(redis.url, mirror.host_map, tmp_path / f"worker-{n}", short_retry),
                         tmp_path / f"worker-1-{n}.log") for n in range(2)]
        _wait_for(lambda: _documents(db) >= 3, "3 documents archived")
        redis.kill()  # its append-only file stays
        # Everyone gives up once the retries are spent; no one waits forever.
        assert coordinator.wait(timeout=120) != 0
        for worker in workers:
            assert worker.wait(timeout=120) != 0
        for n in range(2):
            # One of each worker's spiders finds Redis gone, after the retry window; the others
            # stop with it instead of each spending the window again in turn.
            log = (tmp_path / f"worker-1-{n}.log").read_text()
            assert log.count("Cannot reach the cluster's Redis") == 1, log[-3000:]
            assert log.count("the cluster's Redis failed it") >= 1, log[-3000:]
        redis.start()

        # Run again, as cron would: the open crawl resumes and finishes.
        coordinator = processes(coordinator_command(redis.url, db), tmp_path / "coordinator-2.log")
        workers = [processes(worker_command(redis.url, mirror.host_map, tmp_path / f"worker-{n}"), tmp_path / f"worker-2-{n}.log")
                   for n in range(2)]
        assert coordinator.wait(timeout=CRAWL_TIMEOUT) == 0, _log(tmp_path / "coordinator-2.log")
        for worker in workers:
            assert worker.wait(timeout=60) == 0
    assert "resuming cluster crawl" in (tmp_path / "coordinator-2.log").read_text()
    assert {row["url"] for row in query(db, "select url from documents")} == MIRROR_ARTICLE_URLS
    assert query(db, "select url, kind, message from failures") == []
    assert {run["status"] for run in _runs(db)} == {"ok"}


@pytest.mark.browser
def test_workers_share_one_browser_solve_of_a_challenge(tmp_path, processes):
    """Three workers meet CCDI's cookie challenge together: one browser passes it, the
    others take its cookies from the crawl (crawler/cluster/cookies.py)."""
    db = tmp_path / "archive.db"
    with redis_server(tmp_path / "redis") as redis, start_mirror(challenge=True, delay=0.1) as mirror:
        gate = _answers_held(mirror)
        coordinator = processes(coordinator_command(redis.url, db, ("ccdi",)), tmp_path / "coordinator.log")
        # Few requests at a time per worker: none takes the whole small frontier into its hands.
        workers = [processes(worker_command(redis.url, mirror.host_map, tmp_path / f"worker-{n}", {"CONCURRENT_REQUESTS": "4"}),
                         tmp_path / f"worker-{n}.log") for n in range(3)]
        _wait_for(lambda: _joined_by_all(redis.client(), 3), "the three workers to join")
        gate.set()
        assert coordinator.wait(timeout=CRAWL_TIMEOUT) == 0, _log(tmp_path / "coordinator.log")
        for worker in workers:
            assert worker.wait(timeout=60) == 0
    logs = [(tmp_path / f"worker-{n}.log").read_text() for n in range(3)]

    def summed(stat: str) -> int:
        return sum(int(found) for log in logs for found in re.findall(rf"'anti_bot/{stat}': (\d+)", log))

    assert summed("browser_solves") == 1
    # Every worker that met the challenge without solving it took the shared cookies.
    met = sum(1 for log in logs if "'anti_bot/challenge'" in log)
    assert met >= 2 and summed("shared_cookies_taken") == met - 1
    ccdi = {url for url in MIRROR_ARTICLE_URLS if "ccdi.gov.cn" in url}
    assert {row["url"] for row in query(db, "select url from documents")} == ccdi


def test_a_cluster_crawl_with_lost_pages_is_incomplete_and_the_next_fetches_them_first(tmp_path, processes):
    """As on one machine (tests/test_incomplete_runs.py): the host answers 500 to a list
    page and an article during the first crawl only."""
    from test_incomplete_runs import ARCHIVED_IN_FIRST_RUN, COLUMN, HOST, LOST_ARTICLE, LOST_LIST_PAGE, _failing, _pages

    db = tmp_path / "archive.db"
    # One request at a time on the host, for the whole crawl: the mirror sees the frontier's order.
    crawl_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY": "0", "CRAWL_ERROR_RATE_MAX": "1.0"}
    worker_settings = {"RETRY_TIMES": "1", "RETRY_BACKOFF_BASE": "0"}
    outage = {LOST_LIST_PAGE, LOST_ARTICLE}
    with redis_server(tmp_path / "redis") as redis, start_mirror(challenge=False) as mirror:
        _failing(mirror, outage)
        logs = []
        for attempt in (1, 2):
            coordinator = processes(coordinator_command(redis.url, db, ("beijing",), crawl_settings), tmp_path / f"coordinator-{attempt}.log")
            worker = processes(worker_command(redis.url, mirror.host_map, tmp_path / "worker", worker_settings), tmp_path / f"worker-{attempt}.log")
            assert coordinator.wait(timeout=CRAWL_TIMEOUT) == (1 if attempt == 1 else 0), _log(tmp_path / f"coordinator-{attempt}.log")
            assert worker.wait(timeout=60) == 0
            logs.append(_pages(mirror.request_log))
            mirror.request_log.clear()
            outage.clear()
    first, second = _runs(db)
    assert first["status"] == "incomplete" and first["message"].startswith("2 page(s) could not be archived")
    assert "incomplete" in (tmp_path / "coordinator-1.log").read_text()
    assert second["status"] == "ok"
    # The lost pages are asked for before the column (the workers take the spider's start
    # lazily: a page found on the retried list page may come between them).
    assert logs[1][0] in {LOST_LIST_PAGE, LOST_ARTICLE}, logs[1]
    assert max(logs[1].index(LOST_LIST_PAGE), logs[1].index(LOST_ARTICLE)) < logs[1].index(COLUMN), logs[1]
    assert ARCHIVED_IN_FIRST_RUN not in logs[1]
    assert {row["url"].split(HOST, 1)[1] for row in query(db, "select url from documents")} == {
        ARCHIVED_IN_FIRST_RUN, LOST_ARTICLE, COLUMN + "202108/t20210806_81230.html"}
