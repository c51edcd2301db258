"""Spiders on the mirror's fixture pages, City Scrapers style: each callback gets
a Scrapy response built from the fixture bytes under the real URL, and what it
yields is compared with the exact requests, titles, dates and items expected."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import unquote

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from conftest import SITES
from crawler.items import ArticlePage
from crawler.mirror.responses import fixture_response
from crawler.listing import list_date
from crawler.mixins import TITLE_FILTERS, Column, ProfileSpider

LOADER = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": ["crawler.spiders"]}))
CCDI = "https://www.ccdi.gov.cn"
# What each site file says its spider does on the fixture pages (``tests`` in sites/<name>.yaml).
WITH_START_URLS = sorted(name for name, profile in SITES.items() if "start_urls" in profile.tests)
WITH_ARTICLES = sorted(name for name, profile in SITES.items() if "articles" in profile.tests)
LIST_PAGES = [
    pytest.param(name, page, id=f"{name}:{page['url'].split('//', 1)[1]}")
    for name, profile in sorted(SITES.items())
    for page in profile.tests.get("lists", [])
]


def make_spider(name: str):
    return LOADER.load(name)()


def start_requests_of(spider) -> list[Request]:
    async def collect():
        return [request async for request in spider.start()]

    return asyncio.run(collect())


def follow(request: Request, **meta) -> list:
    """What the request's callback yields for the fixture page at its URL."""
    response = fixture_response(request.url, meta=meta)
    return list(request.callback(response, **request.cb_kwargs))


def split(spider, results: list) -> tuple[list[tuple[str, dict]], list[str]]:
    """(article url + hints, other request urls) of a list callback's output."""
    articles = [(r.url, r.cb_kwargs["hints"]) for r in results if r.callback == spider.parse_article]
    pages = [r.url for r in results if r.callback != spider.parse_article]
    return articles, pages


def list_request(spider, url: str, column_index: int = 0) -> Request:
    return Request(url, callback=spider.parse_list, cb_kwargs={"column": spider.columns()[column_index]})


def listing_request(spider, page: dict) -> Request:
    """The request for a list page of a site file: its listing's start request (same
    callback and column, or search) sent to the page's URL."""
    for start in start_requests_of(spider):
        column = start.cb_kwargs["column"]
        if "search" in page and start.callback == spider.parse_search and page["search"] in unquote(column.url):
            return start.replace(url=page["url"])
        if "column" in page and start.callback == spider.parse_list and column.name == page["column"]:
            return start.replace(url=page["url"])
    raise AssertionError(f"{spider.name} has no listing for {page}")


# -- every spider ----------------------------------------------------------------


def test_one_spider_per_site_file():
    assert sorted(LOADER.list()) == sorted(SITES)
    for name, profile in SITES.items():
        assert LOADER.load(name).profile_name == name


@pytest.mark.parametrize("name", WITH_START_URLS)
def test_start_yields_the_profile_listings(name):
    spider = make_spider(name)
    requests = start_requests_of(spider)
    assert [r.url for r in requests] == SITES[name].tests["start_urls"]
    assert spider.allowed_domains == list(spider.profile.hosts)


@pytest.mark.parametrize(("name", "page"), LIST_PAGES)
def test_list_page_items_and_next_page(name, page):
    """Each list page of a site file: the exact article requests, with their hints
    (title, list date, column), and the next page, nothing else."""
    spider = make_spider(name)
    articles, pages = split(spider, follow(listing_request(spider, page)))
    column = page.get("column")
    assert articles == [
        (item["url"], {"title": item["title"], "published_at": item["published_at"], "column": column})
        for item in page["items"]
    ]
    assert pages == ([page["next"]] if page["next"] else [])


