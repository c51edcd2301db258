"""End-to-end crawls: real Scrapy over real HTTP against the local mirror, into a
real SQLite archive and real WARC files (``python -m archive crawl`` subprocesses)."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive_snapshot import snapshot
from conftest import CRAWLED_SITES, MIRROR_ARTICLE_URLS, SITES, WarcRecord, copy_sites, page_kinds, query, read_warc, run_crawl_process
from crawler.mirror import start_mirror

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

SPIDERS = tuple(CRAWLED_SITES)
# Sites of the test mirror (not the fault site, tests/test_faults.py), crawled only when named.
NAMED_SITES = tuple(sorted(name for name, p in SITES.items() if p.settings.get("test_site") and "articles" in p.tests))
# First list page of every column plus one search per keyword: a site file's start URLs.
# (more where an index of columns is read again: ``recrawl_requests``).
START_REQUESTS = {name: SITES[name].tests.get("recrawl_requests", len(SITES[name].tests["start_urls"])) for name in SPIDERS}
# Pages as the crawl archives them, from each site file's ``tests.archived``.
ARCHIVED = [
    pytest.param(name, page, id=f"{name}:{urlsplit(page['url']).path}")
    for name in SPIDERS + NAMED_SITES
    for page in SITES[name].tests.get("archived", [])
]

CHALLENGE_AND_CAPTCHA_MARKERS = ("captchaPage", "seccaptcha", "comImageValidate", "max-age=300", "window.open")


@pytest.fixture(scope="module")
def named_crawl(tmp_path_factory):
    """The test mirror's own sites, crawled by name, into an empty archive."""
    base = tmp_path_factory.mktemp("named-crawl")
    with start_mirror(challenge=False) as mirror:
        outcome = run_crawl_process(base / "archive.db", mirror.host_map, NAMED_SITES, warc_dir=base / "warc", jobdir=base / "jobs")
    return outcome, base


def documents(db: Path) -> dict[str, dict]:
    return {row["url"]: dict(row) for row in query(db, "select * from documents")}


def test_first_crawl_archives_exactly_the_fixture_articles(first_crawl):
    outcome, base, _ = first_crawl
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr[-3000:]
    assert set(documents(base / "archive.db")) == MIRROR_ARTICLE_URLS
    runs = query(base / "archive.db", "select spider, status, documents_new, failures from crawl_runs order by spider")
    assert [(r["spider"], r["status"], r["failures"]) for r in runs] == [(s, "ok", 0) for s in SPIDERS]
    assert sum(r["documents_new"] for r in runs) == len(MIRROR_ARTICLE_URLS)
    for spider in SPIDERS:
        assert f"\n{spider:20} ok" in outcome.stdout


def test_robots_txt_is_fetched_and_obeyed(first_crawl):
    _, _, log = first_crawl
    hosts = {host for host, _ in log}
    assert {(host, "/robots.txt") for host in hosts} <= set(log)
    assert not [path for _, path in log if path.startswith(("/wcm/", "/admin/", "/cms/", "/jcms/"))]


def test_sites_crawled_only_when_named_archive_their_articles(named_crawl):
    """A site added with only its host, publisher and column (tests/fixtures/sites/tongxi.yaml): its
    lists are read generically, its pages archived with its own publisher."""
    outcome, base = named_crawl
    assert outcome.returncode == 0, outcome.stdout + outcome.stderr[-3000:]
    archived = documents(base / "archive.db")
    assert set(archived) == {url for name in NAMED_SITES for url in SITES[name].tests["articles"]}
    runs = query(base / "archive.db", "select spider, status, failures from crawl_runs order by spider")
    assert [(r["spider"], r["status"], r["failures"]) for r in runs] == [(name, "ok", 0) for name in NAMED_SITES]
    for document in archived.values():
        assert document["site"] in NAMED_SITES
        assert document["publisher"] == SITES[document["site"]].publisher


@pytest.mark.parametrize(("name", "page"), ARCHIVED)
def test_pages_are_archived_as_their_site_file_says(request, name, page):
    _, base, *_ = request.getfixturevalue("named_crawl" if name in NAMED_SITES else "first_crawl")
    document = documents(base / "archive.db")[page["url"]]
    assert (document["title"], document["published_at"]) == (page["title"], page["published_at"])
    assert document["body_text"].startswith(page["opening"])
    for boilerplate in [page["absent"]] if isinstance(page["absent"], str) else page["absent"]:
        assert boilerplate not in document["body_text"]
    assert (document["source"], document["editor"]) == (page["source"], page["editor"])


def test_gbk_and_mislabelled_pages_decode(first_crawl):
    _, base, _ = first_crawl
    by_url = documents(base / "archive.db")
    gbk = by_url["http://www.zjsjw.gov.cn/xunshixuncha/202109/t20210915_4799870.shtml"]
    raw = _warc_payload(base / "warc", gbk)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the server's bytes really are GBK
    assert gbk["title"] == "关于十五届县委第三轮巡察整改情况的通报"
    assert "县委第一巡察组对县水利局党组" in gbk["body_text"]
    # Labelled GB2312 in the header, UTF-8 in the bytes.
    mislabelled = by_url["http://politics.people.com.cn/n1/2021/0421/c1001-32083412.html"]
    assert _warc_payload(base / "warc", mislabelled).decode("utf-8")
    assert mislabelled["title"] == "十九届中央第七轮巡视完成反馈"
    assert "中管高校党组织" in mislabelled["body_text"]


