"""History from web archives: the captures of a URL prefix, archived as they were.

Pages published before today's sites (2013-2021 reports on re-platformed sites, old
CCDI paths) survive in web archives.  :func:`backfill` lists the captures of each
URL prefix through a CDX API — the Wayback Machine's, or any server speaking it, such
as pywb's ``/<collection>/cdx`` — fetches each successful capture's original bytes
(the replay's ``id_`` form), writes it to the archive's WARC files under the page's
original URL with the capture's date (a metadata record beside it names the web
archive's copy), and stores it through the same path as a crawled page: a capture whose
bytes are archived already changes nothing, a capture whose text differs becomes a new
version of the page.  Captures are taken oldest first, politely (``delay`` seconds
between fetches).
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlencode

from captures.writer import Exchange, WarcCapture
from crawler.settings import CONTACT_URL, USER_AGENT_TEMPLATE, WARC_MAX_BYTES
from pipelines import Failure, ProcessResult, RawDocument

from .db import Archive, warc_dir_for
from .store import FAILED

logger = logging.getLogger(__name__)

WAYBACK_CDX = "https://web.archive.org/cdx/search/cdx"
WAYBACK_REPLAY = "https://web.archive.org/web/{timestamp}id_/{url}"
ALREADY_SEEN = "already_seen"
# What a web archive that cannot be reached, or answers an error, raises from urllib
# (URLError, HTTPError and timeouts are OSErrors); a CDX answer that is no JSON raises ValueError.
_FETCH_ERRORS = (OSError, http.client.HTTPException, ValueError)
USER_AGENT = USER_AGENT_TEMPLATE.format(contact_url=CONTACT_URL) + " backfill"


@dataclass(frozen=True)
class Capture:
    url: str
    timestamp: str
    status: str
    digest: str | None = None

    @property
    def captured_at(self) -> datetime:
        return datetime.strptime(self.timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)


@dataclass
class BackfillReport:
    outcomes: Counter = field(default_factory=Counter)
    """new / updated / unchanged / failed pages; captures skipped (not status 200) and
    already_seen (the archive holds the page at that date or later)."""
    failures: list[tuple[str, str]] = field(default_factory=list)


def _get(url: str, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return answer.status, dict(answer.headers.items()), answer.read()


def list_captures(cdx_api: str, prefix: str) -> list[Capture]:
    """Every capture under ``prefix``, oldest first.  Reads both answers of
    ``output=json``: the Wayback Machine's array of rows (its first row the field
    names) and pywb's one JSON object a line."""
    query = urlencode({"url": prefix, "matchType": "prefix", "output": "json"})
    _, _, body = _get(f"{cdx_api}?{query}")
    text = body.decode("utf-8").strip()
    if not text:
        return []
    if text.startswith("["):
        rows = json.loads(text)
        records = [dict(zip(rows[0], row)) for row in rows[1:]] if rows else []
    else:
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    captures = [
        Capture(r["original"] if "original" in r else r["url"], r["timestamp"], str(r.get("statuscode", r.get("status", ""))), r.get("digest"))
        for r in records
    ]
    return sorted(captures, key=lambda c: (c.timestamp, c.url))


def fetched_captures(
    captures: list[Capture], replay: str, delay: float
) -> Iterator[tuple[Capture, str, tuple[int, dict, bytes] | Failure]]:
    """(capture, replay URL, (status, headers, original bytes)) of every capture, or the
    :class:`Failure` of one the web archive did not give: one lost capture stops nothing."""
    for index, capture in enumerate(captures):
        if index and delay:
            time.sleep(delay)
        address = replay.format(timestamp=capture.timestamp, url=capture.url)
        try:
            fetched = _get(address)
        except _FETCH_ERRORS as exc:
            fetched = _fetch_failure(exc)
        yield capture, address, fetched


def _fetch_failure(exc: Exception) -> Failure:
    if isinstance(exc, urllib.error.HTTPError):
        kind = f"http_{exc.code}"
    elif isinstance(exc, TimeoutError) or isinstance(getattr(exc, "reason", None), TimeoutError):
        kind = "timeout"
    else:
        kind = "download_failed"
    return Failure("fetch", kind, f"{type(exc).__name__}: {exc}")


def backfill(
    prefixes: list[str], db_path: str, *, cdx_api: str = WAYBACK_CDX, replay: str = WAYBACK_REPLAY, delay: float = 1.0
) -> BackfillReport:
    report = BackfillReport()
    with Archive(db_path) as archive:
        capture_file = WarcCapture(warc_dir_for(db_path), "backfill", WARC_MAX_BYTES, USER_AGENT)
        try:
            for prefix in prefixes:
                try:
                    captures = list_captures(cdx_api, prefix)
                except _FETCH_ERRORS as exc:
                    failure = _fetch_failure(exc)
                    _record(archive, prefix, failure)
                    report.failures.append((prefix, f"its captures could not be listed at {cdx_api}: {failure.message}"))
                    continue
                wanted = [c for c in captures if c.status == "200"]
                fresh = [c for c in wanted if not _already_seen(archive, c)]
                report.outcomes["skipped"] += len(captures) - len(wanted)
                report.outcomes[ALREADY_SEEN] += len(wanted) - len(fresh)
                logger.info("%s: %d captures, %d with status 200, %d not seen yet", prefix, len(captures), len(wanted), len(fresh))
                for capture, address, fetched in fetched_captures(fresh, replay, delay):
                    if isinstance(fetched, Failure):
                        _record(archive, capture.url, fetched)
                        outcome, why = FAILED, f": {fetched.message}"
                    else:
                        outcome, why = _store(archive, capture_file, capture, address, *fetched), ""
                    report.outcomes[outcome] += 1
                    if outcome == FAILED:
                        report.failures.append((capture.url, f"capture {capture.timestamp} at {address}{why}"))
        finally:
            capture_file.close()
    return report


def _record(archive: Archive, url: str, failure: Failure) -> None:
    """A capture (or a prefix's listing) the web archive did not give, in ``failures``."""
    archive.record_failure(ProcessResult(RawDocument(url=url, body=b""), failure=failure))


def _already_seen(archive: Archive, capture: Capture) -> bool:
    """Whether the archive holds the page as it was at the capture's date or later:
    versions only go forward, so backfill a page before crawling it for its whole history."""
    archived = archive.document_for_url(capture.url)
    return archived is not None and archived["last_seen_at"] >= capture.captured_at.isoformat(timespec="seconds")


def _store(archive: Archive, capture_file: WarcCapture, capture: Capture, address: str, status: int, headers: dict, body: bytes) -> str:
    """The capture written to the WARC under its original URL and date, then ingested."""
    # The replay's own headers (Memento-Datetime, Link…) are the web archive's, not the site's.
    site_headers = [(k, v) for k, v in headers.items() if k.lower() in ("content-type", "last-modified")]
    record = capture_file.write_exchange(Exchange(
        url=capture.url, status=status, reason="OK", response_headers=site_headers, body=body,
        fetched_at=capture.captured_at,
    ))
    capture_file.annotate(capture.url, record.record_id, {"capture-source": address, "capture-timestamp": capture.timestamp})
    raw = RawDocument(
        url=capture.url, body=body, content_type=headers.get("Content-Type"), status=status, headers=dict(site_headers),
        fetched_at=capture.captured_at.isoformat(timespec="seconds"), warc_file=record.warc_file,
        warc_record_id=record.record_id, hints={"capture_source": address},
    )
    outcome, _ = archive.ingest(raw)
    return outcome
