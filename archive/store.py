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

from collections.abc import Iterable

from sqlite_utils import Database
from sqlite_utils.db import jsonify_if_needed

from pipelines import ProcessResult, now_utc

from . import copy_groups
from .rows import query_rows

NEW, UPDATED, UNCHANGED, FAILED = "new", "updated", "unchanged", "failed"

# Columns that describe the visit, not the document: they change on every fetch.
_VISIT_COLUMNS = {"fetched_at", "warc_file", "warc_record_id", "http_status"}


def insert_rows(db: Database, table: str, rows: Iterable[dict], columns: list[str] | None = None) -> None:
    """What ``db[table].insert_all(rows)`` writes, in one ``executemany``.

    sqlite-utils looks the table up in ``sqlite_master`` (and opens a
    savepoint) on every call: most of a page's store time, several times per
    page.  The tables exist (the schema makes them); values are converted as
    sqlite-utils converts them (lists and dicts to JSON), a key missing from a
    row is NULL.  ``columns``: every key of the rows, when ``rows`` is an iterator
    (made one row at a time: a huge page's tens of thousands of problems are
    never all copied at once).
    """
    if columns is None:
        rows = list(rows)
        columns = list(dict.fromkeys(key for row in rows for key in row))
    if not columns:
        return
    names = ", ".join(f"[{column}]" for column in columns)
    db.conn.executemany(
        f"insert into [{table}] ({names}) values ({', '.join('?' * len(columns))})",
        (_sql_values(map(row.get, columns)) for row in rows),
    )


_AS_IS = frozenset({str, int, float, bytes, type(None)})


def _sql_values(values) -> list:
    """Values as sqlite-utils writes them (``jsonify_if_needed``), called only for those it changes."""
    return [value if type(value) in _AS_IS else jsonify_if_needed(value) for value in values]


def _update_row(db: Database, table: str, row_id: str, values: dict) -> None:
    """``db[table].update(row_id, values)`` of a row known to exist (read in this transaction)."""
    sets = ", ".join(f"[{column}] = ?" for column in values)
    db.conn.execute(f"update [{table}] set {sets} where id = ?", [*_sql_values(values.values()), row_id])


def record_failure(db: Database, result: ProcessResult, run_id: int | None = None, retry: dict | None = None) -> None:
    raw, failure = result.raw, result.failure
    insert_rows(db, "failures", [
        {
            "url": raw.url,
            "stage": failure.stage,
            "kind": failure.kind,
            "message": failure.message,
            "warc_file": raw.warc_file,
            "warc_record_id": raw.warc_record_id,
            "run_id": run_id,
            "occurred_at": now_utc(),
            "retry": retry,
        }
    ])


def _store_disclosure(db: Database, document: dict, parsed: dict | None) -> None:
    document_id = document["id"]
    for table in ("problems", "outcomes", "disclosures"):
        db.conn.execute(f"delete from [{table}] where document_id = ?", [document_id])
    if not parsed:
        return
    insert_rows(db, "disclosures", [{**parsed["disclosure"], "document_id": document_id, "title": document["title"]}])
    for table in ("problems", "outcomes"):
        rows = parsed[table]
        if not rows:
            continue
        insert_rows(db, table, (
            {**row, "id": f"{document_id}-{position:03d}", "document_id": document_id, "position": position}
            for position, row in enumerate(rows, start=1)
        ), columns=list(dict.fromkeys([key for row in rows for key in row] + ["id", "document_id", "position"])))


def store(db: Database, result: ProcessResult, run_id: int | None = None) -> str:
    # One transaction for the row, its disclosure, problems, versions and
    # copy-group index: sqlite-utils commits each write of its own unless a
    # transaction is open (a ``with db.conn`` block opens none until its first
    # write, and that write commits), so a crash in between left the document
    # without its disclosure or signature.
    with db.atomic():
        if not result.ok:
            record_failure(db, result, run_id)
            return FAILED
        document = dict(result.document)
        seen = document["fetched_at"]
        previous = next(iter(query_rows(db.conn, "select * from documents where id = ?", [document["id"]])), None)
        if previous is None:
            # Its own canonical copy until its copy group says otherwise (copy_groups.link): setting
            # it afterwards rewrote the whole row, a 10 MB page's text a second time (40 MB more at
            # its peak).  The price: each problem's is_canonical trigger reads canonical_id past
            # the text, so the bench's 10 MB page of 27,000 problems stores in 5 s, not 2.5 s.
            document.update(first_seen_at=seen, last_seen_at=seen, last_changed_at=None, version_count=1, gone_at=None,
                            canonical_id=document["id"])
            insert_rows(db, "documents", [document])
            _store_disclosure(db, document, result.disclosure)
            copy_groups.link(db, document, result.signature)
            return NEW
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
            insert_rows(db, "versions", [
                {
                    "document_id": previous["id"],
                    "fetched_at": previous["last_seen_at"],
                    "content_sha256": previous["content_sha256"],
                    "title": previous["title"],
                    "body_text": previous["body_text"],
                }
            ])
            document.update(last_changed_at=seen, version_count=document["version_count"] + 1)
        changed = any(
            previous.get(key) != value
            for key, value in document.items()
            if key not in _VISIT_COLUMNS and key not in ("last_seen_at", "canonical_id")
        )
        _update_row(db, "documents", previous["id"], document)
        _store_disclosure(db, document, result.disclosure)
        if previous["content_sha256"] != document["content_sha256"] or not previous.get("canonical_id"):
            copy_groups.link(db, document, result.signature)
        return UPDATED if changed else UNCHANGED
