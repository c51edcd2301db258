"""Extract stage: decode the bytes, find the content, read the raw metadata.

Three input shapes arrive:

* Markdown with YAML front matter and an HTML body (saved Sina articles),
* an HTML page (crawled, or a saved ``.html`` file),
* plain text (a page dump or a report).

For HTML the site profile of the page's own host decides the selectors (a
saved file's host is the one the page declares); a page no profile knows, or
whose profile has no templates, is read by the generic reader
(:mod:`pipelines.generic`), and by trafilatura when it has no running text.  The result keeps the content as an
lxml tree (HTML) or as lines (text) for the clean stage.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import charset_normalizer
import lxml.html
import yaml
from lxml import etree

from sites import YAML_LOADER, Profile, Template, profile_for_url

from . import RawDocument, StageError, generic
from .selectors import css, xpath
from .text import join_pieces

STAGE = "extract"
# A page of a profiled host that none of the profile's templates reads: read by the
# generic reader instead, marked so (``extractor``, a warning of this kind).
TEMPLATE_MISMATCH = "template_mismatch"
TEMPLATE_MISMATCH_SUFFIX = " (no template matched)"

_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.I)
_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n(.*)\Z", re.S)
_HTML_START = re.compile(r"\A\s*(<!doctype html|<html|<head|<body|<div|<p[ >])", re.I)

# A byte order mark names the encoding of the text after it; UTF-32's marks begin like UTF-16's.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# A Chinese site that says GB2312 or GBK almost always means the superset GB18030.
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030"}
# A page with a few bytes its charset cannot decode (a stray byte, a character
# cut by a CMS) is salvaged: at most this share of its bytes (and at least 8)
# become U+FFFD, recorded as a warning.  More is the wrong charset, or binary.
SALVAGE_MAX_SHARE = 0.001
_ESCAPED = re.compile("[\udc80-\udcff]")
# Control characters are never text (tab, newline and carriage return aside):
# removed with a warning; past this share of the text the file is binary.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MAX_SHARE = 0.01

# Rule site_error_page: what servers answer with status 200 for a missing page
# (a "soft 404"): nginx's and IIS's 404 pages, CMS notices that a page does not
# exist or was deleted.  Matched on <title> and <h1> of a page no article
# template matches; a site whose error page looks otherwise names it in its
# profile (``error_page``).
SITE_ERROR_PAGE = re.compile(
    r"\b404\b.{0,12}(?:Not Found|页面|错误)|页面(?:不存在|未找到)|找不到(?:您要访问的|该)?页面"
    r"|(?:信息|文章|内容|页面)(?:不存在|已被?删除)"
)


@dataclass
class Extracted:
    format: str  # "front_matter" | "html" | "text"
    tree: etree._Element | None = None
    lines: list[str] | None = None
    meta: dict = field(default_factory=dict)
    profile: Profile | None = None
    template: Template | None = None
    extractor: str = ""
    warnings: list[str] = field(default_factory=list)


def decode(body: bytes, content_type: str | None = None) -> str:
    """Decode page bytes (see :func:`decode_with_warnings`)."""
    return decode_with_warnings(body, content_type)[0]


def decode_with_warnings(body: bytes, content_type: str | None = None) -> tuple[str, list[str]]:
    """Decode page bytes, trusting the bytes over a declared charset; (text, warnings).

    Valid UTF-8 is taken as UTF-8 even when the page declares GB2312 (some
    sites transcode without fixing the meta tag); otherwise the declared
    charset (header, then meta) is tried strictly; then UTF-8 and the declared
    charsets again, accepting a few undecodable bytes (replaced by U+FFFD,
    with a warning that counts them); then charset-normalizer.
    """
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        return body.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    declared = []
    if content_type and "charset=" in content_type.lower():
        declared.append(content_type.lower().split("charset=")[-1].split(";")[0].strip(" \"'"))
    if m := _DECLARED_CHARSET.search(body[:4096]):
        declared.append(m.group(1).decode("ascii", "ignore").lower())
    charsets = [_CHARSET_ALIASES.get(charset, charset) for charset in declared]
    for charset in charsets:
        try:
            return body.decode(charset), []
        except (UnicodeDecodeError, LookupError):
            continue
    if salvaged := _salvage(body, ["utf-8", *charsets]):
        return salvaged
    best = charset_normalizer.from_bytes(body).best()
    if best is not None:
        return str(best), []
    raise StageError(STAGE, "undecodable", "bytes match no declared or detectable encoding")


def _salvage(body: bytes, charsets: list[str]) -> tuple[str, list[str]] | None:
    """The charset that leaves the fewest undecodable bytes, when they are few."""
    limit = max(8, int(len(body) * SALVAGE_MAX_SHARE))
    best = None
    for charset in dict.fromkeys(charsets):
        try:
            text = body.decode(charset, "surrogateescape")
        except (UnicodeDecodeError, LookupError):
            continue
        text, bad = _ESCAPED.subn("\ufffd", text)  # counted without a list of them (a binary file has millions)
        if bad <= limit and (best is None or bad < best[0]):
            best = (bad, charset, text)
    if best is None:
        return None
    bad, charset, text = best
    return text, [f"{bad} undecodable byte(s) replaced by U+FFFD (decoded as {charset})"]


def _without_control_characters(text: str) -> tuple[str, list[str]]:
    removed, found = _CONTROL.subn("", text)
    if not found:
        return text, []
    if found > CONTROL_MAX_SHARE * len(text):
        raise StageError(STAGE, "binary", f"{found} control characters in {len(text)}: binary, not a text document")
    return removed, [f"{found} control character(s) removed"]


def wide_encoding(body: bytes) -> str | None:
    """The UTF-16 or UTF-32 encoding whose byte order mark starts ``body``, else None.
    Such text is full of NUL bytes: it is text all the same (Windows saves HTML so)."""
    return next((encoding for bom, encoding in _WIDE_BOMS if body.startswith(bom)), None)


def _decode_wide(body: bytes, encoding: str) -> str:
    bom = next(bom for bom, name in _WIDE_BOMS if name == encoding)
    try:
        return body[len(bom):].decode(encoding)
    except UnicodeDecodeError as exc:
        raise StageError(STAGE, "undecodable", f"not {encoding.upper()} after its byte order mark ({exc.reason})") from exc


def incomplete_body(body: bytes) -> tuple[str, str] | None:
    """(kind, reason) when the bytes cannot be a whole document: ``empty`` (nothing
    but whitespace) or ``truncated`` (UTF-8 that stops inside a character: the
    connection closed mid-page and nothing announced the length).  The crawler
    retries such answers; what is still incomplete is never archived."""
    if not body or body.isspace():  # not body.strip(): a copy of the page
        return "empty", "the response body is empty"
    if wide_encoding(body):
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Every byte before is valid UTF-8 and the last character is unfinished.
        if exc.reason == "unexpected end of data":
            return "truncated", f"the body stops inside a UTF-8 character, after {len(body)} bytes"
    return None


def extract(raw: RawDocument) -> Extracted:
    if encoding := wide_encoding(raw.body):
        text, warnings = _decode_wide(raw.body, encoding), []
    else:
        if b"\x00" in raw.body[:2048]:
            raise StageError(STAGE, "binary", "the body is binary, not a text document")
        if incomplete := incomplete_body(raw.body):
            raise StageError(STAGE, *incomplete)
        text, warnings = decode_with_warnings(raw.body, raw.content_type)
    text, removed = _without_control_characters(text)
    if m := _FRONT_MATTER.match(text):
        extracted = _extract_front_matter(m.group(1), m.group(2))
    elif (raw.content_type or "").startswith("text/html") or _HTML_START.match(text):
        extracted = _extract_html(raw.url, text)
    else:
        extracted = Extracted(format="text", lines=text.splitlines(), extractor="text")
    extracted.warnings = warnings + removed + extracted.warnings
    return extracted


def _extract_front_matter(header: str, body: str) -> Extracted:
    try:
        meta = yaml.load(header, Loader=YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        raise StageError(STAGE, "bad_front_matter", str(exc).splitlines()[0]) from exc
    if not isinstance(meta, dict):
        raise StageError(STAGE, "bad_front_matter", "front matter is not a mapping")
    meta = {f"fm_{k}": v for k, v in meta.items()}
    if _HTML_START.match(body) or "<p" in body:
        tree = _parse_html_fragment(body)
        return Extracted(format="front_matter", tree=tree, meta=meta, extractor="front_matter")
    return Extracted(format="front_matter", lines=body.splitlines(), meta=meta, extractor="front_matter")


def _parse_html_fragment(html: str) -> etree._Element:
    try:
        return lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError) as exc:
        raise StageError(STAGE, "bad_html", str(exc)) from exc


def _parse_page(html: str) -> etree._Element:
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise StageError(STAGE, "bad_html", str(exc)) from exc


# Share buttons carry the page's own address in a parameter (weibo, qzone, douban: ``?url=``/``?u=``).
_SHARE_LINK_PARAMETERS = ("url", "u", "href")


def _canonical_url(page: etree._Element) -> str | None:
    for expression in (
        '//link[@rel="canonical"]/@href',
        '//meta[@property="og:url"]/@content',
    ):
        for value in xpath(expression)(page):
            if value.startswith("http"):
                return value.strip()
    return None


def _shared_address(page: etree._Element) -> str | None:
    """The address a share button passes on (``…share.php?url=http…``): what a saved page says it is.
    Only cited, never used to choose a site profile: a lookalike page copies its model's buttons."""
    for href in xpath('//a[contains(@href, "share") and contains(@href, "=http")]/@href')(page):
        query = parse_qs(urlsplit(href).query)
        for name in _SHARE_LINK_PARAMETERS:
            for value in query.get(name, ()):
                if value.startswith(("http://", "https://")):
                    return value.strip()
    return None