def test_no_block_page_is_stored(first_crawl):
    _, base, _ = first_crawl
    for document in documents(base / "archive.db").values():
        text = (document["title"] or "") + document["body_text"]
        assert not [marker for marker in CHALLENGE_AND_CAPTCHA_MARKERS if marker in text], document["url"]


def _responses(warc_dir: Path) -> dict[str, WarcRecord]:
    return {record.header("WARC-Record-ID"): record for record in read_warc(warc_dir) if record.type == "response"}


def _warc_payload(warc_dir: Path, document: dict) -> bytes:
    record = _responses(warc_dir)[document["warc_record_id"]]
    assert record.warc_file == document["warc_file"]
    return record.payload


def test_every_document_points_at_the_warc_record_of_its_bytes(first_crawl):
    _, base, _ = first_crawl
    records = _responses(base / "warc")
    for url, document in documents(base / "archive.db").items():
        record = records[document["warc_record_id"]]
        assert record.warc_file == document["warc_file"]
        assert record.header("WARC-Target-URI") == url
        assert hashlib.sha256(record.payload).hexdigest() == document["raw_sha256"]
    # Every response is captured under its real URL, robots.txt and list pages included.
    uris = [record.header("WARC-Target-URI") for record in records.values()]
    assert not [uri for uri in uris if "127.0.0.1" in uri]
    assert "http://www.bjsupervision.gov.cn/robots.txt" in uris
    assert "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/index_1.html" in uris


def test_rebuild_from_the_warc_files_gives_the_same_archive(first_crawl, tmp_path):
    from archive.rebuild import rebuild

    _, base, _ = first_crawl
    outcomes = rebuild(base / "warc", tmp_path / "rebuilt.db", progress=False).outcomes
    assert dict(outcomes) == {"new": len(MIRROR_ARTICLE_URLS)}
    crawled, rebuilt = documents(base / "archive.db"), documents(tmp_path / "rebuilt.db")
    assert {url: d["content_sha256"] for url, d in rebuilt.items()} == {url: d["content_sha256"] for url, d in crawled.items()}
    # Same ids, same text and metadata, same disclosures and problems.
    crawl_snapshot, rebuilt_snapshot = snapshot(base / "archive.db"), snapshot(tmp_path / "rebuilt.db")
    assert rebuilt_snapshot == crawl_snapshot
    assert len(rebuilt_snapshot["disclosures"]) >= 10 and len(rebuilt_snapshot["problems"]) >= 20
    # The list page's hints travel with the capture.
    url = "https://www.ccdi.gov.cn/pln/202110/t20211029_253300.html"
    assert (rebuilt[url]["title"], rebuilt[url]["published_at"]) == (crawled[url]["title"], crawled[url]["published_at"])


def test_recrawls_fetch_only_first_list_pages_then_only_the_new_article(first_crawl, tmp_path):
    _, base, _ = first_crawl
    db = tmp_path / "archive.db"
    shutil.copy(base / "archive.db", db)
    sites = copy_sites(tmp_path / "sites")
    with start_mirror(sites, challenge=False) as mirror:
        unchanged = run_crawl_process(db, mirror.host_map, warc_dir=tmp_path / "warc", jobdir=tmp_path / "jobs")
        assert unchanged.returncode == 0, unchanged.stdout
        second = _last_runs(db)
        assert {s: (r["requests"], r["documents_new"], r["status"]) for s, r in second.items()} == {
            spider: (count, 0, "ok") for spider, count in START_REQUESTS.items()
        }
        beijing = [path for host, path in mirror.request_log if host == "www.bjsupervision.gov.cn"]
        assert beijing == ["/robots.txt", "/zt/shejswxc/xsfk/"]

        _publish_beijing_article(sites / "www.bjsupervision.gov.cn/zt/shejswxc/xsfk")
        mirror.request_log.clear()
        with_new_article = run_crawl_process(db, mirror.host_map, warc_dir=tmp_path / "warc", jobdir=tmp_path / "jobs")
        assert with_new_article.returncode == 0, with_new_article.stdout
        third = _last_runs(db)
        assert {s: r["documents_new"] for s, r in third.items()} == {s: int(s == "beijing") for s in SPIDERS}
        beijing = [path for host, path in mirror.request_log if host == "www.bjsupervision.gov.cn"]
        assert beijing == ["/robots.txt", "/zt/shejswxc/xsfk/", "/zt/shejswxc/xsfk/202112/t20211230_85120.html"]
    added = documents(db)["http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202112/t20211230_85120.html"]
    assert added["title"] == "中共北京市西城区委关于十二届市委第十二轮巡视整改进展情况的通报"
    assert len(documents(db)) == len(MIRROR_ARTICLE_URLS) + 1


