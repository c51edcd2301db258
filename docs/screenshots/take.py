"""Screenshots of the served archive for the documentation: the home, documents, record,
unit ledger and overdue pages at 1400 and 400 px wide, on the archive the journalist tests
use with the ledger's units added (tests/ledger_archive.py).

    .venv/bin/python docs/screenshots/take.py

Writes ``<page>-<width>.png`` beside this file (the first screenful of each page).
"""

import sqlite3
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from datasette_server import served_archive  # noqa: E402
from journalist_archive import HEBEI_SINA, build  # noqa: E402
from ledger_archive import SPIC  # noqa: E402
from ledger_archive import build as build_ledger  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from crawler.settings import PLAYWRIGHT_LAUNCH_OPTIONS  # noqa: E402

SIZES = {1400: 1000, 400: 860}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "archive.db"
        ids = build(db_path)
        build_ledger(db_path)
        [(unit_id,)] = sqlite3.connect(db_path).execute("select id from units where name = ?", [SPIC]).fetchall()
        pages = {
            "home": "/", "documents": "/archive/documents", "record": f"/-/document/{ids[HEBEI_SINA]}",
            "unit": f"/-/unit/{unit_id}", "overdue": "/archive/overdue_reports?_hide_sql=1",
        }
        with served_archive(db_path) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
            for width, height in SIZES.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                for name, path in pages.items():
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(HERE / f"{name}-{width}.png"))
                page.close()
            browser.close()


if __name__ == "__main__":
    main()
