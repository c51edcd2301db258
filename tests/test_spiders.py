"""Spiders on the mirror's fixture pages, City Scrapers style: each callback gets
a Scrapy response built from the fixture bytes under the real URL, and what it
yields is compared with the exact requests, titles, dates and items expected."""

from __future__ import annotations

import asyncio
import logging

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from crawler.items import ArticlePage
from crawler.mirror.responses import fixture_response
from crawler.mixins import TITLE_FILTERS, list_date

LOADER = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": ["crawler.spiders"]}))
CCDI = "https://www.ccdi.gov.cn"
SEARCH_XSZG_1 = f"{CCDI}/was5/web/search?channelid=298814&searchword=%E5%B7%A1%E8%A7%86%E6%95%B4%E6%94%B9&page=1"
SEARCH_XSZG_2 = (
    f"{CCDI}/was5/web/search?page=2&channelid=298814&searchword=%E5%B7%A1%E8%A7%86%E6%95%B4%E6%94%B9"
    "&keyword=%E5%B7%A1%E8%A7%86%E6%95%B4%E6%94%B9&orderby=-DocRelTime&perpage=10&andsen=&total=&orsen=&exclude="
)
SEARCH_XCZG_1 = f"{CCDI}/was5/web/search?channelid=298814&searchword=%E5%B7%A1%E5%AF%9F%E6%95%B4%E6%94%B9&page=1"

START_URLS = {
    "ccdi": [f"{CCDI}/xsxcn/", f"{CCDI}/xsxcn/xsgz/", f"{CCDI}/yaowenn/", SEARCH_XSZG_1, SEARCH_XCZG_1],
    "beijing": ["http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/"],
    "zhejiang": ["http://www.zjsjw.gov.cn/xunshixuncha/index.shtml"],
    "guangdong": ["https://www.gdjct.gd.gov.cn/swxsnew/xszg82/"],
    "chongqing": ["http://jjc.cq.gov.cn/col/col610287/index.html"],
    "sina": ["https://finance.sina.com.cn/roll/index.d.html?cid=56588&page=1"],
    "people": ["http://politics.people.com.cn/GB/1027/index1.html"],
    "dangyuan": ["https://www.12371.cn/special/xsgz/"],
    "faultsite": ["http://www.faultsite.test/xsxc/"],  # the fault mirror's site: tests/test_faults.py
}

ARTICLES = {
    "ccdi": {
        f"{CCDI}/xsxcn/xsgz/202304/t20230410_257801.html",
        f"{CCDI}/xsxcn/xsgz/202303/t20230331_256902.html",
        f"{CCDI}/xsxcn/xsgz/202110/t20211028_253215.html",
        f"{CCDI}/xsxcn/xsgz/202101/t20210127_234501.html",
        f"{CCDI}/xsxcn/xsgz/202010/t20201016_228810.html",
        f"{CCDI}/pln/202110/t20211029_253300.html",
        f"{CCDI}/toutiaon/202110/t20211027_253131.html",
        f"{CCDI}/yaowenn/202110/t20211027_253108.html",
        f"{CCDI}/yaowenn/202110/t20211022_252640.html",
    },
    "beijing": {
        "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202112/t20211210_84512.html",
        "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202111/t20211122_83977.html",
        "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202108/t20210806_81230.html",
    },
    "zhejiang": {
        "http://www.zjsjw.gov.cn/xunshixuncha/202109/t20210928_4801123.shtml",
        "http://www.zjsjw.gov.cn/xunshixuncha/202109/t20210915_4799870.shtml",
        "http://www.zjsjw.gov.cn/xunshixuncha/202109/t20210910_4799002.shtml",
    },
    "guangdong": {
        "https://www.gdjct.gd.gov.cn/swxsnew/xszg82/content/post_162287.html",
        "https://www.gdjct.gd.gov.cn/swxsnew/xszg82/content/post_162190.html",
        "https://www.gdjct.gd.gov.cn/swxsnew/xszg82/content/post_158834.html",
    },
    "chongqing": {
        "http://jjc.cq.gov.cn/art/2021/9/28/art_610287_10201234.html",
        "http://jjc.cq.gov.cn/art/2021/7/20/art_610287_10156789.html",
        "http://jjc.cq.gov.cn/art/2021/7/12/art_610287_10150021.html",
    },
    "sina": {
        "https://finance.sina.com.cn/roll/2021-10-28/doc-iktzscyy2216354.shtml",
        "https://finance.sina.com.cn/roll/2021-10-28/doc-iktzqtyu4156271.shtml",
    },
    "people": {
        "http://politics.people.com.cn/n1/2021/1028/c1001-32266401.html",
        "http://politics.people.com.cn/n1/2021/0421/c1001-32083412.html",
    },
    "dangyuan": {
        "https://www.12371.cn/2021/10/23/ARTI1634958315436218.shtml",
        "https://www.12371.cn/2021/01/28/ARTI1611810013548321.shtml",
    },
}


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


