"""Item pipeline: crawled article pages → ``Archive.ingest`` (the pipelines) → the SQLite archive.

It reaches the archive only through ``crawler.port``: the archive is opened
with the opener in the ``ARCHIVE_OPENER`` setting (given by whoever started
the crawl, see ``crawler.run``).  Per spider run it keeps a ``crawl_runs`` row
(requests, pages, documents new/updated/unchanged, errors by kind, status,
message), answers the spider's questions about its archived pages (it is the
spider's ``known_pages``: ``is_known(url, list_date)``), and skips processing
pages whose bytes are exactly those already archived.  A page that fails
processing, a page lost on the way (``crawler.failures``: HTTP errors after
retries, timeouts, resets, redirect loops…) and a spider callback that raised
are each recorded in ``failures`` with their stage and kind, and the crawl goes on.

It also tells the WARC capture what each page was taken for, with ``metadata``
records (``page-kind: article`` plus the list page's ``hints``; ``page-kind:
gone`` for an archived page that now answers 404/410, which is marked gone in
the archive), so ``python -m archive rebuild --from-warc`` processes exactly
the pages a crawl did.
"""

from __future__ import annotations

import json
import logging
from collections import Counter

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from twisted.internet.threads import deferToThread

from captures import ARTICLE, ATTACHMENT, GONE, HINTS, PAGE_KIND
from crawler.anti_bot import STOPPED_CAPTCHA
from crawler.capture import capture_for
from crawler.discovery import DiscoveryMixin, attach_archive
from crawler.failures import LostPage, page_lost
from crawler.items import AttachmentFile
from crawler.port import OPENER_SETTING, RUN_INTERRUPTED, CrawlArchive, DiscoveryArchive
from crawler.proxies import reachability
from pipelines import Failure, ProcessResult, RawDocument
from pipelines.extract import TEMPLATE_MISMATCH, TEMPLATE_MISMATCH_SUFFIX

logger = logging.getLogger(__name__)

# crawl_runs.status: running → ok | incomplete (pages lost to passing faults: the next
# run fetches them first) | failing | stopped_captcha (crawler.anti_bot) | stopped
# (a stop signal, or archive cluster stop on a cluster crawl).
OK, INCOMPLETE, FAILING, STOPPED = "ok", "incomplete", "failing", "stopped"
GONE_STATUSES = (404, 410)
STOPPED_EARLY = "stopped before the end"
SHUTDOWN = "shutdown"  # Scrapy's close reason after a stop signal (TERM, INT; HUP: crawler.run)
# How the previous run of a spider ended (see last_run_state).
COMPLETE, INTERRUPTED, KILLED = "complete", "interrupted", "killed"
# Errors that cost a page for good and are not rows of ``failures``.
_FINAL_ERROR_STATS = {
    "anti_bot/challenge_unsolved": "challenge_unsolved",
}
_GONE_PREFIX = "archive/documents_gone/"


def errors_by_kind(stats: dict, failure_kinds: Counter) -> dict[str, int]:
    """Every error of a run, by kind: the failures recorded (lost downloads,
    processing, spider bugs), unsolved challenges, and failed download attempts."""
    errors = Counter(failure_kinds)
    for key, kind in _FINAL_ERROR_STATS.items():
        errors[kind] += stats.get(key, 0)
    # Every failed download attempt, retried or not: shows a flaky site.
    errors["download_error"] += stats.get("downloader/exception_count", 0)
    return {kind: count for kind, count in sorted(errors.items()) if count}


