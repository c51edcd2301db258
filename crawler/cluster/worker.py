"""A cluster worker's side of the archive: it captures and says, the writer records.

A worker runs the same spiders, middlewares and item pipeline as a crawl on one
machine, with one difference: it never opens the SQLite archive.  What the
archive pipeline would write there becomes a WARC ``metadata`` record beside the
capture — ``page-kind: article`` (with the list's hints), ``gone``, ``attachment``
(with its page), or ``failed`` (stage, kind, message) — and the one writer
(``crawler.cluster.writer``) applies it through ``Archive.ingest`` /
``ingest_attachment`` / ``mark_gone`` / ``record_failure``.  What the
pipeline asks the archive (is this page archived? which pages of the site are?)
is answered from the snapshot the coordinator put into Redis when it opened the
crawl, which is what a crawl on one machine sees: the archive as earlier runs left it.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from scrapy.crawler import Crawler

from captures import FAILED, PAGE_KIND
from crawler.archive_pipeline import ArchivePipeline
from crawler.capture import capture_for
from pipelines import ProcessResult, RawDocument

CAPTURED = "captured"


class CapturedArchive:
    """The archive as a worker sees it (see the module docstring): a ``crawler.port.CrawlArchive``."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.scheduler = crawler.engine.scheduler
        self.redis = self.scheduler.server
        self.keys = self.scheduler.crawl.keys(crawler.spider.name)

    def start_run(self, spider: str) -> int:
        return int(self.scheduler.run["run_id"])

    def last_run(self, spider: str) -> dict | None:
        """The coordinator holds the spider's run open: a resumed crawl's previous
        run is one that never recorded its end; otherwise there is none to resume."""
        if self.scheduler.run.get("resuming") != "1":
            return None
        return {"finished_at": None, "status": None, "message": None}

    def document_for_url(self, url: str) -> dict | None:
        page = self.redis.hget(self.keys.archived, url)
        return None if page is None else json.loads(page)

    def pages_on_hosts(self, hosts) -> list[tuple[str, dict]]:
        hosts = {host.lower() for host in hosts}
        pages = (
            (url.decode(), json.loads(page)["hints"])
            for url, page in self.redis.hscan_iter(self.keys.archived, count=1000)
        )
        return sorted((url, hints) for url, hints in pages if (urlsplit(url).hostname or "") in hosts)

    def ingest(self, raw: RawDocument, run_id: int | None = None) -> tuple[str, None]:
        # The pipeline has annotated the capture: the writer ingests it.
        return CAPTURED, None

    def mark_gone(self, url: str, at: str | None = None) -> bool:
        # The pipeline annotates the capture ``gone``: the writer marks it.
        return True

    @staticmethod
    def read_attachment(raw: RawDocument) -> None:
        # The writer reads it (from the capture the pipeline annotated ``attachment``).
        return None

    def ingest_attachment(self, raw: RawDocument, run_id: int | None = None, attachment=None) -> tuple[str, None]:
        return CAPTURED, None

    def record_failure(self, result: ProcessResult, run_id: int | None = None) -> None:
        failure = result.failure
        fields = {PAGE_KIND: FAILED, "stage": failure.stage, "kind": failure.kind, "message": failure.message}
        if result.raw.warc_file:
            fields["warc-file"] = result.raw.warc_file
        capture_for(self.crawler).annotate(result.raw.url, result.raw.warc_record_id, fields)

    def update_run(self, run_id: int, **columns) -> None:
        """The coordinator keeps the run row."""

    def finish_run(self, run_id: int, **stats) -> None:
        """The coordinator finishes the run, with every worker's stats."""

    def close(self) -> None:
        pass


class CapturePipeline(ArchivePipeline):
    """The archive pipeline of a cluster worker: records into its captures."""

    def open_archive(self) -> CapturedArchive:
        return CapturedArchive(self.crawler)

    def open_spider(self) -> None:
        super().open_spider()
        # A re-checking crawl is the coordinator's choice, not each worker's.
        self.crawler.spider.recheck_archived = self.archive.scheduler.run.get("recheck") == "1"


class SeedingMiddleware:
    """Spider middleware: tells the cluster when this worker has scheduled all of
    its spider's ``start()`` — until some worker has, the crawl cannot be over."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        return cls(crawler)

    async def process_start(self, start):
        async for item_or_request in start:
            yield item_or_request
        self.crawler.engine.scheduler.seeded()
