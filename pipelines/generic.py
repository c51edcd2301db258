"""The generic reader for Chinese CMS article pages.

Used for every HTML page no profile of its own host describes (or whose
profile gives only host, publisher and columns).  It reads what the page
itself says, the way the CMS families that ~3,000 government and news sites
run print it (TRS WCM, Hanweb, gov-cloud, DedeCMS, PHPCMS, EmpireCMS,
WordPress, municipal ASP/ASPX sites, news portals):

* **lines** — the page is walked once into text lines (block elements and
  ``<br>`` end a line; scripts, styles and hidden elements are skipped), each
  line knowing the element that holds it and how much of it is link text;
* **body** — the element whose lines hold the most sentence text and the
  least else (sentence text counts for it, headings, menus, link lists and
  short lines against it, sidebars and footers not at all); a CMS family's own
  container (``TRS_Editor``, ``#zoom``, ``entry-content``… — selectors only)
  when it holds a fair share of that text; then down to a child that holds
  nearly all of it;
* **title** — the longest heading line (``h1``–``h3``, ``…title``/``tit``/``bt``
  elements) that the page's ``<title>``, ``og:title`` or ``ArticleTitle`` also
  carry, which strips the site and column around it in any order
  (``标题_栏目_站名``, ``站名 标题``, ``标题--刊名``); without one, those
  references themselves with their site suffix cut;
* **metadata** — the labelled lines between the title and the body (and,
  for the editor, just below the body), read by :mod:`pipelines.metalines`;
  then ``<time datetime>`` and meta tags (``PubDate``, ``publishdate``,
  ``article:published_time``, ``ContentSource``…);
* **publisher** — what the page calls itself: meta ``SiteName``,
  ``og:site_name``, else the site part of ``<title>``.  Never a profile's.

Bylines and datelines inside the body (``…网站讯``, ``本报北京…电``) are the
clean stage's rules, as for every page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from lxml import etree

from . import metalines
from .selectors import xpath
from .text import han_count, join_pieces, normalise_space

BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dd dt tr td th table tbody thead tfoot caption section article "
    "blockquote header footer nav aside main pre form fieldset figure figcaption center address hr body".split()
)
SKIP_TAGS = frozenset("script style noscript template head select option textarea button iframe object embed svg input".split())
# Page furniture by tag or by a word of its class/id (``sidebar``, ``in_footer``,
# ``nav-links``…): its text never counts as the article's, however sentence-like.
FURNITURE_TAGS = frozenset("aside nav footer header".split())
FURNITURE_WORDS = frozenset(
    "side sidebar aside footer foot bottom nav navbar menu comment comments copyright friendlink "
    "breadcrumb crumb crumbs related recommend tuijian hot rank share".split()
)
_WORDS = re.compile(r"[\s_-]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SENTENCE_END = re.compile(r"[。！？；!?;]")
_CLAUSE = re.compile(r"[，、,]")
# Class/id tokens of headline elements.
_TITLE_CLASS = re.compile(r"title|tit\b|^tit|biaoti|headline|^bt$", re.I)
# Separators between a title and its site or column names in <title>.
_TITLE_SEPARATOR = re.compile(r"\s*(?:[_|｜·•]|-{1,2}|—+|–|\s-\s)\s*")
_LINK_HEAVY = 0.5
BAD_WEIGHT = 0.5
TIGHTEN = 0.9
MARKER_SHARE = 0.3
# The article containers CMS families name (selectors only: a family's template
# never carries a site's name or publisher).  TRS WCM ``TRS_Editor``; Hanweb and
# gov-cloud ``#zoom``; 开普云 ``#UCAP-CONTENT``; WordPress ``entry-content``;
# EmpireCMS ``newstext``; xinhuanet ``#p-detail``; thepaper ``news_txt``;
# people.com.cn ``rm_txt_con``/``#rwb_zw``; WeChat copies ``#js_content``.
CMS_MARKER_IDS = frozenset("zoom UCAP-CONTENT p-detail rwb_zw js_content fontzoom ArticleContent article-content".split())
CMS_MARKER_CLASSES = frozenset(
    "TRS_Editor TRS_UEDITOR entry-content post-content wp-block-post-content newstext news_txt rm_txt_con "
    "article-content article_content art_content".split()
)

_META_DATES = ("pubdate", "publishdate", "publish_date", "publishtime", "article:published_time", "og:release_date", "datepublished", "dc.date.issued")
_META_SOURCES = ("contentsource", "source")
_META_TITLES = ("articletitle", "og:title", "twitter:title")
# Markup a CMS left inside a meta tag's content (ArticleTitle "<div><p><span>标题</span></p></div>").
_MARKUP = re.compile(r"<[^<>]{1,200}>")
# What a site's and column's name in <title> look like (``_栏目_站名``, ``--刊名``, ``|站名``).
_SITE_WORD = re.compile(r"网|报|刊|台|站|频道|门户|政府|新闻|首页|专题|栏目|中心|杂志|在线|客户端")
_SITE_PART_MAX = 16
_META_SITES = ("sitename", "og:site_name")


@dataclass
class Line:
    text: str
    spaced: str
    """The text with a space wherever markup separated it (``来源：X</span><span>浏览次数``):
    the form labelled metadata is read from."""
    han: int = 0
    link_han: int = 0
    furniture: bool = False

    @property
    def is_sentence(self) -> bool:
        """Running text: a sentence, or a long clause list; not a heading, menu, link or sidebar."""
        if self.furniture or self.link_han > self.han * _LINK_HEAVY:
            return False
        return bool(_SENTENCE_END.search(self.text)) or (self.han >= 20 and bool(_CLAUSE.search(self.text)))


@dataclass
class Reading:
    body: etree._Element
    meta: dict = field(default_factory=dict)


class _Walk:
    """The page's text lines, in document order, and each element's range of them."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.spans: dict[etree._Element, tuple[int, int]] = {}
        self._pieces: list[str] = []
        self._link_han = 0
        self._in_link = 0
        self._in_furniture = 0

    def _add(self, text: str | None) -> None:
        if text and not text.isspace():
            self._pieces.append(text)
            if self._in_link:
                self._link_han += han_count(text)

    def _flush(self) -> None:
        if self._pieces:
            text = join_pieces(self._pieces)
            if text:
                spaced = normalise_space(" ".join(self._pieces))
                self.lines.append(Line(text, spaced, han_count(text), self._link_han, self._in_furniture > 0))
        self._pieces, self._link_han = [], 0

    def walk(self, el: etree._Element) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else None
        if tag is None or tag in SKIP_TAGS or _is_hidden(el):
            self._add(el.tail)
            return
        if tag == "br":
            self._flush()
            self._add(el.tail)
            return
        block = tag in BLOCK_TAGS
        furniture = block and _is_furniture(el, tag)
        if block:
            self._flush()
        start = len(self.lines)
        self._in_link += tag == "a"
        self._in_furniture += furniture
        self._add(el.text)
        for child in el:
            self.walk(child)
        self._in_link -= tag == "a"
        if block:
            self._flush()
        self._in_furniture -= furniture
        self.spans[el] = (start, len(self.lines))
        self._add(el.tail)