# -- every spider ----------------------------------------------------------------


def test_one_spider_per_site():
    assert sorted(LOADER.list()) == sorted(START_URLS)


@pytest.mark.parametrize("name", sorted(START_URLS))
def test_start_yields_the_profile_listings(name):
    spider = make_spider(name)
    requests = start_requests_of(spider)
    assert [r.url for r in requests] == START_URLS[name]
    assert spider.allowed_domains == list(spider.profile.hosts)


@pytest.mark.parametrize("name", sorted(ARTICLES))
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
    assert articles == ARTICLES[name]
    assert len(seen_lists) == len(set(seen_lists))


# -- CCDI (TRS lists, title filter, WAS5 search) -------------------------------------


def test_ccdi_column_page_items_and_trs_pagination():
    spider = make_spider("ccdi")
    articles, pages = split(spider, follow(list_request(spider, f"{CCDI}/xsxcn/xsgz/", column_index=1)))
    assert articles == [
        (
            f"{CCDI}/xsxcn/xsgz/202304/t20230410_257801.html",
            {"title": "二十届中央第一轮巡视完成进驻", "published_at": "2023-04-10", "column": "巡视工作"},
        ),
        (
            f"{CCDI}/xsxcn/xsgz/202303/t20230331_256902.html",
            {"title": "中央巡视工作领导小组部署二十届中央第一轮巡视工作", "published_at": "2023-03-31", "column": "巡视工作"},
        ),
    ]
    # createPageHTML(3, 0, "index", "html"): pages index.html, index_1.html, index_2.html
    assert pages == [f"{CCDI}/xsxcn/xsgz/index_1.html"]
    _, from_second = split(spider, follow(list_request(spider, f"{CCDI}/xsxcn/xsgz/index_1.html", 1)))
    assert from_second == [f"{CCDI}/xsxcn/xsgz/index_2.html"]
    _, from_last = split(spider, follow(list_request(spider, f"{CCDI}/xsxcn/xsgz/index_2.html", 1)))
    assert from_last == []


def test_ccdi_column_root_takes_the_titled_link_not_the_image_link():
    spider = make_spider("ccdi")
    articles, pages = split(spider, follow(list_request(spider, f"{CCDI}/xsxcn/", 0)))
    assert [(url, hints["title"]) for url, hints in articles] == [
        (f"{CCDI}/xsxcn/xsgz/202304/t20230410_257801.html", "二十届中央第一轮巡视完成进驻"),
        (f"{CCDI}/pln/202110/t20211029_253300.html", "以巡视整改实效取信于民"),
        (f"{CCDI}/xsxcn/xsgz/202110/t20211028_253215.html", "十九届中央第六轮巡视整改进展情况综述"),
    ]
    assert pages == []


def test_ccdi_yaowenn_keeps_only_disclosure_titles():
    spider = make_spider("ccdi")
    articles, pages = split(spider, follow(list_request(spider, f"{CCDI}/yaowenn/", 2)))
    assert articles == [
        (
            f"{CCDI}/toutiaon/202110/t20211027_253131.html",
            {"title": "中共吉林省委关于十九届中央第六轮巡视整改进展情况的通报", "published_at": "2021-10-27", "column": "要闻"},
        ),
        (
            f"{CCDI}/yaowenn/202110/t20211027_253108.html",
            {"title": "中共河北省委关于十九届中央第六轮巡视整改进展情况的通报", "published_at": "2021-10-27", "column": "要闻"},
        ),
    ]
    assert pages == [f"{CCDI}/yaowenn/index_1.html"]


