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
