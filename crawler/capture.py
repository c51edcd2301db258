"""The crawler's WARC capture: one :class:`captures.WarcCapture` per crawler,
named after the spider, closed with it (shared by the capture and anti-bot
middlewares and the archive pipeline)."""

from __future__ import annotations

import weakref

from scrapy import signals
from scrapy.crawler import Crawler

from captures import WarcCapture

_captures: weakref.WeakKeyDictionary[Crawler, WarcCapture] = weakref.WeakKeyDictionary()


def capture_for(crawler: Crawler) -> WarcCapture:
    """The crawler's one WarcCapture."""
    capture = _captures.get(crawler)
    if capture is None:
        settings = crawler.settings
        capture = WarcCapture(
            settings.get("WARC_DIR"),
            prefix=crawler.spider.name,
            max_bytes=settings.getint("WARC_MAX_BYTES"),
            user_agent=settings.get("USER_AGENT"),
        )
        _captures[crawler] = capture
        crawler.signals.connect(capture.close, signal=signals.spider_closed, weak=False)
    return capture