def run_status(
    reason: str, errors: dict[str, int], pages_fetched: int, error_rate_max: float, captcha_message: str | None,
    unarchived: int = 0,
) -> tuple[str, str]:
    """The run's status and a one-line message an operator can act on;
    ``unarchived``: pages lost to a passing fault (then at best ``incomplete``)."""
    if reason == STOPPED_CAPTCHA:
        return STOPPED_CAPTCHA, captcha_message or "stopped at a CAPTCHA page"
    if reason == STOPPED:
        return STOPPED, f"{STOPPED_EARLY} (stopped by the operator)"
    if reason == SHUTDOWN:
        return STOPPED, f"{STOPPED_EARLY} (a stop signal); {pages_fetched} page(s) fetched"
    if reason != "finished":
        return FAILING, f"{STOPPED_EARLY} ({reason})"
    final_errors = sum(count for kind, count in errors.items() if kind != "download_error")
    by_kind = ", ".join(f"{kind} {count}" for kind, count in errors.items())
    if errors.get(TEMPLATE_MISMATCH):
        return FAILING, (
            f"{errors[TEMPLATE_MISMATCH]} page(s) match no article template of the site "
            f"profile (archived, read by the generic reader): the site's layout has probably changed; errors: {by_kind}"
        )
    if final_errors > error_rate_max * max(pages_fetched, 1):
        return FAILING, f"{final_errors} error(s) for {pages_fetched} page(s) fetched: {by_kind}"
    if pages_fetched == 0:
        return FAILING, "no page could be fetched"
    # A page left behind a challenge is lost like one a fault took (not retried first, though).
    unarchived += errors.get("challenge_unsolved", 0)
    if unarchived:
        return INCOMPLETE, (
            f"{unarchived} page(s) could not be archived (the next run fetches them first); errors: {by_kind}"
        )
    return OK, f"{pages_fetched} page(s) fetched, {final_errors} error(s)"


def last_run_state(archive: CrawlArchive, spider_name: str) -> str | None:
    """How the spider's previous run ended: None (no run yet), ``complete``,
    ``interrupted`` (stopped early but cleanly: shutdown, CAPTCHA, error count)
    or ``killed`` (never recorded its end: SIGKILL, power loss; marked
    ``interrupted`` once its process is known to be gone)."""
    run = archive.last_run(spider_name)
    if run is None:
        return None
    if run["finished_at"] is None or run["status"] == RUN_INTERRUPTED:
        return KILLED
    if run["status"] == STOPPED_CAPTCHA or (run["message"] or "").startswith(STOPPED_EARLY):
        return INTERRUPTED
    return COMPLETE


def _fetched_pages(stats: dict) -> tuple[int, int]:
    """(requests, responses) of the run, not counting robots.txt."""
    requests = stats.get("downloader/request_count", 0) - stats.get("robotstxt/request_count", 0)
    responses = stats.get("downloader/response_count", 0) - stats.get("robotstxt/response_count", 0)
    return requests, responses


class ArchivePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats: StatsCollector = crawler.stats
        self.db_path = crawler.settings.get("ARCHIVE_DB")
        self.error_rate_max = crawler.settings.getfloat("CRAWL_ERROR_RATE_MAX")
        self.outcomes: Counter[str] = Counter()
        self.failure_kinds: Counter[str] = Counter()
        self.unarchived: set[str] = set()
        self.template_mismatches = 0
        self.archived_this_run: set[str] = set()
        self.archive: CrawlArchive | None = None
        self.run_id: int | None = None
        self.resuming_interrupted_run = False
        crawler.signals.connect(self._finish_run, signal=signals.spider_closed)
        crawler.signals.connect(self._notice_gone, signal=signals.response_received)
        crawler.signals.connect(self._record_lost_page, signal=page_lost)
        crawler.signals.connect(self._record_spider_error, signal=signals.spider_error)

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        return cls(crawler)

    def open_archive(self) -> CrawlArchive:
        """What the pipeline records into (a cluster worker: its captures, see
        ``crawler.cluster.worker``)."""
        open_archive = self.crawler.settings.get(OPENER_SETTING)
        if open_archive is None:
            raise RuntimeError(f"no {OPENER_SETTING} setting: start crawls with `python -m archive crawl`")
        return open_archive(self.db_path)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.archive = self.open_archive()
        previous_run = last_run_state(self.archive, spider.name)
        self.resuming_interrupted_run = previous_run in (INTERRUPTED, KILLED)
        if self.resuming_interrupted_run:
            logger.warning(
                "The last %s run was %s: crawling every list page again so the "
                "documents it missed are fetched", spider.name, previous_run,
            )
        self.run_id = self.archive.start_run(spider.name)
        self.stats.set_value("archive/run_id", self.run_id)
        spider.known_pages = self
        # Discovered columns are the archive's: a cluster worker (captures only) neither reads nor stores them.
        if isinstance(spider, DiscoveryMixin) and isinstance(self.archive, DiscoveryArchive):
            attach_archive(spider, self.archive)

    def is_known(self, url: str, list_date: str | None = None) -> bool:
        """True when ``url`` is archived and the list page's date agrees with it,
        i.e. the list has nothing new from this item on.

        Only what earlier runs archived counts: an article this run already
        took from one column may be listed again in another, whose older pages
        still have to be walked.  After an interrupted run the archive holds an
        arbitrary subset of the lists, so nothing counts as known until a run
        has finished again."""
        if self.resuming_interrupted_run or url in self.archived_this_run:
            return False
        document = self.archive.document_for_url(url)
        if document is None:
            return False
        if list_date and document.get("published_at"):
            return document["published_at"][:10] == str(list_date)[:10]
        return True

    def pages_to_retry(self, spider: str) -> list[tuple[str, dict]]:
        return self.archive.pages_to_retry(spider)

    def archived_pages(self, hosts) -> list[tuple[str, dict]]:
        return self.archive.pages_on_hosts(hosts)

    def process_item(self, item):
        if isinstance(item, AttachmentFile):
            return self._process_attachment(item)
        raw = RawDocument(
            url=item["url"],
            body=item["body"],
            content_type=_header(item.get("headers"), "Content-Type"),
            status=item.get("status", 200),
            headers=dict(item.get("headers") or {}),
            fetched_at=item.get("fetched_at"),
            warc_file=item.get("warc_file"),
            warc_record_id=item.get("warc_record_id"),
            hints=dict(item.get("hints") or {}),
        )
        if raw.warc_record_id:
            capture_for(self.crawler).annotate(
                raw.url, raw.warc_record_id, {PAGE_KIND: ARTICLE, HINTS: json.dumps(raw.hints, ensure_ascii=False)}
            )
        try:
            outcome = self._archive(raw)
        except Exception as exc:  # one bad page never ends the crawl
            logger.exception("Archiving %s failed", raw.url)
            failure = Failure("archive", "internal_error", f"{type(exc).__name__}: {exc}")
            self._count_and_record(ProcessResult(raw, failure=failure))
            outcome = "failed"
        self.archived_this_run.add(raw.url)
        self.outcomes[outcome] += 1
        self.stats.inc_value(f"archive/documents_{outcome}")
        self._record_progress()
        return item

    def _process_attachment(self, item: AttachmentFile):
        """Annotate the capture ``attachment`` (a rebuild, or a cluster's writer, reads it from
        there), read the file in a thread (so the crawl goes on while a scan is OCR'd; the
        reading itself runs in a bounded child process) and store it on this thread."""
        hints = {"page_url": item["page_url"], "name": item["name"]}
        if item.get("warc_record_id"):
            capture_for(self.crawler).annotate(item["url"], item["warc_record_id"],
                                               {PAGE_KIND: ATTACHMENT, HINTS: json.dumps(hints, ensure_ascii=False)})
        raw = RawDocument(
            url=item["url"], body=item["body"], content_type=_header(item.get("headers"), "Content-Type"),
            status=item.get("status", 200), fetched_at=item.get("fetched_at"), warc_file=item.get("warc_file"),
            warc_record_id=item.get("warc_record_id"), hints=hints,
        )
        archive = self.archive

        def counted(done):
            outcome, result = done
            if result is not None and result.failure is not None:
                self._count(result)
            self.stats.inc_value(f"archive/attachments_{outcome}")
            return item

        def failed(failure):  # one bad file never ends the crawl
            logger.error("Archiving the attachment %s failed: %s", raw.url, failure.getErrorMessage())
            self._count_and_record(ProcessResult(raw, failure=Failure("archive", "internal_error", failure.getErrorMessage())))
            return item

        reading = deferToThread(archive.read_attachment, raw)
        reading.addCallback(lambda attachment: archive.ingest_attachment(raw, self.run_id, attachment))
        return reading.addCallbacks(counted, failed)

    def _record_progress(self) -> None:
        """The run row's counts so far: a run killed outright still says what it had archived."""
        try:
            self.archive.update_run(self.run_id, **self._counts())
        except Exception:
            logger.exception("Could not record the progress of run %s", self.run_id)

    def _counts(self) -> dict[str, int]:
        return {
            "documents_new": self.outcomes["new"],
            "documents_updated": self.outcomes["updated"],
            "documents_unchanged": self.outcomes["unchanged"],
            "failures": sum(self.failure_kinds.values()),
        }

    def _archive(self, raw: RawDocument) -> str:
        outcome, result = self.archive.ingest(raw, run_id=self.run_id)
        if result is not None and result.failure is not None:
            self._count(result)  # ingest has recorded it
        elif result is not None and result.document and result.document["extractor"].endswith(TEMPLATE_MISMATCH_SUFFIX):
            # Archived all the same; the profile needs updating: an error of the run, not a lost page.
            self.template_mismatches += 1
            logger.warning("%s: %s", raw.url, result.document["warnings"])
        return outcome

    def _notice_gone(self, response, request) -> None:
        if response.status not in GONE_STATUSES or self.archive is None:
            return
        if self.archive.document_for_url(response.url) is None:
            return
        self.archive.mark_gone(response.url)
        if request.meta.get("warc_record_id"):
            capture_for(self.crawler).annotate(response.url, request.meta["warc_record_id"], {PAGE_KIND: GONE})
        self.stats.inc_value(f"{_GONE_PREFIX}{response.status}")
        logger.info("%s answers %d: marked gone in the archive", response.url, response.status)

    def _record_lost_page(self, lost: LostPage) -> None:
        if self.archive is None:
            return
        if lost.status in GONE_STATUSES and self.archive.document_for_url(lost.url) is not None:
            return  # news about the site, not an error: marked gone by _notice_gone
        raw = RawDocument(url=lost.url, body=b"", warc_file=lost.warc_file, warc_record_id=lost.warc_record_id)
        if lost.retry is not None:
            self.unarchived.add(lost.url)
        self._count_and_record(ProcessResult(raw, failure=lost.failure), retry=lost.retry)

    def _record_spider_error(self, failure, response) -> None:
        if self.archive is None:
            return
        raw = RawDocument(
            url=response.url,
            body=b"",
            warc_file=response.meta.get("warc_file"),
            warc_record_id=response.meta.get("warc_record_id"),
        )
        self._count_and_record(ProcessResult(raw, failure=Failure("parse", "spider_error", failure.getErrorMessage())))

    def _count(self, result: ProcessResult) -> None:
        failure = result.failure
        self.failure_kinds[failure.kind] += 1
        logger.warning("%s: %s/%s: %s", result.raw.url, failure.stage, failure.kind, failure.message)

    def _count_and_record(self, result: ProcessResult, retry: dict | None = None) -> None:
        self._count(result)
        self._record_failure(result, retry)

    def _record_failure(self, result: ProcessResult, retry: dict | None = None) -> None:
        try:
            self.archive.record_failure(result, run_id=self.run_id, retry=retry)
        except Exception:
            logger.exception("Could not record the failure of %s", result.raw.url)

    def _finish_run(self, reason: str) -> None:
        if self.archive is None:
            return
        stats = self.stats.get_stats()
        requests, pages_fetched = _fetched_pages(stats)
        errors = errors_by_kind(stats, self.failure_kinds + Counter({TEMPLATE_MISMATCH: self.template_mismatches}))
        # A page lost once and archived later in the run (found in another listing) is not missing.
        unarchived = len(self.unarchived - self.archived_this_run)
        status, message = run_status(
            reason, errors, pages_fetched, self.error_rate_max, stats.get("anti_bot/captcha_message"), unarchived
        )
        self.stats.set_value("archive/status", status)
        self.stats.set_value("archive/message", message)
        reached = reachability(errors, status == STOPPED_CAPTCHA)
        self.archive.finish_run(
            self.run_id,
            requests=requests,
            pages_fetched=pages_fetched,
            **self._counts(),
            errors=errors,
            status=status,
            message=message,
            reachability=json.dumps(reached, sort_keys=True) if reached else None,
        )
        self.archive.close()
        self.archive = None


def _header(headers: dict | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None
