"""The fixture pages as Scrapy responses, for spider and profile tests that need
no server: same bytes and Content-Type header as the mirror sends, real URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from scrapy.http import HtmlResponse, Request

from crawler.mirror.server import SiteTree


def fixture_response(url: str, sites_dir: Path | None = None, **request_kwargs) -> HtmlResponse:
    """``url``'s fixture page as the mirror would serve it; FileNotFoundError if none."""
    parts = urlsplit(url)
    tree = SiteTree(sites_dir)
    file = tree.file_for(parts.hostname, unquote(parts.path), parts.query)
    if file is None:
        raise FileNotFoundError(f"no fixture page for {url}")
    return HtmlResponse(
        url=url,
        status=200,
        headers={"Content-Type": tree.content_type(parts.hostname, file)},
        body=file.read_bytes(),
        request=Request(url, **request_kwargs),
    )
