"""Attachments that come without a crawl: a folder holding a report and the files it links,
someone's WARC holding a page and its PDF, and a rebuild from the crawl's own WARC.
Each file is tied to the page whose link names it, in whichever order they come."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.db import Archive
from captures import Exchange
from archive.importer import import_paths
from conftest import query, run_crawl_process
from crawler.mirror import start_mirror

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "attachments"
REPORT = """<html><head><meta charset="utf-8"><title>中共河西县水利局党组关于县委第四轮巡察整改情况的通报</title></head>
<body><h1>中共河西县水利局党组关于县委第四轮巡察整改情况的通报</h1>
<p>根据县委统一部署，2023年3月至4月，县委第一巡察组对县水利局党组开展了常规巡察，并于2023年5月10日向局党组反馈了巡察意见。现将巡察整改情况予以公布。</p>
<p>局党组把巡察整改作为重大政治任务，召开专题会议研究部署，成立由党组书记任组长的整改工作领导小组，逐条制定整改措施。</p>
<p>截至2023年8月底，县委第一巡察组反馈的42个问题，已完成整改31个，基本完成4个，阶段性完成1个，正在推进4个，长期坚持2个。各问题的整改情况见附件。</p>
<p>附件：<a href="{href}">整改落实情况一览表</a></p>
</body></html>"""


def disclosure_of(db: Path) -> dict:
    [row] = query(db, "select * from disclosures")
    return dict(row)


def import_a_report_and_its_table(tmp_path: Path):
    """``archive.db`` in ``tmp_path``, from a folder of a report (b-report.html) and the
    一览表 it links; returns the archive's path and the import's report."""
    folder = tmp_path / "report"
    folder.mkdir()
    # The file sorts before its page: it waits, unattached, until the page names it.
    shutil.copy(FIXTURES / "yilanbiao.xlsx", folder / "a-一览表.xlsx")
    (folder / "b-report.html").write_text(REPORT.format(href="a-一览表.xlsx"), encoding="utf-8")
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        return db, import_paths([folder], archive)


@pytest.mark.slow
def test_a_folder_of_a_report_and_its_files(tmp_path):
    db, report = import_a_report_and_its_table(tmp_path)
    assert dict(report.outcomes) == {"attachment": 1, "new": 1}
    [attachment] = query(db, "select a.*, d.url as page from attachments a join documents d on d.id = a.document_id")
    assert (attachment["type"], attachment["method"], attachment["name"]) == ("xlsx", "openpyxl", "整改落实情况一览表")
    assert attachment["page"].endswith("/b-report.html")
    disclosure = disclosure_of(db)
    assert (disclosure["problems_itemised"], disclosure["problems_origin"], disclosure["stated_matches_items"]) == (
        42, "attachment", 1)


def _response(writer: WARCWriter, url: str, content_type: str, body: bytes) -> None:
    headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))


@pytest.mark.slow
def test_someone_elses_warc_holding_a_page_and_its_pdf(tmp_path):
    capture = tmp_path / "site.warc.gz"
    with capture.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        _response(writer, "https://jw.example.gov.cn/art/2023/9/5/art_1.html", "text/html; charset=utf-8",
                  REPORT.format(href="/picture/0/yilanbiao.pdf").encode("utf-8"))
        _response(writer, "https://jw.example.gov.cn/picture/0/yilanbiao.pdf", "application/pdf",
                  (FIXTURES / "yilanbiao.pdf").read_bytes())
        _response(writer, "https://jw.example.gov.cn/images/logo.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(100))
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        report = import_paths([capture], archive)
    assert report.captures[0].summary() == "site.warc.gz: 1 page(s); 1 attachment(s); skipped 1 non_html"
    [attachment] = query(db, "select * from attachments")
    assert (attachment["type"], attachment["method"], attachment["name"], attachment["failure_kind"]) == (
        "pdf", "pdfplumber", "整改落实情况一览表", None)
    assert disclosure_of(db)["problems_itemised"] == 42


@pytest.mark.slow
@pytest.mark.mirror
def test_a_rebuild_from_the_crawls_warc_reads_the_attachments_again(tmp_path):
    with start_mirror(challenge=False) as mirror:
        crawl = run_crawl_process(tmp_path / "archive.db", mirror.host_map, ("hexi",), warc_dir=tmp_path / "warc")
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    done = subprocess.run(
        [sys.executable, "-m", "archive", "rebuild", "--from-warc", str(tmp_path / "warc"), "--db",
         str(tmp_path / "rebuilt.db")], capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    for db in ("archive.db", "rebuilt.db"):
        assert len(query(tmp_path / db, "select * from attachments where document_id is not null")) == 4
        disclosure = disclosure_of(tmp_path / db)
        assert (disclosure["problems_itemised"], disclosure["problems_origin"]) == (42, "attachment"), db


def _padded_xlsx(size: int) -> bytes:
    """The 42-row 一览表 as .xlsx, made larger than a page may be by a stored member of noise."""
    import os
    import zipfile

    data = io.BytesIO((FIXTURES / "yilanbiao.xlsx").read_bytes())
    with zipfile.ZipFile(data, "a") as workbook:
        workbook.writestr(zipfile.ZipInfo("xl/media/noise.bin"), os.urandom(size), compress_type=zipfile.ZIP_STORED)
    return data.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.slow
def test_an_attachment_larger_than_a_page_is_read_from_anyones_capture_and_our_own(tmp_path):
    from datetime import datetime, timezone

    from captures import ATTACHMENT, HINTS, PAGE_KIND, CaptureReader, WarcCapture
    from pipelines import MAX_PAGE_BYTES

    table = _padded_xlsx(MAX_PAGE_BYTES + 2 * 1024 * 1024)
    page_url, file_url = "https://jw.example.gov.cn/art/2023/9/5/art_1.html", "https://jw.example.gov.cn/files/yilanbiao.xlsx"
    capture = tmp_path / "site.warc.gz"
    with capture.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        _response(writer, page_url, "text/html; charset=utf-8", REPORT.format(href="/files/yilanbiao.xlsx").encode("utf-8"))
        _response(writer, file_url, XLSX, table)
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        report = import_paths([capture], archive)
    assert report.captures[0].summary() == "site.warc.gz: 1 page(s); 1 attachment(s)"
    [attachment] = query(db, "select * from attachments")
    assert (attachment["type"], attachment["size"], attachment["failure_kind"]) == ("xlsx", len(table), None)
    assert disclosure_of(db)["problems_itemised"] == 42

    # A crawl's own capture of the file, annotated as an attachment: a rebuild reads it whole.
    own = WarcCapture(tmp_path / "own", "hexi", 1 << 30, "test")
    record = own.write_exchange(Exchange(file_url, 200, "OK", [("Content-Type", XLSX)], table, datetime.now(timezone.utc)))
    own.annotate(file_url, record.record_id, {PAGE_KIND: ATTACHMENT, HINTS: '{"page_url": "%s"}' % page_url})
    own.close()
    reader = CaptureReader.from_folder(tmp_path / "own").scan()
    [(name, file_report)] = reader.reports.items()
    assert (file_report.attachments, dict(file_report.skipped)) == (1, {})
    [page] = list(reader)
    assert (page.kind, page.raw.url, page.raw.body) == (ATTACHMENT, file_url, table)


@pytest.mark.slow
def test_a_later_failure_of_the_same_file_never_replaces_its_reading(tmp_path):
    from pipelines import RawDocument

    db, _ = import_a_report_and_its_table(tmp_path)
    [before] = query(db, "select id, url, type, method, tables, failure_kind from attachments")
    # The same file fetched again, and an error page served in its place.
    error_page = RawDocument(url=before["url"], body=b"<html><body>404 Not Found</body></html>", content_type="text/html",
                             hints={"name": "整改落实情况一览表"})
    with Archive(db) as archive:
        outcome, result = archive.ingest_attachment(error_page)
    assert (outcome, result.failure.kind) == ("failed", "not_a_file")
    assert [dict(row) for row in query(db, "select id, url, type, method, tables, failure_kind from attachments")] == [
        dict(before)]
    assert [(row["url"], row["kind"]) for row in query(db, "select url, kind from failures")] == [(before["url"], "not_a_file")]
    assert (disclosure_of(db)["problems_itemised"], disclosure_of(db)["problems_origin"]) == (42, "attachment")


@pytest.mark.slow
def test_a_file_fetched_again_with_the_same_bytes_is_not_read_again(tmp_path, monkeypatch):
    from archive import db as archive_db
    from pipelines import RawDocument

    page_url, file_url = "https://jw.example.gov.cn/art/2023/9/5/art_1.html", "https://jw.example.gov.cn/files/yilanbiao.xlsx"
    body = (FIXTURES / "yilanbiao.xlsx").read_bytes()
    fetched = RawDocument(url=file_url, body=body, content_type=XLSX, hints={"page_url": page_url, "name": "一览表"})
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        assert archive.ingest_attachment(fetched, attachment=archive.read_attachment(fetched)) == ("attachment", None)
        first = [dict(row) for row in query(db, "select * from attachments")]

        def read_again(raw):
            raise AssertionError(f"{raw.url} read again")

        monkeypatch.setattr(archive_db, "_read_attachment", read_again)
        # A re-crawl (the crawl's thread, then the writer), and the cluster's writer (no reading handed over).
        assert archive.ingest_attachment(fetched, attachment=archive.read_attachment(fetched)) == ("unchanged", None)
        assert archive.ingest_attachment(fetched) == ("unchanged", None)
        assert [dict(row) for row in query(db, "select * from attachments")] == first
        changed = RawDocument(url=file_url, body=body + b"\0", content_type=XLSX, hints=fetched.hints)
        with pytest.raises(AssertionError, match="read again"):
            archive.read_attachment(changed)
