"""Discovery (crawler/discovery.py) and the host registry (crawler/registry.py): the
readers on built pages, then real crawls of the ten CMS-family test sites of the mirror
(crawler/mirror/families.py) through ``python -m archive crawl --hosts``."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request

from crawler.discovery import (
    DiscoveryMixin,
    column_links,
    hanweb_module_url,
    module_entries,
    module_next,
    postback_next,
    site_map_links,
)
from crawler.mirror import start_mirror
from crawler.mirror.families import SITES, SITES_BY_HOST
from crawler.registry import RegistryError, crawl_plan, load_hosts

ROOT = Path(__file__).resolve().parents[1]
TEST_HOSTS = ROOT / "crawler/mirror/discovery_hosts.csv"


def page(url: str, html: str, encoding: str = "utf-8") -> HtmlResponse:
    return HtmlResponse(url=url, body=html.encode(encoding), encoding=encoding, request=Request(url))


def built(host: str, path: str, query: str = "", form: str = "") -> HtmlResponse:
    """A family site's page as the mirror answers a browser for it."""
    site = SITES_BY_HOST[host]
    status, headers, body = site.respond("https" if site.redirects else "http", path, query, form, "Mozilla/5.0")
    assert status == 200
    url = f"{site.origin}{path}" + (f"?{query}" if query else "")
    return HtmlResponse(url=url, body=body, headers=headers, request=Request(url))


# -- finding columns -----------------------------------------------------------------------


def test_column_links_are_short_inspection_names_or_paths_on_the_site():
    response = page("http://jw.example.test/", """
        <a href="/xsxc/">巡视巡察</a> <a href="/xczg/">巡察整改工作</a> <a href="/dflz/">党风廉政</a>
        <a href="/gzdt/">工作动态</a> <a href="/scdc/">审查调查</a>
        <a href="/a/xunchazhenggai/">专栏</a> <a href="/a/xunchazhenggai/list_5_2.html">2</a>
        <a href="/a/xunchazhenggai/list_5_3.html">下一页</a>
        <a href="/xsxc/2024/t20240305_1.html">中共县水利局党组关于县委第三轮巡察整改情况的通报</a>
        <a href="http://other.example.test/xunshi/">巡视工作</a> <a href="javascript:void(0)">巡视</a>""")
    links = column_links(response, ["jw.example.test"])
    assert [(link.url, link.name) for link in links] == [
        ("http://jw.example.test/xsxc/", "巡视巡察"),
        ("http://jw.example.test/xczg/", "巡察整改工作"),
        ("http://jw.example.test/dflz/", "党风廉政"),
        ("http://jw.example.test/a/xunchazhenggai/", "专栏"),
    ]
    assert links[0].found_by == "link «巡视巡察» on http://jw.example.test/"
    assert links[3].found_by == "link path /a/xunchazhenggai/ on http://jw.example.test/"


def test_the_site_map_is_a_hub_and_a_site_without_nav_columns_is_found_through_it():
    home = built("www.dede-county.test", "/")
    assert column_links(home, ["www.dede-county.test"]) == []
    assert site_map_links(home) == ["http://www.dede-county.test/sitemap.html"]
    site_map = built("www.dede-county.test", "/sitemap.html")
    assert [link.url for link in column_links(site_map, ["www.dede-county.test"])] == ["http://www.dede-county.test/a/xunchazhenggai/"]


def test_hanweb_module_records_and_windows():
    column = built("jw.hanweb-city.test", "/col/col10/index.html")
    module = hanweb_module_url(column)
    assert module == "http://jw.hanweb-city.test/module/web/jpage/dataproxy.jsp?columnid=10&endrecord=2&perpage=2&startrecord=1&unitid=8810&webid=1"
    first = built("jw.hanweb-city.test", "/module/web/jpage/dataproxy.jsp", module.split("?", 1)[1])
    assert [entry.url for entry in module_entries(first)] == [
        "http://jw.hanweb-city.test/art/2024/12/27/art_10_1001.html",
        "http://jw.hanweb-city.test/art/2024/12/26/art_10_1002.html",
    ]
    assert module_entries(first)[0].published_at == "2024-12-27"
    second_url = module_next(first)
    assert "startrecord=3" in second_url and "endrecord=4" in second_url
    third = built("jw.hanweb-city.test", "/module/web/jpage/dataproxy.jsp", module_next(built(
        "jw.hanweb-city.test", "/module/web/jpage/dataproxy.jsp", second_url.split("?", 1)[1])).split("?", 1)[1])
    assert len(module_entries(third)) == 1 and module_next(third) is None  # 5 records: 2 + 2 + 1


def test_aspnet_pager_posts_the_form_back():
    first = built("www.aspnet-county.test", "/News/List.aspx", "cid=10")
    request = postback_next(first)
    assert request.method == "POST"
    assert request.url == "http://www.aspnet-county.test/News/List.aspx?cid=10"
    form = dict(pair.split("=", 1) for pair in request.body.decode().split("&"))
    assert form["__EVENTARGUMENT"] == "2" and form["__EVENTTARGET"] == "ctl00%24Main%24Pager" and form["__VIEWSTATE"]
    last = built("www.aspnet-county.test", "/News/List.aspx", "cid=10", "__EVENTARGUMENT=3")
    assert postback_next(last) is None


# -- the registry -------------------------------------------------------------------------


def test_the_registry_holds_every_provincial_level_commission_with_a_source():
    entries = load_hosts()
    assert len({entry.host for entry in entries}) == len(entries)
    assert all(entry.source for entry in entries)
    provincial = [entry for entry in entries if entry.level == "provincial"]
    assert len(provincial) == 32 and {"新疆生产建设兵团", "上海市", "西藏自治区"} <= {entry.province for entry in provincial}
    assert {entry.level for entry in entries} == {"central", "provincial", "city"}
    assert sum(entry.kind == "soe" for entry in entries) == 5