def _select_one(page: etree._Element, selector: str | None) -> etree._Element | None:
    if not selector:
        return None
    found = css(page, selector)
    return found[0] if found else None


def _text_of(el: etree._Element | None) -> str | None:
    return None if el is None else join_pieces(el.itertext())


def _text_of_all(page: etree._Element, selector: str | None) -> str | None:
    """Text of every element the selector matches (a title split over several lines)."""
    if not selector:
        return None
    return join_pieces(_text_of(el) or "" for el in css(page, selector))


def _find_template(page: etree._Element, profile: Profile | None) -> Template | None:
    for template in profile.templates if profile else ():
        if css(page, template.detect):
            return template
    return None


def _own_profile(page: etree._Element, page_url: str) -> Profile | None:
    """The profile of the page's own host: the URL's, or for a saved file the
    host the page declares (canonical link, og:url, TRS ``SiteDomain``).

    Never another host's: a page whose markup merely resembles a profiled
    template is not that site's page, and must not get its publisher."""
    if profile := profile_for_url(page_url):
        return profile
    if urlsplit(page_url).scheme in ("http", "https"):
        return None
    for domain in xpath("//meta[@name='SiteDomain']/@content")(page):
        if profile := profile_for_url(f"http://{domain.strip()}/"):
            return profile
    return None


