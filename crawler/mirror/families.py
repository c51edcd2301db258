"""Test sites of CMS families no profile describes, for discovery (crawler/discovery.py).

Each :class:`FamilySite` is an invented commission site at a made-up ``.test`` host,
built by the mirror from a few facts: its family's URL shapes, list markup and
pagination (TRS ``t2024…_N.html`` + ``createPageHTML``, Hanweb ``col/colN`` + module
XML, gov-cloud ``content/post_N.html``, uuid pages + ``?page=``, DedeCMS
``list_T_N.html`` found through the 网站地图, ASP.NET ``?id=`` + ``__doPostBack``, a
list drawn by a script from JSON, a GBK site with a numbered pager, an HTTP→HTTPS
redirect chain with a JS ``item=[…]`` list, a site answering 403 to non-browser agents
with a 末页/共N页 pager).  Every site has inspection columns and, as negatives, a
column of other news and a home page whose latest-news list mixes both: discovery must
archive every article of the inspection columns and nothing else.

The hosts are listed, test-only, in ``crawler/mirror/discovery_hosts.csv``; the
benchmark ``bench/bench_discovery.py`` and ``tests/test_discovery.py`` read
:data:`SITES` for what each site holds.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import parse_qsl

from crawler.mirror.server import normalised_query

# Form fields that say nothing about which page an ASP.NET postback asks for.
_FORM_NOISE = ("__VIEWSTATE", "__VIEWSTATEGENERATOR", "__EVENTVALIDATION", "__EVENTTARGET")
BROWSER_MARK = "Mozilla/"


@dataclass(frozen=True)
class ColumnSpec:
    slug: str
    name: str
    inspection: bool
    articles: int
    per_page: int = 2
    number: int = 1


@dataclass(frozen=True)
class Article:
    url: str
    path: str
    title: str
    date: str
    column: ColumnSpec


@dataclass(frozen=True)
class FamilySite:
    host: str
    family: str
    publisher: str
    columns: tuple[ColumnSpec, ...]
    charset: str = "utf-8"
    home: str = "/"
    site_map: bool = False
    redirects: tuple[tuple[str, str, str], ...] = ()
    browser_only: bool = False
    pagination: str = ""

    @property
    def origin(self) -> str:
        return f"{'https' if self.redirects else 'http'}://{self.host}"

    @cached_property
    def articles(self) -> dict[ColumnSpec, list[Article]]:
        found, serial = {}, 0
        for column in self.columns:
            found[column] = []
            for i in range(column.articles):
                serial += 1
                day = 28 - (serial % 27)
                month = 12 - (serial // 27) % 12
                date = f"2024-{month:02d}-{day:02d}"
                path = RENDERERS[self.family].article_path(column, 1000 + serial, date)
                found[column].append(Article(self.origin + path, path, _title(column, serial), date, column))
        return found

    @property
    def inspection_articles(self) -> set[str]:
        return {a.url for column, articles in self.articles.items() if column.inspection for a in articles}

    def respond(self, scheme: str, path: str, query: str, form: str, user_agent: str) -> tuple[int, dict, bytes] | None:
        """Status, headers and body for a request, or None (not found)."""
        if self.browser_only and BROWSER_MARK not in user_agent:
            return 403, {"Content-Type": "text/html"}, b"<html><body><h1>403 Forbidden</h1></body></html>"
        for from_scheme, from_path, location in self.redirects:
            if (scheme, path) == (from_scheme, from_path):
                return 301 if from_scheme == "http" else 302, {"Location": location, "Content-Type": "text/html"}, b""
        params = [(k, v) for k, v in parse_qsl(query) + parse_qsl(form) if k not in _FORM_NOISE]
        key = (path, normalised_query("&".join(f"{k}={v}" for k, v in params)))
        page = self.built.get(key) or (self.built.get((path, "")) if not params else None)
        if page is None:
            return None
        content_type, text = page
        return 200, {"Content-Type": content_type}, text.encode(self.charset)

    @cached_property
    def built(self) -> dict[tuple[str, str], tuple[str, str]]:
        renderer = RENDERERS[self.family]
        html = f"text/html; charset={self.charset}" if self.charset == "utf-8" else "text/html"
        pages = {(self.home, ""): (html, self._home_page())}
        if self.site_map:
            pages[("/sitemap.html", "")] = (html, self._site_map_page())
        for column, articles in self.articles.items():
            count = _page_count(column)
            for n in range(1, count + 1):
                items = articles[(n - 1) * column.per_page:n * column.per_page]
                for key, content_type, text in renderer.list_pages(self, column, n, count, items):
                    pages[key] = (content_type or html, text)
            for article in articles:
                pages[(article.path.split("?")[0], normalised_query(article.path.partition("?")[2]))] = (html, self._article_page(article))
        return pages

    # -- pages ------------------------------------------------------------------------

    def _head(self, title: str) -> str:
        charset = "gbk" if self.charset != "utf-8" else "utf-8"
        return (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
                f'<meta name="SiteName" content="{self.publisher}"><title>{title}</title></head><body>')

    def _nav(self, with_columns: bool = True) -> str:
        links = "".join(f'<li><a href="{RENDERERS[self.family].column_href(c)}">{c.name}</a></li>' for c in self.columns)
        site_map = '<li><a href="/sitemap.html">网站地图</a></li>' if self.site_map else ""
        return f'<ul class="nav"><li><a href="{self.home}">首页</a></li>{links if with_columns else ""}{site_map}</ul>'

    def _home_page(self) -> str:
        # Latest news across columns: long titles, never columns; discovery must not take them.
        latest = [articles[0] for articles in self.articles.values()]
        items = "".join(f'<li><a href="{a.path}">{a.title}</a><span>{a.date}</span></li>' for a in latest)
        return (self._head(self.publisher) + self._nav(with_columns=not self.site_map)
                + f'<div class="latest"><h3>最新动态</h3><ul>{items}</ul></div>'
                + f'<div class="foot">主办：{self.publisher}</div></body></html>')

    def _site_map_page(self) -> str:
        links = "".join(f'<dd><a href="{RENDERERS[self.family].column_href(c)}">{c.name}</a></dd>' for c in self.columns)
        return self._head(f"网站地图 - {self.publisher}") + f'<dl class="sitemap"><dt>栏目</dt>{links}</dl></body></html>'

    def _article_page(self, article: Article) -> str:
        unit = _UNITS[len(article.title) % len(_UNITS)]
        body = (f"<p>根据统一部署，巡察组对{unit}开展了常规巡察，并反馈了意见。现将有关情况予以公布。</p>"
                f"<p>一、提高政治站位，{unit}召开专题会议研究部署，逐条制定措施，明确责任人和完成时限。</p>"
                f"<p>二、对反馈指出的问题，建立台账，实行销号管理，已完成整改任务十二项，其余正在推进。</p>"
                if article.column.inspection else
                f"<p>{article.date[:4]}年，{unit}围绕中心工作召开会议，通报有关情况，部署下一阶段任务。</p>"
                f"<p>会议要求，各单位要认真落实工作要求，加强督促检查，确保各项任务按时完成。</p>")
        return (self._head(f"{article.title}_{self.publisher}") + self._nav()
                + f'<div class="article"><h1>{article.title}</h1>'
                + f'<div class="info">发布时间：{article.date} 09:30　来源：{self.publisher}</div>'
                + f'<div class="content">{body}</div></div></body></html>')


def _page_count(column: ColumnSpec) -> int:
    return -(-column.articles // column.per_page)


_UNITS = ("县教育局党组", "县水利局党组", "县卫生健康局党组", "县交通运输局党组", "县市场监管局党组", "县农业农村局党组")


def _title(column: ColumnSpec, serial: int) -> str:
    unit = _UNITS[serial % len(_UNITS)]
    if column.inspection:
        return f"中共{unit}关于县委第{serial % 9 + 1}轮巡察整改情况的通报（{serial}）"
    return f"{unit}召开{serial % 9 + 1}月份工作例会部署重点任务（{serial}）"


def _list_items(items: list[Article], link=lambda a: a.path) -> str:
    return "".join(f'<li><a href="{link(a)}" title="{a.title}">{a.title}</a><span class="date">{a.date}</span></li>' for a in items)


class Renderer:
    """One CMS family: its URLs, list pages and pager."""

    def column_path(self, column: ColumnSpec) -> str:
        return f"/{column.slug}/"

    def column_href(self, column: ColumnSpec) -> str:
        return self.column_path(column)

    def page_path(self, column: ColumnSpec, n: int) -> str:
        return self.column_path(column) + ("index.html" if n == 1 else f"index_{n - 1}.html")

    def pager(self, column: ColumnSpec, n: int, count: int) -> str:
        return ""

    def list_pages(self, site: FamilySite, column: ColumnSpec, n: int, count: int, items: list[Article]):
        html = (site._head(f"{column.name}_{site.publisher}") + site._nav()
                + f'<div class="list"><h2>{column.name}</h2><ul class="news">{_list_items(items)}</ul></div>'
                + self.pager(column, n, count) + "</body></html>")
        path, _, query = self.page_path(column, n).partition("?")
        yield (path, normalised_query(query)), None, html
        if n == 1 and self.column_path(column).endswith("/"):
            yield (self.column_path(column), ""), None, html

    def article_path(self, column: ColumnSpec, number: int, date: str) -> str:
        raise NotImplementedError


class TrsRenderer(Renderer):
    def pager(self, column, n, count):
        return f'<div class="page"><script>createPageHTML({count}, {n - 1}, "index", "html");</script></div>'

    def article_path(self, column, number, date):
        return f"/{column.slug}/{date[:7].replace('-', '')}/t{date.replace('-', '')}_{number}.html"


class GovCloudRenderer(Renderer):
    def page_path(self, column, n):
        return self.column_path(column) + ("index.html" if n == 1 else f"index_{n}.html")

    def pager(self, column, n, count):
        return f"<div id=\"page_div\"><script>createPageHTML('page_div', {count}, {n}, 'index', 'html', {column.articles});</script></div>"

    def article_path(self, column, number, date):
        return f"/{column.slug}/content/post_{number}.html"


class HanwebRenderer(Renderer):
    """The column page names the module whose XML holds the records, one window per request."""

    def column_path(self, column):
        return f"/col/col{column.number}/index.html"

    def module_query(self, column, n):
        start = (n - 1) * column.per_page + 1
        return f"columnid={column.number}&endrecord={start + column.per_page - 1}&perpage={column.per_page}&startrecord={start}&unitid=88{column.number}&webid=1"

    def list_pages(self, site, column, n, count, items):
        if n == 1:
            script = f"<script>var dataUrl = '/module/web/jpage/dataproxy.jsp?{self.module_query(column, 1)}';</script>"
            yield (self.column_path(column), ""), None, (site._head(column.name) + site._nav()
                                                         + f'<div class="list"><h2>{column.name}</h2><div id="88{column.number}"></div></div>'
                                                         + script + "</body></html>")
        records = "".join(f"<record><![CDATA[<li><a href=\"{a.path}\" title=\"{a.title}\">{a.title}</a><span>{a.date}</span></li>]]></record>" for a in items)
        xml = f"<?xml version=\"1.0\" encoding=\"utf-8\"?><datastore><totalrecord>{column.articles}</totalrecord><recordset>{records}</recordset></datastore>"
        yield ("/module/web/jpage/dataproxy.jsp", normalised_query(self.module_query(column, n))), "text/html; charset=utf-8", xml

    def article_path(self, column, number, date):
        year, month, day = (int(p) for p in date.split("-"))
        return f"/art/{year}/{month}/{day}/art_{column.number}_{number}.html"


class UuidRenderer(Renderer):
    def page_path(self, column, n):
        return self.column_path(column) + ("" if n == 1 else f"?page={n}")

    def pager(self, column, n, count):
        return f'<div class="pages"><a href="?page={n + 1}">下一页</a></div>' if n < count else ""

    def article_path(self, column, number, date):
        return f"/{column.slug}/content/{uuid.uuid5(uuid.NAMESPACE_URL, str(number))}.html"


class DedeRenderer(Renderer):
    def column_path(self, column):
        return f"/a/{column.slug}/"

    def page_path(self, column, n):
        return self.column_path(column) + f"list_{column.number}_{n}.html"

    def pager(self, column, n, count):
        numbers = "".join(f"<li class='thisclass'>{i}</li>" if i == n else f"<li><a href='list_{column.number}_{i}.html'>{i}</a></li>"
                          for i in range(1, count + 1))
        return f"<ul class='pagelist'>{numbers}<span class='pageinfo'>共 <strong>{count}</strong>页</span></ul>"

    def article_path(self, column, number, date):
        return f"/a/{column.slug}/{date[:4]}/{date[5:7]}{date[8:]}/{number}.html"


class AspNetRenderer(Renderer):
    def column_path(self, column):
        return f"/News/List.aspx?cid={column.number}"

    def page_path(self, column, n):
        return self.column_path(column) + (f"&__EVENTARGUMENT={n}" if n > 1 else "")

    def pager(self, column, n, count):
        link = f"<a href=\"javascript:__doPostBack('ctl00$Main$Pager','{n + 1}')\">下一页</a>" if n < count else ""
        return (f'<form method="post" action="./List.aspx?cid={column.number}" id="form1">'
                f'<input type="hidden" name="__VIEWSTATE" value="dDwtMTA4MzE0MjEwNTs7Pg{n}==">'
                f'<input type="hidden" name="__EVENTTARGET" value=""><input type="hidden" name="__EVENTARGUMENT" value="">'
                f'<div class="pager">第{n}页 {link}</div></form>')

    def article_path(self, column, number, date):
        return f"/News/Show.aspx?id={number}"


class ScriptListRenderer(Renderer):
    """The list is empty HTML that a script fills from ``list_N.json``; the 下一页 link is drawn too."""

    def page_path(self, column, n):
        return self.column_path(column) + ("" if n == 1 else f"?page={n}")

    def list_pages(self, site, column, n, count, items):
        script = ("<script>var n = Number(new URLSearchParams(location.search).get('page') || 1);"
                  "fetch('list_' + n + '.json').then(function (r) { return r.json(); }).then(function (data) {"
                  "var ul = document.getElementById('list');"
                  "data.items.forEach(function (it) { var li = document.createElement('li');"
                  "li.innerHTML = '<a href=\"' + it.url + '\">' + it.title + '</a><span>' + it.date + '</span>'; ul.appendChild(li); });"
                  "if (data.more) { var a = document.createElement('a'); a.href = '?page=' + (n + 1); a.textContent = '下一页';"
                  "document.getElementById('pager').appendChild(a); } });</script>")
        html = (site._head(column.name) + site._nav() + f'<h2>{column.name}</h2><ul id="list"></ul><div id="pager"></div>'
                + script + "</body></html>")
        if n == 1:
            yield (self.column_path(column), ""), None, html
        else:
            yield (self.column_path(column), f"page={n}"), None, html
        data = {"items": [{"url": a.path, "title": a.title, "date": a.date} for a in items], "more": n < count}
        yield (self.column_path(column) + f"list_{n}.json", ""), "application/json", json.dumps(data, ensure_ascii=False)

    def article_path(self, column, number, date):
        return f"/{column.slug}/{date[:4]}/{date[5:7]}{date[8:]}/a{number}.html"


class GbkRenderer(Renderer):
    """A county site in GBK: list.php?cid=N pages with a numbered pager, show.php?id= articles."""

    def column_path(self, column):
        return f"/list.php?cid={column.number}"

    def page_path(self, column, n):
        return self.column_path(column) + (f"&page={n}" if n > 1 else "")

    def pager(self, column, n, count):
        return '<div class="page">' + "".join(
            f"<b>{i}</b>" if i == n else f'<a href="list.php?cid={column.number}&page={i}">{i}</a>' for i in range(1, count + 1)
        ) + "</div>"

    def article_path(self, column, number, date):
        return f"/show.php?id={number}"


class ItemArrayRenderer(Renderer):
    """12371-style lists: the items in a script array ``item=[{'link_add':…}]``; 下一页 links ``index_N.shtml``."""

    def page_path(self, column, n):
        return self.column_path(column) + ("index.shtml" if n == 1 else f"index_{n}.shtml")

    def list_pages(self, site, column, n, count, items):
        array = ",".join(f"{{'link_add':'{a.path}','title':'{a.title}','brief':'{a.date} 09:00:00'}}" for a in items)
        more = f'<a href="index_{n + 1}.shtml">下一页</a>' if n < count else ""
        html = (site._head(column.name) + site._nav() + f'<h2>{column.name}</h2><div class="list"></div>'
                + f'<script language="javascript">var item=[{array}];</script><div class="page">{more}</div></body></html>')
        yield (self.page_path(column, n), ""), None, html
        if n == 1:
            yield (self.column_path(column), ""), None, html

    def article_path(self, column, number, date):
        return f"/{column.slug}/{date[:4]}/{date[5:7]}/{date[8:]}/ARTI{number}.shtml"


class LastPageRenderer(TrsRenderer):
    """A pager of 首页/下页 scripts and a 末页 link with 共N页: only the 末页 link is a real href."""

    def pager(self, column, n, count):
        return (f'<div class="fenye">共{count}页 <a href="javascript:void(0)">下页</a> '
                f'<a href="index_{count - 1}.html">末页</a></div>' if count > 1 else "")

    def article_path(self, column, number, date):
        return f"/{column.slug}/{date[:7]}/{date[8:]}/content_{number}.htm"


RENDERERS: dict[str, Renderer] = {
    "trs": TrsRenderer(), "govcloud": GovCloudRenderer(), "hanweb": HanwebRenderer(), "uuid": UuidRenderer(),
    "dedecms": DedeRenderer(), "aspnet": AspNetRenderer(), "script_list": ScriptListRenderer(), "gbk": GbkRenderer(),
    "item_array": ItemArrayRenderer(), "last_page": LastPageRenderer(),
}


def _columns(inspection: list[tuple[str, str, int]], other: tuple[str, str, int], per_page: int = 2) -> tuple[ColumnSpec, ...]:
    specs = [ColumnSpec(slug, name, True, count, per_page, number=10 + i) for i, (slug, name, count) in enumerate(inspection)]
    return (*specs, ColumnSpec(other[0], other[1], False, other[2], per_page, number=30))


SITES: tuple[FamilySite, ...] = (
    FamilySite("www.jiangbei-trs.test", "trs", "江北县纪委监委网站", _columns([("xsxc", "巡视巡察", 5)], ("gzdt", "工作动态", 3)),
               pagination="createPageHTML index_N.html"),
    FamilySite("jw.hanweb-city.test", "hanweb", "汉江市纪委监委网站", _columns([("xczg", "巡察整改", 5), ("xcgz", "巡察工作", 2)], ("scdc", "审查调查", 3)),
               pagination="Hanweb module XML startrecord windows"),
    FamilySite("www.govcloud-city.test", "govcloud", "云岭市纪委监委网站", _columns([("xszg", "巡视整改专栏", 5)], ("ywdt", "要闻动态", 3)),
               pagination="createPageHTML('page_div') index_N.html"),
    FamilySite("www.uuid-cms.test", "uuid", "东湖区纪委监委网站", _columns([("xczg", "巡察整改", 5)], ("jjyw", "纪检要闻", 3)),
               pagination="?page=N 下一页"),
    FamilySite("www.dede-county.test", "dedecms", "南山县纪委监委网站", _columns([("xunchazhenggai", "巡察整改", 5)], ("lianzhengwenhua", "廉政文化", 3)),
               site_map=True, pagination="DedeCMS list_T_N.html numbered pager"),
    FamilySite("www.aspnet-county.test", "aspnet", "西河县纪委监委网站", _columns([("xc", "巡察公告", 5)], ("tz", "通知公告", 3)),
               pagination="ASP.NET __doPostBack"),
    FamilySite("www.script-list.test", "script_list", "北塘区纪委监委网站", _columns([("xczg", "巡察整改", 5)], ("gzdt", "工作动态", 3)),
               pagination="list drawn by a script from JSON, 下一页 drawn too"),
    FamilySite("www.gbk-county.test", "gbk", "石门县纪委监委网站", _columns([("xc", "巡察工作", 5)], ("xw", "新闻动态", 3)),
               charset="gbk", pagination="numbered pager list.php?page=N"),
    FamilySite("www.redirect-city.test", "item_array", "青川市纪委监委网站", _columns([("xszg", "巡视整改", 5)], ("ywdd", "要闻", 3)),
               home="/portal/", redirects=(("http", "/", "https://www.redirect-city.test/"), ("https", "/", "https://www.redirect-city.test/portal/")),
               pagination="script array item=[…], 下一页 index_N.shtml"),
    FamilySite("www.refuse-agents.test", "last_page", "白河县纪委监委网站", _columns([("xcgz", "巡察工作", 5)], ("dfxw", "地方新闻", 3)),
               browser_only=True, pagination="index_N.html counted to the 末页 link"),
)
SITES_BY_HOST = {site.host: site for site in SITES}
