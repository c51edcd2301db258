"""A report whose problems are only in its attachments, crawled from the mirror over HTTP
(``tests/fixtures/sites/hexi.yaml``: the same 一览表 as PDF, Word, Excel behind a download script,
and old Excel on the county's file server, another host),
then served: the record page lists the files, downloads them raw from the WARC, and the
search finds a problem that only the attachment holds."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import query, read_warc, run_crawl_process
from crawler.mirror import start_mirror
from datasette_server import served_archive

pytestmark = [pytest.mark.slow, pytest.mark.mirror]

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "attachments"
PAGE = "http://jw.hexi.test/art/2023/9/5/art_5101_2001.html"
FILES = {
    "http://jw.hexi.test/attach/0/2309051030.pdf": ("yilanbiao.pdf", "pdf", "pdfplumber", "县水利局党组巡察反馈问题整改落实情况一览表.pdf"),
    "http://jw.hexi.test/attach/0/2309051031.docx": ("yilanbiao.docx", "docx", "python-docx", "县水利局党组巡察反馈问题整改落实情况一览表.docx"),
    "http://jw.hexi.test/module/download/downfile.jsp?classid=0&filename=2309051032.xlsx": (
        "yilanbiao.xlsx", "xlsx", "openpyxl", "附件：整改落实情况一览表（表格）"),
    # On the county's file server, another host than the site's: fetched all the same.
    "http://files.hexi.test/attach/0/2309051033.xls": (
        "yilanbiao.xls", "xls", "xlrd", "县水利局党组巡察反馈问题整改落实情况一览表（旧版Excel）.xls"),
}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    base = tmp_path_factory.mktemp("attachments-crawl")
    with start_mirror(challenge=False) as mirror:
        outcome = run_crawl_process(base / "archive.db", mirror.host_map, ("hexi",), warc_dir=base / "warc")
    return outcome, base


def test_the_report_takes_its_problems_from_the_attachment(crawled):
    outcome, base = crawled
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr[-3000:]
    db = base / "archive.db"
    [disclosure] = query(db, "select * from disclosures")
    assert (disclosure["problems_stated"], disclosure["problems_itemised"], disclosure["problems_in_attachments"],
            disclosure["problems_origin"], disclosure["status_source"], disclosure["stated_matches_items"]) == (
        42, 42, 42, "attachment", "items", 1)
    assert (disclosure["problems_completed"], disclosure["problems_basically_completed"],
            disclosure["problems_phase_completed"], disclosure["problems_in_progress"],
            disclosure["problems_long_term_only"], disclosure["problems_long_term"]) == (31, 4, 1, 4, 2, 6)
    problems = query(db, "select p.*, a.url as attachment_url from problems p join attachments a on a.id = p.attachment_id "
                         "order by position")
    assert len(problems) == 42
    # One copy read, not four: the first by URL of those read from text (archive.attachments.refresh_disclosure).
    assert {p["attachment_url"] for p in problems} == {min(FILES)}
    first, last = problems[0], problems[-1]
    assert (first["number"], first["title"], first["status"], first["status_class"], first["deadline_date"],
            first["responsible_unit"], first["source_row"]) == (
        1, "学习贯彻党的二十大精神不够深入", "已完成", "completed", "2023-06-30", "局办公室", 2)
    assert (last["number"], last["status_class"], last["source_row"]) == (42, "completed_long_term", 43)


def test_each_file_is_kept_raw_and_read(crawled):
    _, base = crawled
    rows = {row["url"]: row for row in query(base / "archive.db", "select * from attachments")}
    assert set(rows) == set(FILES)
    responses = {r.header("WARC-Record-ID"): r for r in read_warc(base / "warc") if r.type == "response"}
    for url, (fixture, kind, method, name) in FILES.items():
        row = rows[url]
        raw = (FIXTURES / fixture).read_bytes()
        assert (row["type"], row["method"], row["name"], row["size"], row["sha256"], row["failure_kind"]) == (
            kind, method, name, len(raw), hashlib.sha256(raw).hexdigest(), None)
        assert responses[row["warc_record_id"]].payload == raw
        assert len(json.loads(row["tables"])[0]) >= 22
        assert "河湖长制工作推进缓慢" in row["text"]


def test_the_record_page_serves_the_attachments_and_search_finds_their_text(crawled):
    _, base = crawled
    [document] = query(base / "archive.db", "select id from documents")
    rows = query(base / "archive.db", "select id, url from attachments order by url")
    with served_archive(base / "archive.db") as url:
        page = urllib.request.urlopen(f"{url}/-/document/{document['id']}").read().decode("utf-8")
        for name in ("县水利局党组巡察反馈问题整改落实情况一览表.docx", "附件：整改落实情况一览表（表格）"):
            assert name in page
        assert "建立河湖问题清单，完成12条河道清淤整治" in page  # extracted text, folded
        for row in rows:
            download = urllib.request.urlopen(f"{url}/-/document/{document['id']}/attachment/{row['id']}")
            fixture = FILES[row["url"]][0]
            assert download.read() == (FIXTURES / fixture).read_bytes()
        # A phrase only the attachments hold finds the report, short or long (a long one is
        # checked against every indexed text of its candidates, the attachments' too).
        for phrase in ("采砂视频监控", "建立河道采砂视频监控系统"):
            found = json.loads(urllib.request.urlopen(
                f"{url}/archive/documents.json?_search={quote(phrase)}&_shape=array&_col=id").read())
            assert [hit["id"] for hit in found] == [document["id"]], phrase


def test_bad_files_are_recorded_and_the_crawl_goes_on(tmp_path, sites_dir):
    """The report also links an encrypted PDF, a zip-bomb .docx, an error page where a PDF
    should be and a file over the 50 MB cap: each is recorded with its reason, the 一览表
    is still read, and the run says it lost something (exit 1)."""
    from test_attachments import encrypted_pdf, zip_bomb_docx

    host = sites_dir / "jw.hexi.test"
    page = host / "art/2023/9/5/art_5101_2001.html"
    (host / "attach/0/bad-encrypted.pdf").write_bytes(encrypted_pdf())
    (host / "attach/0/bad-bomb.docx").write_bytes(zip_bomb_docx())
    (host / "attach/0/bad-error.pdf").write_bytes(b"<html><head><title>404</title></head><body>not found</body></html>")
    with (host / "attach/0/bad-huge.pdf").open("wb") as huge:
        huge.write(b"%PDF-1.7\n")
        huge.truncate(60 * 1024 * 1024)
    links = "".join(f'<p><a href="/attach/0/bad-{name}">附件{name}</a></p>' for name in
                    ("encrypted.pdf", "bomb.docx", "error.pdf", "huge.pdf"))
    page.write_text(page.read_text(encoding="utf-8").replace("<meta name=\"ContentEnd\">", links + "<meta name=\"ContentEnd\">"),
                    encoding="utf-8")
    with start_mirror(sites_dir, challenge=False) as mirror:
        outcome = run_crawl_process(tmp_path / "archive.db", mirror.host_map, ("hexi",), warc_dir=tmp_path / "warc")
    assert outcome.returncode == 1, outcome.stdout  # the run lost files: a scheduler notices
    db = tmp_path / "archive.db"
    read = {row["url"].rsplit("/", 1)[-1]: row["failure_kind"] for row in query(db, "select url, failure_kind from attachments")}
    assert {name: kind for name, kind in read.items() if name.startswith("bad-")} == {
        "bad-encrypted.pdf": "encrypted", "bad-bomb.docx": "zip_bomb", "bad-error.pdf": "not_a_file"}
    failures = {(row["url"].rsplit("/", 1)[-1], row["stage"], row["kind"]) for row in query(db, "select * from failures")}
    assert failures == {("bad-encrypted.pdf", "attachment", "encrypted"), ("bad-bomb.docx", "attachment", "zip_bomb"),
                        ("bad-error.pdf", "attachment", "not_a_file"), ("bad-huge.pdf", "fetch", "too_large")}
    [disclosure] = query(db, "select * from disclosures")
    assert (disclosure["problems_itemised"], disclosure["problems_origin"]) == (42, "attachment")