def _error_page_reason(page: etree._Element, profile: Profile | None, matched_a_template: bool) -> str | None:
    """Why the page is the site's error page and no document, or None."""
    marker = profile.settings.get("error_page") if profile else None
    if marker and css(page, marker):
        return f"it has the error-page marker {marker!r} of profile {profile.name!r}"
    if matched_a_template:
        return None
    heading = join_pieces(xpath("//title//text() | //h1//text()")(page)) or ""
    if found := SITE_ERROR_PAGE.search(heading):
        return f"its title says {found[0]!r}"
    return None


def _extract_html(url: str, html: str) -> Extracted:
    page = _parse_page(html)
    crawled = urlsplit(url).scheme in ("http", "https")
    page_url = url if crawled else _canonical_url(page) or url
    extracted = _read_html(page, html, page_url)
    if not crawled:  # a saved file: the web address it gives for itself, for citing
        extracted.meta["own_address"] = page_url if page_url != url else _shared_address(page)
    return extracted


def _read_html(page: etree._Element, html: str, page_url: str) -> Extracted:
    profile = _own_profile(page, page_url)
    template = _find_template(page, profile)
    if reason := _error_page_reason(page, profile, matched_a_template=template is not None):
        raise StageError(STAGE, "site_error_page", f"the server's error page answered as a page: {reason}")
    if template is not None:
        body = _select_one(page, template.body)
        if body is not None:
            return _extract_with_template(page, body, profile, template, page_url=page_url)
        mismatch = f"{profile.name}/{template.name}: body selector matched nothing"
    elif profile is not None and profile.templates:
        mismatch = f"no template of profile {profile.name!r} matches the page"
    else:
        mismatch = None
    # No profile for this host, or a profile that names only host, publisher and
    # columns: the generic reader; the publisher still comes from the own profile.
    # A profile narrows, it never loses a page: a page that matches none of its
    # templates (the site changed its layout, an older channel) is read generically
    # too, and says so in ``extractor`` and its warnings, for the crawl to report.
    reading = generic.read(page)
    if reading is None:
        extracted = _extract_fallback(page, html)
    else:
        extracted = Extracted(format="html", tree=reading.body, meta={"page_url": page_url, **reading.meta}, extractor="generic")
    if mismatch:
        extracted.extractor += TEMPLATE_MISMATCH_SUFFIX
        extracted.warnings.append(f"{TEMPLATE_MISMATCH}: {mismatch} (template changed?); read by the {extracted.extractor.split()[0]} reader")
    extracted.profile = profile
    return extracted


def _extract_with_template(
    page: etree._Element, body: etree._Element, profile: Profile, template: Template, page_url: str
) -> Extracted:
    meta = {
        "page_url": page_url,
        "page_title": _text_of_all(page, template.title),
        "page_published": _text_of(_select_one(page, template.published_at)),
        "page_source": _text_of(_select_one(page, template.source)),
        "page_author": _text_of(_select_one(page, template.author)),
        "page_editor": _text_of(_select_one(page, template.editor)),
    }
    if template.editor:
        for el in css(page, template.editor):
            if el is not body:
                el.drop_tree()
    return Extracted(
        format="html",
        tree=body,
        meta={k: v for k, v in meta.items() if v},
        profile=profile,
        template=template,
        extractor=f"profile:{profile.name}/{template.name}",
    )


def _extract_fallback(page: etree._Element, html: str) -> Extracted:
    """A page without running text for the generic reader (a picture page, a
    page of fragments): trafilatura finds what text there is; title and date
    from meta tags only.

    trafilatura's own date guess is not used: it reads dates out of image
    URLs (a QR image's upload date), which is worse than no date.
    """
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_precision=True)
    if not text:
        raise StageError(STAGE, "no_content", "no main text found in the page")
    meta = {}
    title = xpath("string(//meta[@property='og:title']/@content)")(page) or xpath("string(//title)")(page)
    if title and title.strip():
        meta["page_title"] = title.strip()
    return Extracted(format="text", lines=text.splitlines(), meta=meta, extractor="trafilatura")
