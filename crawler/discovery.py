"""Discovery: finding a host's inspection columns without a profile that names them.

From the home page (and the site map page it links to), the links whose text is a
short column name speaking of 巡视/巡察/整改/党风廉政, or whose path does (``xunshi``,
``xuncha``, ``xszg``…), are candidate columns; each is fetched and, when the
generic list reader (``crawler/listing.py``) finds a list on it, read as a column:
its articles archived, its pages followed.  Candidates link to further candidates
(a 巡视巡察 column with 巡视整改 and 巡察工作 sub-columns) up to :data:`MAX_DEPTH`
clicks from the home page.  Links with long text are article titles, never
columns: an article is archived only from a column's list, so nothing outside the
inspection columns is taken.

Besides the generic reader's pagination (pager scripts, ``index_N.html``, 下一页
links, numbered pagers, Hanweb datastores), discovery follows what a list page
needs a program for:

* Hanweb (大汉) lists whose records come from ``/module/web/jpage/dataproxy.jsp``
  (the page names the module URL in a script): the module's record groups, one
  ``startrecord`` window after the other up to ``<totalrecord>``;
* ASP.NET pagers, ``javascript:__doPostBack('pager','2')``: the page's form posted
  back with the event target and argument;
* lists a script renders (sites with ``render: lists``, every registry host): a
  column page without list items but with scripts is fetched again through Chromium
  (scrapy-playwright) and read as rendered.  Only those spiders get the browser's
  download handler: each one starts its own Playwright driver.

A host answering 403 to the crawler's own user agent is asked again with a
browser's; the run log says so.  Every column found is stored in the archive
(``archive/discovered.py``) with how it was found, and the next run starts from
the stored columns as well as from the home page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import scrapy
from form2request import form2request
from scrapy.http import Response
from scrapy_playwright.page import PageMethod
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.listing import Datastore, datastore_entries, link_title
from crawler.mixins import Column, ProfileSpider, spider_class
from sites import Profile

logger = logging.getLogger(__name__)

# What a column about inspection and rectification is called, and its paths' pinyin.
INSPECTION_TEXT = re.compile(r"巡视|巡察|整改|党风廉政")
INSPECTION_PATH = re.compile(r"xunshi|xuncha|zhenggai|xszg|xczg", re.I)
SITE_MAP_TEXTS = frozenset({"网站地图", "站点地图"})
# A column's name is short ("巡视巡察", "巡察整改工作"); an article title is longer.
MAX_COLUMN_NAME = 12
# Clicks from the home page to the deepest column followed.
MAX_DEPTH = 3
HANWEB_MODULE = re.compile(r"""["'](/module/web/jpage/dataproxy\.jsp\?[^"']+)["']""")
TOTAL_RECORDS = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>")
POSTBACK = re.compile(r"""__doPostBack\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]*)['"]\s*\)""")
NEXT_LABELS = ("下一页", "下页", "后页")
# A pager's links may carry a column's pinyin path; their labels are no column's name.
PAGER_LABELS = frozenset({*NEXT_LABELS, "上一页", "上页", "首页", "末页", "尾页", "前页"})
# What a browser sends; used only for a host that refuses the crawler's own agent.
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
)


@dataclass(frozen=True)
class ColumnLink:
    """A candidate column: where it is, its name, and how it was found."""

    url: str
    name: str | None
    found_by: str


def _clean(text: str) -> str:
    return " ".join(text.split())


def column_links(response: Response, hosts: Iterable[str]) -> list[ColumnLink]:
    """Links on ``response`` to candidate inspection columns on ``hosts``, in page order."""
    hosts = set(hosts)
    found: dict[str, ColumnLink] = {}
    for a in response.xpath("//a[@href]"):
        href = a.attrib["href"].strip()
        if href.lower().startswith(("javascript:", "#", "mailto:")):
            continue
        url = urljoin(response.url, href).split("#", 1)[0]
        if (urlsplit(url).hostname or "").lower() not in hosts or url in found:
            continue
        text = link_title(a)
        if len(text) > MAX_COLUMN_NAME:
            continue
        if INSPECTION_TEXT.search(text):
            found[url] = ColumnLink(url, text, f"link «{text}» on {response.url}")
        elif INSPECTION_PATH.search(urlsplit(url).path) and not (text.isdigit() or text in PAGER_LABELS):
            found[url] = ColumnLink(url, text or None, f"link path {urlsplit(url).path} on {response.url}")
    return list(found.values())


def site_map_links(response: Response) -> list[str]:
    return [
        response.urljoin(a.attrib["href"])
        for a in response.xpath("//a[@href]")
        if _clean(a.xpath("string()").get("")) in SITE_MAP_TEXTS
    ]


def hanweb_module_url(response: Response) -> str | None:
    """The Hanweb module URL a list page loads its records from, if it names one."""
    found = HANWEB_MODULE.search(response.text)
    return response.urljoin(found[1]) if found else None


