"""Normalise stage: one clean record from the extracted and cleaned parts.

Precedence, as a journalist reads a page:

* source — a byline or dateline in the body wins over the page's 来源 field
  (a republisher's 来源 names where it copied from, the byline who wrote it);
* author — the byline's writer, else the page's; ``佚名`` means unknown;
* editor — without the staff code, which is kept apart (``SF055``);
* published_at — the page's own date, in Beijing time (``+08:00``); a value
  with only a day stays ``YYYY-MM-DD``.  Dates are read only from metadata
  and date lines, never from body text, image URLs or ``X``-redacted dates.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

from dateutil import parser as dateutil_parser

from sites import load_profiles

from . import RawDocument, StageError, document_id, metalines, now_utc
from .boilerplate import LINE_RULES
from .classify import fold_simplified
from .clean import Cleaned, normalise_space
from .extract import Extracted

BEIJING = timezone(timedelta(hours=8))

_CN_DATETIME = re.compile(
    r"(?P<y>\d{4})\s*[年\-/.]\s*(?P<m>\d{1,2})\s*[月\-/.]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
)
_DAY_FIRST = re.compile(
    r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})(?:\s*(?P<H>\d{1,2})\s*[:：]\s*(?P<M>\d{1,2})(?:\s*[:：]\s*(?P<S>\d{1,2}))?)?"
)
_HAS_ZONE = re.compile(r"(GMT|UTC|Z$|[+-]\d{2}:?\d{2}$)|^\w{3}, ", re.I)
_LABEL = re.compile(r"^(?:来源|发布时间|发布日期|作者|文章来源|信息来源)\s*[:：|｜]\s*")
_SOURCE_IN_FIELD = re.compile(r"(?:文章来源|信息来源|来源)\s*[:：]\s*(?P<source>[^|｜\s]+)")
_UNKNOWN_AUTHORS = {"佚名", "未知", "本站", "admin", "匿名"}
_ROLES = "|".join(("作者", *metalines.ROLE_WORDS))
_ROLE_TOKEN = re.compile(rf"(?:{metalines.OUTLET}|{'|'.join(metalines.SELF_OUTLETS)})?(?:{_ROLES})")
_ROLE_PREFIX = re.compile(rf"^(?:{_ROLES})[:：]?")
_ROLE_INSIDE = re.compile(rf"(?<=[{metalines.HAN}]{{2}})(?:{'|'.join(metalines.ROLE_WORDS[:-2])})(?=[{metalines.HAN}]{{2}})")
# TRS t20211027_…, /2021-10-28/, people.com.cn /n1/2021/1028/, DedeCMS /2023/0918/ and
# /20230325/, Hanweb /art/2021/9/28/, 12371 and WordPress /2021/10/28/, xinhuanet /2019-06/11/.
_URL_DATES = (
    re.compile(r"/t(\d{4})(\d{2})(\d{2})_\d+"),
    re.compile(r"/(\d{4})-(\d{2})-(\d{2})/"),
    re.compile(r"/(\d{4})-(\d{2})/(\d{2})/"),
    re.compile(r"/(\d{4})/(\d{2})(\d{2})/"),
    re.compile(r"/(\d{4})(\d{2})(\d{2})/"),
    re.compile(r"/(\d{4})/(\d{1,2})/(\d{1,2})/"),
)
_STAFF_CODE = re.compile(r"\s*\b([A-Z]{1,3}\d{2,4})$")
_EDITOR_RULE = next(r for r in LINE_RULES if r.name == "editor_tag")
_BREADCRUMB_SPLIT = re.compile(r"\s*(?:>>|>|»|＞|/|→)\s*")


def parse_published(value) -> str | None:
    """ISO 8601 in Beijing time, or ``YYYY-MM-DD`` when only the day is known."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=BEIJING)
        return moment.astimezone(BEIJING).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = normalise_space(str(value))
    text = _LABEL.sub("", text.replace("发布时间：", "").replace("发布时间:", ""))
    if _HAS_ZONE.search(text):
        try:
            moment = dateutil_parser.parse(text)
        except (ValueError, OverflowError):
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(BEIJING).isoformat()
    m = _CN_DATETIME.search(text) or _DAY_FIRST.fullmatch(text)
    if not m:
        return None
    try:
        day = date(int(m["y"]), int(m["m"]), int(m["d"]))
        if m["H"] is None:
            return day.isoformat()
        moment = datetime(day.year, day.month, day.day, int(m["H"]), int(m["M"]), int(m["S"] or 0), tzinfo=BEIJING)
    except ValueError:
        return None
    return moment.isoformat()


