"""`python -m archive import`: folders walked, re-import updates in place, bad files and paths recorded, damaged text salvaged."""

import codecs
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_crash_safety import report_text
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.db import Archive
from archive.importer import import_paths

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures" / "documents"
REPO = Path(__file__).resolve().parents[1]


def run_import(*args):
    return subprocess.run(
        [sys.executable, "-m", "archive", "import", *map(str, args)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )


def test_import_folder_twice_then_edit(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES, docs)
    (docs / "notes.bin").write_bytes(b"\x00\x01")  # not a document suffix: not walked
    db = tmp_path / "a.db"

    first = run_import(docs, "--db", db)
    assert first.returncode == 0, first.stderr
    assert "imported: 4 new; 4 documents" in first.stdout

    second = run_import(docs, "--db", db)
    assert "imported: 4 unchanged; 4 documents" in second.stdout

    report = docs / "template_report.txt"
    report.write_text(report.read_text(encoding="utf-8").replace("补交党费X元", "补交党费1200元"), encoding="utf-8")
    third = run_import(docs, "--db", db)
    assert "1 updated" in third.stdout and "3 unchanged" in third.stdout
    with Archive(db) as archive:
        assert archive.count("documents") == 4
        row = archive.document_for_url(report.resolve().as_uri())
        assert "补交党费1200元" in row["body_text"]
        assert row["version_count"] == 2
        old = list(archive.db["versions"].rows_where("document_id = ?", [row["id"]]))
        assert len(old) == 1 and "补交党费X元" in old[0]["body_text"]


def test_bad_files_are_reported_and_recorded_and_the_rest_goes_on(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(FIXTURES / "aggregator_dump.txt", docs)
    (docs / "empty.txt").write_bytes(b"")
    (docs / "gbk_report.txt").write_bytes("关于巡察整改情况的通报\n县委第一巡察组对县财政局开展了巡察。".encode("gbk"))
    missing = tmp_path / "missing.html"
    db = tmp_path / "a.db"

    result = run_import(docs, missing, "--db", db)
    assert result.returncode == 1  # a scheduler notices; the good files are in
    assert "2 new" in result.stdout and "2 failed" in result.stdout
    assert "extract/empty" in result.stderr and "read/unreadable" in result.stderr
    with Archive(db) as archive:
        failures = {(r["url"].rsplit("/", 1)[-1], r["stage"], r["kind"]) for r in archive.db["failures"].rows}
        assert failures == {("empty.txt", "extract", "empty"), ("missing.html", "read", "unreadable")}
        gbk = archive.document_for_url((docs / "gbk_report.txt").resolve().as_uri())
        assert gbk["title"] == "关于巡察整改情况的通报"
        assert gbk["body_text"] == "县委第一巡察组对县财政局开展了巡察。"


def make_warc(path: Path, pages: list[tuple[str, int, str, bytes]], gzip: bool) -> None:
    """A capture as another crawler writes it: (url, status, content type, body) responses."""
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=gzip)
        for url, status, content_type, body in pages:
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body),
                http_headers=StatusAndHeaders(f"{status} X", [("Content-Type", content_type)], protocol="HTTP/1.1"),
            ))


