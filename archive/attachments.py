"""Attachments in the archive: the ``attachments`` rows, and the disclosure of a page
read again with the tables of the files it links.

An attachment is stored whatever became of it: read (text, tables, method) or not
(``failure_kind`` and ``failure``, also a ``failures`` row of stage ``attachment``); a
reading is never replaced by a later failure of the same file (an error page served in
its place on a re-crawl), which is only a ``failures`` row.
A page and its attachments arrive in either order (a crawl fetches the page first; an
import may meet the files first): storing either reads the page's disclosure again
with every table its stored attachments hold (:func:`refresh_disclosure`).  A file
that comes without its page (a file of an imported folder, a PDF in someone's WARC)
belongs to the page whose link names its URL (``attachment_links``, written with each
page); until that page is archived it belongs to none (``document_id`` null).
"""
from __future__ import annotations

import hashlib
import json

from sqlite_utils import Database

from pipelines import Failure, ProcessResult, RawDocument, document_id, now_utc
from pipelines.attachments import Attachment
from pipelines.disclosure import parse_disclosure

from .rows import query_rows
from .store import _store_disclosure, insert_rows, record_failure


def attachment_id(page_url: str, url: str) -> str:
    return hashlib.sha256(f"{page_url}\n{url}".encode("utf-8")).hexdigest()[:16]


def store_attachment(
    db: Database, page_url: str | None, url: str, attachment: Attachment, *, warc_file: str | None = None,
    warc_record_id: str | None = None, fetched_at: str | None = None, run_id: int | None = None,
) -> str:
    """Write one attachment of the page at ``page_url`` — None: of the page whose link names
    ``url``, if one is archived — inside the caller's transaction; returns its id.  The
    page's disclosure is read again when the page is archived."""
    link = next(iter(query_rows(db.conn, "select document_id, name from attachment_links where url = ? "
                                         "order by document_id limit 1", [url])), None)
    page_id = document_id(page_url) if page_url else (link["document_id"] if link else None)
    row_id = attachment_id(page_url or "", url)
    failure = attachment.failure
    if failure is not None:
        raw = RawDocument(url=url, body=b"", warc_file=warc_file, warc_record_id=warc_record_id)
        linked = f" (linked from {page_url})" if page_url else ""
        record_failure(db, ProcessResult(raw, failure=Failure(failure.stage, failure.kind, failure.message + linked)),
                       run_id)
        read_before = db.conn.execute("select 1 from attachments where id = ? and failure_kind is null", [row_id]).fetchone()
        if read_before:  # a later fetch that fails (an error page in its place) never replaces a reading
            return row_id
    db.conn.execute("delete from attachments where id = ?", [row_id])
    insert_rows(db, "attachments", [{
        "id": row_id,
        "document_id": page_id,
        "url": url,
        "name": attachment.name if page_url or not link else link["name"],
        "type": attachment.kind,
        "declared_type": attachment.declared,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "sha1": attachment.sha1,
        "pages": attachment.pages,
        "text": attachment.text,
        "tables": json.dumps(attachment.tables, ensure_ascii=False) if attachment.tables else None,
        "method": attachment.method,
        "warnings": json.dumps(attachment.warnings, ensure_ascii=False) if attachment.warnings else None,
        "failure_kind": failure.kind if failure else None,
        "failure": failure.message if failure else None,
        "warc_file": warc_file,
        "warc_record_id": warc_record_id,
        "fetched_at": fetched_at or now_utc(),
    }])
    if page_id:
        refresh_disclosure(db, page_id)
    return row_id


def holds_reading(conn, page_url: str | None, url: str, body: bytes) -> bool:
    """Whether the archive holds a reading of exactly these bytes of the file at ``url`` of the
    page at ``page_url`` (a re-fetch on a re-crawl): then there is nothing to read again."""
    return conn.execute(
        "select 1 from attachments where id = ? and sha256 = ? and failure_kind is null",
        [attachment_id(page_url or "", url), hashlib.sha256(body).hexdigest()],
    ).fetchone() is not None


def page_stored(db: Database, result: ProcessResult) -> None:
    """After a page is stored: its attachment links recorded, files already archived without
    their page adopted, its disclosure read again with their tables."""
    page_id = result.document["id"]
    db.conn.execute("delete from attachment_links where document_id = ?", [page_id])
    insert_rows(db, "attachment_links", [
        {"document_id": page_id, "url": link.url, "name": link.name} for link in {l.url: l for l in result.links}.values()
    ])
    for link in result.links:
        db.conn.execute("update attachments set document_id = ?, name = ? where document_id is null and url = ?",
                        [page_id, link.name, link.url])
    refresh_disclosure(db, page_id)


def refresh_disclosure(db: Database, page_id: str) -> bool:
    """Read the page's disclosure again with its attachments' tables; False when the page is
    not archived yet or none of its attachments holds a table."""
    attachments = [
        {"id": row["id"], "tables": json.loads(row["tables"])}
        for row in query_rows(db.conn, "select id, tables from attachments where document_id = ? and tables is not null "
                                       "order by method like '%ocr%', url", [page_id])
    ]
    if not attachments:  # asked before reading the page's row: a 10 MB text read back for nothing
        return False
    document = next(iter(query_rows(db.conn, "select * from documents where id = ?", [page_id])), None)
    if document is None:
        return False
    parsed = parse_disclosure(document["title"] or "", document["body_text"], document["published_at"],
                              document["doc_type"], site=document["site"], attachments=attachments)
    _store_disclosure(db, document, parsed)
    return True