def test_ccdi_search_results_are_normalised_to_https_and_paginated():
    spider = make_spider("ccdi")
    search = start_requests_of(spider)[3]
    articles, pages = split(spider, follow(search))
    assert articles == [
        (
            f"{CCDI}/toutiaon/202110/t20211027_253131.html",
            {"title": "中共吉林省委关于十九届中央第六轮巡视整改进展情况的通报", "published_at": "2021-10-27T18:30+08:00", "column": None},
        ),
        (
            f"{CCDI}/yaowenn/202110/t20211027_253108.html",
            {"title": "中共河北省委关于十九届中央第六轮巡视整改进展情况的通报", "published_at": "2021-10-27T18:00+08:00", "column": None},
        ),
        (
            f"{CCDI}/xsxcn/xsgz/202110/t20211028_253215.html",
            {"title": "十九届中央第六轮巡视整改进展情况综述", "published_at": "2021-10-28T06:30+08:00", "column": None},
        ),
    ]
    assert pages == [SEARCH_XSZG_2]
    last_articles, last_pages = split(spider, follow(Request(SEARCH_XSZG_2, callback=spider.parse_search, cb_kwargs=search.cb_kwargs)))
    assert [url for url, _ in last_articles] == [
        f"{CCDI}/yaowenn/202110/t20211022_252640.html",
        f"{CCDI}/pln/202110/t20211029_253300.html",
    ]
    assert last_pages == []


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


# -- provincial CMS families ------------------------------------------------------------


def test_beijing_trs_list():
    spider = make_spider("beijing")
    articles, pages = split(spider, follow(list_request(spider, "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/")))
    assert articles == [
        (
            "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202112/t20211210_84512.html",
            {"title": "中共北京市海淀区委关于十二届市委第十二轮巡视整改进展情况的通报", "published_at": "2021-12-10", "column": "巡视巡察反馈"},
        ),
        (
            "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202111/t20211122_83977.html",
            {"title": "中共北京市朝阳区建外街道工委关于区委第六轮巡察整改情况的通报", "published_at": "2021-11-22", "column": "巡视巡察反馈"},
        ),
    ]
    assert pages == ["http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/index_1.html"]


def test_zhejiang_gbk_list_and_shtml_pages():
    spider = make_spider("zhejiang")
    articles, pages = split(spider, follow(list_request(spider, "http://www.zjsjw.gov.cn/xunshixuncha/index.shtml")))
    assert [(url, hints["title"], hints["published_at"]) for url, hints in articles] == [
        ("http://www.zjsjw.gov.cn/xunshixuncha/202109/t20210928_4801123.shtml", "中共杭州市委关于十四届省委第十一轮巡视整改进展情况的通报", "2021-09-28"),
        ("http://www.zjsjw.gov.cn/xunshixuncha/202109/t20210915_4799870.shtml", "关于十五届县委第三轮巡察整改情况的通报", "2021-09-15"),
    ]
    assert pages == ["http://www.zjsjw.gov.cn/xunshixuncha/index_1.shtml"]
    _, last = split(spider, follow(list_request(spider, "http://www.zjsjw.gov.cn/xunshixuncha/index_1.shtml")))
    assert last == []


def test_guangdong_govcloud_pages_start_at_one():
    spider = make_spider("guangdong")
    first = "https://www.gdjct.gd.gov.cn/swxsnew/xszg82/"
    articles, pages = split(spider, follow(list_request(spider, first)))
    assert articles[0] == (
        "https://www.gdjct.gd.gov.cn/swxsnew/xszg82/content/post_162287.html",
        {"title": "中共广州市委关于十二届省委第十轮巡视整改进展情况的通报", "published_at": "2021-11-30", "column": "巡视整改"},
    )
    # createPageHTML('page_div',2, 1,'index','html',3): the second page is index_2.html
    assert pages == ["https://www.gdjct.gd.gov.cn/swxsnew/xszg82/index_2.html"]
    last_articles, last = split(spider, follow(list_request(spider, pages[0])))
    assert [url for url, _ in last_articles] == ["https://www.gdjct.gd.gov.cn/swxsnew/xszg82/content/post_158834.html"]
    assert last == []


