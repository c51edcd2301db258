"""The cluster's one writer: workers' captures → the WARC folder and the archive.

Workers ship every WARC write (whole records, with the file name and offset) to
the crawl's ``captures`` stream.  The writer, on the archive's machine:

1. appends the bytes to a copy of the worker's file in the archive's WARC folder
   (same name; an offset already copied is a redelivery and is not appended
   again), so the folder holds every capture byte for byte, as after a crawl on
   one machine, and ``rebuild --from-warc`` works on it;
2. applies the annotations, as the archive pipeline does on one machine: an
   ``article`` goes through :meth:`Archive.ingest` (the one ingest path of crawl,
   import and rebuild), ``gone`` marks the page gone, ``failed`` is a row of
   ``failures``;
3. acknowledges the entry, and only then deletes it from Redis.

Each entry's archive writes, the run's counts and the writer's position in the
stream (``writer_progress``) are one SQLite transaction.  Killed at any point, a
writer started again reads the entries it had not acknowledged, skips those its
position says were applied, and does not append to a copy what it already holds:
nothing is applied or counted twice.  SQLite is written by this process alone.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections import Counter, OrderedDict
from pathlib import Path

import redis
from warcio.archiveiterator import ArchiveIterator

from captures import ARTICLE, ATTACHMENT, FAILED, GONE, PAGE_KIND, annotation_fields, raw_document
from captures.decoding import DECODING_ERRORS, TooLarge, UnknownEncoding
from crawler.cluster.crawl import WRITER_GROUP, ClusterCrawl, ClusterLost
from crawler.port import WritingArchive
from pipelines import Failure, ProcessResult, RawDocument

logger = logging.getLogger(__name__)

# The stage of a page whose capture the writer could not read back.
CAPTURE_STAGE = "capture"

# Responses wait here for their annotation (which follows within seconds); list
# pages are never annotated, so the oldest are forgotten and found again in the
# file if an annotation does come.
_REMEMBERED_RESPONSES = 50_000
OUTCOMES = ("new", "updated", "unchanged", "failed")


def _entry_order(entry_id: str | bytes | None) -> tuple[int, int]:
    """A stream entry id (``<ms>-<seq>``) as something that sorts like the stream."""
    if entry_id is None:
        return (-1, -1)
    milliseconds, sequence = (entry_id.decode() if isinstance(entry_id, bytes) else entry_id).split("-")
    return int(milliseconds), int(sequence)


class CaptureWriter:
    def __init__(self, crawl: ClusterCrawl, archive: WritingArchive, warc_dir: Path, run_ids: dict[str, int], name: str = "writer"):
        self.crawl = crawl
        self.archive = archive
        self.warc_dir = Path(warc_dir)
        self.run_ids = run_ids
        self.name = name
        self.outcomes = {spider: self._outcomes_so_far(run_id) for spider, run_id in run_ids.items()}
        self.position = _entry_order(archive.stream_position(crawl.captures))
        self.written = 0
        self.documents = 0
        self.busy_seconds = 0.0
        self._responses: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._next_offset: dict[str, int] = {}
        self._redelivered = True  # first what an earlier writer read and did not acknowledge

    def _outcomes_so_far(self, run_id: int) -> Counter:
        row = self.archive.run(run_id)
        return Counter({outcome: row.get(f"documents_{outcome}") or 0 for outcome in OUTCOMES if outcome != "failed"})

    # -- the stream ---------------------------------------------------------------

    def drain(self, block_ms: int = 0, count: int = 64) -> int:
        """Apply what the stream holds (waiting up to ``block_ms`` for something);
        returns the number of entries applied."""
        start = "0" if self._redelivered else ">"
        try:
            answer = self.crawl.redis.xreadgroup(
                WRITER_GROUP, self.name, {self.crawl.captures: start}, count=count,
                block=None if self._redelivered or not block_ms else block_ms,
            )
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):  # the stream went with Redis's data
                raise ClusterLost(f"cluster crawl {self.crawl.id} is gone from Redis (restarted without its data?)") from exc
            raise
        entries = answer[0][1] if answer else []
        if self._redelivered and not entries:
            self._redelivered = False
        for entry_id, fields in entries:
            if _entry_order(entry_id) > self.position:
                started = time.perf_counter()
                self._apply(entry_id.decode(), {key.decode(): value for key, value in fields.items()})
                self.busy_seconds += time.perf_counter() - started
            with self.crawl.redis.pipeline() as pipe:
                pipe.xack(self.crawl.captures, WRITER_GROUP, entry_id)
                pipe.xdel(self.crawl.captures, entry_id)
                pipe.execute()
        return len(entries)

    def drain_all(self) -> int:
        """Apply all the stream holds now: what was delivered before and not acknowledged,
        then the new entries (a first drain that finds nothing redelivered reads no new one)."""
        total = 0
        while True:
            redelivering = self._redelivered
            applied = self.drain()
            total += applied
            if not applied and not redelivering:
                return total

    # -- one entry ------------------------------------------------------------------

    def _apply(self, entry_id: str, fields: dict[str, bytes]) -> None:
        spider, warc_file = fields["spider"].decode(), fields["file"].decode()
        offset, data = int(fields["offset"]), fields["data"]
        copied_at = self._copy(warc_file, offset, data)
        counted = Counter(self.outcomes[spider])
        try:
            with self.archive.transaction():
                records = ArchiveIterator(io.BytesIO(data))
                for record in records:
                    record_id = record.rec_headers.get_header("WARC-Record-ID")
                    if record.rec_type == "response" and copied_at is not None:
                        self._remember(record_id, warc_file, copied_at + records.get_record_offset())
                    elif record.rec_type == "metadata":
                        self._annotation(spider, record, annotation_fields(record.content_stream().read()))
                if self.outcomes[spider] != counted:
                    outcomes = self.outcomes[spider]
                    self.archive.update_run(self.run_ids[spider], **{f"documents_{o}": outcomes[o] for o in OUTCOMES if o != "failed"})
                self.archive.record_stream_position(self.crawl.captures, entry_id)
        except BaseException:
            self.outcomes[spider] = counted  # rolled back with the rest
            raise
        self.position = _entry_order(entry_id)

    def _copy(self, warc_file: str, offset: int, data: bytes) -> int | None:
        """Append to the copy; returns where the bytes start in it, None when they
        were copied before (an entry delivered again after a writer restart)."""
        path = self.warc_dir / warc_file
        if warc_file not in self._next_offset:
            self._next_offset[warc_file] = path.stat().st_size if path.exists() else 0
        expected = self._next_offset[warc_file]
        if offset < expected:
            return None
        if offset > expected:
            logger.error("%s: %d bytes of captures never arrived (the worker's own file has them)", warc_file, offset - expected)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as copy:
            start = copy.tell()
            copy.write(data)
        self._next_offset[warc_file] = offset + len(data)
        self.written += len(data)
        return start

    def _remember(self, record_id: str, warc_file: str, offset: int) -> None:
        self._responses[record_id] = (warc_file, offset)
        if len(self._responses) > _REMEMBERED_RESPONSES:
            self._responses.popitem(last=False)

    def _annotation(self, spider: str, record, fields: dict[str, str]) -> None:
        kind = fields.get(PAGE_KIND)
        run_id = self.run_ids.get(spider)
        refers_to = record.rec_headers.get_header("WARC-Refers-To")
        url = record.rec_headers.get_header("WARC-Target-URI")
        if kind in (ARTICLE, ATTACHMENT):
            try:
                raw = self._response(refers_to, fields)
            except (TooLarge, UnknownEncoding, *DECODING_ERRORS) as exc:  # this record's, not the stream's
                kind_of_loss = "too_large" if isinstance(exc, TooLarge) else "capture_damaged"
                self._capture_lost(spider, kind, url, refers_to, fields, kind_of_loss, f"cannot be read ({type(exc).__name__}: {exc})")
                return
            if raw is None:
                self._capture_lost(spider, kind, url, refers_to, fields, "capture_missing", "is missing from the copy")
                return
        if kind == ARTICLE:
            try:
                outcome, _ = self.archive.ingest(raw, run_id=run_id)
            except Exception as exc:  # one bad page never ends the crawl
                logger.exception("Archiving %s failed", raw.url)
                failure = Failure("archive", "internal_error", f"{type(exc).__name__}: {exc}")
                self.archive.record_failure(ProcessResult(raw, failure=failure), run_id=run_id)
                outcome = "failed"
            self.outcomes[spider][outcome] += 1
            self.documents += 1
        elif kind == ATTACHMENT:
            self.archive.ingest_attachment(raw, run_id=run_id)
        elif kind == GONE:
            self.archive.mark_gone(url, record.rec_headers.get_header("WARC-Date"))
        elif kind == FAILED:
            raw = RawDocument(url=url, body=b"", warc_file=fields.get("warc-file"), warc_record_id=refers_to)
            failure = Failure(fields.get("stage", ""), fields.get("kind", ""), fields.get("message", ""))
            retry = json.loads(fields["retry"]) if fields.get("retry") else None
            self.archive.record_failure(ProcessResult(raw, failure=failure), run_id=run_id, retry=retry)

    def _capture_lost(self, spider: str, kind: str, url: str, refers_to: str, fields: dict[str, str],
                      failure_kind: str, what: str) -> None:
        """A page or file whose capture the writer cannot read back: recorded as failed, the rest goes on."""
        logger.error("The capture of %s (%s) %s: not archived", url, refers_to, what)
        raw = RawDocument(url=url, body=b"", warc_file=fields.get("warc-file"), warc_record_id=refers_to)
        failure = Failure(CAPTURE_STAGE, failure_kind, f"the capture {refers_to} {what}")
        self.archive.record_failure(ProcessResult(raw, failure=failure), run_id=self.run_ids.get(spider))
        if kind == ARTICLE:
            self.outcomes[spider]["failed"] += 1

    def _response(self, record_id: str, annotation: dict[str, str]) -> RawDocument | None:
        """The captured response ``record_id``, read back from the copy."""
        where = self._responses.pop(record_id, None)
        candidates = [where] if where else [(p.name, 0) for p in sorted(self.warc_dir.glob("*.warc.gz"))]
        for warc_file, offset in candidates:
            with (self.warc_dir / warc_file).open("rb") as stream:
                stream.seek(offset)
                for record in ArchiveIterator(stream):
                    if record.rec_headers.get_header("WARC-Record-ID") == record_id:
                        return raw_document(record, warc_file, annotation)
                    if where:
                        break
        return None
