"""Store stage: write one processed page into the archive, in one transaction.

A page is keyed by its URL (``documents.id``), so importing or crawling it
again updates its row and never adds a second one.  Outcomes:

``new``        first time this URL is archived
``unchanged``  same cleaned text and metadata; only ``last_seen_at`` moves
``updated``    the record changed.  When the page's own bytes changed and its
               cleaned text with them, the previous text goes to ``versions``
               (a page edited after publication); when only the pipeline
               changed (same bytes, new cleaning), the row is simply rewritten.
``failed``     the page failed a stage; the failure is recorded with its reason
"""

from __future__ import annotations

from sqlite_utils import Database

from . import ProcessResult, dedupe, now_utc

NEW, UPDATED, UNCHANGED, FAILED = "new", "updated", "unchanged", "failed"

# Columns that describe the visit, not the document: they change on every fetch.
_VISIT_COLUMNS = {"fetched_at", "warc_file", "warc_record_id", "http_status"}


def record_failure(db: Database, result: ProcessResult, run_id: int | None = None) -> None:
    raw, failure = result.raw, result.failure
    db["failures"].insert(
        {
            "url": raw.url,
            "stage": failure.stage,
            "kind": failure.kind,
            "message": failure.message,
            "warc_file": raw.warc_file,
            "warc_record_id": raw.warc_record_id,
            "run_id": run_id,
            "occurred_at": now_utc(),
        }
    )


def _store_disclosure(db: Database, document: dict, parsed: dict | None) -> None:
    document_id = document["id"]
    for table in ("problems", "outcomes", "disclosures"):
        db[table].delete_where("document_id = ?", [document_id])
    if not parsed:
        return
    db["disclosures"].insert({**parsed["disclosure"], "document_id": document_id, "title": document["title"]})
    for table in ("problems", "outcomes"):
        db[table].insert_all(
            {**row, "id": f"{document_id}-{position:03d}", "document_id": document_id, "position": position}
            for position, row in enumerate(parsed[table], start=1)
        )


def store(db: Database, result: ProcessResult, run_id: int | None = None) -> str:
    # One transaction for the row, its disclosure, problems, versions and
    # dedupe index: sqlite-utils commits each write of its own unless a
    # transaction is open (a ``with db.conn`` block opens none until its first
    # write, and that write commits), so a crash in between left the document
    # without its disclosure or signature.
    with db.atomic():
        if not result.ok:
            record_failure(db, result, run_id)
            return FAILED
        document = dict(result.document)
        seen = document["fetched_at"]
        rows = list(db["documents"].rows_where("id = ?", [document["id"]]))
        if not rows:
            document.update(first_seen_at=seen, last_seen_at=seen, last_changed_at=None, version_count=1, gone_at=None)
            db["documents"].insert(document)
            _store_disclosure(db, document, result.disclosure)
            dedupe.link(db, document, result.signature)
            return NEW
        previous = rows[0]
        document.update(
            first_seen_at=previous["first_seen_at"],
            last_seen_at=seen,
            last_changed_at=previous["last_changed_at"],
            version_count=previous["version_count"] or 1,
            gone_at=None,
        )
        page_edited = (
            previous["raw_sha256"] != document["raw_sha256"]
            and previous["content_sha256"] != document["content_sha256"]
        )
        if page_edited:
            db["versions"].insert(
                {
                    "document_id": previous["id"],
                    "fetched_at": previous["last_seen_at"],
                    "content_sha256": previous["content_sha256"],
                    "title": previous["title"],
                    "body_text": previous["body_text"],
                }
            )
            document.update(last_changed_at=seen, version_count=document["version_count"] + 1)
        changed = any(
            previous.get(key) != value
            for key, value in document.items()
            if key not in _VISIT_COLUMNS and key not in ("last_seen_at", "canonical_id")
        )
        db["documents"].update(previous["id"], document)
        _store_disclosure(db, document, result.disclosure)
        if previous["content_sha256"] != document["content_sha256"] or not previous.get("canonical_id"):
            dedupe.link(db, document, result.signature)
        return UPDATED if changed else UNCHANGED