def _strip_label(value: str | None) -> str | None:
    if not value:
        return None
    value = _LABEL.sub("", normalise_space(value)).strip()
    return value or None


def source_of(field: str | None) -> str | None:
    """The outlet named by a page's source field, which often shares its element
    with the date: ``来源：北京市纪委市监委网站 | 2021-08-06 20:10``,
    ``2021年04月21日08:18 来源：人民网-人民日报``."""
    if not field:
        return None
    field = normalise_space(field)
    if m := _SOURCE_IN_FIELD.search(field):
        return m["source"]
    return _strip_label(_CN_DATETIME.split(field)[0].strip(" |｜")) if not _CN_DATETIME.match(field) else None


def split_editor(value: str | None) -> tuple[str | None, str | None]:
    """``梁斌 SF055`` → (``梁斌``, ``SF055``); several names are joined by ``、``."""
    if not value:
        return None, None
    value = normalise_space(value)
    if m := _EDITOR_RULE.pattern.fullmatch(value):
        value = m["editor"]
    code = None
    if m := _STAFF_CODE.search(value):
        code, value = m.group(1), value[: m.start()]
    names = [n for n in re.split(r"[\s、，,]+", value.strip()) if n]
    return ("、".join(names) or None), code


def _author(value: str | None) -> str | None:
    """The writers' names: role words (记者, 通讯员, 本报记者…) are roles, never
    names; ``佚名`` and a CMS account (``admin``) are no author."""
    if not value:
        return None
    names = []
    # Names run together with the roles between them (马开良见习记者韩筱蓓) are names apart.
    for token in (t for part in re.split(r"[\s、，,；;]+", normalise_space(value)) for t in _ROLE_INSIDE.split(part)):
        token = _ROLE_PREFIX.sub("", token)
        if token and not _ROLE_TOKEN.fullmatch(token) and token not in _UNKNOWN_AUTHORS and token not in names:
            names.append(token)
    return "、".join(names) or None


def url_date(url: str | None) -> str | None:
    """The day a CMS wrote into the article's URL (TRS ``t20220708_…``, Hanweb
    ``/art/2023/4/10/``, ``/2023-06-01/``…): a last resort, day only."""
    for pattern in _URL_DATES if url else ():
        if m := pattern.search(url):
            try:
                day = date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                continue
            if 1995 <= day.year <= 2100:
                return day.isoformat()
    return None


def _published_at(*candidates) -> str | None:
    """The first candidate that is a date; a later one on the same day adds the
    time the first lacks (a day in the page's info line, the minute in its meta tag)."""
    parsed = [p for p in map(parse_published, candidates) if p]
    if not parsed:
        return None
    first = parsed[0]
    if len(first) == 10:
        return next((p for p in parsed[1:] if len(p) > 10 and p[:10] == first), first)
    return first


def _original_published_at(meta: dict, published_at: str | None) -> str | None:
    if not (meta.get("dateline_month") and published_at):
        return None
    year = int(published_at[:4])
    try:
        day = date(year, int(meta["dateline_month"]), int(meta["dateline_day"]))
        if day.isoformat() > published_at[:10]:
            day = day.replace(year=year - 1)
    except ValueError:
        return None
    return day.isoformat()


def _categories(extracted: Extracted, cleaned: Cleaned, raw: RawDocument) -> list[str]:
    fm = extracted.meta.get("fm_categories")
    if isinstance(fm, list):
        return [str(c).strip() for c in fm if str(c).strip()]
    if crumb := cleaned.meta.get("breadcrumb"):
        return [p for p in _BREADCRUMB_SPLIT.split(crumb) if p and p != "首页"]
    if column := raw.hints.get("column"):
        return [column]
    return []


