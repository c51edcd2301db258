"""Spider machinery shared by every site, and per CMS family.

Every site's spider is built from its profile by :func:`spider_class` (City
Scrapers style: small spiders on shared mixins): named after the profile, on
the mixin of the CMS family its list pages come from.  For
``sites/beijing.yaml`` (``cms: trs``) that is the class
``BeijingSpider(PagerScriptListMixin, ProfileSpider)``.  A profile without
``cms``, ``list`` or ``pagination`` has its lists read generically
(``crawler/listing.py``): a site can be added with its host, publisher and
column URLs alone.

Everything site-specific is data in ``sites/<name>.yaml``.  The crawler's keys
there (everything but ``name``/``publisher``/``hosts``/``templates``/``tests``):

``cms``           a key of :data:`CMS_FAMILIES`: the family whose mixin the site's
                  spider uses
``scheme``        scheme the site's own links are normalised to (the CCDI search links
                  to ``http://`` copies of ``https://`` pages; one URL per document)
``render``        ``challenge``: pages sit behind a JavaScript cookie challenge, so the
                  anti-bot middleware fetches them through a browser; ``lists``: a
                  discovering site's lists may be drawn by scripts (crawler/discovery.py)
``encoding``      what the server sends, for humans; decoding follows header and <meta>
``columns``       list pages where a crawl starts: ``{url, name?, title_filter?, subcolumns?}``
                  or just the URL; ``name`` becomes the ``column`` hint of every article
                  found there; ``subcolumns``, a CSS selector of links, makes the page an
                  index of columns (CCDI's 中央巡视专题: one column per round), each link
                  a column named by its text
``title_filter``  name of a :data:`TITLE_FILTERS` entry applied to every column (a
                  column's own ``title_filter`` wins); list items whose title does not
                  match are not fetched
``list``          CSS selectors on a list page: ``item`` (one per article), ``link`` (the
                  article's ``a``: the first one with text or a title wins), ``date``;
                  without them (and without a family mixin) lists are read generically
``pagination``    ``{next: <CSS of the next-page link>}`` for sites that print one; the
                  family mixins read their pager scripts or datastores instead; without
                  either, the next page is found generically
``search``        site search (CCDI WAS5): ``url`` with ``{keyword}``, ``keywords``,
                  ``item``/``link``/``date`` selectors and ``next`` like a list

Incremental crawling: for every list item the spider asks ``is_known(url,
list_date)``, answered by its ``known_pages`` (``crawler.port.KnownPages``,
which the archive pipeline sets; without one nothing is known).  Known items are not fetched again, and a list page holding one ends
its column's pagination: older pages hold nothing new.  With the setting
``RECHECK_ARCHIVED`` the spider also fetches every page of its site already in
the archive (``archived_pages``), so edits and removals after publication are
seen: a changed text becomes a new version, a 404/410 marks the page gone.

Pages the previous run lost to a passing fault (``crawler.failures.is_transient``)
are asked for first (``pages_to_retry``, priority :data:`RETRY_PRIORITY`), with the
callback and list hints they had: an article with its list's title and date, a
list page with its column, whose walk then goes on from there as usual.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from crawler.attachments import attachment_item, attachment_requests
from crawler.failures import report_download_failure
from crawler.items import ArticlePage
from crawler.listing import (
    ListEntry,
    generic_entries,
    generic_next_page,
    inline_scripts,
    link_title,
    next_link,
    pager_script_next,
    script_array_entries,
    selected_entries,
)
from crawler.port import KnownPages
from sites import Profile, ProfileError, get_profile

logger = logging.getLogger(__name__)

TITLE_FILTERS: dict[str, re.Pattern[str]] = {
    # Title families of inspection disclosures:
    # rectification reports and round summaries (…巡视整改进展情况的通报, 关于巡察整改
    # 情况的通报, …巡视反馈意见整改情况…), and the feedback and entry notices that
    # frame them (…向XX省委反馈巡视情况, …巡视完成进驻).  Traditional 視 for big5 copies.
    "disclosure": re.compile(r"巡[视視察].{0,12}整改|巡[视視察].{0,10}(?:反馈|反饋|进驻|進駐)"),
}


# Above every other request: what the last run could not archive comes first.
RETRY_PRIORITY = 100
# Callbacks a lost request can be asked again with (``ProfileSpider.retry_spec``).
_RETRYABLE_CALLBACKS = ("parse_list", "parse_search", "parse_article")


@dataclass(frozen=True)
class Column:
    """One listing the spider walks: a column's list pages or a search."""

    url: str
    name: str | None
    title_filter: re.Pattern[str] | None = None
    subcolumns: str | None = None


