"""Backfill from a web archive (archive/backfill.py) against a real local pywb: a
collection made from a WARC of old captures, its CDX server and its replay, through
``python -m archive backfill``.  pywb lives in its own virtualenv (``.venv-pywb``,
README command 1): it pins an old redis client that the cluster's cannot share."""

from __future__ import annotations

import io
import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.db import warc_dir_for
from conftest import read_warc

ROOT = Path(__file__).resolve().parents[1]
WAYBACK = ROOT / ".venv-pywb/bin/wayback"
WB_MANAGER = ROOT / ".venv-pywb/bin/wb-manager"
SITE = "http://www.old-commission.test/xsxc/"
REPORT = SITE + "201605/t20160502_1001.html"
NOTICE = SITE + "201605/t20160510_1002.html"

pytestmark = pytest.mark.slow


def article(title: str, date: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<html><head><meta charset="utf-8"><title>{title}_旧省纪委网站</title></head><body>'
            f'<div class="nav"><a href="/">首页</a></div><h1>{title}</h1>'
            f'<div class="info">发布时间：{date}　来源：省委巡视办</div><div class="content">{body}</div></body></html>')


FIRST = ["根据省委统一部署，省委第一巡视组对某市开展了常规巡视，并反馈了巡视意见。现将巡视整改进展情况予以公布。",
         "市委召开常委会专题研究整改工作，成立整改工作领导小组，制定整改方案，明确整改任务三十项。"]
# The same report edited after publication: one more paragraph.
SECOND = FIRST + ["截至目前，三十项整改任务已完成二十六项，其余四项正在推进，将持续抓好整改落实。"]
CAPTURES = [
    # (url, capture date, status, body)
    (REPORT, "2016-05-03T08:00:00Z", "200 OK", article("中共某市委关于省委巡视整改进展情况的通报", "2016-05-02 10:00", FIRST)),
    (NOTICE, "2016-05-11T09:30:00Z", "200 OK", article("省委第二巡视组进驻某县开展常规巡视", "2016-05-10 09:00",
                                                   ["根据省委统一部署，省委第二巡视组进驻某县开展常规巡视，时间两个月。",
                                                    "巡视期间设专门值班电话和邮政信箱，受理反映问题的来信来电。"])),
    (REPORT, "2017-06-02T08:00:00Z", "200 OK", article("中共某市委关于省委巡视整改进展情况的通报", "2016-05-02 10:00", SECOND)),
    (SITE + "old/", "2018-01-01T00:00:00Z", "302 Found", ""),
]


