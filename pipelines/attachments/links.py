"""Which links of a page are its attachments (附件) — one reading for the crawl, which
follows them, and for the store, which ties a file imported or read from a capture to
the page that links it.

A link is an attachment when its path ends in a file extension the attachments stage
reads (``.pdf``, ``.doc``, ``.docx``, ``.wps``, ``.xls``, ``.xlsx``, ``.et``, ``.ofd``,
``.jpg``…), or when it looks like a download — its text or title says 附件, or its path
is a download script (``download``, ``attach``, ``fileDown``…), never an ``.html`` page —
whose answer's bytes then decide.  At most :data:`MAX_PER_PAGE` a page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

from w3lib.url import safe_url_string

from .formats import EXTENSIONS

MAX_PER_PAGE = 20
_DOWNLOAD_WORDS = re.compile(r"附件")
_PAGE_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")  # an article titled …（附件） is a page
_DOWNLOAD_PATH = re.compile(r"download|attach|filedown|getfile|downfile", re.IGNORECASE)
_FETCHED_SCHEMES = ("http", "https", "file")


@dataclass(frozen=True)
class Link:
    url: str
    name: str  # the link's text, else its title, else the file name
    by_extension: bool  # the URL names a file format (else the answer's bytes must)


def attachment_links(tree, base_url: str) -> list[Link]:
    """The attachment links of a parsed page (an lxml element), in page order, each URL once."""
    found: dict[str, Link] = {}
    for anchor in tree.iter("a") if tree is not None else ():
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        url = safe_url_string(urljoin(base_url, href))  # percent-encoded as a fetched or imported file's URL
        parts = urlsplit(url)
        if parts.scheme not in _FETCHED_SCHEMES or url in found:
            continue
        title = anchor.get("title") or ""
        name = " ".join("".join(anchor.itertext()).split()) or title
        suffix = PurePosixPath(parts.path).suffix.lower()
        by_extension = suffix in EXTENSIONS
        looks_like_download = suffix not in _PAGE_SUFFIXES and bool(
            _DOWNLOAD_WORDS.search(name + title) or _DOWNLOAD_PATH.search(parts.path))
        if by_extension or looks_like_download:
            found[url] = Link(url, name or PurePosixPath(parts.path).name, by_extension)
    return list(found.values())[:MAX_PER_PAGE]
