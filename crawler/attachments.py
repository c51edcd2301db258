"""Following an article's attachments (附件): which links are files, and the file as an item.

A link is an attachment when its path ends in a file extension the attachments stage
reads (``.pdf``, ``.doc``, ``.docx``, ``.wps``, ``.xls``, ``.xlsx``, ``.et``, ``.ofd``,
``.jpg``…), or when it looks like a download (its text or title says 附件, or its
path a download script: ``download``, ``attach``, ``fileDown``…; never an ``.html`` page)
— then the answer's
Content-Type and bytes decide: an HTML answer to such a link is not a file and is
dropped; an HTML answer to a ``.pdf`` link is kept and recorded as ``not_a_file``.
Files are fetched up to :data:`pipelines.attachments.formats.MAX_ATTACHMENT_BYTES`
(a larger one is cancelled: fetch / ``too_large``), at most :data:`MAX_PER_PAGE` a page.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response

from crawler.items import AttachmentFile
from pipelines.attachments.formats import EXTENSIONS, MAX_ATTACHMENT_BYTES, sniff

MAX_PER_PAGE = 20
_DOWNLOAD_WORDS = re.compile(r"附件")
_PAGE_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")  # an article titled …（附件） is a page
_DOWNLOAD_PATH = re.compile(r"download|attach|filedown|getfile|downfile", re.IGNORECASE)


def attachment_links(response: Response) -> list[tuple[str, str, bool]]:
    """(absolute URL, name as linked, whether the extension names a file) of each attachment link."""
    found: dict[str, tuple[str, str, bool]] = {}
    for link in response.css("a[href]"):
        href = (link.attrib.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        url = urljoin(response.url, href)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            continue
        name = " ".join("".join(link.css("::text").getall()).split()) or link.attrib.get("title") or ""
        suffix = PurePosixPath(parts.path).suffix.lower()
        by_extension = suffix in EXTENSIONS
        looks_like_download = suffix not in _PAGE_SUFFIXES and bool(
            _DOWNLOAD_WORDS.search(name + (link.attrib.get("title") or "")) or _DOWNLOAD_PATH.search(parts.path))
        if (by_extension or looks_like_download) and url not in found:
            found[url] = (url, name or PurePosixPath(parts.path).name, by_extension)
    return list(found.values())[:MAX_PER_PAGE]


def attachment_requests(response: Response, callback, errback) -> list[scrapy.Request]:
    return [
        scrapy.Request(
            url, callback=callback, errback=errback,
            cb_kwargs={"page_url": response.url, "name": name, "by_extension": by_extension},
            meta={"download_maxsize": MAX_ATTACHMENT_BYTES, "download_warnsize": 0},
        )
        for url, name, by_extension in attachment_links(response)
    ]


def attachment_item(response: Response, spider_name: str, page_url: str, name: str,
                    by_extension: bool) -> AttachmentFile | None:
    """The file, or None for a download-looking link that answered with an HTML page."""
    if not by_extension and sniff(response.body) == "html":
        return None
    return AttachmentFile(
        url=response.url, page_url=page_url, name=name, status=response.status,
        headers=dict(response.headers.to_unicode_dict()), body=response.body,
        fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        warc_file=response.meta.get("warc_file"), warc_record_id=response.meta.get("warc_record_id"),
        spider=spider_name,
    )
