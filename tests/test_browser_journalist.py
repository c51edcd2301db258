"""A journalist's path through the served archive, in real Chromium (Debian's /usr/bin/chromium).

On an archive with republished copies (tests/journalist_archive.py): search the
home page for a two-character name, read the highlighted snippet, open the
record (copies, versions diff, citation), facet reports by province and month,
run the totals query and check its figures against a hand count over canonical
records, download the CSV for Excel and check its byte-order mark.  Screenshots
of each step are saved under test-artifacts/browser/.

Then the defects the walk found (issue 23): the problems table searched, /-/search
counting texts, an imported page citing its own address, every canned query within
1400 and 400 px, the whole database downloaded and searched in ``sqlite3``, unknown
paths answering 404 in the site's layout; and the ledger: a unit's page and the overdue list.
"""

import csv
import io
import json
import re
import sqlite3
import subprocess
import urllib.request
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

import pytest
from datasette_server import served_archive
from journalist_archive import GONE_AT, HEBEI_CCDI, HEBEI_PEOPLE, HEBEI_SINA, build
from ledger_archive import NANPING, SPIC, SPIC_FORMER
from ledger_archive import build as build_ledger

from crawler.settings import PLAYWRIGHT_LAUNCH_OPTIONS

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"
EDITOR = "梁斌"  # Sina's editor of the Hebei report: a two-character name, in no text, only in a byline
TOTALS = "Money recovered and people disciplined, by unit type"

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(
        not Path(PLAYWRIGHT_LAUNCH_OPTIONS["executable_path"]).exists(), reason="Debian chromium is not installed"
    ),
]


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    db_path = tmp_path_factory.mktemp("browser") / "archive.db"
    ids = build(db_path)
    build_ledger(db_path)  # the units of the ledger, in the same archive
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with served_archive(db_path) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        yield base, context.new_page(), ids, db_path
        browser.close()


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def row_texts(page, column):
    return page.locator(f"table.rows-and-columns td.col-{column}").all_inner_texts()


def canonical_totals(db_path: Path) -> dict:
    """Money and people by unit type, summed by hand over canonical, non-template reports."""
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    canonical = {r["id"] for r in db.execute("select id, canonical_id from documents") if r["canonical_id"] == r["id"]}
    totals = defaultdict(lambda: {"reports": 0, "money": 0.0, "people": 0})
    for report in db.execute("select * from disclosures"):
        if report["document_id"] in canonical and not report["is_template"]:
            total = totals[report["unit_type"] or "(unknown)"]
            total["reports"] += 1
            total["money"] += report["money_recovered_yuan"] or 0
            total["people"] += report["people_disciplined"] or 0
    return dict(totals)


def number(text: str) -> float:
    return float(text.replace(",", "")) if text.strip() else 0.0


def money(text: str) -> float:
    """A money cell reads ``¥3.28亿 327,632,000 元``: the exact figure, or 0 for an empty cell."""
    exact = re.search(r"([\d,]+) 元", text)
    return number(exact[1]) if exact else 0.0