def _is_furniture(el: etree._Element, tag: str) -> bool:
    if tag in FURNITURE_TAGS:
        return True
    names = f"{el.get('class') or ''} {el.get('id') or ''}"
    return bool(names.strip()) and any(word.lower() in FURNITURE_WORDS for word in _WORDS.split(names))


def _is_hidden(el: etree._Element) -> bool:
    style = el.get("style")
    return (style is not None and bool(_HIDDEN_STYLE.search(style))) or el.get("hidden") is not None


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _metas(page: etree._Element) -> dict[str, str]:
    found = {}
    for meta in page.iter("meta"):
        key = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").strip().lower()
        value = normalise_space(_MARKUP.sub(" ", meta.get("content") or ""))
        if key and value and key not in found:
            found[key] = value
    if "datepublished" not in found and (published := _json_ld_date(page)):
        found["datepublished"] = published
    return found


def _json_ld_date(page: etree._Element) -> str | None:
    """``datePublished`` of the page's JSON-LD (schema.org NewsArticle), if any."""
    for script in xpath("//script[@type='application/ld+json']")(page):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and isinstance(item.get("datePublished"), str):
                return item["datePublished"]
    return None


# -- body ---------------------------------------------------------------------------------


def _choose_body(walk: _Walk) -> etree._Element | None:
    good, bad = [0], [0]
    for line in walk.lines:
        sentence = line.han if line.is_sentence else 0
        good.append(good[-1] + sentence)
        bad.append(bad[-1] + line.han - sentence)

    def good_of(el: etree._Element) -> int:
        start, end = walk.spans[el]
        return good[end] - good[start]

    best, best_key = None, None
    for el, (start, end) in walk.spans.items():
        if el.tag not in BLOCK_TAGS or start == end:
            continue
        score = (good[end] - good[start]) - BAD_WEIGHT * (bad[end] - bad[start])
        key = (score, _depth(el))
        if best_key is None or key > best_key:
            best, best_key = el, key
    if not best_key or best_key[0] <= 0:
        return None
    # A CMS family's own article container, when it holds a fair share of the text.
    marked = [el for el in walk.spans if _is_marked(el) and good_of(el) >= MARKER_SHARE * good_of(best)]
    if marked:
        best = max(marked, key=lambda el: (good_of(el), _depth(el)))
    # A promotion or summary line beside the article's own container is not text
    # of it: go down to a child holding nearly all of the running text.
    while True:
        inner = next(
            (child for child in best if child in walk.spans and good_of(child) >= TIGHTEN * good_of(best)),
            None,
        )
        if inner is None or inner.tag not in BLOCK_TAGS:
            return best
        best = inner


