"""Reading a list page: its entries (article URL, title, list date) and its next page.

A profile's ``list`` selectors read the entries of its own layout.  A profile
without them (a site added with just its host, publisher and column URLs) is
read generically, the way these CMSs print their lists:

* **entries**: the largest group of dated link blocks.  A block is the element
  around one article link (``li``, ``tr``, ``dd``, ``div``…) that also holds a
  date (``2021-09-28``, ``2021年9月28日``, ``(10月28日 08:01)``) or whose link
  carries one in its URL (TRS ``t20210928_…``); blocks are grouped by tag and
  class of themselves and of their parent, so navigation, footers and one-off
  links fall away.  The records of a CMS datastore (Hanweb's ``<script
  type="text/xml">`` CDATA records) are such blocks too.  A script array of
  article objects (12371's ``item=[{'link_add':…,'title':…,'brief':…}]``) is
  read when it lists more entries than the HTML.
* **next page**, the first of: a pager script (TRS ``createPageHTML(3, 0,
  "index", "html")``, gov-cloud ``createPageHTML('page_div', 3, 1, 'index',
  'html', …)``), a datastore's ``<totalpage>`` (``?uid=…&pageNum=n``), a 下一页
  link, the link numbered one more than this page in a pager of numbers, and
  ``index_N.html`` counted up to the 末页 link (its first step told by 共N页).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import lxml.html
from lxml import etree
from parsel import Selector
from scrapy.http import Response

from pipelines.normalise import url_date


@dataclass(frozen=True)
class ListEntry:
    url: str
    title: str
    published_at: str | None


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_TIME = re.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?!\d)")
# A list date without its year: "(10月28日 08:01)", "[10-28]".
_MONTH_DAY = re.compile(r"(?<!\d)\d{1,2}月\d{1,2}日|[\[(（]\d{1,2}-\d{1,2}[\])）]")


def list_date(text: str, url: str) -> str | None:
    """A list item's date as ISO 8601: ``2021-10-27``, or with the time when the
    list prints one, ``2021-10-27T18:00+08:00``.  Lists that omit the year
    (Sina: "(10月28日 08:01)") get the day from the article URL, read as the
    extract stage reads it (:func:`pipelines.normalise.url_date`)."""
    if found := _DATE.search(text):
        year, month, day = (int(g) for g in found.groups())
        date = f"{year:04d}-{month:02d}-{day:02d}"
    elif (date := url_date(url)) is None:
        return None
    time = _TIME.search(text)
    return f"{date}T{int(time[1]):02d}:{time[2]}+08:00" if time else date


def _clean(text: str) -> str:
    return " ".join(text.split())


def link_title(link: Selector | etree._Element) -> str:
    """The title a list gives an article link: lists cut long titles ("…") in
    the text and keep them whole in ``@title``."""
    if isinstance(link, Selector):
        return _clean(link.attrib.get("title") or link.xpath("string()").get(""))
    return _clean(link.get("title") or "".join(link.itertext()))


def _is_page_href(href: str | None) -> bool:
    return bool(href) and not href.strip().lower().startswith(("javascript:", "#", "mailto:"))


# -- entries by the profile's selectors ----------------------------------------------


def selected_entries(root: Selector | Response, base_url: str, selectors: dict) -> Iterator[ListEntry]:
    """Entries under ``root`` by ``item``/``link``/``date`` selectors; the first
    ``link`` of an item with a title wins (not the image link before it)."""
    for node in root.css(selectors["item"]):
        link = next((a for a in node.css(selectors["link"]) if a.attrib.get("href") and link_title(a)), None)
        if link is None:
            continue
        url = urljoin(base_url, link.attrib["href"])
        date_text = _clean(" ".join(node.css(selectors["date"]).xpath("string()").getall())) if selectors.get("date") else ""
        yield ListEntry(url=url, title=link_title(link), published_at=list_date(date_text, url))


# -- generic entries ---------------------------------------------------------------------

# An article link's title is longer than a menu entry's ("首页", "关于我们", "更多>>").
_MIN_TITLE = 5
# Elements that are part of a line, never a list item of their own.
_INLINE = frozenset({"a", "span", "em", "i", "b", "strong", "font", "small", "u", "label", "img", "br"})
# How far above its link a block may start (li > h1 > a, tr > td > span > a).
_MAX_CLIMB = 3


def _article_links(root: etree._Element) -> list[etree._Element]:
    return [
        a for a in root.iter("a")
        if _is_page_href(a.get("href")) and len(link_title(a)) >= _MIN_TITLE
    ]


def _text_beside(block: etree._Element, link: etree._Element) -> str:
    """The block's text without its link's: where the list prints the date."""
    return _clean("".join(block.itertext()).replace("".join(link.itertext()), " ", 1))


def _is_dated(text: str, url: str) -> bool:
    return bool(_DATE.search(text) or _MONTH_DAY.search(text) or url_date(url))


def _block_of(link: etree._Element, base_url: str) -> etree._Element | None:
    """The element around ``link`` that holds its date and no other article, if any."""
    url = urljoin(base_url, link.get("href"))
    node = link.getparent()
    for _ in range(_MAX_CLIMB):
        if node is None or node.tag in ("body", "html"):
            return None
        if len({urljoin(base_url, a.get("href")) for a in _article_links(node)}) > 1:
            return None
        if node.tag not in _INLINE and _is_dated(_text_beside(node, link), url):
            return node
        node = node.getparent()
    return None


def _group_key(block: etree._Element) -> tuple:
    parent = block.getparent()
    return (block.tag, block.get("class"), parent.tag, parent.get("class"))


def _entry(block: etree._Element, link: etree._Element, base_url: str) -> ListEntry:
    url = urljoin(base_url, link.get("href"))
    return ListEntry(url=url, title=link_title(link), published_at=list_date(_text_beside(block, link), url))


def html_entries(root: etree._Element, base_url: str) -> list[ListEntry]:
    """The largest group of dated link blocks under ``root``, in page order."""
    groups: dict[tuple, list[tuple[etree._Element, etree._Element]]] = {}
    seen_blocks = set()
    for link in _article_links(root):
        block = _block_of(link, base_url)
        if block is None or block in seen_blocks:
            continue
        seen_blocks.add(block)
        groups.setdefault(_group_key(block), []).append((block, link))
    if not groups:
        return []
    largest = max(groups.values(), key=len)  # the first of equal groups
    return [_entry(block, link, base_url) for block, link in largest]


@dataclass(frozen=True)
class Datastore:
    """A Hanweb (大汉) list's data block: ``<div id="<uid>"><script type="text/xml">``
    with one CDATA ``<record>`` per item and ``<totalpage>``."""

    uid: str
    records: tuple[str, ...]
    total_pages: int | None


_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_TOTAL_PAGES = re.compile(r"<totalpage>\s*(\d+)\s*</totalpage>")


def datastore(response: Response) -> Datastore | None:
    block = response.xpath('//div[@id][script[@type="text/xml"]]')
    if not block:
        return None
    text = block.css('script[type="text/xml"]::text').get() or ""
    total = _TOTAL_PAGES.search(text)
    return Datastore(block.attrib["id"], tuple(_RECORD.findall(text)), int(total[1]) if total else None)


def datastore_entries(store: Datastore, base_url: str) -> list[ListEntry]:
    entries = []
    for record in store.records:
        fragment = lxml.html.fragment_fromstring(record, create_parent="div")
        link = next(iter(_article_links(fragment)), None)
        if link is not None:
            entries.append(_entry(fragment, link, base_url))
    return entries


# item=[{'link_add':'https://…','title':'…','brief':'2021-10-23 09:05:00'}, …];
_SCRIPT_ARRAY = re.compile(r"(?P<name>[\w$.]+)\s*=\s*\[(?P<objects>\s*\{.*?\})\s*\]", re.S)
_OBJECT = re.compile(r"\{(.*?)\}", re.S)
_PAIR = re.compile(r"""(?P<kq>['"]?)(?P<key>\w+)(?P=kq)\s*:\s*(?P<q>['"])(?P<value>(?:\\.|(?!(?P=q)).)*)(?P=q)""", re.S)
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\(.)", re.S)
_LINK_KEYS = ("link_add", "url", "link", "href", "linkurl", "docurl")
_TITLE_KEYS = ("title", "doctitle", "name")


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else m[2], value)