def test_input_bounds_every_bad_path_is_a_failure_and_damaged_text_is_salvaged(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text(report_text(1), encoding="utf-8")
    with (docs / "big.txt").open("wb") as big:  # sparse: costs no disk
        big.truncate(10 * 1024 * 1024 + 1)
    text = (report_text(2) * 3).encode("utf-8")  # NUL in the first 2 KB means binary; past them, damage
    (docs / "nul.txt").write_bytes(text[:3000] + b"\x00\x00\x01" + text[3000:])
    paragraphs = "".join(f"<p>{line}</p>" for line in report_text(3).splitlines()) * 2
    page = f'<html><head><meta charset="gb2312"><title>通报</title></head><body>{paragraphs}</body></html>'
    gb = page.encode("gb18030")
    stray = gb.index(b"</p>", len(gb) // 2)  # one stray byte between two characters
    (docs / "gb.html").write_bytes(gb[:stray] + b"\xff" + gb[stray:])
    (docs / "loop.txt").symlink_to("loop.txt")
    (docs / "sub").mkdir()
    (docs / "sub" / "up").symlink_to("..")  # a folder link back up: a loop, walked once
    locked = docs / "locked"
    locked.mkdir()
    (locked / "hidden.txt").write_text(report_text(4), encoding="utf-8")
    locked.chmod(0)
    os.mkfifo(docs / "pipe.txt")
    warc_page = b"<html><head><title>T</title></head><body>" + "<p>外来抓取的网页。</p>".encode() * 40 + b"</body></html>"
    make_warc(docs / "capture.dat", [("https://example.org/report.html", 200, "text/html", warc_page)], gzip=False)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "loop2").symlink_to("loop2")
    db = tmp_path / "a.db"

    # As root, permission bits bind only without the capability to override them.
    result = subprocess.run(
        ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
         sys.executable, "-m", "archive", "import", str(docs), str(docs / "capture.dat"),
         str(tmp_path / "fifo"), str(tmp_path / "loop2"), "--db", str(db)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    locked.chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert "4 new" in result.stdout and "7 failed" in result.stdout, result.stdout + result.stderr
    with Archive(db) as archive:
        failures = sorted((r["url"].rsplit("/", 1)[-1], r["kind"]) for r in archive.db["failures"].rows)
        assert failures == [
            ("big.txt", "too_large"), ("fifo", "not_a_file"), ("locked", "unreadable"),
            ("loop.txt", "symlink_loop"), ("loop2", "symlink_loop"), ("pipe.txt", "not_a_file"),
            ("up", "symlink_loop"),
        ]
        assert {r["stage"] for r in archive.db["failures"].rows} == {"read"}
        nul = archive.document_for_url((docs / "nul.txt").resolve().as_uri())
        assert "\x00" not in nul["body_text"] and "\x01" not in nul["body_text"]
        assert json.loads(nul["warnings"]) == ["3 control character(s) removed"]
        salvaged = archive.document_for_url((docs / "gb.html").resolve().as_uri())
        assert json.loads(salvaged["warnings"]) == ["1 undecodable byte(s) replaced by U+FFFD (decoded as gb18030)"]
        assert "巡视整改进展情况" in salvaged["body_text"]
        captured = archive.document_for_url("https://example.org/report.html")
        assert captured["title"] != "WARC/1.0" and "外来抓取的网页" in captured["body_text"]
        assert "WARC/1.0" not in captured["body_text"]
        assert archive.document_for_url((docs / "good.txt").resolve().as_uri())["warnings"] is None
        assert archive.count("documents") == 4  # the folder loop walked once: no doubles


def test_a_folder_walk_skips_notes_and_search_pages_and_counts_them(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES, docs)
    (docs / "README.md").write_text("# 这些页面\n从县纪委监委网站保存，2024年3月。\n", encoding="utf-8")
    (docs / "SOURCES.txt").write_text("template_report.txt: http://example.gov.cn/a.html\n", encoding="utf-8")
    results = "".join(f"<li><a href='/a{i}.html'>巡察整改情况的通报</a><span>2024-0{i}-1{i}</span></li>" for i in range(1, 7))
    (docs / "results.html").write_text(
        f"<html><head><title>纪委监委网站</title></head><body><p>搜索结果：共找到6条</p><ul>{results}</ul></body></html>",
        encoding="utf-8")
    (docs / "was5-search-page1.html").write_text("<html><body><p>巡视整改</p></body></html>", encoding="utf-8")
    db = tmp_path / "a.db"
    done = run_import(docs, "--db", db)
    assert done.returncode == 0, done.stderr
    assert "imported: 4 new; 4 documents" in done.stdout
    assert "skipped, not articles: 2 note, 2 search_results" in done.stdout
    # A file named on the command line is imported whatever its name.
    named = run_import(docs / "README.md", "--db", db)
    assert named.returncode == 0 and "imported: 1 new; 5 documents" in named.stdout


SAVED_PAGE = Path(__file__).parent / "fixtures" / "saved_pages" / "saved_page_og_url.html"


def test_a_saved_page_keeps_the_address_it_gives_for_itself(tmp_path):
    """og:url first; a page without canonical link or og:url is known by its share link's url=."""
    shared_only = tmp_path / "shared_only.html"
    shared_only.write_text(
        SAVED_PAGE.read_text(encoding="utf-8").replace('<meta property="og:url"', '<meta property="og:nothing"'),
        encoding="utf-8",
    )
    with Archive(tmp_path / "a.db") as archive:
        import_paths([SAVED_PAGE, shared_only], archive)
        rows = {Path(r["url"]).name: r for r in archive.db["documents"].rows}
    address = "http://www.meixi.gov.cn/art/2023/9/12/art_1229_88123.html"
    assert rows["saved_page_og_url.html"]["page_url"] == address
    assert rows["shared_only.html"]["page_url"] == address  # from weibo's share.php?url=…
    assert all(r["url"].startswith("file:") for r in rows.values())


def test_utf16_html_with_a_bom_is_text_and_file_names_print_escaped(tmp_path):
    """HTML saved as UTF-16 (Windows does) is read, not rejected as binary for its NUL bytes; a
    newline or U+202E in a file name can neither split a line of the output nor reverse it."""
    docs = tmp_path / "docs"
    docs.mkdir()
    paragraphs = "".join(f"<p>{line}</p>" for line in report_text(5).splitlines())
    page = f"<html><head><title>通报</title></head><body><h1>{report_text(5).splitlines()[0]}</h1>{paragraphs}</body></html>"
    (docs / "utf16le.html").write_bytes(page.encode("utf-16"))  # with its BOM
    (docs / "utf16be.html").write_bytes(codecs.BOM_UTF16_BE + page.encode("utf-16-be"))
    (docs / "two\nlines.txt").write_text(report_text(6), encoding="utf-8")
    (docs / "evil\u202etxt.exe.txt").write_text(report_text(7), encoding="utf-8")
    db = tmp_path / "a.db"
    result = run_import(docs, "--db", db)
    assert result.returncode == 0, result.stderr
    assert "4 new" in result.stdout
    lines = result.stdout.splitlines()
    assert f"new       {docs}/two\\nlines.txt" in lines
    assert f"new       {docs}/evil\\u202etxt.exe.txt" in lines
    assert "\u202e" not in result.stdout + result.stderr
    with Archive(db) as archive:
        for name in ("utf16le.html", "utf16be.html"):
            document = archive.document_for_url((docs / name).resolve().as_uri())
            assert document["title"] == report_text(5).splitlines()[0]
            assert "巡视整改进展情况" in document["body_text"] and "\x00" not in document["body_text"]


def _pages(sizes: list[int]) -> list:
    from captures import Page
    from pipelines import RawDocument

    return [Page("article", RawDocument(url=f"https://example.org/{n}.html", body=b"x" * size)) for n, size in enumerate(sizes)]


def test_a_page_is_estimated_to_take_a_multiple_of_its_size():
    from archive.db import DEFAULT_MEMORY_MB, page_memory

    assert page_memory(0) == 1 * 2**20
    assert page_memory(9_900_000) == 2**20 + 15 * 9_900_000  # 142.6 MiB
    assert page_memory(10 * 2**20) == 151 * 2**20
    assert DEFAULT_MEMORY_MB == 604  # two batches of two pages at the 10 MB cap


def test_pages_are_processed_in_batches_bounded_by_their_memory_as_well_as_count():
    """The default budget (604 MiB: 302 MiB a batch, two batches at once): seven pages just under
    the 10 MB cap (142.6 MiB each) among 98 small ones (1 MiB each) are never more than two to a
    batch — the first batch holds two and 16 small ones, then the next small one is over — and
    no batch holds more than 64 pages."""
    from archive.db import BATCH_PAGES, _batches, memory_budget, page_memory

    sizes = [9_900_000 if n % 17 == 0 else 12 for n in range(105)]
    pages = _pages(sizes)
    batches = list(_batches(pages, memory_budget()))
    assert [page for batch in batches for page in batch] == pages
    assert [len(batch) for batch in batches] == [18, 33, 18, 33, 3]
    assert all(sum(page_memory(len(p.raw.body)) for p in batch) <= 302 * 2**20 for batch in batches)
    assert max(sum(len(p.raw.body) == 9_900_000 for p in batch) for batch in batches) <= 2
    assert [len(batch) for batch in _batches(_pages([12] * 150), memory_budget())] == [BATCH_PAGES, BATCH_PAGES, 22]


def test_the_memory_budget_decides_how_many_large_pages_a_batch_holds(monkeypatch):
    """ARCHIVE_MEMORY_MB sets the total: with 400 MB, 200 MiB a batch, two 5 MiB pages (76 MiB
    each) and a 3 MiB one (46 MiB) fit together, a fourth page does not; with 300 MB a 10 MiB
    page (151 MiB) is over its half of the budget: alone, and still processed."""
    from archive.db import _batches, memory_budget

    monkeypatch.setenv("ARCHIVE_MEMORY_MB", "400")
    assert memory_budget() == 400 * 2**20
    five, three = 5 * 2**20, 3 * 2**20
    batches = list(_batches(_pages([five, three, five, five, three, three, 100]), memory_budget()))
    assert [[len(p.raw.body) for p in batch] for batch in batches] == [[five, three, five], [five, three, three, 100]]
    monkeypatch.setenv("ARCHIVE_MEMORY_MB", "300")
    ten = 10 * 2**20
    assert [len(batch) for batch in _batches(_pages([100, 100, ten, 100]), memory_budget())] == [2, 1, 1]
    for wrong in ("lots", "0", "-5"):
        monkeypatch.setenv("ARCHIVE_MEMORY_MB", wrong)
        with pytest.raises(ValueError, match="ARCHIVE_MEMORY_MB"):
            memory_budget()