def test_journalist_walk(walk):
    base, page, ids, db_path = walk

    # 1. The home page's one search box finds a two-character name; the hit is highlighted.
    page.goto(f"{base}/")
    page.fill("form.home-search input[name=q]", EDITOR)
    page.press("form.home-search input[name=q]", "Enter")
    page.wait_for_url("**/-/search?q=*")
    shot(page, "1-search")
    hit = page.locator("li", has=page.locator(f"a[href='/-/document/{ids[HEBEI_SINA]}']")).first
    assert hit.locator("mark").first.inner_text() == EDITOR

    # 2. The record: where else the text was published, how it changed, how to cite it.
    hit.locator(f"a[href='/-/document/{ids[HEBEI_SINA]}']").first.click()
    page.wait_for_url(f"**/-/document/{ids[HEBEI_SINA]}")
    shot(page, "2-record")
    assert page.locator(".banner-copy a").get_attribute("href") == f"/-/document/{ids[HEBEI_CCDI]}"
    copies = page.locator("table.copies tbody tr")
    assert copies.count() == 3
    assert [copies.nth(i).locator("td").nth(0).inner_text() for i in range(3)] == ["中央纪委国家监委网站", "新浪财经", "人民网"]
    assert copies.nth(1).locator("td").nth(2).inner_text() == EDITOR
    assert copies.nth(2).locator("td").nth(5).inner_text() == f"gone {GONE_AT[:10]}"
    assert copies.nth(2).locator("td.url a").get_attribute("href") == HEBEI_PEOPLE
    assert page.locator("#versions del").all_inner_texts() == ["6"]
    assert page.locator("#versions ins").all_inner_texts() == ["8"]
    citation = page.inner_text("#citation")
    assert citation.startswith("中央纪委国家监委网站. 中共河北省委关于十九届中央第六轮巡视整改进展情况的通报[EB/OL]. 新浪财经, (2021-10-28)")
    page.click("button[data-copy-target=citation]")
    assert page.evaluate("navigator.clipboard.readText()") == citation
    assert page.inner_text("button[data-copy-target=citation]") == "Copied"

    # 3. Reports by province and month: one row for the Hebei report, not three.
    page.goto(f"{base}/")
    page.click(".browse a:has-text('Rectification reports')")
    page.wait_for_url("**/disclosures?is_canonical=1")
    page.locator(".facet-info[data-column=province] a", has_text="河北省").first.click()
    page.wait_for_url("**province=*")
    page.locator(".facet-info[data-column=published_month] a", has_text="2021-10").first.click()
    page.wait_for_url("**published_month=2021-10*")
    shot(page, "3-facet-province-month")
    assert row_texts(page, "unit") == ["河北省"]
    assert page.locator("td.col-title a").get_attribute("href") == f"/-/document/{ids[HEBEI_CCDI]}"
    assert page.locator("td.col-level").inner_text().startswith("中央")

    # 4. The totals query equals a hand count over canonical records.
    page.goto(f"{base}/")
    page.click(f".key-questions a:has-text('{TOTALS}')")
    page.wait_for_url("**/money_by_unit_type")
    shot(page, "4-totals")
    served = {
        unit_type: {"reports": int(reports), "money": yuan, "people": int(number(people))}
        for unit_type, reports, yuan, people in zip(
            row_texts(page, "unit_type"), row_texts(page, "reports"),
            map(money, row_texts(page, "money_recovered_yuan")), row_texts(page, "people_disciplined"),
        )
    }
    assert served == canonical_totals(db_path)
    # 临江省, 吉林省, 河北省 once, and the ledger's 青川省 (32,000,000 yuan, 15 people)
    assert served["省区市"] == {"reports": 4, "money": 327_632_000 + 32_000_000, "people": 109 + 15}

    # 5. CSV for Excel: a UTF-8 file with a byte-order mark, the same figures.
    with page.expect_download() as download:
        page.click(".export-links a.excel-csv")
    shot(page, "5-csv-for-excel")
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
    assert rows[0].keys() >= {"\ufeffunit_type"} and not content[3:].startswith(b"\xef\xbb\xbf")
    excel = {r["\ufeffunit_type"]: (int(r["reports"]), number(r["money_recovered_yuan"])) for r in rows}
    assert excel == {k: (v["reports"], v["money"]) for k, v in served.items()}
    assert download.value.suggested_filename == "money_by_unit_type.csv"


def test_column_descriptions_are_shown_on_demand_and_long_text_cut(walk):
    base, page, _, _ = walk
    page.goto(f"{base}/archive/documents")
    descriptions = page.locator("dl.column-descriptions")
    assert not descriptions.is_visible()
    table_top = page.locator("table.rows-and-columns").bounding_box()["y"]
    assert table_top < 1000  # the table starts on the first screen, under the facets
    page.click("details.column-help summary")
    assert descriptions.is_visible()
    assert "canonical record" in page.locator("th[data-column=is_canonical]").get_attribute("title")
    shot(page, "6-documents")
    assert max(len(t) for t in row_texts(page, "body_text")) <= 101


def test_search_facet_and_open_a_disclosure(walk):
    base, page, _, _ = walk
    page.goto(f"{base}/archive/disclosures")
    page.locator(".facet-info[data-column=level] a", has_text="县级").first.click()
    page.wait_for_url("**level=county*")
    shot(page, "7-facet-level-county")
    assert sorted(row_texts(page, "unit")) == ["县林业局", "梅溪县白石镇", "梅溪县白石镇"]

    page.locator("table.rows-and-columns td.col-title a", has_text="中共梅溪县白石镇委员会").click()
    page.wait_for_url("**/-/document/*")
    shot(page, "8-disclosure")
    assert page.inner_text("h1.doc-title") == "中共梅溪县白石镇委员会关于十五届县委第三轮巡察整改进展情况的通报"
    facts = dict(
        zip(page.locator("table.disclosure th").all_inner_texts(), page.locator("table.disclosure td").all_inner_texts())
    )
    assert facts["Inspected unit"] == "梅溪县白石镇"
    assert facts["Level"] == "县级 (county)"
    assert facts["Team"] == "县委第二巡察组"
    assert facts["Feedback"] == "2023-07-05"
    assert facts["Problems"] == "6"
    statuses = page.locator("ol.problems .status").all_inner_texts()
    assert statuses == ["已完成，并将长期坚持", "基本完成", "正在推进", "未完成", "no status stated", "持续推进"]  # as printed
    assert page.locator("article.doc-text p").first.inner_text().startswith("根据县委巡察工作统一部署")