def script_array_entries(text: str, base_url: str, name: str | None = None) -> list[ListEntry]:
    """Entries of the first script array of article objects (named ``name`` if given):
    objects with a link and a title, dated by any value that holds a date."""
    for array in _SCRIPT_ARRAY.finditer(text):
        if name is not None and array["name"].rsplit(".", 1)[-1] != name:
            continue
        entries = []
        for obj in _OBJECT.finditer(array["objects"]):
            fields = {m["key"].lower(): _unescape(m["value"]) for m in _PAIR.finditer(obj[1])}
            link = next((fields[k] for k in _LINK_KEYS if _is_page_href(fields.get(k))), None)
            title = next((_clean(fields[k]) for k in _TITLE_KEYS if fields.get(k, "").strip()), None)
            if link and title:
                url = urljoin(base_url, link)
                date_text = next((v for k, v in fields.items() if k not in _LINK_KEYS + _TITLE_KEYS and _DATE.search(v)), "")
                entries.append(ListEntry(url=url, title=title, published_at=list_date(date_text, url)))
        if entries:
            return entries
    return []


def inline_scripts(response: Response) -> str:
    return "\n".join(response.xpath("//script[not(@src)]/text()").getall())


def generic_entries(response: Response) -> list[ListEntry]:
    """A list page's entries without selectors (see the module's docstring)."""
    store = datastore(response)
    if store is not None and store.records:
        return datastore_entries(store, response.url)
    from_html = html_entries(response.selector.root, response.url)
    from_script = script_array_entries(inline_scripts(response), response.url)
    return from_script if len(from_script) > len(from_html) else from_html


# -- next page -------------------------------------------------------------------------------