def module_entries(response: Response):
    """The list entries of a Hanweb module answer (CDATA records)."""
    from crawler.listing import _RECORD

    return datastore_entries(Datastore("module", tuple(_RECORD.findall(response.text)), None), response.url)


def module_next(response: Response) -> str | None:
    """The module's next window of records: ``startrecord`` moved past this one, while
    records remain."""
    parts = urlsplit(response.url)
    query = dict(parse_qsl(parts.query))
    total = TOTAL_RECORDS.search(response.text)
    try:
        start, end = int(query["startrecord"]), int(query["endrecord"])
    except (KeyError, ValueError):
        return None
    if total is None or end >= int(total[1]):
        return None
    window = end - start + 1
    query.update(startrecord=str(end + 1), endrecord=str(end + window))
    return parts._replace(query=urlencode(query)).geturl()


def postback_next(response: Response) -> scrapy.Request | None:
    """The ASP.NET form posted back as the page's 下一页 link asks (``__doPostBack``)."""
    for a in response.xpath("//a[starts-with(normalize-space(@href), 'javascript:__doPostBack')]"):
        if _clean(a.xpath("string()").get("")) not in NEXT_LABELS:
            continue
        call = POSTBACK.search(a.attrib["href"])
        form = a.xpath("ancestor::form[1]") or response.xpath("//form[1]")
        if call is None or not form:
            return None
        posted = form2request(form, {"__EVENTTARGET": call[1], "__EVENTARGUMENT": call[2]}, click=False)
        return posted.to_scrapy(callback=None)
    return None


def _own_meta(meta: dict) -> dict:
    """What discovery itself put in a request's meta: all a request asked again may carry
    (Scrapy's own keys, like the download slot and latency, belong to the first try)."""
    return {key: meta[key] for key in ("playwright", "playwright_page_methods", "browser_agent") if key in meta}


def _has_scripts(response: Response) -> bool:
    return bool(response.xpath("//script"))


RENDER_LISTS = "lists"


