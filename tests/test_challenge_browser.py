"""The CCDI JavaScript cookie challenge, passed by real Chromium through
scrapy-playwright once, then by plain HTTP with the cookie it earned; and
cookies exported from a real browser (``--cookie-file``) that need no browser."""

from __future__ import annotations

import json

import pytest

from conftest import MIRROR_ARTICLE_URLS, page_kinds, query, read_warc, run_crawl_process
from crawler.mirror import CHALLENGE_COOKIE

pytestmark = [pytest.mark.mirror, pytest.mark.browser, pytest.mark.slow]

CCDI_ARTICLES = {url for url in MIRROR_ARTICLE_URLS if url.startswith("https://www.ccdi.gov.cn/")}


def _archived_urls(db) -> set[str]:
    return {row["url"] for row in query(db, "select url from documents")}


def _request_cookies(warc_dir) -> dict[str, str]:
    """URL → Cookie header of the (last) request captured for it."""
    return {
        record.header("WARC-Target-URI"): record.http_headers.get_header("Cookie") or ""
        for record in read_warc(warc_dir)
        if record.type == "request"
    }


def test_chromium_passes_the_challenge_once_and_the_cookie_does_the_rest(tmp_path, sites_dir, mirror_factory):
    mirror = mirror_factory(sites_dir, challenge=True)
    db = tmp_path / "archive.db"
    outcome = run_crawl_process(db, mirror.host_map, ("ccdi",), warc_dir=tmp_path / "warc")
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr[-3000:]

    assert _archived_urls(db) == CCDI_ARTICLES
    for row in query(db, "select body_text from documents"):
        assert "max-age" not in row["body_text"] and "window.open" not in row["body_text"]
    # One browser pass for the host, one page; everything else over plain HTTP.
    assert outcome.stats("anti_bot/browser_solves") == [1]
    assert outcome.stats("playwright/page_count") == [1]
    assert outcome.stats("playwright/request_count/navigation") == [2]  # the challenge and its reload
    assert "JS cookie challenge at https://www.ccdi.gov.cn/" in outcome.stderr
    # Every archived article was fetched with the cookie the browser earned.
    earned = f"{CHALLENGE_COOKIE}={mirror.challenge_cookie[CHALLENGE_COOKIE]}"
    cookies = _request_cookies(tmp_path / "warc")
    assert {url: earned in cookies[url] for url in CCDI_ARTICLES} == {url: True for url in CCDI_ARTICLES}
    # The challenge answers are kept in the WARC, marked, as is the browser's rendering.
    kinds = {kind for _, kind in page_kinds(tmp_path / "warc")}
    assert kinds == {"challenge", "browser-render", "article"}
    assert query(db, "select count(*) n from failures")[0]["n"] == 0


def _netscape_cookie_file(path, value):
    path.write_text(
        "# Netscape HTTP Cookie File\n"
        f"www.ccdi.gov.cn\tFALSE\t/\tTRUE\t0\t{CHALLENGE_COOKIE}\t{value}\n",
        encoding="utf-8",
    )


def _json_cookie_file(path, value):
    path.write_text(
        json.dumps([{"name": CHALLENGE_COOKIE, "value": value, "domain": ".ccdi.gov.cn", "path": "/"}]),
        encoding="utf-8",
    )


@pytest.mark.parametrize("write_cookie_file", [_netscape_cookie_file, _json_cookie_file], ids=["cookies.txt", "json"])
def test_cookies_exported_from_a_browser_pass_without_one(tmp_path, sites_dir, mirror_factory, write_cookie_file):
    mirror = mirror_factory(sites_dir, challenge=True)
    cookie_file = tmp_path / "cookies"
    write_cookie_file(cookie_file, mirror.challenge_cookie[CHALLENGE_COOKIE])
    db = tmp_path / "archive.db"
    outcome = run_crawl_process(db, mirror.host_map, ("ccdi",), warc_dir=tmp_path / "warc", cookie_file=cookie_file)
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr[-3000:]
    assert _archived_urls(db) == CCDI_ARTICLES
    assert outcome.stats("anti_bot/imported_cookies") == [1]
    assert outcome.stats("anti_bot/challenge_pages") == [0]
    assert outcome.stats("playwright/page_count") == [0]
    assert {kind for _, kind in page_kinds(tmp_path / "warc")} == {"article"}
