"""What the spiders yield."""

from __future__ import annotations

import scrapy


class ArticlePage(scrapy.Item):
    """One fetched article page, exactly as the server sent it.

    The archive pipeline turns it into a ``pipelines.RawDocument``; nothing here
    is parsed beyond what the list page said about the article (``hints``).
    """

    url = scrapy.Field()  # the real site URL (never the mirror's)
    status = scrapy.Field()  # HTTP status
    headers = scrapy.Field()  # dict[str, str]; repeated headers joined with ","
    body = scrapy.Field()  # bytes, undecoded
    fetched_at = scrapy.Field()  # ISO 8601, UTC
    warc_file = scrapy.Field()  # where the capture middleware stored the response
    warc_record_id = scrapy.Field()
    hints = scrapy.Field()  # {"title", "published_at", "column"} from the list page
    spider = scrapy.Field()
    profile = scrapy.Field()  # site profile name (sites/<profile>.yaml)


class AttachmentFile(scrapy.Item):
    """A file an article links (附件), exactly as the server sent it, with the page it belongs to."""

    url = scrapy.Field()
    page_url = scrapy.Field()  # the article that links it
    name = scrapy.Field()  # the link's text (or its title), as the page gives it
    status = scrapy.Field()
    headers = scrapy.Field()
    body = scrapy.Field()
    fetched_at = scrapy.Field()
    warc_file = scrapy.Field()
    warc_record_id = scrapy.Field()
    spider = scrapy.Field()
