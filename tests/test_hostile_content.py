"""Hostile scraped content never executes in the served archive (real Chromium).

The fixture pages carry <script>, event-handler attributes, javascript: URLs,
CSS expressions/url() beacons and SVG payloads, as markup (an HTML page) and
as literal text (a text dump).  None may run: no dialog, no request to the
marker host, no DOM change; the text dump's markup shows as text.
"""

import urllib.request
from pathlib import Path

import pytest
from datasette_server import served_archive

from archive.db import Archive
from archive.importer import import_paths
from crawler.settings import PLAYWRIGHT_LAUNCH_OPTIONS

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(
        not Path(PLAYWRIGHT_LAUNCH_OPTIONS["executable_path"]).exists(), reason="Debian chromium is not installed"
    ),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("hostile") / "archive.db"
    with Archive(db_path) as archive:
        report = import_paths([HOSTILE], archive)
        assert report.failures == []
        ids = {Path(r["url"]).name: r["id"] for r in archive.db["documents"].rows}
    with served_archive(db_path) as base:
        yield base, ids


def test_stored_text_has_no_markup_from_the_html_page(served):
    base, ids = served
    with urllib.request.urlopen(f"{base}/-/document/{ids['hostile_page.html']}", timeout=30) as response:
        html = response.read().decode()
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "object-src 'none'" in policy
        assert "unsafe-eval" not in policy  # only the dashboards' charts may evaluate code
    assert "alert(" not in html and "onerror" not in html and "javascript:" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/-/document/{hostile_page.html}",
        "/-/document/{hostile_dump.txt}",
        "/archive/documents",
        "/archive/problems",
        "/archive/documents?_search=整改",
    ],
)
def test_payloads_do_not_execute(served, browser, path):
    base, ids = served
    for name, document_id in ids.items():
        path = path.replace("{" + name + "}", document_id)
    dialogs, requests = [], []
    with browser.new_context() as context:
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        for cell in page.locator("article.doc-text p, table.rows-and-columns td").all()[:200]:
            cell.dispatch_event("click")  # would fire an onclick that slipped through
            cell.hover()
        pwned = page.evaluate("document.body.getAttribute('data-pwned')")
        markup_in_content = page.locator(
            ":is(article.doc-text, table.rows-and-columns td, table.problems td) :is(script, svg, img, iframe, style)"
        ).count()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"hostile{path.replace('/', '_').replace('?', '_')}.png"), full_page=True)
    assert dialogs == []
    assert pwned is None
    assert markup_in_content == 0
    assert [url for url in requests if "marker" in url or not url.startswith(base)] == []


def test_markup_in_a_text_document_is_shown_as_text(served, browser):
    base, ids = served
    with browser.new_context() as context:
        page = context.new_page()
        page.goto(f"{base}/-/document/{ids['hostile_dump.txt']}")
        first = page.locator("article.doc-text p").first.inner_text()
    assert first == "县委第二巡察组对县交通局开展了巡察。<script>alert('text-script')</script>现将整改情况予以公布。"