def _is_marked(el: etree._Element) -> bool:
    if el.get("id") in CMS_MARKER_IDS:
        return True
    return any(name in CMS_MARKER_CLASSES for name in (el.get("class") or "").split())


def _depth(el: etree._Element) -> int:
    depth = 0
    while (el := el.getparent()) is not None:
        depth += 1
    return depth


# -- title --------------------------------------------------------------------------------


def _heading_candidates(walk: _Walk):
    for el, (start, end) in walk.spans.items():
        if start == end or end - start > 4:
            continue
        tag = el.tag
        names = f"{el.get('class') or ''} {el.get('id') or ''}"
        if tag in ("h1", "h2", "h3") or any(_TITLE_CLASS.search(token) for token in names.split()):
            # A byline or date printed inside the headline element is not title.
            lines = [line.text for line in walk.lines[start:end] if metalines.parse(line.spaced) is None]
            for text in (*lines, "".join(lines)) if len(lines) > 1 else lines:
                yield el, text


def _strip_site(reference: str, site_names: frozenset[str] = frozenset()) -> str:
    """A <title>-like string without the site and column names after (or before) it:
    only parts that are a site's or column's name are cut, so a title's own dash
    (``反腐倡廉——从严治党``) stays."""
    parts = [p for p in re.split(f"({_TITLE_SEPARATOR.pattern})", reference) if p]

    def is_site(separator: str, part: str) -> bool:
        if _fold(part) in site_names:
            return True
        # ``_`` and ``|`` join a CMS's column and site names; a dash may be the title's own.
        return len(part) <= _SITE_PART_MAX and (separator.strip() in "_|｜" or bool(_SITE_WORD.search(part)))

    while len(parts) >= 3 and is_site(parts[-2], parts[-1]):
        parts = parts[:-2]
    while len(parts) >= 3 and is_site(parts[1], parts[0]):
        parts = parts[2:]
    return "".join(parts).strip()


def _title(page: etree._Element, walk: _Walk, metas: dict, body: etree._Element) -> tuple[str | None, etree._Element | None, str | None]:
    """(title, its element or None, the site part of <title>)."""
    page_title = normalise_space(page.findtext(".//title") or "")
    references = [metas.get(k, "") for k in _META_TITLES] + [page_title]
    folded = [_fold(r) for r in references if r]
    site_names = {_fold(metas[k]) for k in _META_SITES if metas.get(k)}
    candidates = [(el, text) for el, text in _heading_candidates(walk) if _fold(text) not in site_names]
    best = None
    for el, text in candidates:
        key = _fold(text)
        if len(key) >= 4 and any(key in ref for ref in folded):
            if best is None or len(key) > len(_fold(best[1])):
                best = (el, text)
    if best is None and not metas.get("articletitle"):
        # <title> without the article's title (``评论——站名``): the heading just above the text.
        first_text = _first_sentence(walk, body)
        above = [(el, text) for el, text in candidates if 0 <= first_text - walk.spans[el][0] <= 8 and len(_fold(text)) >= 4]
        best = max(above, key=lambda c: (walk.spans[c[0]][0], len(c[1])), default=None)
    if best:
        title, element = best[1], best[0]
    else:
        element = None
        stripped = (_strip_site(r, frozenset(site_names)) for r in references[1:] if r)
        title = metas.get("articletitle") or next(
            (t for t in stripped if han_count(t) >= 5 and _fold(t) not in site_names), None
        )
    folded_page_title, folded_title = _fold(page_title), _fold(title or "")
    residue = folded_page_title.replace(folded_title, " ", 1) if folded_title and folded_title in folded_page_title else None
    return title, element, residue


