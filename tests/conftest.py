"""Shared fixtures for crawl tests: a local mirror of the sites, a tmp archive,
and real crawls run as subprocesses (Scrapy's reactor starts once per process)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.db import connect
from archive.schema import create
from crawler.mirror import SITES_DIR, start_mirror
from pipelines import MAX_PAGE_BYTES
from sites import EXTRA_DIRS_ENV, load_profiles

ROOT = Path(__file__).resolve().parents[1]
# The test sites' profiles (their pages are in the mirror), for this process and every
# crawl, import or server it starts.
TEST_SITES_DIR = ROOT / "tests" / "fixtures" / "sites"
os.environ[EXTRA_DIRS_ENV] = str(TEST_SITES_DIR)
load_profiles.cache_clear()

CRAWL_TIMEOUT = 300

SITES = {profile.name: profile for profile in load_profiles()}
# What a crawl of every site covers: test sites are crawled only when named.
CRAWLED_SITES = sorted(name for name, profile in SITES.items() if not profile.settings.get("test_site"))
# Every article the mirror's fixture sites list (what a full crawl archives), from the site files.
MIRROR_ARTICLE_URLS = {url for name in CRAWLED_SITES for url in SITES[name].tests.get("articles", [])}


@dataclass
class CrawlOutcome:
    returncode: int
    stdout: str
    stderr: str

    def stats(self, key: str) -> list[int]:
        """The value of a Scrapy stat in each spider's final stats dump (0 when absent)."""
        dumps = self.stderr.split("Dumping Scrapy stats:")[1:]
        values = []
        for dump in dumps:
            found = re.search(rf"'{re.escape(key)}': (\d+)", dump.split("Spider closed")[0])
            values.append(int(found.group(1)) if found else 0)
        return values


def crawl_process(
    db: Path,
    host_map: dict[str, str],
    spiders: tuple[str, ...] = (),
    *,
    warc_dir: Path,
    jobdir: Path | None = None,
    cookie_file: Path | None = None,
    politeness: bool = False,
    settings: dict[str, str] | None = None,
) -> list[str]:
    """The command line of one crawl (``python -m archive crawl``)."""
    command = [
        sys.executable, "-m", "archive", "crawl", *spiders,
        "--db", str(db), "--host-map", json.dumps(host_map), "--warc-dir", str(warc_dir),
    ]
    if jobdir:
        command += ["--jobdir", str(jobdir)]
    if cookie_file:
        command += ["--cookie-file", str(cookie_file)]
    if not politeness:
        command.append("--no-politeness")
    for name, value in (settings or {}).items():
        command += ["-s", f"{name}={value}"]
    return command


def run_crawl_process(*args, **kwargs) -> CrawlOutcome:
    done = subprocess.run(
        crawl_process(*args, **kwargs), cwd=ROOT, capture_output=True, text=True, timeout=CRAWL_TIMEOUT
    )
    return CrawlOutcome(done.returncode, done.stdout, done.stderr)


# Slow and steady, so a signal lands part-way: one request at a time per site, half a second apart.
STEADY_CRAWL = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0.5",
    "RANDOMIZE_DOWNLOAD_DELAY": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
}


def document_count(db: Path) -> int:
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.OperationalError:  # not created yet
        return 0
    try:
        return connection.execute("select count(*) from documents").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    finally:
        connection.close()


def stop_crawl_part_way(command: list[str], db: Path, signum: int, after_documents: int, log=subprocess.DEVNULL):
    """Start the crawl ``command``; once ``after_documents`` are archived, send it ``signum``
    and wait for it to end.  Returns the ended process (``log``: where its output goes)."""
    crawl = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while document_count(db) < after_documents and crawl.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert crawl.poll() is None, "the crawl ended before it could be stopped part-way"
        crawl.send_signal(signum)
        crawl.wait(timeout=120)
    finally:
        if crawl.poll() is None:
            crawl.kill()
            crawl.wait()
    return crawl


def copy_sites(destination: Path) -> Path:
    """A private, mutable copy of the mirror's fixture sites."""
    return Path(shutil.copytree(SITES_DIR, destination))


@pytest.fixture
def sites_dir(tmp_path) -> Path:
    return copy_sites(tmp_path / "sites")


@pytest.fixture
def mirror_factory():
    """Start mirrors with any options; all are stopped after the test."""
    started = []

    def start(sites_dir: Path | None = None, **options):
        mirror = start_mirror(sites_dir, **options)
        started.append(mirror)
        return mirror

    yield start
    for mirror in started:
        mirror.stop()


@pytest.fixture(scope="session")
def first_crawl(tmp_path_factory):
    """Every spider over an unchanged copy of the mirror, into an empty archive: the
    crawl on one machine that other tests build on or compare with."""
    base = tmp_path_factory.mktemp("first-crawl")
    sites = copy_sites(base / "sites")
    with start_mirror(sites, challenge=False) as mirror:
        outcome = run_crawl_process(base / "archive.db", mirror.host_map, warc_dir=base / "warc", jobdir=base / "jobs")
        log = list(mirror.request_log)
    return outcome, base, log


@pytest.fixture
def archive_path(tmp_path) -> Path:
    return tmp_path / "archive.db"


@pytest.fixture
def empty_db(archive_path):
    """A new archive's tables in a real SQLite file (sqlite-utils ``Database``), no writer lock."""
    database = connect(archive_path)
    create(database)
    yield database
    database.conn.close()


def query(db: Path, sql: str, params=()) -> list[sqlite3.Row]:
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


@dataclass
class WarcRecord:
    warc_file: str
    type: str
    headers: object
    """The WARC headers (warcio StatusAndHeaders)."""
    http_headers: object
    payload: bytes
    """The HTTP body, transfer- and content-decoded."""

    def header(self, name: str) -> str | None:
        return self.headers.get_header(name)


def read_warc(warc_dir: Path) -> list[WarcRecord]:
    """Every record of every WARC file in ``warc_dir``, read with warcio; payloads
    decoded up to the page cap (the fault site's gzip bomb decodes to 1 GiB)."""
    records = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                records.append(
                    WarcRecord(path.name, record.rec_type, record.rec_headers, record.http_headers,
                               record.content_stream().read(MAX_PAGE_BYTES + 1))
                )
    return records


def page_kinds(warc_dir: Path) -> list[tuple[str, str]]:
    """(URL, page-kind) of the crawler's metadata records: what it took each captured page for."""
    kinds = []
    for record in read_warc(warc_dir):
        if record.type == "metadata":
            fields = dict(line.split(": ", 1) for line in record.payload.decode("utf-8").splitlines())
            kinds.append((record.header("WARC-Target-URI"), fields["page-kind"]))
    return kinds


@pytest.fixture
def processes():
    """Start a subprocess (its output to ``log``, with ``env`` added to the environment);
    every one still running is killed after the test."""
    started: list[subprocess.Popen] = []

    def start(command: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})})
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