def _last_runs(db: Path) -> dict[str, dict]:
    rows = query(db, "select * from crawl_runs where id in (select max(id) from crawl_runs group by spider)")
    return {row["spider"]: dict(row) for row in rows}


def _publish_beijing_article(column: Path) -> None:
    """The site publishes a new report: a new page, listed first on the column."""
    old_title = "中共北京市海淀区委关于十二届市委第十二轮巡视整改进展情况的通报"
    new_title = "中共北京市西城区委关于十二届市委第十二轮巡视整改进展情况的通报"
    article = (column / "202112/t20211210_84512.html").read_text("utf-8")
    (column / "202112/t20211230_85120.html").write_text(
        article.replace(old_title, new_title).replace("海淀区", "西城区").replace("2021-12-10", "2021-12-30"), "utf-8"
    )
    listing = (column / "index.html").read_text("utf-8")
    first_item = '<ul class="list">\n'
    assert first_item in listing
    new_item = f'<li><a href="./202112/t20211230_85120.html" target="_blank" title="{new_title}">{new_title}</a><span>2021-12-30</span></li>\n'
    (column / "index.html").write_text(listing.replace(first_item, first_item + new_item), "utf-8")


def test_archived_page_answering_404_is_marked_gone(first_crawl, tmp_path):
    _, base, _ = first_crawl
    db = tmp_path / "archive.db"
    shutil.copy(base / "archive.db", db)
    sites = copy_sites(tmp_path / "sites")
    column = sites / "www.bjsupervision.gov.cn/zt/shejswxc/xsfk"
    # The site re-dates the newest item on its list, and its page is gone.
    listing = (column / "index.html").read_text("utf-8")
    (column / "index.html").write_text(listing.replace("<span>2021-12-10</span>", "<span>2021-12-13</span>"), "utf-8")
    (column / "202112/t20211210_84512.html").unlink()
    with start_mirror(sites, challenge=False) as mirror:
        outcome = run_crawl_process(db, mirror.host_map, ("beijing",), warc_dir=tmp_path / "warc")
    gone_url = "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202112/t20211210_84512.html"
    assert [row["url"] for row in query(db, "select url from documents where gone_at is not null")] == [gone_url]
    assert (gone_url, "gone") in page_kinds(tmp_path / "warc")
    assert outcome.returncode == 0, outcome.stdout
    assert (_last_runs(db)["beijing"]["status"], _last_runs(db)["beijing"]["errors"]) == ("ok", "{}")


def test_captcha_stops_that_site_only(tmp_path, sites_dir, mirror_factory):
    # Every CCDI column and its search answer with the slider CAPTCHA.
    mirror = mirror_factory(sites_dir, challenge=False, captcha_paths={"/xsxcn/", "/yaowenn/", "/was5/"})
    db = tmp_path / "archive.db"
    outcome = run_crawl_process(db, mirror.host_map, ("ccdi", "beijing"), warc_dir=tmp_path / "warc")
    assert outcome.returncode == 1
    runs = _last_runs(db)
    assert runs["ccdi"]["status"] == "stopped_captcha"
    assert re.match(
        r"CAPTCHA page at https://www\.ccdi\.gov\.cn/\S+: stopped crawling www\.ccdi\.gov\.cn\. "
        r"Pass it in a real browser, export that browser's cookies and rerun with --cookie-file\.$",
        runs["ccdi"]["message"],
    )
    assert runs["ccdi"]["message"] in outcome.stdout
    assert runs["beijing"]["status"] == "ok"
    urls = set(documents(db))
    assert urls == {url for url in MIRROR_ARTICLE_URLS if "bjsupervision" in url}
    # The CAPTCHA pages themselves are kept in the WARC, marked.
    kinds = page_kinds(tmp_path / "warc")
    assert {kind for url, kind in kinds if urlsplit(url).hostname == "www.ccdi.gov.cn"} == {"captcha"}
    assert {kind for url, kind in kinds if urlsplit(url).hostname != "www.ccdi.gov.cn"} == {"article"}


def test_retries_back_off_and_honour_retry_after():
    from scrapy.http import Response
    from scrapy.utils.test import get_crawler

    from crawler.middlewares import BackoffRetryMiddleware, retry_after_seconds

    crawler = get_crawler(settings_dict={"RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_MAX": 120.0})
    middleware = BackoffRetryMiddleware.from_crawler(crawler)
    assert [middleware.backoff_delay(attempt, None) for attempt in (1, 2, 3, 8)] == [2.0, 4.0, 8.0, 120.0]
    assert middleware.backoff_delay(1, 30.0) == 30.0
    assert middleware.backoff_delay(1, 3600.0) == 120.0
    url = "https://www.ccdi.gov.cn/xsxcn/"
    assert retry_after_seconds(Response(url, status=429, headers={"Retry-After": "7"})) == 7.0
    assert retry_after_seconds(Response(url, status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after_seconds(Response(url, status=503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 -0000"})) == 0.0
    assert retry_after_seconds(Response(url, status=503)) is None
