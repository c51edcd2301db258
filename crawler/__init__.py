"""The crawler: Scrapy spiders for the disclosure sites and the machinery around them.

``crawler.settings``         polite defaults, project settings (documented there)
``crawler.middlewares``      mirror host map, WARC capture, retry backoff
``crawler.capture``          the crawler's WARC writer (``captures``)
``crawler.anti_bot``         JS-cookie challenge via Chromium, CAPTCHA stop, cookie import
``crawler.archive_pipeline`` items → the archive (``Archive.ingest``: the pipelines, then SQLite)
``crawler.port``             what the crawler needs of the archive (the archive implements it)
``crawler.run``              ``run_crawl`` / ``run_worker`` (called by ``python -m archive crawl|worker``)
"""