def _first_sentence(walk: _Walk, body: etree._Element) -> int:
    start, end = walk.spans[body]
    return next((i for i in range(start, end) if walk.lines[i].is_sentence), start)


def _publisher(metas: dict, residue: str | None) -> str | None:
    for key in _META_SITES:
        if metas.get(key):
            return metas[key]
    if residue:
        parts = [p.strip() for p in _TITLE_SEPARATOR.split(residue) if han_count(p) >= 2]
        if parts and len(parts[-1]) <= 20:
            return parts[-1]
    return None


# -- metadata -----------------------------------------------------------------------------


def _read_lines(lines: list[Line], meta: dict, fields: tuple[str, ...]) -> None:
    for line in lines:
        found = metalines.parse(line.spaced)
        if found is None:
            continue
        for name, value in found.values(line.spaced).items():
            name = "author" if name == "byline" else name
            if name in fields and f"page_{name}" not in meta:
                meta[f"page_{name}"] = value


def _info_lines(walk: _Walk, body: etree._Element, title_el: etree._Element | None) -> tuple[list[Line], list[Line]]:
    """The lines where a page prints its metadata, nearest first: between the title
    and the body's first sentence (the title element's own other lines included),
    then the few just above the title; and, for the editor, just below the body."""
    body_start, body_end = walk.spans[body]
    if title_el is not None and title_el in walk.spans:
        start = walk.spans[title_el][0]
    else:
        start = max(0, body_start - 6)
    around = []
    for index in range(start, len(walk.lines)):
        line = walk.lines[index]
        if index >= body_start and (line.is_sentence or index >= body_end):
            break
        around.append(line)
    if title_el is not None:
        around += reversed(walk.lines[max(0, start - 3) : start])
    below = walk.lines[body_end : body_end + 8]
    return around, below


def _time_element(page: etree._Element, body: etree._Element) -> str | None:
    for time in page.iter("time"):
        if time.get("datetime") and not _inside(time, body):
            return time.get("datetime")
    return None


def _inside(el: etree._Element, ancestor: etree._Element) -> bool:
    while el is not None:
        if el is ancestor:
            return True
        el = el.getparent()
    return False


def read(page: etree._Element) -> Reading | None:
    """The body element and what the page says about itself, or None when the
    page has no running text."""
    walk = _Walk()
    walk.walk(page.find("body") if page.find("body") is not None else page)
    body = _choose_body(walk)
    if body is None:
        return None
    metas = _metas(page)
    title, title_el, residue = _title(page, walk, metas, body)
    meta = {"page_title": title}
    around, below = _info_lines(walk, body, title_el)
    title_line = _fold(title or "")
    _read_lines([line for line in around if _fold(line.text) != title_line], meta, ("published", "source", "author", "editor", "outlet"))
    _read_lines(below, meta, ("editor",))
    # Later candidates: the normalise stage takes them when the lines give no
    # date, or to add the time to a day.
    meta["page_dates"] = [_time_element(page, body)] + [metas[k] for k in _META_DATES if metas.get(k)]
    if "page_source" not in meta:
        source = next((metas[k] for k in _META_SOURCES if metas.get(k)), None)
        meta["page_source"] = re.sub(r"^来源\s*[:：]\s*", "", source) if source else None
    meta["page_publisher"] = _publisher(metas, residue)
    meta["page_dates"] = [d for d in meta["page_dates"] if d]
    return Reading(body=body, meta={k: v for k, v in meta.items() if v})