@pytest.mark.parametrize(("name", "page"), LIST_PAGES)
def test_generic_reading_finds_what_the_profile_selects(name, page):
    """Every site's list pages, read as for a site whose profile gives only its
    columns (no list selectors, no pagination, no CMS family): the same items,
    titles, dates and next page as the profile's own reading."""
    spider = type("GenericSpider", (ProfileSpider,), {"name": name, "profile_name": name})()
    spider.site_settings = {k: v for k, v in spider.site_settings.items() if k not in ("cms", "list", "pagination", "search")}
    column = next((c for c in spider.columns() if c.name == page.get("column")), None) or Column(page["url"], None)
    articles, pages = split(spider, follow(Request(page["url"], callback=spider.parse_list, cb_kwargs={"column": column})))
    assert articles == [
        (item["url"], {"title": item["title"], "published_at": item["published_at"], "column": column.name})
        for item in page["items"]
    ]
    assert pages == ([page["next"]] if page["next"] else [])


@pytest.mark.parametrize("name", WITH_ARTICLES)
def test_walking_the_fixture_site_reaches_every_article(name):
    """Follows every list and pagination request through the fixture pages."""
    spider = make_spider(name)
    queue, seen_lists, articles = start_requests_of(spider), [], set()
    while queue:
        request = queue.pop(0)
        seen_lists.append(request.url)
        for result in follow(request):
            if result.callback == spider.parse_article:
                fixture_response(result.url)  # every linked article has its page
                articles.add(result.url)
            else:
                queue.append(result)
    assert articles == set(SITES[name].tests["articles"])
    assert len(seen_lists) == len(set(seen_lists))


# -- list walking --------------------------------------------------------------------


def test_a_known_item_ends_the_column_pagination():
    spider = make_spider("ccdi")
    known = f"{CCDI}/xsxcn/xsgz/202303/t20230331_256902.html"
    asked = []

    def is_known(url, list_date):
        asked.append((url, list_date))
        return url == known

    spider.is_known = is_known
    articles, pages = split(spider, follow(list_request(spider, f"{CCDI}/xsxcn/xsgz/", 1)))
    assert [url for url, _ in articles] == [f"{CCDI}/xsxcn/xsgz/202304/t20230410_257801.html"]
    assert pages == []
    assert asked == [
        (f"{CCDI}/xsxcn/xsgz/202304/t20230410_257801.html", "2023-04-10"),
        (known, "2023-03-31"),
    ]


def test_filtered_out_titles_are_never_looked_up():
    spider = make_spider("ccdi")
    asked = []
    spider.is_known = lambda url, list_date: asked.append(url) or False
    follow(list_request(spider, f"{CCDI}/yaowenn/", 2))
    assert asked == [f"{CCDI}/toutiaon/202110/t20211027_253131.html", f"{CCDI}/yaowenn/202110/t20211027_253108.html"]


def test_article_callback_yields_the_page_as_sent():
    spider = make_spider("ccdi")
    url = f"{CCDI}/yaowenn/202110/t20211027_253108.html"
    hints = {"title": "中共河北省委关于十九届中央第六轮巡视整改进展情况的通报", "published_at": "2021-10-27", "column": "要闻"}
    request = Request(url, callback=spider.parse_article, cb_kwargs={"hints": hints})
    [item] = follow(request, warc_file="run-1/00000.warc.gz", warc_record_id="<urn:uuid:1234>")
    assert isinstance(item, ArticlePage)
    assert item["url"] == url
    assert item["status"] == 200
    assert item["headers"] == {"Content-Type": "text/html; charset=utf-8"}
    assert item["body"] == fixture_response(url).body
    assert item["warc_file"] == "run-1/00000.warc.gz"
    assert item["warc_record_id"] == "<urn:uuid:1234>"
    assert item["hints"] == hints
    assert (item["spider"], item["profile"]) == ("ccdi", "ccdi")
    assert item["fetched_at"].endswith("+00:00") and item["fetched_at"][:2] == "20"