def test_dashboard_draws_its_charts(walk):
    base, page, _, _ = walk
    page.goto(f"{base}/-/dashboards/rectification")
    page.wait_for_selector("#chart-problems-by-status :is(svg, canvas)")
    page.wait_for_load_state("networkidle")
    shot(page, "9-dashboard")
    assert page.locator(".vega-embed").count() == 5
    assert page.locator(".vega-embed :is(svg, canvas)").count() >= 5


def test_an_empty_dashboard_says_so(walk, tmp_path):
    from archive.db import Archive

    db_path = tmp_path / "empty.db"
    Archive(db_path).close()
    with served_archive(db_path) as base:
        page = walk[1].context.browser.new_page(viewport={"width": 400, "height": 860})
        page.goto(f"{base}/-/dashboards/rectification")
        page.wait_for_selector(".empty-chart")
        page.wait_for_load_state("networkidle")
        shot(page, "17-empty-dashboard-400")
        assert page.locator(".empty-chart").count() == 5
        assert page.locator(".vega-embed").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
        page.close()


def test_problems_search_with_hits_opens_the_problem(walk):
    base, page, ids, _ = walk
    page.goto(f"{base}/-/search?q=八项规定")
    with page.expect_navigation() as navigation:
        page.click("a:has-text('All matching problems in the table')")
    assert navigation.value.status == 200
    shot(page, "10-problems-search")
    links = page.locator("td.col-title a")
    assert links.count() == 4
    hebei = page.locator(f"td.col-title a[href='/-/document/{ids[HEBEI_CCDI]}#problem-3']")
    hebei.click()
    page.wait_for_url(f"**/-/document/{ids[HEBEI_CCDI]}#problem-3")
    assert page.evaluate("document.querySelector(':target').id") == "problem-3"


def test_site_search_counts_texts_and_marks_copies(walk):
    base, page, ids, _ = walk
    page.goto(f"{base}/")
    page.fill("form.home-search input[name=q]", "河北省委关于十九届")
    page.press("form.home-search input[name=q]", "Enter")
    page.wait_for_url("**/-/search?q=*")
    shot(page, "11-search-texts")
    assert page.locator("h2 small.found").first.inner_text() == "— 1 text found (3 pages: republished copies marked, counted once)"
    documents = page.locator("ul.search-results").first
    assert documents.locator("li").count() == 3 and documents.locator("li.copy").count() == 2
    assert documents.locator("li.copy .copy-mark a").first.get_attribute("href") == f"/-/document/{ids[HEBEI_CCDI]}"


def test_an_imported_page_cites_its_real_address(walk):
    base, page, _, db_path = walk
    [(document_id, address)] = sqlite3.connect(db_path).execute(
        "select id, page_url from documents where url like 'file:%saved_page_og_url.html'").fetchall()
    page.goto(f"{base}/-/document/{document_id}")
    shot(page, "12-imported-page")
    assert page.locator(".original-link a").get_attribute("href") == address
    assert address in page.inner_text("#citation") and "file:" not in page.inner_text("#citation")


def test_canned_queries_fit_1400_and_400_px(walk):
    base, page, _, _ = walk
    with urllib.request.urlopen(f"{base}/-/metadata.json") as response:
        queries = list(json.load(response)["databases"]["archive"]["queries"])
    assert len(queries) >= 18
    for width in (1400, 400):
        page.set_viewport_size({"width": width, "height": 900})
        for name in queries:
            page.goto(f"{base}/archive/{name}")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
            for label in page.locator("form.sql label").all():  # a parameter's label is not covered by its box
                box, field = label.bounding_box(), page.locator(f"#{label.get_attribute('for')}").bounding_box()
                assert box["x"] + box["width"] <= field["x"] + 1 or box["y"] + box["height"] <= field["y"] + 1, name
        shot(page, f"13-last-query-{width}")
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_the_database_download_opens_in_sqlite3_and_searches(walk, tmp_path):
    base, page, _, db_path = walk
    page.goto(f"{base}/")
    with page.expect_download() as download:
        page.click("a.database-download")
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    assert re.fullmatch(r"archive-\d{8}T\d{6}Z\.db", target.name)
    search = ("select count(*) from documents where is_canonical and rowid in "
              "(select rowid from documents_fts where documents_fts match '\"巡 视 整 改\"')")
    found = subprocess.run(["sqlite3", str(target), search], capture_output=True, text=True, check=True).stdout.strip()
    assert int(found) == sqlite3.connect(db_path).execute(search).fetchone()[0] > 5