def test_chongqing_hanweb_datastore_records_and_page_numbers():
    spider = make_spider("chongqing")
    articles, pages = split(spider, follow(list_request(spider, "http://jjc.cq.gov.cn/col/col610287/index.html")))
    assert articles == [
        (
            "http://jjc.cq.gov.cn/art/2021/9/28/art_610287_10201234.html",
            {"title": "中共重庆市黔江区委关于五届市委第十轮巡视整改进展情况的通报", "published_at": "2021-09-28", "column": "巡视巡察"},
        ),
        (
            "http://jjc.cq.gov.cn/art/2021/7/20/art_610287_10156789.html",
            {"title": "市委第二巡视组向中共綦江区委反馈巡视情况", "published_at": "2021-07-20", "column": "巡视巡察"},
        ),
    ]
    assert pages == ["http://jjc.cq.gov.cn/col/col610287/index.html?uid=5394561&pageNum=2"]
    last_articles, last = split(spider, follow(list_request(spider, pages[0])))
    assert [url for url, _ in last_articles] == ["http://jjc.cq.gov.cn/art/2021/7/12/art_610287_10150021.html"]
    assert last == []


# -- republishers ------------------------------------------------------------------------


def test_sina_roll_filters_titles_and_dates_items_from_their_urls():
    spider = make_spider("sina")
    first = "https://finance.sina.com.cn/roll/index.d.html?cid=56588&page=1"
    articles, pages = split(spider, follow(list_request(spider, first)))
    assert articles == [
        (
            "https://finance.sina.com.cn/roll/2021-10-28/doc-iktzscyy2216354.shtml",
            {"title": "中共河北省委关于十九届中央第六轮巡视整改进展情况的通报", "published_at": "2021-10-28T08:01+08:00", "column": "国内财经滚动"},
        ),
        (
            "https://finance.sina.com.cn/roll/2021-10-28/doc-iktzqtyu4156271.shtml",
            {"title": "十九届中央第六轮巡视整改进展情况综述", "published_at": "2021-10-28T07:12+08:00", "column": "国内财经滚动"},
        ),
    ]
    assert pages == ["https://finance.sina.com.cn/roll/index.d.html?cid=56588&page=2"]
    assert split(spider, follow(list_request(spider, pages[0]))) == ([], [])


def test_people_next_link_and_gbk_titles():
    spider = make_spider("people")
    articles, pages = split(spider, follow(list_request(spider, "http://politics.people.com.cn/GB/1027/index1.html")))
    assert articles == [
        (
            "http://politics.people.com.cn/n1/2021/1028/c1001-32266401.html",
            {"title": "中共河北省委关于十九届中央第六轮巡视整改进展情况的通报", "published_at": "2021-10-28", "column": "时政"},
        )
    ]
    assert pages == ["http://politics.people.com.cn/GB/1027/index2.html"]
    last_articles, last = split(spider, follow(list_request(spider, pages[0])))
    assert last_articles == [
        (
            "http://politics.people.com.cn/n1/2021/0421/c1001-32083412.html",
            {"title": "十九届中央第七轮巡视完成反馈", "published_at": "2021-04-21", "column": "时政"},
        )
    ]
    assert last == []


def test_dangyuan_topic_page():
    spider = make_spider("dangyuan")
    articles, pages = split(spider, follow(list_request(spider, "https://www.12371.cn/special/xsgz/")))
    assert [(url, hints["published_at"]) for url, hints in articles] == [
        ("https://www.12371.cn/2021/10/23/ARTI1634958315436218.shtml", "2021-10-23"),
        ("https://www.12371.cn/2021/01/28/ARTI1611810013548321.shtml", "2021-01-28"),
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
        ("", "http://jjc.cq.gov.cn/art/2021/9/28/art_610287_10201234.html", "2021-09-28"),
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
