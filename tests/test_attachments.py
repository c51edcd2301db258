"""The attachments stage on files made by the real tools (tests/fixtures/attachments:
LibreOffice wrote .doc/.docx/.xls/.xlsx/.pdf from one 42-row 一览表, a simulated scanner
the 150/300 dpi scans), and on bad files: each recorded with its reason within 30 s
and 1 GB, never an exception."""

from __future__ import annotations

import io
import resource
import time
import zipfile

import pytest
from PIL import Image

from bench.bench_attachments import FIXTURES, HEADER, ROWS, SOURCE, character_accuracy
from pipelines.attachments import extract_attachment
from pipelines.attachments.formats import sniff
from pipelines.disclosure import attachment_problems, parse_disclosure
from pipelines.disclosure.dates import deadline_date

PAGE_BODY = (
    "根据县委统一部署，2023年3月至4月，县委第一巡察组对县水利局党组开展了常规巡察，并于2023年5月10日反馈了巡察意见。\n"
    "截至2023年8月底，县委第一巡察组反馈的42个问题，已完成整改31个，基本完成4个，阶段性完成1个，正在推进4个，长期坚持2个。\n"
    "附件：整改落实情况一览表"
)
TITLE = "中共河西县水利局党组关于县委第四轮巡察整改情况的通报"
BAD_FILE_SECONDS, BAD_FILE_BYTES = 30, 1024**3