class DiscoveryMixin:
    """Start from the home page(s) and the stored columns, find the inspection
    columns, read them with the generic list reader (see the module docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.candidates_seen: set[str] = set()
        self.columns_found: dict[str, ColumnLink] = {}
        self.browser_agent_hosts: set[str] = set()
        self.outcomes: dict[str, str] = {}

    # -- hooks the archive pipeline replaces ----------------------------------------

    def stored_columns(self) -> list:
        """Columns earlier runs discovered on this site (``archive.discovered``)."""
        return []

    def record_column(self, column: ColumnLink, depth: int, articles_listed: int) -> None:
        """Store a column found this run; replaced by the archive pipeline."""

    # -- starting ---------------------------------------------------------------------

    def home_pages(self) -> list[str]:
        scheme = self.site_settings.get("scheme", "http")
        return self.site_settings.get("home_pages") or [f"{scheme}://{host}/" for host in self.profile.hosts[:1]]

    async def start(self):
        async for request in super().start():
            yield request
        for url in self.home_pages():
            yield self._request(url, self.parse_hub, depth=0)
        for stored in self.stored_columns():
            link = ColumnLink(stored.url, stored.name, f"stored by an earlier run ({stored.found_by})")
            self.candidates_seen.add(stored.url)
            yield self._request(stored.url, self.parse_candidate, link=link, depth=stored.depth)

    def _request(self, url: str, callback, **cb_kwargs) -> scrapy.Request:
        host = (urlsplit(url).hostname or "").lower()
        if host in self.browser_agent_hosts:
            return scrapy.Request(url, callback=callback, cb_kwargs=cb_kwargs,
                                  headers={"User-Agent": BROWSER_USER_AGENT}, meta={"browser_agent": True})
        return scrapy.Request(url, callback=callback, cb_kwargs=cb_kwargs)

    # -- finding columns ----------------------------------------------------------------

    def parse_hub(self, response: Response, depth: int):
        """The home page or a site map: every candidate column it links to."""
        yield from self._candidates(response, depth)
        if depth == 0:
            for url in site_map_links(response):
                yield self._request(url, self.parse_hub, depth=1)

    def _candidates(self, response: Response, depth: int):
        if depth >= MAX_DEPTH:
            return
        for link in column_links(response, self.profile.hosts):
            if link.url in self.candidates_seen:
                continue
            self.candidates_seen.add(link.url)
            yield self._request(link.url, self.parse_candidate, link=link, depth=depth + 1)

    def parse_candidate(self, response: Response, link: ColumnLink, depth: int):
        """A candidate column: read its list if it has one, and look for sub-columns."""
        entries = list(self.list_entries(response))
        if not entries and (module := hanweb_module_url(response)):
            yield self._request(module, self.parse_module, link=link, depth=depth)
        elif not entries and self._may_be_drawn_by_script(response):
            yield self._rendered(response)
        elif entries:
            yield from self._read_column(response, link, depth, entries, self.next_page_url(response) or postback_next(response))
        yield from self._candidates(response, depth)

    def parse_module(self, response: Response, link: ColumnLink, depth: int):
        """A Hanweb module answer: its records, then the next window."""
        entries = module_entries(response)
        if entries:
            yield from self._read_column(response, link, depth, entries, module_next(response), self.parse_module_page)

    def parse_module_page(self, response: Response, column: Column):
        yield from self.follow_listing(response, column, module_entries(response), module_next(response), self.parse_module_page)

    def _read_column(self, response: Response, link: ColumnLink, depth: int, entries, next_page, callback=None):
        column_url = link.url
        if column_url not in self.columns_found:
            self.columns_found[column_url] = link
            logger.info("Discovered column %s «%s» (%s)", column_url, link.name or "", link.found_by)
        self.record_column(link, depth, len(entries))
        column = Column(url=column_url, name=link.name, title_filter=self.title_filter(self.site_settings.get("title_filter")))
        yield from self._follow(response, column, entries, next_page, callback or self.parse_list)

    def _follow(self, response, column, entries, next_page, callback):
        """follow_listing, with a postback form as the next page when there is one."""
        form = next_page if isinstance(next_page, scrapy.Request) else None
        yield from self.follow_listing(response, column, entries, None if form else next_page, callback)
        if form is not None:
            yield form.replace(callback=callback, cb_kwargs={"column": column})

    def parse_list(self, response: Response, column: Column):
        entries = list(self.list_entries(response))
        if not entries and self._may_be_drawn_by_script(response):
            yield self._rendered(response)
            return
        next_page = self.next_page_url(response) or postback_next(response)
        yield from self._follow(response, column, entries, next_page, self.parse_list)

    def _may_be_drawn_by_script(self, response: Response) -> bool:
        render = self.site_settings.get("render") == RENDER_LISTS
        return render and _has_scripts(response) and not response.meta.get("playwright")

    @staticmethod
    def _rendered(response: Response) -> scrapy.Request:
        """The same request, fetched through Chromium: a list a script draws is read as drawn."""
        # The list's data arrive after the page's load event: wait until the network is quiet.
        meta = {**_own_meta(response.meta), "playwright": True,
                "playwright_page_methods": [PageMethod("wait_for_load_state", "networkidle")]}
        return response.request.replace(dont_filter=True, meta=meta)

    # -- hosts that refuse the crawler's agent ------------------------------------------

    def download_failed(self, failure):
        response = getattr(failure.value, "response", None)
        request = failure.request
        if failure.check(HttpError) and response is not None and response.status == 403 and not request.meta.get("browser_agent"):
            host = (urlsplit(request.url).hostname or "").lower()
            if host not in self.browser_agent_hosts:
                self.browser_agent_hosts.add(host)
                self.outcomes[host] = "403 to the crawler's user agent; asked again as a browser"
                logger.warning("%s answers 403 to the crawler's user agent: asking again as a browser", host)
            yield request.replace(
                headers={**request.headers.to_unicode_dict(), "User-Agent": BROWSER_USER_AGENT},
                meta={**_own_meta(request.meta), "browser_agent": True},
                dont_filter=True,
            )
            return
        super().download_failed(failure)

    def closed(self, reason: str) -> None:
        found = ", ".join(f"{url} «{link.name or ''}»" for url, link in self.columns_found.items()) or "no inspection column"
        notes = "; ".join(f"{host}: {what}" for host, what in self.outcomes.items())
        logger.info("Discovery on %s: %d column(s): %s%s", ", ".join(self.profile.hosts), len(self.columns_found), found,
                    f" ({notes})" if notes else "")


def host_profile(host: str, publisher: str | None = None, **settings) -> Profile:
    """A profile for a host no site file describes: its host and, from the registry,
    its publisher, province and level."""
    return Profile(name=host, publisher=publisher or host, hosts=(host.lower(),), templates=(), settings=settings)


def discovery_spider_class(profile: Profile, module: str = __name__) -> type[ProfileSpider]:
    """The discovery spider of ``profile`` (a site file with ``discover: true``, or a
    registry host's :func:`host_profile`)."""
    base = spider_class(profile, module)
    return type(base.__name__, (DiscoveryMixin, base), {"__module__": module, "__doc__": base.__doc__,
                                                          "profile": profile})


def attach_archive(spider: DiscoveryMixin, archive) -> None:
    """Make the spider read and record its discovered columns in ``archive`` (a
    :class:`crawler.port.DiscoveryArchive`; called by the archive pipeline when the spider opens)."""

    def record(link: ColumnLink, depth: int, articles_listed: int) -> None:
        host = (urlsplit(link.url).hostname or "").lower()
        archive.record_discovered_column(link.url, host, link.name, link.found_by, depth, articles_listed)

    spider.stored_columns = lambda: archive.discovered_columns(spider.profile.hosts)
    spider.record_column = record
