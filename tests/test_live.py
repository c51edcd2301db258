"""The archive served while it is written: real `archive serve`, import, rebuild and crawl processes.

* Served during an import and then a rebuild, every search, table, record and SQL page answers
  200 from one committed state, and new documents show without a restart within VISIBLE_WITHIN_S.
* Two imports, and an import beside a mirror crawl, write into one archive at once: both
  finish, with the counts of running them one after the other.
* `serve` never creates an archive, stops with its Datasette child on SIGTERM and SIGINT, and
  its redirects stay on the site.
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import pytest
from conftest import MIRROR_ARTICLE_URLS, ROOT, STEADY_CRAWL, crawl_process, query
from datasette_server import free_port, served_archive
from test_crash_safety import document_count, report_text, write_reports

from archive.db import Archive
from archive.importer import import_paths
from crawler.mirror import start_mirror

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

# What the README promises: a page committed by a writer is on the next request; the
# writers commit every page (crawl) or every 64 pages (import, rebuild).
VISIBLE_WITHIN_S = 2.0
COUNTS_SQL = "select (select count(*) from documents) as documents, (select count(*) from documents_fts) as indexed"


def archive_process(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "archive", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, timeout: float = 300) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, out + err[-3000:]
    return out


class Poller(threading.Thread):
    """Requests search, table, record and SQL pages in turn until stopped (only the SQL page
    when ``document_id`` is None: a counter quick enough to see each batch an import
    commits); keeps every status and every (time, documents, indexed) the SQL page answered."""

    def __init__(self, base: str, document_id: str | None):
        super().__init__(daemon=True)
        self.host, self.port = urllib.parse.urlsplit(base).hostname, urllib.parse.urlsplit(base).port
        pages = [
            "/archive/documents?_search=" + urllib.parse.quote("整改"),
            "/archive/documents.json?_shape=array&_size=20",
            f"/-/document/{document_id}",
        ]
        self.paths = (pages if document_id else []) + [
            "/archive.json?_shape=array&sql=" + urllib.parse.quote(COUNTS_SQL),
        ]
        self.statuses: Counter = Counter()
        self.errors: list[str] = []
        self.counts: list[tuple[float, int, int]] = []
        self.running = True

    def run(self):
        while self.running:
            for path in self.paths:
                connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                try:
                    connection.request("GET", path)
                    response = connection.getresponse()
                    body = response.read()
                    self.statuses[response.status] += 1
                    if response.status != 200:
                        self.errors.append(f"{response.status} {path}: {body[:300]!r}")
                    elif path.startswith("/archive.json"):
                        row = json.loads(body)[0]
                        self.counts.append((time.monotonic(), row["documents"], row["indexed"]))
                except OSError as exc:
                    self.statuses["error"] += 1
                    self.errors.append(f"{type(exc).__name__} {path}: {exc}")
                finally:
                    connection.close()

    def stop(self):
        self.running = False
        self.join(timeout=60)

    def seen(self, documents: int, since: float = 0.0) -> float | None:
        """When the served archive first answered ``documents`` documents after ``since``."""
        return next((at for at, n, _ in self.counts if n == documents and at >= since), None)


def test_serving_while_an_import_and_then_a_rebuild_write(tmp_path):
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        import_paths([write_reports(tmp_path / "first", 20)], archive)
        document_id = archive.db.execute("select id from documents order by id limit 1").fetchone()[0]
    later = write_reports(tmp_path / "later", 150)

    with served_archive(db) as base:
        poller, counter = Poller(base, document_id), Poller(base, None)
        poller.start()
        counter.start()
        try:
            time.sleep(1)
            importing = archive_process("import", later, "--db", db)
            imported = finish(importing)
            imported_at = time.monotonic()
            assert "imported: 150 new; 170 documents" in imported
            deadline = imported_at + VISIBLE_WITHIN_S
            while counter.seen(170, since=imported_at) is None and time.monotonic() < deadline + 5:
                time.sleep(0.05)
            visible_at = counter.seen(170)
            assert visible_at is not None and visible_at <= deadline, "the imported documents did not show in time"
            # Under load one round of the four pages can outlast the whole import; the counter cannot.
            served_during_import = {n for _, n, _ in poller.counts + counter.counts}
            # Seen as they were committed, batch by batch: never less than before, never a half batch.
            assert min(served_during_import) == 20 and max(served_during_import) == 170
            assert served_during_import - {20, 170}, "nothing showed while the import was writing"

            rebuild_started = time.monotonic()
            rebuilt = finish(archive_process("rebuild", "--from-warc", tmp_path / "warc", "--db", db))
            assert "170 new" in rebuilt and "170 documents (170 before)" in rebuilt
            time.sleep(1)
        finally:
            poller.stop()
            counter.stop()

    assert poller.errors == [] and set(poller.statuses) == {200}, poller.errors[:5]
    assert counter.errors == [] and set(counter.statuses) == {200}, counter.errors[:5]
    assert sum(poller.statuses.values()) > 100
    during_rebuild = [(n, indexed) for at, n, indexed in poller.counts + counter.counts if at >= rebuild_started]
    assert len(during_rebuild) > 5
    assert set(during_rebuild) == {(170, 170)}  # the old archive or the new one, each whole


def test_two_imports_and_an_import_beside_a_crawl_both_finish(tmp_path):
    first, second = write_reports(tmp_path / "a", 110), tmp_path / "b"
    second.mkdir()
    for number in range(200, 260):
        (second / f"report-{number:04d}.txt").write_text(report_text(number), encoding="utf-8")
    shared = sorted(first.iterdir())[:50]  # the second import names 50 files of the first's too
    db = tmp_path / "together.db"
    imports = [archive_process("import", first, "--db", db), archive_process("import", *shared, second, "--db", db)]
    together = sum((outcomes(finish(process)) for process in imports), Counter())
    alone = tmp_path / "alone.db"
    one_by_one = outcomes(finish(archive_process("import", first, "--db", alone)))
    one_by_one += outcomes(finish(archive_process("import", *shared, second, "--db", alone)))
    # Which of the two stored a shared file first varies; what was stored does not.
    assert together == one_by_one == {"new": 170, "unchanged": 50}
    assert table_counts(db) == table_counts(alone) == {"documents": 170, "disclosures": 170, "problems": 510}

    beside = tmp_path / "beside.db"
    with start_mirror(challenge=False) as mirror:
        # Scrapy's log goes to a file: 38 sites log more than a pipe holds before the test
        # reads it, and a crawl writing to a full pipe stops.
        crawl_log = (tmp_path / "crawl.log").open("w")
        crawl = subprocess.Popen(  # polite: a request per site every half second, ~15 s in all
            crawl_process(beside, mirror.host_map, warc_dir=tmp_path / "crawl-warc", politeness=True, settings=STEADY_CRAWL),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=crawl_log, text=True,
        )
        deadline = time.monotonic() + 120
        while not (beside.exists() and document_count(beside)):  # the crawl is writing
            assert crawl.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        importing = archive_process("import", first, "--db", beside)
        imported = finish(importing)
        crawled, _ = crawl.communicate(timeout=300)
        crawl_log.close()
        assert crawl.returncode == 0, crawled + (tmp_path / "crawl.log").read_text()[-3000:]
    assert "imported: 110 new" in imported
    assert "failing" not in crawled
    urls = {row["url"] for row in query(beside, "select url from documents")}
    assert MIRROR_ARTICLE_URLS <= urls and len(urls) == len(MIRROR_ARTICLE_URLS) + 110
    assert query(beside, "select count(*) as n from failures")[0]["n"] == 0
    # They did write side by side: the import's pages were read while the crawl ran.
    (span,) = query(beside, "select min(fetched_at) as first, max(fetched_at) as last from documents where url like 'file:%'")
    runs = query(beside, "select min(started_at) as started, max(finished_at) as finished from crawl_runs")[0]
    assert span["first"] <= runs["finished"] and runs["started"] <= span["last"]


def outcomes(output: str) -> Counter:
    """The counts of an import's summary line ``imported: 3 new, 1 unchanged; …``."""
    line = next(line for line in output.splitlines() if line.startswith("imported: "))
    return Counter({kind: int(n) for n, kind in re.findall(r"(\d+) (\w+)", line.split(";")[0])})


def table_counts(db: Path) -> dict[str, int]:
    return {table: query(db, f"select count(*) as n from {table}")[0]["n"] for table in ("documents", "disclosures", "problems")}


def test_serve_needs_an_archive_stops_on_sigint_and_keeps_redirects_on_site(tmp_path):
    missing = tmp_path / "typo.db"
    result = subprocess.run([sys.executable, "-m", "archive", "serve", "--db", str(missing), "--port", str(free_port())],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and f"no archive at {missing}" in result.stderr
    assert not missing.exists()

    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        import_paths([write_reports(tmp_path / "docs", 2)], archive)
    with served_archive(db, stop_signal=signal.SIGINT) as base:
        netloc = urllib.parse.urlsplit(base).netloc
        for path, location in (("/\\example.com/", "/example.com"), ("//example.com/", "/example.com"),
                               ("/archive/documents/", "/archive/documents")):
            connection = http.client.HTTPConnection(netloc, timeout=30)
            connection.request("GET", path)
            response = connection.getresponse()
            assert (response.status, response.getheader("Location")) == (302, location), path
            connection.close()