def read_fixture(name: str, content_type: str | None = None):
    return extract_attachment((FIXTURES / name).read_bytes(), name, content_type)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kind", "method"), [
    ("yilanbiao.docx", "docx", "python-docx"),
    ("yilanbiao.xlsx", "xlsx", "openpyxl"),
    ("yilanbiao.xls", "xls", "xlrd"),
    ("yilanbiao.pdf", "pdf", "pdfplumber"),
    ("yilanbiao.doc", "doc", "libreoffice+python-docx"),
])
def test_every_row_and_status_exact_from_every_text_format(name, kind, method):
    attachment = read_fixture(name)
    assert (attachment.kind, attachment.method, attachment.failure) == (kind, method, None)
    rows = [row for table in attachment.tables for row in table]
    assert [row for row in rows if row != HEADER] == ROWS
    problems = attachment_problems([{"id": "a", "tables": attachment.tables}])
    assert [(p["number"], p["title"], p["text"], p["responsible_unit"], p["deadline"], p["status"]) for p in problems] == [
        (int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in ROWS]


@pytest.mark.slow
@pytest.mark.parametrize(("fixture", "name", "kind"), [
    # Kingsoft's .wps and .et are OLE files like .doc and .xls (no tool here writes them):
    # told by their link's name, read through LibreOffice.
    ("yilanbiao.doc", "一览表.wps", "wps"),
    ("yilanbiao.xls", "一览表.et", "et"),
])
def test_kingsoft_files_are_read_through_libreoffice(fixture, name, kind):
    attachment = extract_attachment((FIXTURES / fixture).read_bytes(), name)
    assert (attachment.kind, attachment.method.split("+")[0], attachment.failure) == (kind, "libreoffice", None)
    assert [row for table in attachment.tables for row in table if row != HEADER] == ROWS


@pytest.mark.slow
def test_an_ofd_file_gives_the_text_of_its_pages():
    """A minimal OFD (GB/T 33190: a zip of XML pages), written here: no tool on this machine writes one."""
    out = io.BytesIO()
    page = ('<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content>'
            '<ofd:Layer><ofd:TextObject ID="1"><ofd:TextCode X="0" Y="0">{}</ofd:TextCode></ofd:TextObject>'
            '</ofd:Layer></ofd:Content></ofd:Page>')
    with zipfile.ZipFile(out, "w") as ofd:
        ofd.writestr("OFD.xml", '<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>')
        ofd.writestr("Doc_0/Pages/Page_1/Content.xml", page.format("河湖长制工作推进缓慢"))
        ofd.writestr("Doc_0/Pages/Page_0/Content.xml", page.format("附件：整改落实情况一览表"))
    attachment = extract_attachment(out.getvalue(), "一览表.ofd")
    assert (attachment.kind, attachment.method, attachment.pages, attachment.text) == (
        "ofd", "ofd-xml", 2, "附件：整改落实情况一览表\n河湖长制工作推进缓慢")


def test_statuses_deadlines_and_sources_of_the_table():
    problems = attachment_problems([{"id": "a1", "tables": [SOURCE]}])
    assert [p["status_class"] for p in problems].count("completed") == 27
    by_number = {p["number"]: p for p in problems}
    assert (by_number[10]["status"], by_number[10]["status_class"], by_number[10]["deadline_date"]) == (
        "长期坚持", "long_term", None)
    assert (by_number[26]["status"], by_number[26]["status_class"]) == ("阶段性完成", "phase_completed")
    assert (by_number[15]["status_class"], by_number[15]["long_term"]) == ("completed_long_term", True)
    assert (by_number[12]["deadline"], by_number[12]["deadline_date"]) == ("立行立改", None)
    assert (by_number[40]["deadline_date"], by_number[40]["attachment_id"], by_number[40]["source_row"]) == (
        "2025-06-30", "a1", 41)


@pytest.mark.parametrize(("printed", "date"), [
    ("2023年6月30日", "2023-06-30"), ("2024年6月底前", "2024-06"), ("2023.12.31", "2023-12-31"),
    ("2023年底", "2023-12"), ("立行立改", None), ("长期坚持", None), ("2023年13月", None),
])
def test_deadline_dates(printed, date):
    assert deadline_date(printed) == date


def test_a_page_stating_totals_takes_its_problems_from_its_attachment_and_compares_them():
    parsed = parse_disclosure(TITLE, PAGE_BODY, "2023-09-05", attachments=[{"id": "a1", "tables": [SOURCE]}])
    disclosure = parsed["disclosure"]
    assert (disclosure["problems_stated"], disclosure["problems_itemised"], disclosure["problems_origin"],
            disclosure["stated_matches_items"], disclosure["problems_completed"], disclosure["problems_in_progress"],
            disclosure["problems_phase_completed"]) == (42, 42, "attachment", True, 31, 4, 1)
    # One row less in the file than the page states: kept, and the mismatch said.
    short = parse_disclosure(TITLE, PAGE_BODY, "2023-09-05", attachments=[{"id": "a1", "tables": [SOURCE[:-1]]}])
    assert (short["disclosure"]["problems_stated"], short["disclosure"]["problems_itemised"],
            short["disclosure"]["stated_matches_items"]) == (42, 41, False)
    # A page that itemises its problems keeps them; the attachment's are counted beside.
    own = parse_disclosure(TITLE, PAGE_BODY + "\n1.关于“甲”问题（已完成）", attachments=[{"id": "a1", "tables": [SOURCE]}])
    assert (own["disclosure"]["problems_origin"], own["disclosure"]["problems_itemised"],
            own["disclosure"]["problems_in_attachments"]) == ("text", 1, 42)


def test_a_header_whose_number_cell_is_misread_still_numbers_the_rows():
    misread = [["予号", *HEADER[1:]], *ROWS[:3]]  # OCR's reading of a faint 序号
    assert [p["number"] for p in attachment_problems([{"id": "a", "tables": [misread]}])] == [1, 2, 3]


def test_one_table_in_three_formats_is_read_once():
    copies = [{"id": kind, "tables": [SOURCE]} for kind in ("pdf", "docx", "xlsx")]
    assert len(attachment_problems(copies)) == 42


@pytest.mark.parametrize(("body", "declared", "kind"), [
    ((FIXTURES / "yilanbiao.docx").read_bytes(), None, "docx"),
    ((FIXTURES / "yilanbiao.xlsx").read_bytes(), None, "xlsx"),
    ((FIXTURES / "yilanbiao.xls").read_bytes(), None, "xls"),
    ((FIXTURES / "yilanbiao.doc").read_bytes(), None, "doc"),
    ((FIXTURES / "yilanbiao.doc").read_bytes(), "wps", "wps"),
    ((FIXTURES / "yilanbiao.pdf").read_bytes(), None, "pdf"),
    ((FIXTURES / "scan_150_p1.jpg").read_bytes(), None, "jpeg"),
    (b"<!DOCTYPE html><html><body>404</body></html>", "pdf", "html"),
    (b"\x00\x01 not a format", None, None),
])
def test_the_format_comes_from_the_bytes(body, declared, kind):
    assert sniff(body, declared) == kind


# --- bad files ---------------------------------------------------------------------------

def bounded(body: bytes, name: str, content_type: str | None = None):
    """The attachment, having checked the time and the peak memory (this process and the child) it took."""
    started = time.monotonic()
    attachment = extract_attachment(body, name, content_type)
    elapsed = time.monotonic() - started
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) * 1024
    assert elapsed < BAD_FILE_SECONDS, elapsed
    assert peak < BAD_FILE_BYTES, peak
    return attachment


def encrypted_pdf() -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=io.BytesIO((FIXTURES / "yilanbiao.pdf").read_bytes()))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A .docx whose one extra part unpacks to 1 GB from about 1 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO((FIXTURES / "yilanbiao.docx").read_bytes())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            bomb.writestr(item, source.read(item))
        with bomb.open("word/media/padding.bin", "w", force_zip64=True) as padding:
            chunk = b"\0" * (1 << 20)
            for _ in range(1024):
                padding.write(chunk)
    return out.getvalue()


