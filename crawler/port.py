"""What the crawler needs of the archive: the one interface between them.

The crawler never imports the archive.  Whoever starts a crawl (``python -m
archive crawl``) hands it an opener, ``open_archive(db_path)``, whose result
has these methods: :class:`archive.db.Archive` on one machine, and on a
cluster worker the captures it writes for the one writer
(:class:`crawler.cluster.worker.CapturedArchive`).  The cluster's coordinator
and writer, which run beside the archive, need a little more
(:class:`WritingArchive`).

A run's row (:meth:`CrawlArchive.last_run`, :meth:`WritingArchive.run`) is a
dict of ``crawl_runs`` columns: ``status``, ``message``, ``finished_at`` (None
while the run has not recorded its end), ``requests``, ``pages_fetched``,
``documents_new``/``_updated``/``_unchanged``, ``failures``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from pipelines import ProcessResult, RawDocument


@runtime_checkable
class CrawlArchive(Protocol):
    """The archive as one spider's run uses it (``crawler.archive_pipeline``)."""

    def document_for_url(self, url: str) -> dict | None:
        """The archived record of ``url`` (at least ``published_at``), or None."""

    def pages_on_hosts(self, hosts: Iterable[str]) -> list[tuple[str, dict]]:
        """(url, list hints) of every archived page on one of ``hosts``."""

    def last_run(self, spider: str) -> dict | None:
        """The spider's latest run (see the module docstring), or None before its first."""

    def start_run(self, spider: str) -> int:
        """A new run of ``spider``; returns its id."""

    def ingest(self, raw: RawDocument, run_id: int | None = None) -> tuple[str, ProcessResult | None]:
        """Process and store one crawled page: (new/updated/unchanged/failed…, the result)."""

    def read_attachment(self, raw: RawDocument):
        """The reading of a file a page links (``pipelines.attachments.Attachment``), or None when
        another process reads it, handed as it is to :meth:`ingest_attachment`; called from a
        thread, so it shares no database connection."""

    def ingest_attachment(self, raw: RawDocument, run_id: int | None = None, attachment=None
                          ) -> tuple[str, ProcessResult | None]:
        """Store one file a page links (``raw.hints``: ``page_url``, ``name``), as read."""

    def mark_gone(self, url: str, at: str | None = None) -> bool:
        """Mark an archived page that now answers 404/410 (never deleted)."""

    def record_failure(self, result: ProcessResult, run_id: int | None = None, retry: dict | None = None) -> None:
        """Record a page lost or failed, with its stage, kind and message."""

    def update_run(self, run_id: int, **columns) -> None:
        """Counts of a run so far (kept current page by page: a run killed outright still says them)."""

    def finish_run(self, run_id: int, **stats) -> None:
        """Record the run's end and its counts, status and message."""

    def close(self) -> None:
        """Done with the archive."""


@runtime_checkable
class WritingArchive(CrawlArchive, Protocol):
    """The archive as a crawl's starter (``crawler.run``) and the cluster's coordinator
    and writer use it (``crawler/cluster``); also a context manager that closes it."""

    def __enter__(self) -> WritingArchive: ...

    def __exit__(self, *exc) -> None: ...

    def transaction(self) -> AbstractContextManager:
        """One write transaction; writes inside it commit together."""

    def run(self, run_id: int) -> dict | None:
        """A run's row, or None."""

    def close_dead_runs(self) -> list[int]:
        """Mark :data:`RUN_INTERRUPTED` the runs still running whose process has ended; their ids."""

    def close_open_runs(self, run_ids: Iterable[int | None], status: str, message: str) -> list[int]:
        """Finish those of ``run_ids`` that never recorded their end; their ids."""

    def adopt_runs(self, run_ids: Iterable[int], message: str) -> None:
        """Runs this process carries on (a resumed coordinator): running again, in its name,
        with ``message`` in place of what the last process said."""

    def unarchived_pages(self, run_id: int) -> list[tuple[str, dict]]:
        """(url, retry) of the pages run ``run_id`` lost to a passing fault, not archived since."""

    def pages_to_retry(self, spider: str) -> list[tuple[str, dict]]:
        """:meth:`unarchived_pages` of the spider's last finished run."""

    def end_runs_left_running(self, message_prefix: str, message: str) -> int:
        """End the runs still running whose message begins with ``message_prefix``."""

    def failures_by_kind(self, run_id: int) -> dict[str, int]:
        """The failures recorded for a run, by kind."""

    def known_pages(self, hosts: Iterable[str]) -> dict[str, dict]:
        """``{url: {"published_at", "hints"}}`` of every archived page on one of ``hosts``."""

    def stream_position(self, stream: str) -> str | None:
        """The last entry of ``stream`` the cluster writer applied."""

    def record_stream_position(self, stream: str, entry_id: str) -> None:
        """Remember the last entry applied (inside the transaction that applied it)."""


RUN_RUNNING, RUN_INTERRUPTED = "running", "interrupted"
"""``status`` of a run in progress, and of one whose process ended without recording its end
(SIGKILL, a power loss): so marked by :meth:`WritingArchive.close_dead_runs`."""

ArchiveOpener = Callable[[str], WritingArchive]
"""``open_archive(db_path)``: the archive at ``db_path``, opened to write."""

OPENER_SETTING = "ARCHIVE_OPENER"
"""The Scrapy setting through which a crawl's item pipeline gets the opener."""


@runtime_checkable
class KnownPages(Protocol):
    """What a spider asks about the pages its site has in the archive (``crawler.mixins``)."""

    def is_known(self, url: str, list_date: str | None = None) -> bool:
        """True when ``url`` is archived and the list's date agrees: the list has nothing new from here on."""

    def archived_pages(self, hosts: Iterable[str]) -> list[tuple[str, dict]]:
        """(url, list hints) of the archived pages on ``hosts``."""

    def pages_to_retry(self, spider: str) -> list[tuple[str, dict]]:
        """(url, retry) of the pages the spider's last run lost to a passing fault."""


@runtime_checkable
class DiscoveryArchive(Protocol):
    """What discovery (``crawler/discovery.py``) keeps in the archive: the columns it
    found on a host, read again on the host's next run.  Cluster workers lack it."""

    def discovered_columns(self, hosts: Iterable[str]) -> list:
        """Columns found on ``hosts`` by earlier runs: objects with ``url``, ``host``,
        ``name``, ``found_by`` and ``depth``, oldest sighting first."""

    def record_discovered_column(self, url: str, host: str, name: str | None, found_by: str, depth: int,
                                 articles_listed: int) -> None:
        """Store a column found (first sighting) or refresh it."""
