"""Generic list reading (crawler/listing.py) on small pages of the shapes these CMSs
print.  Every fixture site's list pages are also read generically in
tests/test_spiders.py (test_generic_reading_finds_what_the_profile_selects)."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Request

from crawler.listing import ListEntry, generic_entries, generic_next_page

COLUMN = "http://jw.example.test/xcgz/index.html"


def page(body: str, url: str = COLUMN) -> HtmlResponse:
    html = f"<html><head><title>巡察工作</title></head><body>{body}</body></html>"
    return HtmlResponse(url=url, body=html.encode("utf-8"), encoding="utf-8", request=Request(url))


NAV = '<ul class="nav"><li><a href="/">首页</a></li><li><a href="/xcgz/">巡察工作</a></li><li><a href="/gzdt/">工作动态栏目</a></li></ul>'
SIDEBAR = (
    '<div class="side"><h3>热点文章</h3><ul class="hot">'
    '<li><a href="/gzdt/202105/t20210506_901.html">全县警示教育大会召开</a><span>2021-05-06</span></li>'
    "</ul></div>"
)


def test_the_largest_group_of_dated_link_blocks_is_the_list():
    response = page(
        NAV
        + '<div class="list"><ul>'
        '<li><a href="./202109/t20210928_1203.html" title="中共青溪县水利局党组关于县委第三轮巡察整改情况的通报">中共青溪县水利局党组关于县委第三轮巡察…</a><span>2021-09-28</span></li>'
        '<li><a href="./202109/t20210915_1187.html">县委第二巡察组向县教育局党组反馈巡察情况</a><span>2021年09月15日</span></li>'
        "</ul></div>"
        + SIDEBAR
        + '<div class="foot"><a href="/gywm/">关于我们</a> 2021-12-31 更新</div>'
    )
    assert generic_entries(response) == [
        ListEntry("http://jw.example.test/xcgz/202109/t20210928_1203.html", "中共青溪县水利局党组关于县委第三轮巡察整改情况的通报", "2021-09-28"),
        ListEntry("http://jw.example.test/xcgz/202109/t20210915_1187.html", "县委第二巡察组向县教育局党组反馈巡察情况", "2021-09-15"),
    ]


def test_blocks_are_found_above_their_link_in_rows_and_headings():
    rows = page(
        '<table class="newslist">'
        '<tr><td><span class="dot"></span><a href="/art/2021/9/28/art_12_345.html">关于县委第三轮巡察整改情况的通报</a></td><td>2021-09-28</td></tr>'
        '<tr><td><span class="dot"></span><a href="/art/2021/9/15/art_12_301.html">县委巡察组完成进驻工作</a></td><td>2021-09-15</td></tr>'
        "</table>"
    )
    assert [(e.url, e.published_at) for e in generic_entries(rows)] == [
        ("http://jw.example.test/art/2021/9/28/art_12_345.html", "2021-09-28"),
        ("http://jw.example.test/art/2021/9/15/art_12_301.html", "2021-09-15"),
    ]
    headed = page(
        '<div id="list"><ul>'
        '<li><h1><a href="http://jw.example.test/html/2021-09/28/content_5012.htm">关于县委第三轮巡察整改情况的通报</a></h1><div>2021-09-28</div></li>'
        "</ul></div>"
    )
    assert generic_entries(headed) == [
        ListEntry("http://jw.example.test/html/2021-09/28/content_5012.htm", "关于县委第三轮巡察整改情况的通报", "2021-09-28")
    ]


def test_a_script_array_of_articles_wins_over_a_shorter_html_list():
    response = page(
        SIDEBAR
        + '<div class="list_box"><ul></ul></div><script type="text/javascript">'
        'var list = [{"title":"关于巡察整改情况的通报 \\u2014 第一批","url":"/2021/09/28/ARTI001.shtml","time":"2021-09-28 10:05:00"},'
        "{'title':'县委巡察组反馈\\'巡察\\'情况','url':'/2021/09/15/ARTI002.shtml','time':'2021-09-15 09:00:00'}];"
        "</script>"
    )
    assert generic_entries(response) == [
        ListEntry("http://jw.example.test/2021/09/28/ARTI001.shtml", "关于巡察整改情况的通报 — 第一批", "2021-09-28T10:05+08:00"),
        ListEntry("http://jw.example.test/2021/09/15/ARTI002.shtml", "县委巡察组反馈'巡察'情况", "2021-09-15T09:00+08:00"),
    ]


def test_a_page_of_undated_links_has_no_entries():
    assert generic_entries(page(NAV + '<div class="links"><a href="http://www.ccdi.gov.cn/">中央纪委国家监委网站</a></div>')) == []


@pytest.mark.parametrize(
    ("pager", "url", "expected"),
    [
        # a 下一页 link; a javascript: one is no page, and the last page's links to itself end it
        ('<div class="pages"><a href="list_12_2.html">下一页</a><a href="list_12_9.html">末页</a></div>', COLUMN, "http://jw.example.test/xcgz/list_12_2.html"),
        ('<div class="pages"><a href="javascript:void(0)">下一页</a></div>', COLUMN, None),
        ('<div class="pages"><a href="index_4.html">下一页</a></div>', "http://jw.example.test/xcgz/index_4.html", None),
        # numbers: the page here is a plain number, or the link to this very page
        ('<div class="pages"><span>1</span><a href="index_2.html">2</a><a href="index_3.html">3</a></div>', COLUMN, "http://jw.example.test/xcgz/index_2.html"),
        ('<ul class="pages"><li><a href="col12.htm">1</a></li><li><a href="col12_2.htm">2</a></li></ul>', "http://jw.example.test/html/col12.htm", "http://jw.example.test/html/col12_2.htm"),
        ('<ul class="pages"><li><a href="col12.htm">1</a></li><li><a href="col12_2.htm">2</a></li></ul>', "http://jw.example.test/html/col12_2.htm", None),
        # a column's folder is its index.html
        ('<div class="pages"><a href="index.html">1</a><a href="index_1.html">2</a></div>', "http://jw.example.test/xcgz/", "http://jw.example.test/xcgz/index_1.html"),
        ('<div class="pages"><a href="./">下一页</a></div>', COLUMN, None),
        # 末页 counted: 共5页 ending at index_4 is TRS counting (index, index_1 … index_4)
        ('<div class="page">共5页 <a href="index_4.html">末页</a></div>', COLUMN, "http://jw.example.test/xcgz/index_1.html"),
        ('<div class="page">共5页 <a href="index_5.html">尾页</a></div>', COLUMN, "http://jw.example.test/xcgz/index_2.html"),
        ('<div class="page">共5页 <a href="index_4.html">末页</a></div>', "http://jw.example.test/xcgz/index_3.html", "http://jw.example.test/xcgz/index_4.html"),
        ('<div class="page">共5页 <a href="index_4.html">末页</a></div>', "http://jw.example.test/xcgz/index_4.html", None),
        ('<div class="page"><a href="index_4.html">末页</a></div>', COLUMN, None),
        ('<div class="page">共5页 <a href="index_4.shtml">末页</a></div>', "http://jw.example.test/xcgz/", "http://jw.example.test/xcgz/index_1.shtml"),
        # pager scripts: TRS counts index.html as page 0, gov-cloud as page 1
        ('<div class="page"><script>createPageHTML(3, 0, "index", "shtml");</script></div>', COLUMN, "http://jw.example.test/xcgz/index_1.shtml"),
        ("<div id=\"page_div\"></div><script>createPageHTML('page_div',3, 1,'index','html',45);</script>", COLUMN, "http://jw.example.test/xcgz/index_2.html"),
        ('<div class="page"><script>createPageHTML(3, 2, "index", "html");</script></div>', COLUMN, None),
        ("", COLUMN, None),
    ],
)
def test_next_page(pager, url, expected):
    assert generic_next_page(page(f'<ul class="list"><li>x</li></ul>{pager}', url)) == expected
