"""A journalist's path through the served archive, in real Chromium (Debian's /usr/bin/chromium).

Search in Chinese, apply a facet, open a disclosure and its problems.
Screenshots of each step are saved under test-artifacts/browser/.
"""

from pathlib import Path

import pytest
from datasette_server import served_archive

from archive.db import Archive
from archive.importer import import_paths
from crawler.settings import PLAYWRIGHT_LAUNCH_OPTIONS

FIXTURES = Path(__file__).parent / "fixtures"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"

pytestmark = pytest.mark.skipif(
    not Path(PLAYWRIGHT_LAUNCH_OPTIONS["executable_path"]).exists(), reason="Debian chromium is not installed"
)


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    db_path = tmp_path_factory.mktemp("browser") / "archive.db"
    with Archive(db_path) as archive:
        import_paths([FIXTURES / "disclosures", FIXTURES / "documents"], archive)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with served_archive(db_path) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield base, page
        browser.close()


def row_texts(page, column):
    return page.locator(f"table.rows-and-columns td.col-{column}").all_inner_texts()


def test_search_facet_and_open_a_disclosure(browser_page):
    base, page = browser_page

    page.goto(f"{base}/archive/documents")
    page.fill("input[name=_search]", "巡察整改")
    page.keyboard.press("Enter")
    page.wait_for_url("**_search=*")
    page.screenshot(path=str(ARTIFACTS / "1-search.png"), full_page=True)
    titles = row_texts(page, "title")
    assert "中共梅溪县白石镇委员会关于十五届县委第三轮巡察整改进展情况的通报" in titles
    assert "县纪委监委召开巡察整改推进会" in titles
    assert "二十届中央第二轮巡视整改进展情况综述" not in titles  # 巡视, not 巡察

    page.goto(f"{base}/archive/disclosures")
    page.locator(".facet-info[data-column=level] a", has_text="县级").first.click()
    page.wait_for_url("**level=county*")
    page.screenshot(path=str(ARTIFACTS / "2-facet-level-county.png"), full_page=True)
    assert sorted(row_texts(page, "unit")) == ["县林业局", "梅溪县白石镇", "梅溪县白石镇"]

    page.locator("table.rows-and-columns td.col-title a", has_text="中共梅溪县白石镇委员会").click()
    page.wait_for_url("**/-/document/*")
    page.screenshot(path=str(ARTIFACTS / "3-disclosure.png"), full_page=True)
    assert page.inner_text("h1.doc-title") == "中共梅溪县白石镇委员会关于十五届县委第三轮巡察整改进展情况的通报"
    facts = dict(
        zip(page.locator("table.disclosure th").all_inner_texts(), page.locator("table.disclosure td").all_inner_texts())
    )
    assert facts["Inspected unit"] == "梅溪县白石镇"
    assert facts["Team"] == "县委第二巡察组"
    assert facts["Feedback"] == "2023-07-05"
    assert facts["Problems"] == "6"
    statuses = page.locator("ol.problems .status").all_inner_texts()
    assert statuses == ["已完成，并将长期坚持", "基本完成", "正在推进", "未完成", "no status stated", "持续推进"]  # as printed
    assert page.locator("article.doc-text p").first.inner_text().startswith("根据县委巡察工作统一部署")


def test_dashboard_draws_its_charts(browser_page):
    base, page = browser_page
    page.goto(f"{base}/-/dashboards/rectification")
    page.wait_for_selector("#chart-problems-by-status :is(svg, canvas)")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTIFACTS / "4-dashboard.png"), full_page=True)
    assert page.locator(".vega-embed").count() == 3
    assert page.locator(".vega-embed :is(svg, canvas)").count() >= 3
