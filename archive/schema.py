"""Table definitions of the archive.

Column descriptions for readers live in ``datasette_metadata.json``; a test
checks that every column defined here is described there.
"""

from __future__ import annotations

from sqlite_utils import Database

from pipelines import dedupe

from . import search

COPIES_VIEW = """
select c.id as canonical_id, c.title as canonical_title, c.publisher as canonical_publisher,
       d.id as document_id, d.publisher, d.url, d.published_at, d.editor, d.source,
       d.declared_source, d.original_url, d.gone_at, d.id = c.id as is_canonical
from documents d join documents c on c.id = d.canonical_id
where d.canonical_id in (select canonical_id from documents group by canonical_id having count(*) > 1)
"""

DOCUMENTS = {
    "id": str,
    "url": str,
    "site": str,
    "publisher": str,
    "title": str,
    "headline": str,
    "published_at": str,
    "original_published_at": str,
    "source": str,
    "declared_source": str,
    "author": str,
    "declared_author": str,
    "editor": str,
    "editor_code": str,
    "original_url": str,
    "categories": str,
    "hints": str,
    "body_text": str,
    "doc_type": str,
    "doc_type_rule": str,
    "content_sha256": str,
    "raw_sha256": str,
    "boilerplate_rules": str,
    "extractor": str,
    "http_status": int,
    "warc_file": str,
    "warc_record_id": str,
    "fetched_at": str,
    "first_seen_at": str,
    "last_seen_at": str,
    "last_changed_at": str,
    "version_count": int,
    "gone_at": str,
    "canonical_id": str,
}

DISCLOSURES = {
    "document_id": str,
    "title": str,
    "unit": str,
    "unit_type": str,
    "province": str,
    "level": str,
    "kind": str,
    "inspection_kind": str,
    "term": int,
    "round": int,
    "round_id": str,
    "team": str,
    "inspection_start": str,
    "inspection_end": str,
    "feedback_date": str,
    "published_at": str,
    "lag_days": int,
    "problems_stated": int,
    "problems_itemised": int,
    "problems_total": int,
    "status_source": str,
    "problems_completed": int,
    "problems_basically_completed": int,
    "problems_in_progress": int,
    "problems_unfinished": int,
    "problems_long_term_only": int,
    "problems_no_status": int,
    "problems_long_term": int,
    "money_recovered_yuan": float,
    "cases_filed": int,
    "people_disciplined": int,
    "people_organisational": int,
    "people_accountable": int,
    "clues_transferred": int,
    "rules_made": int,
    "has_contact_block": int,
    "contact_phone": str,
    "contact_address": str,
    "contact_postcode": str,
    "contact_email": str,
    "is_template": int,
    "stated_completion_rate": float,
}

PROBLEMS = {
    "id": str,
    "document_id": str,
    "position": int,
    "number": int,
    "section_path": str,
    "title": str,
    "status": str,
    "status_class": str,
    "long_term": int,
    "deadline": str,
    "responsible_unit": str,
    "text": str,
}

OUTCOMES = {
    "id": str,
    "document_id": str,
    "position": int,
    "kind": str,
    "value": float,
    "phrase": str,
    "sentence": str,
    "counted": int,
}

VERSIONS = {
    "id": int,
    "document_id": str,
    "fetched_at": str,
    "content_sha256": str,
    "title": str,
    "body_text": str,
}

FAILURES = {
    "id": int,
    "url": str,
    "stage": str,
    "kind": str,
    "message": str,
    "warc_file": str,
    "warc_record_id": str,
    "run_id": int,
    "occurred_at": str,
}

CRAWL_RUNS = {
    "id": int,
    "spider": str,
    "started_at": str,
    "finished_at": str,
    "requests": int,
    "pages_fetched": int,
    "documents_new": int,
    "documents_updated": int,
    "documents_unchanged": int,
    "failures": int,
    "errors": str,
    "status": str,
    "message": str,
}

# How far the cluster writer (crawler/cluster/writer.py) has applied a captures stream,
# committed with what it applied: a writer started again never applies an entry twice.
WRITER_PROGRESS = {
    "stream": str,
    "last_entry": str,
}

ROUNDS = {
    "round_id": str,
    "term": int,
    "round": int,
    "kind": str,
    "inspection_start": str,
    "inspection_end": str,
    "feedback_published": str,
    "rectification_published": str,
    "units_count": int,
    "note": str,
    "evidence": str,
}


def create(db: Database) -> None:
    """Create missing tables, indexes and the full-text index; idempotent."""
    db["documents"].create(DOCUMENTS, pk="id", not_null={"url", "body_text"}, if_not_exists=True)
    db["rounds"].create(ROUNDS, pk="round_id", if_not_exists=True)
    db["disclosures"].create(
        DISCLOSURES,
        pk="document_id",
        foreign_keys=[("document_id", "documents", "id"), ("round_id", "rounds", "round_id")],
        if_not_exists=True,
    )
    db["problems"].create(PROBLEMS, pk="id", foreign_keys=[("document_id", "documents", "id")], if_not_exists=True)
    db["outcomes"].create(OUTCOMES, pk="id", foreign_keys=[("document_id", "documents", "id")], if_not_exists=True)
    # Archives made before a column existed get it (empty until a rebuild re-parses them).
    for table, columns in (("disclosures", DISCLOSURES), ("problems", PROBLEMS)):
        existing = db[table].columns_dict
        for name, type_ in columns.items():
            if name not in existing:
                db[table].add_column(name, type_)
    db["versions"].create(VERSIONS, pk="id", foreign_keys=[("document_id", "documents", "id")], if_not_exists=True)
    db["failures"].create(FAILURES, pk="id", if_not_exists=True)
    db["crawl_runs"].create(CRAWL_RUNS, pk="id", if_not_exists=True)
    db["writer_progress"].create(WRITER_PROGRESS, pk="stream", if_not_exists=True)
    # A page may fail on every crawl: archives made before this knew had a unique index.
    for index in db["failures"].indexes:
        if index.unique and index.columns == ["url"]:
            db.execute(f"drop index [{index.name}]")
    for table, columns in (
        ("documents", ["url"]),
        ("documents", ["published_at"]),
        ("documents", ["content_sha256"]),
        ("problems", ["document_id"]),
        ("outcomes", ["document_id"]),
        ("versions", ["document_id"]),
        ("failures", ["url"]),
    ):
        db[table].create_index(columns, unique=table == "documents" and columns == ["url"], if_not_exists=True)
    db["documents"].create_index(["canonical_id"], if_not_exists=True)
    # The facets of the documents table are counted from these indexes; a scan
    # of the table itself reads a page or more per document (its text).
    for column in ("doc_type", "site", "publisher"):
        db["documents"].create_index([column], if_not_exists=True)
    dedupe.create_tables(db)
    if "copies" not in db.view_names():
        db.create_view("copies", COPIES_VIEW)
    search.create(db.conn)