def write_captures(path: Path) -> None:
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for url, date, status, body in CAPTURES:
            headers = [("Content-Type", "text/html; charset=utf-8")] + ([("Location", SITE)] if status.startswith("302") else [])
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body.encode("utf-8")),
                http_headers=StatusAndHeaders(status, headers, protocol="HTTP/1.1"), warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def pywb(tmp_path_factory):
    """A pywb collection ``old`` holding the captures, served on a free loopback port."""
    if not WAYBACK.exists():
        pytest.skip("pywb is not installed in .venv-pywb (README command 1)")
    root = tmp_path_factory.mktemp("pywb")
    write_captures(root / "captures.warc.gz")
    (root / "config.yaml").write_text("collections: {}\n", encoding="utf-8")
    subprocess.run([str(WB_MANAGER), "init", "old"], cwd=root, check=True, capture_output=True)
    subprocess.run([str(WB_MANAGER), "add", "old", str(root / "captures.warc.gz")], cwd=root, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([str(WAYBACK), "-p", str(port), "-b", "127.0.0.1"], cwd=root,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    origin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{origin}/old/cdx?url={SITE}&matchType=prefix", timeout=2).read()
            break
        except OSError:
            time.sleep(0.3)
    yield origin
    server.terminate()
    server.wait(timeout=10)


def run_backfill(origin: str, db: Path, *prefixes: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "archive", "backfill", "--wayback", *(prefixes or [SITE]), "--db", str(db),
         "--cdx", f"{origin}/old/cdx", "--replay", origin + "/old/{timestamp}id_/{url}", "--delay", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def two_backfills(pywb, tmp_path_factory):
    db = tmp_path_factory.mktemp("backfill") / "archive.db"
    first = run_backfill(pywb, db)
    after_first = sqlite3.connect(db).execute("select count(*) from versions").fetchone()[0]
    second = run_backfill(pywb, db)
    return db, first, second, after_first


def test_every_capture_is_archived_under_its_original_url_with_its_date(two_backfills):
    db, first, *_ = two_backfills
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    assert "backfill: 2 new, 1 skipped, 1 updated" in first.stdout
    conn = sqlite3.connect(db)
    documents = {url: (first_seen, last_seen, title) for url, first_seen, last_seen, title in
                 conn.execute("select url, first_seen_at, last_seen_at, title from documents")}
    assert set(documents) == {REPORT, NOTICE}
    assert documents[NOTICE][:2] == ("2016-05-11T09:30:00+00:00", "2016-05-11T09:30:00+00:00")
    assert documents[REPORT][:2] == ("2016-05-03T08:00:00+00:00", "2017-06-02T08:00:00+00:00")
    assert documents[REPORT][2] == "中共某市委关于省委巡视整改进展情况的通报"


def test_two_captures_of_a_changed_page_are_two_versions(two_backfills):
    db, *_ = two_backfills
    conn = sqlite3.connect(db)
    body, version_count = conn.execute("select body_text, version_count from documents where url = ?", [REPORT]).fetchone()
    assert version_count == 2 and SECOND[-1] in body
    (old_at, old_body), = conn.execute(
        "select v.fetched_at, v.body_text from versions v join documents d on d.id = v.document_id where d.url = ?", [REPORT])
    assert old_at == "2016-05-03T08:00:00+00:00" and SECOND[-1] not in old_body and FIRST[-1] in old_body


def test_a_second_run_adds_nothing(two_backfills):
    db, _, second, versions_after_first = two_backfills
    assert second.returncode == 0, second.stdout + second.stderr[-3000:]
    assert "backfill: 3 already_seen, 1 skipped" in second.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*) from documents").fetchone()[0] == 2
    assert conn.execute("select count(*) from versions").fetchone()[0] == versions_after_first == 1


def test_the_capture_is_kept_with_the_web_archive_address(two_backfills, pywb):
    db, *_ = two_backfills
    warc_file, record_id = sqlite3.connect(db).execute(
        "select warc_file, warc_record_id from documents where url = ?", [NOTICE]).fetchone()
    records = read_warc(warc_dir_for(db))
    response, = [record for record in records if record.header("WARC-Record-ID") == record_id]
    assert (response.warc_file, response.header("WARC-Target-URI"), response.header("WARC-Date")) == (
        warc_file, NOTICE, "2016-05-11T09:30:00Z")
    assert "省委第二巡视组进驻某县" in response.payload.decode("utf-8")
    sources = {record.header("WARC-Refers-To"): record.payload.decode("utf-8") for record in records if record.type == "metadata"}
    assert f"capture-source: {pywb}/old/20160511093000id_/{NOTICE}\n" in sources[record_id]


class _FailingWebArchive(BaseHTTPRequestHandler):
    """A web archive that lists two captures of SITE and replays only the second; the CDX
    listing of any other prefix answers 500."""

    def do_GET(self):
        if self.path.startswith("/old/cdx?") and urllib.parse.quote(SITE, safe="") in self.path:
            rows = [["urlkey", "timestamp", "original", "statuscode"],
                    ["x", "20160503080000", REPORT, "200"], ["x", "20160511093000", NOTICE, "200"]]
            self._answer(200, json.dumps(rows).encode(), "application/json")
        elif self.path.startswith("/old/20160511093000id_/"):
            self._answer(200, CAPTURES[1][3].encode(), "text/html; charset=utf-8")
        elif self.path.startswith("/old/20160503080000id_/"):
            self._answer(503, b"replay unavailable", "text/plain")
        else:
            self._answer(500, b"index unavailable", "text/plain")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_capture_or_listing_the_web_archive_fails_is_recorded_and_the_rest_archived(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FailingWebArchive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        other = "http://www.other-commission.test/xsxc/"
        result = run_backfill(f"http://127.0.0.1:{server.server_address[1]}", tmp_path / "archive.db", SITE, other)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1, result.stderr[-3000:]
    assert "backfill: 1 failed, 1 new" in result.stdout
    assert f"failed: {REPORT} (capture 20160503080000 at " in result.stderr and "HTTP Error 503" in result.stderr
    assert f"failed: {other} (its captures could not be listed at " in result.stderr
    conn = sqlite3.connect(tmp_path / "archive.db")
    assert [url for url, in conn.execute("select url from documents")] == [NOTICE]
    assert sorted(conn.execute("select url, stage, kind from failures")) == [
        (REPORT, "fetch", "http_503"), (other, "fetch", "http_500")]