# TRS: createPageHTML(pages, current, "index", "html"), index.html is page 0;
# gov-cloud: createPageHTML('page_div', pages, current, 'index', 'html', …), index.html is page 1.
_PAGER_SCRIPT = re.compile(
    r"""createPageHTML\(\s*(?:(?P<div>["'][\w-]*["'])\s*,\s*)?(?P<pages>\d+)\s*,\s*(?P<current>\d+)\s*,"""
    r"""\s*["'](?P<stem>\w+)["']\s*,\s*["'](?P<ext>\w+)["']"""
)
_NEXT_TEXTS = frozenset({"下一页", "下页", "下一頁", "后页", "后一页", ">", "›", "»", "＞"})
_LAST_TEXTS = frozenset({"末页", "尾页", "最后一页", "末頁"})
_PAGE_COUNT = re.compile(r"共\s*(\d+)\s*页")
_NUMBERED = re.compile(r"(?P<stem>.*?)(?:_(?P<number>\d+))?\.(?P<ext>s?html?)$")


def pager_script_next(response: Response) -> str | None:
    call = _PAGER_SCRIPT.search(inline_scripts(response))
    if call is None:
        return None
    first_page = 1 if call["div"] else 0
    following = int(call["current"]) + 1
    if following - first_page >= int(call["pages"]):
        return None
    return response.urljoin(f"{call['stem']}_{following}.{call['ext']}")


def datastore_next(response: Response) -> str | None:
    store = datastore(response)
    if store is None or store.total_pages is None:
        return None
    current = int(parse_qs(urlsplit(response.url).query).get("pageNum", ["1"])[0])
    if current >= store.total_pages:
        return None
    return response.urljoin(f"?uid={store.uid}&pageNum={current + 1}")


def _labelled_links(response: Response, labels: frozenset[str]) -> list[str]:
    return [
        response.urljoin(a.attrib["href"])
        for a in response.xpath("//a[@href]")
        if _is_page_href(a.attrib["href"])
        and (_clean(a.xpath("string()").get("")).replace(" ", "") in labels or a.attrib.get("title") in labels)
    ]


def next_link(response: Response, selector: str | None = None) -> str | None:
    """The next-page link: the first match of ``selector``, or of a 下一页 label."""
    if selector:
        href = response.css(selector).attrib.get("href")
        return response.urljoin(href) if href else None
    return next(iter(_labelled_links(response, _NEXT_TEXTS)), None)


def numbered_next(response: Response) -> str | None:
    """In a pager of page numbers, the link numbered one more than this page
    (the number linking here, else the one number not linked)."""
    folder = urlsplit(response.url).path.rsplit("/", 1)[0]
    numbered = {}
    for a in response.xpath("//a[@href]"):
        text = _clean(a.xpath("string()").get("")).strip("[]")
        url = response.urljoin(a.attrib["href"])
        if text.isdigit() and _is_page_href(a.attrib["href"]) and urlsplit(url).path.rsplit("/", 1)[0] == folder:
            numbered.setdefault(int(text), url)
    if not numbered:
        return None
    here = _page_key(response.url)
    current = next((n for n, url in numbered.items() if _page_key(url) == here), None)
    if current is None:
        current = next(n for n in range(1, max(numbered) + 2) if n not in numbered)
    return numbered.get(current + 1)


def last_page_next(response: Response) -> str | None:
    """``index_N.html`` pages counted up to the 末页 link: from ``index_n`` the next is
    ``index_{n+1}``; from the first page, ``index_1`` when 共N页 says the 末页 is
    page N-1 (TRS counting), ``index_2`` when it is page N."""
    last = next(iter(_labelled_links(response, _LAST_TEXTS)), None)
    there = _NUMBERED.match(urlsplit(last).path) if last else None
    if not (there and there["number"]):
        return None
    path = urlsplit(response.url).path
    # A column's first page is often its folder: /xcgz/ is /xcgz/index.html.
    here = _NUMBERED.match(path + f"index.{there['ext']}" if path.endswith("/") else path)
    if not (here and here["stem"] == there["stem"]):
        return None
    last_number = int(there["number"])
    if here["number"]:
        following = int(here["number"]) + 1
    else:
        count = _PAGE_COUNT.search(_clean(" ".join(response.xpath("//body//text()").getall())))
        if count is None or int(count[1]) - last_number not in (0, 1):
            return None
        following = 1 if int(count[1]) - last_number == 1 else 2
    if following > last_number:
        return None
    return response.urljoin(f"{here['stem'].rsplit('/', 1)[-1]}_{following}.{here['ext']}")


_FOLDER_INDEX = re.compile(r"/(?:index|default)\.s?html?$")


def _page_key(url: str) -> tuple[str, str, str]:
    """What tells two URLs of one page apart: host, path (a folder and its
    index.html are one page) and query, not the scheme or fragment."""
    parts = urlsplit(url)
    return parts.netloc, _FOLDER_INDEX.sub("/", parts.path), parts.query


def generic_next_page(response: Response) -> str | None:
    """A list page's next page without a profile's pagination (see the module's docstring)."""
    here = _page_key(response.url)
    for find in (pager_script_next, datastore_next, next_link, numbered_next, last_page_next):
        url = find(response)
        if url and _page_key(url) != here:
            return url
    return None
