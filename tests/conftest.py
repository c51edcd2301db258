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
from warcio.archiveiterator import ArchiveIterator

from crawler.mirror import SITES_DIR, start_mirror

ROOT = Path(__file__).resolve().parents[1]
CRAWL_TIMEOUT = 300

# Every article the mirror's fixture sites list (what a full crawl archives).
MIRROR_ARTICLE_URLS = {
    "http://jjc.cq.gov.cn/art/2021/7/12/art_610287_10150021.html",
    "http://jjc.cq.gov.cn/art/2021/7/20/art_610287_10156789.html",
    "http://jjc.cq.gov.cn/art/2021/9/28/art_610287_10201234.html",
    "http://politics.people.com.cn/n1/2021/0421/c1001-32083412.html",
    "http://politics.people.com.cn/n1/2021/1028/c1001-32266401.html",
    "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202108/t20210806_81230.html",
    "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202111/t20211122_83977.html",
    "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202112/t20211210_84512.html",
    "http://www.zjsjw.gov.cn/xunshixuncha/202109/t20210910_4799002.shtml",
    "http://www.zjsjw.gov.cn/xunshixuncha/202109/t20210915_4799870.shtml",
    "http://www.zjsjw.gov.cn/xunshixuncha/202109/t20210928_4801123.shtml",
    "https://finance.sina.com.cn/roll/2021-10-28/doc-iktzqtyu4156271.shtml",
    "https://finance.sina.com.cn/roll/2021-10-28/doc-iktzscyy2216354.shtml",
    "https://www.12371.cn/2021/01/28/ARTI1611810013548321.shtml",
    "https://www.12371.cn/2021/10/23/ARTI1634958315436218.shtml",
    "https://www.ccdi.gov.cn/pln/202110/t20211029_253300.html",
    "https://www.ccdi.gov.cn/toutiaon/202110/t20211027_253131.html",
    "https://www.ccdi.gov.cn/xsxcn/xsgz/202010/t20201016_228810.html",
    "https://www.ccdi.gov.cn/xsxcn/xsgz/202101/t20210127_234501.html",
    "https://www.ccdi.gov.cn/xsxcn/xsgz/202110/t20211028_253215.html",
    "https://www.ccdi.gov.cn/xsxcn/xsgz/202303/t20230331_256902.html",
    "https://www.ccdi.gov.cn/xsxcn/xsgz/202304/t20230410_257801.html",
    "https://www.ccdi.gov.cn/yaowenn/202110/t20211022_252640.html",
    "https://www.ccdi.gov.cn/yaowenn/202110/t20211027_253108.html",
    "https://www.gdjct.gd.gov.cn/swxsnew/xszg82/content/post_158834.html",
    "https://www.gdjct.gd.gov.cn/swxsnew/xszg82/content/post_162190.html",
    "https://www.gdjct.gd.gov.cn/swxsnew/xszg82/content/post_162287.html",
}


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
    """Every record of every WARC file in ``warc_dir``, read with warcio."""
    records = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                records.append(
                    WarcRecord(path.name, record.rec_type, record.rec_headers, record.http_headers,
                               record.content_stream().read())
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
