"""Shared fixtures for crawl tests: a local mirror of the sites, a tmp archive,
and real crawls run as subprocesses (Scrapy's reactor starts once per process)."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.mirror import SITES_DIR, start_mirror

ROOT = Path(__file__).resolve().parents[1]
CRAWL_TIMEOUT = 300


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
    """The command line of one crawl (``python -m crawler.run``)."""
    command = [
        sys.executable, "-m", "crawler.run", *spiders,
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


@pytest.fixture
def archive_path(tmp_path) -> Path:
    return tmp_path / "archive.db"


def query(db: Path, sql: str, params=()) -> list[sqlite3.Row]:
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()
