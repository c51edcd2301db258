"""The crawler's WARC capture: one :class:`captures.WarcCapture` per crawler,
named after the spider, closed with it (shared by the capture and anti-bot
middlewares and the archive pipeline)."""

from __future__ import annotations

import weakref

from scrapy import signals
from scrapy.crawler import Crawler

from captures import WarcCapture, WriteListener

_captures: weakref.WeakKeyDictionary[Crawler, WarcCapture] = weakref.WeakKeyDictionary()


def capture_for(crawler: Crawler, *, name_tag: str = "", on_write: WriteListener | None = None) -> WarcCapture:
    """The crawler's one WarcCapture.

    The first call makes it: a cluster worker's scheduler calls first, to put its
    worker tag into the file names (workers on many machines write files of one
    name space) and to ship what is written (``on_write``)."""
    capture = _captures.get(crawler)
    if capture is None:
        settings = crawler.settings
        capture = WarcCapture(
            settings.get("WARC_DIR"),
            prefix="-".join(filter(None, (crawler.spider.name, name_tag))),
            max_bytes=settings.getint("WARC_MAX_BYTES"),
            user_agent=settings.get("USER_AGENT"),
            on_write=on_write,
        )
        _captures[crawler] = capture
        crawler.signals.connect(capture.close, signal=signals.spider_closed, weak=False)
    return capture
