"""`archive import` of other people's captures: a WARC written by `wget --warc-file` against a
local server, and a WACZ made from it with `wacz create` — every HTML page archived under its
real URL, the image and the 404 skipped and counted; and the conventions of Heritrix and
Common Crawl captures."""

from __future__ import annotations

import gzip
import html
import io
import random
import re
import shutil
import subprocess
import sys
import threading
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ROOT, query
from test_crash_safety import report_text
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.db import Archive
from archive.importer import WARC_MAX_BYTES, ImportReport, _Importer
from captures import SOFTWARE, CaptureReader, WarcCapture
from captures.reader import CaptureChanged

pytestmark = pytest.mark.slow

PAGES = {"index.html": 1, "a.html": 2, "b.html": 3}


def page(number: int, links: str = "") -> str:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in report_text(number).splitlines())
    title = report_text(number).splitlines()[0]
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><h1>{title}</h1><div class='article'>{paragraphs}</div>{links}</body></html>")


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def wget_warc(tmp_path_factory) -> tuple[Path, str]:
    """site.warc.gz as wget writes it, and the server's origin."""
    if not shutil.which("wget"):
        pytest.fail("wget is missing: README command 1 installs it")
    base = tmp_path_factory.mktemp("foreign")
    site = base / "site"
    site.mkdir()
    links = '<a href="a.html">a</a> <a href="b.html">b</a> <a href="missing.html">gone</a> <img src="logo.png">'
    for name, number in PAGES.items():
        (site / name).write_text(page(number, links if name == "index.html" else ""), encoding="utf-8")
    (site / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        done = subprocess.run(
            ["wget", "--recursive", "--level=1", "--page-requisites", "-e", "robots=off", "--no-verbose",
             "--no-directories", "--directory-prefix", str(base / "download"), "--warc-file", str(base / "site"),
             f"{origin}/index.html"],
            capture_output=True, text=True, timeout=120,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode in (0, 8), done.stderr  # 8: a page answered 404, as planted
    return base / "site.warc.gz", origin


def imported(capture: Path, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archive", "import", str(capture), "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def assert_every_page_archived(db: Path, origin: str) -> None:
    rows = query(db, "select url, title, body_text from documents order by url")
    assert [row["url"] for row in rows] == sorted(f"{origin}/{name}" for name in PAGES)
    for row in rows:
        number = PAGES[row["url"].rsplit("/", 1)[-1]]
        assert row["title"] == report_text(number).splitlines()[0]
        assert report_text(number).splitlines()[1][:30] in row["body_text"]


def test_import_of_a_wget_warc(wget_warc, tmp_path):
    warc, origin = wget_warc
    result = imported(warc, tmp_path / "archive.db")
    assert result.returncode == 0, result.stderr
    assert "site.warc.gz: 3 page(s); skipped 1 non_200, 1 non_html" in result.stdout
    assert "imported: 3 new; 3 documents" in result.stdout
    assert_every_page_archived(tmp_path / "archive.db", origin)


def test_import_of_a_wacz(wget_warc, tmp_path):
    warc, origin = wget_warc
    wacz = tmp_path / "site.wacz"
    made = subprocess.run([str(Path(sys.executable).parent / "wacz"), "create", "-o", str(wacz), "--detect-pages", str(warc)],
                          capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    result = imported(wacz, tmp_path / "archive.db")
    assert result.returncode == 0, result.stderr
    assert "site.wacz!archive/site.warc.gz: 3 page(s); skipped 1 non_200, 1 non_html" in result.stdout
    assert_every_page_archived(tmp_path / "archive.db", origin)


def test_heritrix_and_common_crawl_conventions(tmp_path):
    """Payload type only in WARC-Identified-Payload-Type (Common Crawl), dns: and revisit records
    (Heritrix), a Browsertrix-style urn: resource, a page over the 10 MB cap: only the HTML pages
    with status 200 are taken, the rest counted."""
    body = page(5).encode("utf-8")
    path = tmp_path / "crawl.warc.gz"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        writer.write_record(writer.create_warc_record(
            "dns:example.org", "resource", payload=io.BytesIO(b"example.org 300 IN A 10.0.0.1"), warc_content_type="text/dns"))
        writer.write_record(writer.create_warc_record(  # no Content-Type header: the identified type counts
            "https://example.org/a.html", "response", payload=io.BytesIO(body),
            http_headers=StatusAndHeaders("200 OK", [("Server", "x")], protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Identified-Payload-Type": "text/html"}))
        writer.write_record(writer.create_warc_record(
            "https://example.org/a.html", "revisit", payload=io.BytesIO(b""),
            warc_headers_dict={"WARC-Profile": "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"}))
        writer.write_record(writer.create_warc_record(
            "https://example.org/moved.html", "response", payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders("301 Moved", [("Location", "/a.html")], protocol="HTTP/1.1")))
        writer.write_record(writer.create_warc_record(
            "urn:pageinfo:https://example.org/a.html", "resource", payload=io.BytesIO(b"{}"),
            warc_content_type="application/json"))
        writer.write_record(writer.create_warc_record(
            "https://example.org/huge.html", "response", payload=io.BytesIO(b"<p>" + b"x" * (11 * 1024 * 1024)),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")))
    reader = CaptureReader([path]).scan()
    (report,) = reader.reports.values()
    assert (report.own, report.pages, dict(report.skipped), report.errors) == (
        False, 1, {"non_200": 1, "revisit": 1, "too_large": 1}, []
    )
    (found,) = list(reader)
    assert (found.kind, found.raw.url, found.raw.status, found.raw.body) == ("article", "https://example.org/a.html", 200, body)


def write_pages(path: Path, numbers: list[int], gzip: bool, fixed: bool = False) -> dict[str, bytes]:
    """A foreign capture of report pages ``numbers`` after a dns: record: url → body.
    ``fixed``: record ids and dates from the page numbers, so the file is the same bytes every time."""
    bodies = {f"https://example.org/{n}.html": page(n).encode("utf-8") for n in numbers}

    def fixed_headers(n: int) -> dict[str, str]:
        return {"WARC-Record-ID": f"<{uuid.UUID(int=n).urn}>", "WARC-Date": "2024-01-01T00:00:00Z"} if fixed else {}

    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=gzip)
        writer.write_record(writer.create_warc_record(
            "dns:example.org", "resource", payload=io.BytesIO(b"example.org 300 IN A 10.0.0.1"), warc_content_type="text/dns",
            warc_headers_dict=fixed_headers(0)))
        for n, (url, body) in zip(numbers, bodies.items()):
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body),
                http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"),
                warc_headers_dict=fixed_headers(n)))
    return bodies


def test_pages_are_read_where_the_scan_found_them_and_a_file_changed_since_is_an_error(tmp_path):
    """The second pass seeks to each page's record, in plain and gzipped WARC files alike;
    a file rewritten after the scan (its records moved) stops the reading with its name."""
    plain, gzipped = tmp_path / "plain.warc", tmp_path / "gzipped.warc.gz"
    bodies = {**write_pages(plain, [1, 2], gzip=False), **write_pages(gzipped, [3, 4], gzip=True)}
    reader = CaptureReader([plain, gzipped]).scan()
    assert [(p.raw.url, p.raw.warc_file, p.raw.body) for p in reader] == [
        (url, ("plain.warc" if n < 3 else "gzipped.warc.gz"), body) for n, (url, body) in enumerate(bodies.items(), start=1)
    ]
    write_pages(gzipped, [5, 3, 4], gzip=True)  # a page more before the two scanned
    with pytest.raises(CaptureChanged, match=r"gzipped\.warc\.gz changed while it was read: record <urn:uuid:"):
        list(reader)


def test_a_warc_gzipped_whole_is_reported_with_the_command_that_fixes_it(tmp_path):
    """gzip of a whole WARC (not one member per record) cannot be sought: the file is
    named as not read, with warcio's remedy, and nothing else stops."""
    whole, good = tmp_path / "whole.warc.gz", tmp_path / "good.warc.gz"
    plain = tmp_path / "plain.warc"
    write_pages(plain, [1, 2], gzip=False)
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    plain.unlink()
    write_pages(good, [3], gzip=True)
    reader = CaptureReader([whole, good]).scan()
    assert reader.reports["whole.warc.gz"].errors == [
        "not read: compressed as one gzip stream, not one gzip member per record; "
        "`warcio recompress whole.warc.gz NEW.warc.gz` rewrites it readable"
    ]
    assert [page.raw.url for page in reader] == ["https://example.org/3.html"]


def test_a_capture_rewritten_during_an_import_is_a_failure_of_that_file(tmp_path):
    """The import goes on: the file that changed since its scan gives a failures row naming it."""
    capture_file = tmp_path / "pages.warc.gz"
    write_pages(capture_file, [1, 2], gzip=True)
    reader = CaptureReader([capture_file]).scan()
    write_pages(capture_file, [3, 1, 2], gzip=True)
    with Archive(tmp_path / "archive.db") as archive:
        capture = WarcCapture(tmp_path / "warc", "import", WARC_MAX_BYTES, SOFTWARE)
        try:
            (result,) = list(_Importer(archive, capture, ImportReport())._capture_pages(capture_file, reader))
        finally:
            capture.close()
    assert (result.failure.stage, result.failure.kind) == ("read", "capture_changed")
    assert result.failure.message.startswith("pages.warc.gz changed while it was read: record <urn:uuid:")
    assert result.raw.url == capture_file.absolute().as_uri()


@pytest.mark.parametrize("gzipped", [True, False])
def test_a_file_cut_anywhere_in_its_last_record_keeps_the_pages_before_and_names_the_cut(tmp_path, gzipped):
    """Cut at every byte of the last record — its WARC headers (warcio then parses what is left
    of them), its HTTP headers, its payload, the gzip trailer, the CRLFs that close it: the page
    before is read, the cut one is not, and one message names the record's offset. Never a
    crash, never a page lost without a word."""
    whole = tmp_path / "whole.warc"
    write_pages(whole, [1, 2], gzip=gzipped)
    data = whole.read_bytes()
    with whole.open("rb") as stream:
        *_, last = [offset for offset, _ in _record_offsets(stream)]
    cut_file = tmp_path / ("cut.warc.gz" if gzipped else "cut.warc")
    named = (f"truncated at offset {last}: ",) if gzipped else (f"truncated at offset {last}: ", f"damaged at offsets {last}-")
    for cut in range(last + 1, len(data)):
        cut_file.write_bytes(data[:cut])
        reader = CaptureReader([cut_file]).scan()
        report = reader.reports[cut_file.name]
        assert report.pages == 1 and [p.raw.url for p in reader] == ["https://example.org/1.html"], (cut, report.summary())
        assert len(report.errors) == 1 and report.errors[0].startswith(named), (cut, report.summary())


def _record_offsets(stream):
    iterator = ArchiveIterator(stream)
    for _ in iterator:
        iterator.read_to_end()
        yield iterator.member_info


@pytest.mark.slow
def test_random_damage_in_a_400_record_warc_gz_loses_only_the_damaged_records(tmp_path):
    """1 to 200 bytes overwritten at 100 seeded positions of a 400-page .warc.gz (one gzip member
    per record), one damage per copy: every page outside the damaged members is read, whole; a
    damaged member is named with its offsets — never taken for the end of a truncated file."""
    whole = tmp_path / "whole.warc.gz"
    bodies = write_pages(whole, list(range(1, 401)), gzip=True, fixed=True)
    data = whole.read_bytes()
    with whole.open("rb") as stream:
        members = list(_record_offsets(stream))  # the dns: record, then one page each
    url_of_member = dict(zip((offset for offset, _ in members[1:]), bodies))
    damaged_file = tmp_path / "damaged.warc.gz"
    rng = random.Random(25)
    lost_pages = 0
    for _ in range(100):
        at, length = rng.randrange(len(data)), rng.randint(1, 200)
        damaged = bytearray(data)
        damaged[at:at + length] = rng.randbytes(len(damaged[at:at + length]))
        damaged_file.write_bytes(damaged)
        hit = {url_of_member.get(offset) for offset, size in members if offset < at + length and at < offset + size}
        reader = CaptureReader([damaged_file]).scan()
        report = reader.reports[damaged_file.name]
        read = {p.raw.url: p.raw.body for p in reader}
        lost = set(bodies) - set(read)
        context = (at, length, report.summary())
        assert lost <= hit, context
        assert all(bodies[url] == body for url, body in read.items()), context
        assert report.pages == len(read), context
        if lost:
            (error,) = report.errors
            first, last = map(int, re.match(r"damaged at offsets (\d+)-(\d+) \(", error).groups())
            assert first <= at < last, context
            assert "truncated" not in error, context
        lost_pages += len(lost)
    assert 0 < lost_pages <= 200  # a damage spans at most two members
