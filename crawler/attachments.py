"""Following an article's attachments (附件): requests for the links
:func:`pipelines.attachments.links.attachment_links` names, and the file as an item.

Files are fetched up to :data:`pipelines.attachments.formats.MAX_ATTACHMENT_BYTES` (a
larger one is cancelled: fetch / ``too_large``).  An HTML answer to a link that only looked
like a download is not a file and is dropped; an HTML answer to a ``.pdf`` link is kept
and recorded as ``not_a_file``.
"""
from __future__ import annotations

from datetime import datetime, timezone

import scrapy
from scrapy.http import Response

from crawler.items import AttachmentFile
from pipelines.attachments.formats import MAX_ATTACHMENT_BYTES, sniff
from pipelines.attachments.links import attachment_links


def attachment_requests(response: Response, callback, errback) -> list[scrapy.Request]:
    return [
        scrapy.Request(
            link.url, callback=callback, errback=errback,
            cb_kwargs={"page_url": response.url, "name": link.name, "by_extension": link.by_extension},
            # A CMS may keep its files on another host (a file server, a CDN): the site's
            # offsite filter would drop them unrecorded.
            meta={"download_maxsize": MAX_ATTACHMENT_BYTES, "download_warnsize": 0, "allow_offsite": True},
        )
        for link in attachment_links(response.selector.root, response.url)
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