def test_article_item_keeps_undecoded_gbk_bytes():
    spider = make_spider("people")
    url = "http://politics.people.com.cn/n1/2021/1028/c1001-32266401.html"
    [item] = follow(Request(url, callback=spider.parse_article, cb_kwargs={"hints": {}}))
    assert item["headers"]["Content-Type"] == "text/html; charset=GB2312"
    assert "中共河北省委关于十九届中央第六轮巡视整改进展情况的通报".encode("gbk") in item["body"]
    assert (item["warc_file"], item["warc_record_id"]) == (None, None)


def test_a_page_without_list_items_yields_nothing_and_warns(caplog):
    spider = make_spider("ccdi")
    with caplog.at_level(logging.WARNING, logger="crawler.mixins"):
        results = follow(list_request(spider, f"{CCDI}/yaowenn/202110/t20211027_253108.html", 2))
    assert results == []
    assert "No list items on https://www.ccdi.gov.cn/yaowenn/202110/t20211027_253108.html" in caplog.text


def test_list_items_without_a_usable_link_are_skipped():
    spider = make_spider("beijing")
    url = "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/index.html"
    body = (
        '<ul class="list"><li><a>没有链接的条目</a><span>2021-12-11</span></li>'
        '<li><a href="./202112/t20211210_84512.html"> </a><span>2021-12-10</span></li>'
        '<li><a href="./202111/t20211122_83977.html">关于巡察整改情况的通报</a><span>2021-11-22</span></li></ul>'
    ).encode()
    response = HtmlResponse(url=url, body=body, encoding="utf-8", request=Request(url))
    articles, pages = split(spider, list(spider.parse_list(response, spider.columns()[0])))
    assert articles == [
        (
            "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202111/t20211122_83977.html",
            {"title": "关于巡察整改情况的通报", "published_at": "2021-11-22", "column": "巡视巡察反馈"},
        )
    ]
    assert pages == []


# -- shared helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "url", "expected"),
    [
        ("2022-05-09", "https://www.ccdi.gov.cn/yaowenn/202205/t20220509_191284.html", "2022-05-09"),
        ("2025-04-28 06:30", "", "2025-04-28T06:30+08:00"),
        ("2021年04月21日", "", "2021-04-21"),
        ("(10月28日 08:01)", "https://finance.sina.com.cn/roll/2021-10-28/doc-iktzscyy2216354.shtml", "2021-10-28T08:01+08:00"),
        ("", "http://jw.tongxi.test/art/2021/9/28/art_4125_1203.html", "2021-09-28"),
        ("", "http://politics.people.com.cn/n1/2021/0421/c1001-32083412.html", "2021-04-21"),
        ("", "https://www.ccdi.gov.cn/yaowenn/202110/t20211027_253108.html", "2021-10-27"),
        ("", "https://www.gdjct.gd.gov.cn/swxsnew/xszg82/content/post_162287.html", None),
    ],
)
def test_list_date(text, url, expected):
    assert list_date(text, url) == expected


@pytest.mark.parametrize(
    ("title", "kept"),
    [
        ("中共河北省委关于十九届中央第六轮巡视整改进展情况的通报", True),
        ("关于巡察整改阶段情况的通报", True),
        ("中共某某集团党委关于中央第三巡视组专项巡视反馈意见整改情况的通报", True),
        ("十九届中央第六轮巡视整改进展情况综述", True),
        ("中央第八巡视组向吉林省委反馈巡视情况", True),
        ("二十届中央第一轮巡视完成进驻", True),
        ("中共某某省委關於十九屆中央第六輪巡視整改進展情況的通報", True),
        ("中央纪委国家监委公开通报五起违反中央八项规定精神典型问题", False),
        ("深化纪检监察体制改革 推动监督体系贯通协同", False),
        ("央行开展1000亿元中期借贷便利操作", False),
        ("某某市关于中央生态环境保护督察反馈问题整改情况的通报", False),
    ],
)
def test_disclosure_title_filter(title, kept):
    assert bool(TITLE_FILTERS["disclosure"].search(title)) is kept