@pytest.mark.parametrize(("text", "message"), [
    ("host,name\nwww.a.test,A\n", "the header must be host,name,province,level,kind,source"),
    ("host,name,province,level,kind,source\nwww.a.test,A,,city,discipline_commission,\n", "www.a.test has no source"),
    ("host,name,province,level,kind,source\nhttp://www.a.test/,A,,city,x,somewhere\n", "is not a host name"),
])
def test_a_malformed_hosts_file_is_refused_with_its_line(tmp_path, text, message):
    path = tmp_path / "hosts.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError, match=message):
        load_hosts(path)


def test_a_profiled_host_keeps_its_spider_and_others_get_a_discovery_spider():
    entries = load_hosts(TEST_HOSTS) + [entry for entry in load_hosts() if entry.host in ("www.tjjw.gov.cn", "www.hrblz.gov.cn")]
    profiled, discovering = crawl_plan(entries)
    assert profiled == ["tianjin"]
    assert [cls.name for cls in discovering] == [site.host for site in SITES] + ["www.hrblz.gov.cn"]
    harbin = discovering[-1]()
    assert isinstance(harbin, DiscoveryMixin)
    assert (harbin.profile.publisher, harbin.profile.settings["province"], harbin.profile.settings["level"]) == ("哈尔滨市纪委监委", "黑龙江省", "city")
    assert harbin.home_pages() == ["http://www.hrblz.gov.cn/"]


# -- crawls of the family sites ------------------------------------------------------------


def crawl_hosts(db: Path, host_map: dict, *settings: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "archive", "crawl", "--hosts", str(TEST_HOSTS), "--db", str(db),
               "-s", f"MIRROR_HOST_MAP={json.dumps(host_map)}"]
    for setting in settings:
        command += ["-s", setting]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two polite crawls of the family sites into one archive (short delays, every
    answer 50 ms, so requests of one host would overlap without the per-host limit)."""
    db = tmp_path_factory.mktemp("discovery") / "archive.db"
    polite = ("DOWNLOAD_DELAY=0.02", "AUTOTHROTTLE_START_DELAY=0.02", "AUTOTHROTTLE_MAX_DELAY=0.2")
    with start_mirror(delay=0.05) as mirror:
        first = crawl_hosts(db, mirror.host_map, *polite)
        first_in_flight = dict(mirror.max_in_flight)
        second = crawl_hosts(db, mirror.host_map, *polite)
        second_log = list(mirror.request_log)
    return db, first, second, first_in_flight, second_log


@pytest.mark.slow
@pytest.mark.mirror
@pytest.mark.browser
def test_discovery_archives_every_inspection_article_and_nothing_else(two_runs):
    db, first, *_ = two_runs
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    conn = sqlite3.connect(db)
    archived = {url for (url,) in conn.execute("select url from documents")}
    assert archived == set().union(*(site.inspection_articles for site in SITES))
    assert len(archived) == 52
    runs = conn.execute("select spider, status, documents_new from crawl_runs order by id limit 10").fetchall()
    assert [(spider, status) for spider, status, _ in runs] == [(site.host, "ok") for site in SITES]
    publishers = dict(conn.execute("select url, publisher from documents"))
    assert {publishers[url] for url in SITES_BY_HOST["www.gbk-county.test"].inspection_articles} == {"石门县纪委监委网站"}


@pytest.mark.slow
@pytest.mark.mirror
@pytest.mark.browser
def test_discovered_columns_are_stored_reported_and_reused(two_runs):
    db, first, second, _, second_log = two_runs
    columns = sqlite3.connect(db).execute("select host, url, name, found_by from discovered_columns order by url").fetchall()
    assert len(columns) == 11
    assert ("www.dede-county.test", "http://www.dede-county.test/a/xunchazhenggai/", "巡察整改",
            "link «巡察整改» on http://www.dede-county.test/sitemap.html") in columns
    assert ("www.redirect-city.test", "https://www.redirect-city.test/xszg/", "巡视整改",
            "link «巡视整改» on https://www.redirect-city.test/portal/") in columns
    assert "\njw.hanweb-city.test: 2 inspection column(s)\n" in first.stdout
    assert "www.refuse-agents.test answers 403 to the crawler's user agent" in first.stderr
    # The second run starts from the stored columns too, finds their first items known, adds nothing.
    assert second.returncode == 0, second.stdout + second.stderr[-3000:]
    assert "stored by an earlier run" in second.stderr
    new = sqlite3.connect(db).execute("select sum(documents_new) from crawl_runs where id > 10").fetchone()[0]
    assert new == 0


@pytest.mark.slow
@pytest.mark.mirror
@pytest.mark.browser
def test_per_host_limits_hold_and_robots_is_read_first(two_runs):
    _, _, _, in_flight, log = two_runs
    for site in SITES:
        assert 1 <= in_flight[site.host] <= 2, (site.host, in_flight[site.host])  # CONCURRENT_REQUESTS_PER_DOMAIN
        paths = [path for host, path in log if host == site.host]
        assert paths[0] == "/robots.txt"


def test_cluster_crawls_refuse_hosts_without_a_site_file(tmp_path):
    from click.testing import CliRunner

    from archive.cli import cli

    result = CliRunner().invoke(cli, ["crawl", "--host", "www.hrblz.gov.cn", "--cluster", "redis://127.0.0.1:1/0",
                                      "--db", str(tmp_path / "archive.db")])
    assert result.exit_code == 2
    assert "cluster workers do not run discovery spiders yet" in result.output
