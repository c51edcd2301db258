"""WARC, shared by every way into the archive: the crawler writes its responses
with it, ``archive import`` its files and the pages of other people's
captures, and ``archive import``/``archive rebuild`` read captures back.

``captures.writer``  :class:`WarcCapture` — rotating gzip WARC files, one per
                     process and prefix; :meth:`~WarcCapture.annotate` says
                     what a response was taken for (``page-kind``, ``hints``)
``captures.reader``  :class:`CaptureReader` — the pages of ``.warc``,
                     ``.warc.gz`` and ``.wacz`` files, ours (by annotation) or
                     anyone's (HTML with status 200), with per-file counts and
                     damage reports

``captures.reader.raw_document`` turns one warcio record into the pipelines'
input, for a process that reads a stream of records itself;
``captures.reader.record_bytes`` reads one stored record back (the record
page's WARC download), ``record_payload`` its body (an attachment's download).

A process that turns captures into archive records (a crawl's pipeline, an
import, a rebuild, a distributed crawl's single writer) reads pages with
``CaptureReader`` and stores them with :meth:`archive.db.Archive.ingest_all`,
which holds the archive's writer lock (:mod:`archive.lock`).
"""

from .reader import (
    WARC_SUFFIXES, CaptureReader, FileReport, Page, annotation_fields, is_capture_file, raw_document, record_bytes,
    record_payload,
)
from .writer import ARTICLE, ATTACHMENT, FAILED, GONE, HINTS, PAGE_KIND, SOFTWARE, CapturedRecord, Exchange, WarcCapture, WriteListener

__all__ = [
    "ARTICLE", "ATTACHMENT", "FAILED", "GONE", "HINTS", "PAGE_KIND", "SOFTWARE", "WARC_SUFFIXES",
    "CaptureReader", "CapturedRecord", "annotation_fields", "Exchange", "FileReport", "Page", "WarcCapture", "WriteListener", "is_capture_file",
    "raw_document", "record_bytes", "record_payload",
]
