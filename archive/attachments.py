"""Attachments in the archive: the ``attachments`` rows, and the disclosure of a page
read again with the tables of the files it links.

An attachment is stored whatever became of it: read (text, tables, method) or not
(``failure_kind`` and ``failure``, also a ``failures`` row of stage ``attachment``).
A page and its attachments arrive in either order (a crawl fetches the page first; an
import may meet the files first): storing either reads the page's disclosure again
with every table its stored attachments hold (:func:`refresh_disclosure`).
"""
from __future__ import annotations

import hashlib
import json

from sqlite_utils import Database

from pipelines import Failure, ProcessResult, RawDocument, document_id, now_utc, query_rows
from pipelines.attachments import Attachment
from pipelines.disclosure import parse_disclosure
from pipelines.store import _store_disclosure, insert_rows, record_failure


def attachment_id(page_url: str, url: str) -> str:
    return hashlib.sha256(f"{page_url}\n{url}".encode("utf-8")).hexdigest()[:16]


def store_attachment(
    db: Database, page_url: str, url: str, attachment: Attachment, *, warc_file: str | None = None,
    warc_record_id: str | None = None, fetched_at: str | None = None, run_id: int | None = None,
) -> str:
    """Write one attachment of the page at ``page_url`` (inside the caller's transaction);
    returns its id.  The page's disclosure is read again when the page is archived."""
    row_id = attachment_id(page_url, url)
    failure = attachment.failure
    db.conn.execute("delete from attachments where id = ?", [row_id])
    insert_rows(db, "attachments", [{
        "id": row_id,
        "document_id": document_id(page_url),
        "url": url,
        "name": attachment.name,
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
    if failure is not None:
        raw = RawDocument(url=url, body=b"", warc_file=warc_file, warc_record_id=warc_record_id)
        record_failure(db, ProcessResult(raw, failure=Failure(failure.stage, failure.kind,
                                                              f"{failure.message} (linked from {page_url})")), run_id)
    refresh_disclosure(db, document_id(page_url))
    return row_id


def refresh_disclosure(db: Database, page_id: str) -> bool:
    """Read the page's disclosure again with its attachments' tables; False when the page is
    not archived yet or none of its attachments holds a table."""
    attachments = [
        {"id": row["id"], "tables": json.loads(row["tables"])}
        for row in query_rows(db.conn, "select id, tables from attachments where document_id = ? and tables is not null "
                                       "order by method like '%ocr%', url", [page_id])
    ]
    document = next(iter(query_rows(db.conn, "select * from documents where id = ?", [page_id])), None)
    if not attachments or document is None:
        return False
    parsed = parse_disclosure(document["title"] or "", document["body_text"], document["published_at"],
                              document["doc_type"], site=document["site"], attachments=attachments)
    _store_disclosure(db, document, parsed)
    return True