def huge_png() -> bytes:
    """A 20,000 × 20,000 px PNG (a few hundred KB: one colour)."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000), 1).save(out, "PNG")
    return out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize(("make", "name", "content_type", "kind", "reason"), [
    (encrypted_pdf, "一览表.pdf", "application/pdf", "pdf", "encrypted"),
    (lambda: (FIXTURES / "yilanbiao.pdf").read_bytes()[:20_000], "一览表.pdf", "application/pdf", "pdf", "malformed"),
    (lambda: b"%PDF-1.7\n" + bytes(range(256)) * 400, "一览表.pdf", "application/pdf", "pdf", "malformed"),
    (zip_bomb_docx, "一览表.docx", None, "docx", "zip_bomb"),
    (huge_png, "一览表.png", "image/png", "png", "too_many_pixels"),
    (lambda: b"<html><head><title>404</title></head><body>not found</body></html>", "一览表.pdf",
     "application/pdf", "html", "not_a_file"),
    (lambda: b"", "一览表.xls", None, None, "empty"),
])
def test_a_bad_file_is_recorded_with_its_reason(make, name, content_type, kind, reason):
    attachment = bounded(make(), name, content_type)
    assert (attachment.kind, attachment.failure.stage, attachment.failure.kind) == (kind, "attachment", reason)
    assert attachment.failure.message
    assert attachment.text == "" and attachment.tables == []


def test_a_300_mb_file_is_refused_unread(tmp_path):
    """Streamed to disk sparse (never in this process's memory as bytes it wrote), then
    handed over as a read-only map, as a caller holding it would."""
    import mmap

    path = tmp_path / "huge.pdf"
    with path.open("wb") as f:
        f.write(b"%PDF-1.7\n")
        f.truncate(300 * 1024 * 1024)
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as body:
        started = time.monotonic()
        attachment = extract_attachment(body, "huge.pdf", "application/pdf")
        assert time.monotonic() - started < BAD_FILE_SECONDS
    assert (attachment.size, attachment.failure.kind) == (300 * 1024 * 1024, "too_large")


@pytest.mark.slow
def test_a_reader_past_its_time_or_memory_is_stopped_with_its_reason(monkeypatch):
    import pipelines.attachments as attachments

    started = time.monotonic()
    answer = attachments.read_in_child((FIXTURES / "yilanbiao.doc").read_bytes(), "doc", timeout=1)
    assert answer == {"refused": "timeout", "message": "not read within 1 s"}
    assert time.monotonic() - started < 10  # LibreOffice ended with its process group
    monkeypatch.setattr(attachments, "CHILD_ADDRESS_SPACE", 400 * 1024**2)
    attachment = attachments.extract_attachment((FIXTURES / "scan_150_p1.jpg").read_bytes(), "scan.jpg")
    assert attachment.failure.kind == "too_much_memory"


@pytest.mark.slow
def test_a_lying_content_type_is_read_for_what_the_file_is():
    attachment = bounded((FIXTURES / "yilanbiao.xlsx").read_bytes(), "download.jsp", "application/pdf")
    assert (attachment.kind, attachment.declared, attachment.method, attachment.failure) == (
        "xlsx", "pdf", "openpyxl", None)
    assert attachment.warnings == ["declared pdf, is xlsx"]
    assert len(attachment.tables[0]) == 43


# --- scans (OCR) ---------------------------------------------------------------------------

@pytest.mark.slow
def test_a_150_dpi_scanned_page_as_an_image():
    attachment = read_fixture("scan_150_p1.jpg", "image/jpeg")
    assert (attachment.kind, attachment.method, attachment.failure) == ("jpeg", "rapidocr", None)
    assert character_accuracy(attachment.tables[0], ROWS[:22]) >= 0.95  # the page holds rows 1–22
    problems = attachment_problems([{"id": "scan", "tables": attachment.tables}])
    assert [p["number"] for p in problems] == list(range(1, 23))


@pytest.mark.slow
def test_a_300_dpi_scanned_pdf_reads_98_percent_and_every_status():
    attachment = read_fixture("scan_300.pdf", "application/pdf")
    assert (attachment.kind, attachment.method, attachment.pages, attachment.failure) == ("pdf", "rapidocr", 2, None)
    assert character_accuracy(attachment.tables[0]) >= 0.98
    problems = attachment_problems([{"id": "scan", "tables": attachment.tables}])
    assert [(p["number"], p["status"]) for p in problems] == [(int(r[0]), r[5]) for r in ROWS]