def _publisher_and_site(extracted: Extracted, cleaned: Cleaned, raw: RawDocument, categories: list[str]):
    fm_author = extracted.meta.get("fm_author")
    known = {p.publisher: p.name for p in load_profiles()}
    platform_author = bool(fm_author) and (fm_author in categories or fm_author in known)
    if extracted.profile is not None:
        publisher, site = extracted.profile.publisher, extracted.profile.name
    else:
        publisher = (
            (fm_author if platform_author else None)
            or cleaned.meta.get("publisher")
            or extracted.meta.get("page_publisher")
        )
        site = known.get(publisher) if publisher else None
    if site is None:
        site = urlsplit(raw.url).hostname or "local"
    return publisher, site, (None if platform_author else fm_author)


def _page_url(url: str, declared: str | None) -> str | None:
    """For a saved page imported from a file: the web address the page gives for itself, else None."""
    if urlsplit(url).scheme in ("http", "https") or not declared or urlsplit(declared).scheme not in ("http", "https"):
        return None
    return declared


def normalise(raw: RawDocument, extracted: Extracted, cleaned: Cleaned) -> dict:
    meta = {**extracted.meta, **cleaned.meta}
    body_text = "\n".join(cleaned.paragraphs)
    if not body_text.strip():
        kind = "boilerplate_only" if cleaned.rules_fired else "empty_body"
        raise StageError("clean", kind, "nothing is left of the page once boilerplate is removed")
    title = meta.get("fm_title") or meta.get("page_title") or cleaned.title_line or raw.hints.get("title")
    published_at = _published_at(
        meta.get("page_published"), meta.get("fm_date"), meta.get("page_date"), *meta.get("page_dates", ()),
        raw.hints.get("published_at"), url_date(raw.url) or url_date(meta.get("page_url")),
        meta.get("issue_date") if "paper_page" in cleaned.rules_fired else None,
    )
    categories = _categories(extracted, cleaned, raw)
    publisher, site, fm_author = _publisher_and_site(extracted, cleaned, raw, categories)
    declared_source = _strip_label(meta.get("declared_source")) or source_of(meta.get("page_source"))
    # 本报讯, 本刊记者…: the outlet the page belongs to.
    byline_source, page_outlet = (
        (declared_source or publisher) if outlet and fold_simplified(outlet) in metalines.SELF_OUTLETS else outlet
        for outlet in (meta.get("byline_source"), meta.get("page_outlet"))
    )
    editor, editor_code = split_editor(meta.get("editor") or meta.get("page_editor"))
    seen = raw.fetched_at or now_utc()
    return {
        "id": document_id(raw.url),
        "url": raw.url,
        "page_url": _page_url(raw.url, meta.get("own_address")),
        "site": site,
        "publisher": publisher,
        "title": normalise_space(str(title)) if title else None,
        "headline": meta.get("headline"),
        "published_at": published_at,
        "original_published_at": _original_published_at(meta, published_at),
        "source": byline_source or declared_source or page_outlet,
        "declared_source": declared_source,
        "author": _author(meta.get("byline_author") or meta.get("dateline_author") or meta.get("dateline_reporters") or meta.get("page_author") or fm_author)
        or _author(meta.get("declared_author")),
        "declared_author": _strip_label(meta.get("declared_author") or meta.get("page_author")),
        "editor": editor,
        "editor_code": editor_code,
        "original_url": meta.get("original_url"),
        "categories": json.dumps(categories, ensure_ascii=False),
        "hints": json.dumps(raw.hints, ensure_ascii=False, sort_keys=True),
        "body_text": body_text,
        "content_sha256": hashlib.sha256(body_text.encode("utf-8")).hexdigest(),
        "raw_sha256": raw.sha256,
        "boilerplate_rules": json.dumps(cleaned.rules_fired, ensure_ascii=False),
        "extractor": extracted.extractor,
        "http_status": raw.status,
        "warc_file": raw.warc_file,
        "warc_record_id": raw.warc_record_id,
        "fetched_at": seen,
    }