class ProfileSpider(scrapy.Spider):
    """Base of every site spider: profile, start, list walking, article items.

    Lists are read with the profile's ``list`` selectors, else generically, and
    paginated with its ``pagination.next`` link, else generically; the family
    mixins override :meth:`list_entries` and :meth:`next_page_url`.
    """

    profile_name: str | None = None
    # A profile no site file holds (a registry host crawled by discovery) is set on the class.
    profile: Profile | None = None
    recheck_archived = False
    known_pages: KnownPages | None = None
    """What the archive holds of this site: set by the archive pipeline when the spider opens."""

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.recheck_archived = crawler.settings.getbool("RECHECK_ARCHIVED")
        return spider

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.profile = type(self).profile or get_profile(self.profile_name)
        self.site_settings = self.profile.settings
        # Scrapy's offsite filter: list pages may link anywhere, we fetch only this site.
        self.allowed_domains = list(self.profile.hosts)

    # -- hooks ------------------------------------------------------------------

    def is_known(self, url: str, list_date: str | None) -> bool:
        """Whether ``url`` is archived and unchanged (as far as :attr:`known_pages` knows)."""
        return self.known_pages is not None and self.known_pages.is_known(url, list_date)

    def archived_pages(self) -> list[tuple[str, dict]]:
        """(url, list hints) of this site's archived pages (as far as :attr:`known_pages` knows)."""
        return [] if self.known_pages is None else self.known_pages.archived_pages(self.profile.hosts)

    def pages_to_retry(self) -> list[tuple[str, dict]]:
        """(url, :meth:`retry_spec`) of the pages the last run lost to a passing
        fault and nothing archived since (as far as :attr:`known_pages` knows)."""
        return [] if self.known_pages is None else self.known_pages.pages_to_retry(self.name)

    def list_entries(self, response: Response) -> Iterable[ListEntry]:
        selectors = self.site_settings.get("list")
        return selected_entries(response, response.url, selectors) if selectors else generic_entries(response)

    def next_page_url(self, response: Response) -> str | None:
        selector = self.site_settings.get("pagination", {}).get("next")
        return next_link(response, selector) if selector else generic_next_page(response)

    # -- crawling ---------------------------------------------------------------

    def columns(self) -> list[Column]:
        default_filter = self.site_settings.get("title_filter")
        columns = [{"url": c} if isinstance(c, str) else c for c in self.site_settings.get("columns", [])]
        return [
            Column(
                url=column["url"],
                name=column.get("name"),
                title_filter=self.title_filter(column.get("title_filter", default_filter)),
                subcolumns=column.get("subcolumns"),
            )
            for column in columns
        ]

    @staticmethod
    def title_filter(name: str | None) -> re.Pattern[str] | None:
        return TITLE_FILTERS[name] if name else None

    async def start(self):
        for url, spec in self.pages_to_retry():
            yield self.retry_request(url, spec)
        for column in self.columns():
            callback = self.parse_column_index if column.subcolumns else self.parse_list
            yield scrapy.Request(column.url, callback=callback, cb_kwargs={"column": column})
        if self.recheck_archived:
            # Pages edited or removed after publication: lists do not show it.
            for url, hints in self.archived_pages():
                yield scrapy.Request(url, callback=self.parse_article, cb_kwargs={"hints": hints})

    def parse_column_index(self, response: Response, column: Column):
        """An index of columns: each link the ``subcolumns`` selector picks is read as a column."""
        for link in response.css(column.subcolumns):
            if href := link.attrib.get("href"):
                sub = Column(url=response.urljoin(href), name=link_title(link) or None, title_filter=column.title_filter)
                yield scrapy.Request(self.canonical_url(sub.url), callback=self.parse_list, cb_kwargs={"column": sub})

    def parse_list(self, response: Response, column: Column):
        yield from self.follow_listing(
            response, column, self.list_entries(response), self.next_page_url(response), self.parse_list
        )

    def follow_listing(self, response: Response, column: Column, entries: Iterable[ListEntry], next_url: str | None, callback):
        """Article requests for the new entries of one list page, then the next page
        unless this one already held a known article."""
        found = reached_known = 0
        for entry in entries:
            found += 1
            entry = replace(entry, url=self.canonical_url(entry.url))
            if column.title_filter and not column.title_filter.search(entry.title):
                continue
            if self.is_known(entry.url, entry.published_at):
                reached_known += 1
                continue
            hints = {"title": entry.title, "published_at": entry.published_at, "column": column.name}
            yield scrapy.Request(entry.url, callback=self.parse_article, cb_kwargs={"hints": hints})
        if not found:
            logger.warning("No list items on %s: has the list layout changed?", response.url)
        if next_url and not reached_known:
            yield scrapy.Request(next_url, callback=callback, cb_kwargs={"column": column})

    def parse_article(self, response: Response, hints: dict):
        yield ArticlePage(
            url=response.url,
            status=response.status,
            headers=dict(response.headers.to_unicode_dict()),
            body=response.body,
            fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            warc_file=response.meta.get("warc_file"),
            warc_record_id=response.meta.get("warc_record_id"),
            hints=hints,
            spider=self.name,
            profile=self.profile.name,
        )
        yield from attachment_requests(response, self.parse_attachment, self.download_failed)

    def parse_attachment(self, response: Response, page_url: str, name: str, by_extension: bool):
        item = attachment_item(response, self.name, page_url, name, by_extension)
        if item is not None:
            yield item

    def download_failed(self, failure):
        """Errback of every request (set by ``crawler.failures.ErrbackMiddleware``):
        the page is recorded as lost, with its kind."""
        report_download_failure(self.crawler, failure)

    def retry_spec(self, request: scrapy.Request) -> dict | None:
        """How a later run asks for ``request`` again, as JSON: its callback and
        keyword arguments (a column by its URL, name and title filter's name)."""
        callback = getattr(request.callback, "__name__", None)
        if callback not in _RETRYABLE_CALLBACKS:
            return None
        kwargs = dict(request.cb_kwargs)
        if isinstance(kwargs.get("column"), Column):
            column = kwargs["column"]
            filter_name = next((name for name, pattern in TITLE_FILTERS.items() if pattern is column.title_filter), None)
            kwargs["column"] = {"url": column.url, "name": column.name, "title_filter": filter_name}
        return {"callback": callback, "cb_kwargs": kwargs}

    def retry_request(self, url: str, spec: dict) -> scrapy.Request:
        kwargs = dict(spec["cb_kwargs"])
        if isinstance(kwargs.get("column"), dict):
            column = kwargs["column"]
            kwargs["column"] = Column(column["url"], column["name"], self.title_filter(column["title_filter"]))
        return scrapy.Request(url, callback=getattr(self, spec["callback"]), cb_kwargs=kwargs, priority=RETRY_PRIORITY)

    # -- helpers ------------------------------------------------------------------------

    def canonical_url(self, url: str) -> str:
        parts = urlsplit(url)
        scheme = self.site_settings.get("scheme")
        if scheme and parts.hostname and self.profile.matches_host(parts.hostname):
            parts = parts._replace(scheme=scheme)
        return parts._replace(fragment="").geturl()