def test_unknown_paths_are_404_pages_in_the_sites_layout(walk):
    base, page, ids, _ = walk
    for path in ("/a/b/c/d", "/-/x/y/z", f"/-/document/{ids[HEBEI_CCDI].upper()}", f"/-/document/{ids[HEBEI_CCDI]}/json"):
        response = page.goto(base + path)
        assert response.status == 404, path
        timing = response.request.timing
        assert timing["responseEnd"] - timing["requestStart"] < 200, (path, timing)
        assert page.locator("header nav a[href='/']").is_visible() and page.locator("header nav details.nav-menu").count() == 1
        assert page.locator("form.search-form input[name=q]").is_visible()
        assert page.inner_text("h1") == "Nothing at this address"
    shot(page, "14-not-found")


def test_a_units_ledger_and_the_overdue_list(walk):
    base, page, _, _ = walk
    page.goto(f"{base}/archive/units_ledger")
    page.locator("td.col-unit a", has_text=SPIC).click()
    page.wait_for_url("**/-/unit/*")
    shot(page, "15-unit-ledger")
    rounds = page.locator("section.inspection h3").all_inner_texts()
    assert rounds == ["19届中央第3轮巡视 (19-3)", "18届中央第5轮巡视 (18-5)"]
    assert page.locator("li.event .named-as").all_inner_texts() == [f"named {SPIC_FORMER}"] * 2
    assert page.locator("section.inspection").first.get_attribute("class").split()[-1] == "finding-late"
    page.goto(f"{base}/archive/overdue_reports")
    shot(page, "16-overdue")
    assert row_texts(page, "unit") == [NANPING]
    assert row_texts(page, "finding") == ["no report found in the archive"]


def test_a_count_that_follows_the_page_is_filled_in(walk):
    """A dense search served before its count (no time to count: a budget of 0 ms)
    says "counting…"; the page's script fetches /-/count and puts the exact count there.
    Once counted, a page of the same search states the count itself, in the same words."""
    from archive import search_index

    _, browser_page, _, db_path = walk
    conn = sqlite3.connect(db_path)
    fields = "title, body_text, source, author, editor, publisher, declared_source, declared_author"
    rows = conn.execute(f"select id, canonical_id, {fields} from documents").fetchall()
    conn.close()

    def counted(term: str) -> tuple[str, str]:
        """The heading's words for the count of ``term``, and /-/search's."""
        matches = {(row[0], row[1] or row[0]) for row in rows
                   if any(term in search_index.comparable(value or "") for value in row[2:])}
        texts, pages = len({text for _, text in matches}), len(matches)
        copies = f" ({pages:,} pages: republished copies marked, counted once)" if pages != texts else ""
        return (f"{texts:,} texts" + (f" in {pages:,} pages" if pages != texts else ""),
                f"— {texts:,} texts found{copies}")

    env = {"ZHENGGAI_SEARCH_PROBE_LIMIT": "2", "ZHENGGAI_SEARCH_COUNT_BUDGET_MS": "0"}
    with served_archive(db_path, env=env) as base:
        page = browser_page.context.new_page()
        page.goto(f"{base}/archive/documents?_search=的")
        heading = page.locator("h3", has_text="search matches")
        page.wait_for_function("!document.body.innerText.includes('counting…')")
        assert f'search matches "的" ({counted("的")[0]};' in heading.inner_text()
        for term, sent_counting in (("整改", True), ("的", False)):  # 的 is counted by now
            sent = urllib.request.urlopen(f"{base}/-/search?q={quote(term)}").read().decode("utf-8")
            documents = re.search(r'<small class="found"[^>]*>([^<]*)', sent)[1]  # the first section's
            assert ("counting…" in documents) == sent_counting, term
            page.goto(f"{base}/-/search?q={term}")
            page.wait_for_function("!document.body.innerText.includes('counting…')")
            assert page.locator("h2 small.found").first.inner_text() == counted(term)[1]
        page.close()