class PagerScriptListMixin:
    """TRS WCM lists (CCDI, Beijing, Zhejiang) and Guangdong gov-cloud lists: the
    pager script names the page count, ``createPageHTML(3, 0, "index", "html")``
    (page 0 is ``index.html``, page n ``index_n.html``) or ``createPageHTML('page_div',
    3, 1, 'index', 'html', …)`` (page 1 is ``index.html``, page n ≥ 2 ``index_n.html``)."""

    def next_page_url(self, response: Response) -> str | None:
        return pager_script_next(response)


class ItemArrayListMixin:
    """12371.cn lists: the page's list is empty HTML that a script fills from
    ``item=[{'link_add':'…','title':'…','brief':'2021-10-23 09:05:00'}, …]``
    (what RSSHub's and other 12371 crawlers read; selectors-in-the-wild)."""

    def list_entries(self, response: Response) -> Iterable[ListEntry]:
        return script_array_entries(inline_scripts(response), response.url, name="item")


class Was5SearchMixin:
    """TRS WAS5 site search (CCDI): after the columns, each keyword of the
    profile's ``search`` is searched and its result pages walked like a list."""

    async def start(self):
        async for request in super().start():
            yield request
        search = self.site_settings["search"]
        for keyword in search["keywords"]:
            column = Column(url=search["url"].format(keyword=keyword), name=None)
            yield scrapy.Request(column.url, callback=self.parse_search, cb_kwargs={"column": column})

    def parse_search(self, response: Response, column: Column):
        search = self.site_settings["search"]
        yield from self.follow_listing(
            response,
            column,
            selected_entries(response, response.url, search),
            next_link(response, search.get("next")),
            self.parse_search,
        )


# The mixins each CMS family's list pages need (``cms`` in a profile).
CMS_FAMILIES: dict[str, tuple[type, ...]] = {
    "trs": (PagerScriptListMixin,),
    "govcloud": (PagerScriptListMixin,),
    "12371": (ItemArrayListMixin,),
}


def spider_class(profile: Profile, module: str) -> type[ProfileSpider]:
    """The spider of ``profile``, as a class of ``module`` (where Scrapy's spider
    loader looks for it): ``<Name>Spider`` on its family's mixins, plus the WAS5
    search mixin when the profile has a ``search``."""
    family = profile.settings.get("cms")
    if family is not None and family not in CMS_FAMILIES:
        raise ProfileError(f"{profile.name}: unknown cms {family!r} (known: {', '.join(CMS_FAMILIES)})")
    search = (Was5SearchMixin,) if "search" in profile.settings else ()
    class_name = "".join(part.capitalize() for part in re.split(r"[^0-9A-Za-z]+", profile.name) if part) + "Spider"
    return type(
        class_name,
        (*search, *CMS_FAMILIES.get(family, ()), ProfileSpider),
        {
            "__module__": module,
            "__doc__": f"{profile.publisher}: the spider of sites/{profile.name}.yaml.",
            "name": profile.name,
            "profile_name": profile.name,
        },
    )
