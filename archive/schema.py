"""Table definitions of the archive.

Column descriptions for readers live in ``datasette_metadata.json``; a test
checks that every column defined here is described there.
"""

from __future__ import annotations

import json
import sys
import zlib
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlite_utils import Database

from . import copy_groups, labels, search_index, units

# The project's datasette_metadata.json, reached through a link inside the
# package so that a wheel install carries it too.
METADATA = Path(__file__).resolve().with_name("datasette_metadata.json")
METADATA_DB_KEY = "archive"

COPIES_VIEW = """
select c.id as canonical_id, c.title as canonical_title, c.publisher as canonical_publisher,
       d.id as document_id, d.publisher, d.url, d.published_at, d.editor, d.source,
       d.declared_source, d.original_url, d.gone_at, d.id = c.id as is_canonical
from documents d join documents c on c.id = d.canonical_id
where exists (select 1 from documents o where o.canonical_id = d.canonical_id and o.id != d.id)
"""

DOCUMENTS = {
    "id": str,
    "url": str,
    "page_url": str,
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
    "warnings": str,
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
    "problems_phase_completed": int,
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
    "stated_matches_items": int,
    "problems_origin": str,
    "problems_in_attachments": int,
    "is_canonical": int,
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
    "deadline_date": str,
    "responsible_unit": str,
    "text": str,
    "attachment_id": str,
    "source_row": int,
    "is_canonical": int,
}

# The attachment links of each page: a file imported or read from a capture finds its page here.
ATTACHMENT_LINKS = {
    "document_id": str,
    "url": str,
    "name": str,
}

# The files a page links (附件), raw in the WARC, with what was read from them.
ATTACHMENTS = {
    "id": str,
    "document_id": str,
    "url": str,
    "name": str,
    "type": str,
    "declared_type": str,
    "content_type": str,
    "size": int,
    "sha256": str,
    "sha1": str,
    "pages": int,
    "text": str,
    "tables": str,
    "method": str,
    "warnings": str,
    "failure_kind": str,
    "failure": str,
    "warc_file": str,
    "warc_record_id": str,
    "fetched_at": str,
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
    # A page lost to a passing fault: how its spider asks for it again (JSON), next run first.
    "retry": str,
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
    # The process of the run (archive.liveness): a run left running by a killed process is found.
    "pid": int,
    "host": str,
    "process_started": str,
    # Final errors by reachability class (crawler/proxies.py): refused/reset, timeout, dns,
    # 403, challenge, captcha — JSON, null when the host answered every request.
    "reachability": str,
}

# How far the cluster writer (crawler/cluster/writer.py) has applied a captures stream,
# committed with what it applied: a writer started again never applies an entry twice.
WRITER_PROGRESS = {
    "stream": str,
    "last_entry": str,
}

# Columns SQLite computes from the row itself (virtual: always current, nothing
# to keep in step).  sqlite-utils' ``columns`` does not list them; Datasette does.
_MONTH = "case when {0} glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' then substr({0}, 1, 7) end"
GENERATED = {
    "documents": {
        "is_canonical": ("integer", "coalesce(canonical_id, id) = id"),
        "published_month": ("text", _MONTH.format("published_at")),
    },
    "disclosures": {
        "published_month": ("text", _MONTH.format("published_at")),
    },
}

# A report and its republished copies are one text: disclosures and problems
# carry their document's is_canonical, kept in step by triggers whichever
# writer (store, copy groups, a migration) inserts a row or moves a canonical record.
_CANONICAL_OF = "coalesce((select coalesce(canonical_id, id) = id from documents where id = {0}), 1)"
CANONICAL_TRIGGERS = f"""
create trigger if not exists disclosures_is_canonical after insert on disclosures begin
  update disclosures set is_canonical = {_CANONICAL_OF.format("new.document_id")} where document_id = new.document_id;
end;
create trigger if not exists problems_is_canonical after insert on problems begin
  update problems set is_canonical = {_CANONICAL_OF.format("new.document_id")} where id = new.id;
end;
create trigger if not exists documents_canonical_moved after update of canonical_id on documents
when old.canonical_id is not new.canonical_id begin
  update disclosures set is_canonical = (coalesce(new.canonical_id, new.id) = new.id) where document_id = new.id;
  update problems set is_canonical = (coalesce(new.canonical_id, new.id) = new.id) where document_id = new.id;
end;
"""

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


# Columns that discovery (crawler/discovery.py) found on a host with no profile column:
# reused as start pages on the host's next run.  ``found_by`` says how (the link text
# and the page it was on, a site map, or an earlier run).
DISCOVERED_COLUMNS = {
    "url": str,
    "host": str,
    "name": str,
    "found_by": str,
    "depth": int,
    "first_seen": str,
    "last_seen": str,
    "articles_listed": int,
}


# A search keeps the copies it read (archive.search_index.copies_of) while their table's
# version stands: one read serves every connection, and the writes that make or unmake
# no copy (most of a crawl's) leave it standing.  A version starts at a random number,
# so that another archive later at the same path is never taken for this one.
COPIES_VERSION = """
create table if not exists copies_version (table_name text primary key, version integer not null);
insert or ignore into copies_version (table_name, version) values
  ('documents', abs(random()) >> 1), ('problems', abs(random()) >> 1);
create trigger if not exists documents_copy_inserted after insert on documents
when coalesce(new.canonical_id, new.id) != new.id
  or exists (select 1 from documents where canonical_id = new.id and id != new.id) begin
  update copies_version set version = version + 1 where table_name = 'documents';
end;
create trigger if not exists documents_copy_moved after update of id, canonical_id on documents
when old.canonical_id is not new.canonical_id or old.id is not new.id begin
  update copies_version set version = version + 1;
end;
create trigger if not exists documents_copy_deleted after delete on documents begin
  update copies_version set version = version + 1;
end;
create trigger if not exists problems_copy_inserted after insert on problems when new.is_canonical = 0 begin
  update copies_version set version = version + 1 where table_name = 'problems';
end;
create trigger if not exists problems_copy_moved after update of is_canonical on problems
when old.is_canonical = 0 or new.is_canonical = 0 begin
  update copies_version set version = version + 1 where table_name = 'problems';
end;
create trigger if not exists problems_copy_deleted after delete on problems when old.is_canonical = 0 begin
  update copies_version set version = version + 1 where table_name = 'problems';
end;
"""


def schema_version() -> int:
    """A fingerprint of what :func:`create` makes (the code of ``create``, of the
    copy-group tables and of the search indexes, with the definitions they read), kept in the
    archive's ``user_version``: a writer that opens an archive made by other
    code runs ``create`` once, alone (:mod:`archive.lock`), which adds what is
    missing — no version number to remember to bump."""
    import inspect

    made_by = inspect.getsource(sys.modules[__name__]) + inspect.getsource(labels)
    made_by += METADATA.read_text(encoding="utf-8")  # the facet columns, indexed
    made_by += inspect.getsource(copy_groups.create_tables) + repr(copy_groups.TABLES)
    made_by += inspect.getsource(units.create) + repr([units.UNITS, units.UNIT_ALIASES, units.UNIT_EVENTS, units.INSPECTIONS])
    made_by += units.SOURCES
    made_by += inspect.getsource(search_index.create) + repr([index.ddl() for index in search_index.ALL_INDEXES])
    return zlib.crc32(made_by.encode("utf-8")) & 0x7FFFFFFF


def is_current(path) -> bool:
    """True when the archive at ``path`` was made or brought up to date by this :func:`create`."""
    import sqlite3

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("pragma user_version").fetchone()[0] == schema_version()
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def create(db: Database) -> None:
    """Create missing tables, columns, indexes and the full-text index; idempotent."""
    labels.create(db)
    db["documents"].create(
        DOCUMENTS, pk="id", not_null={"url", "body_text"}, foreign_keys=labels.foreign_keys("documents"),
        if_not_exists=True,
    )
    db["rounds"].create(ROUNDS, pk="round_id", if_not_exists=True)
    db["disclosures"].create(
        DISCLOSURES,
        pk="document_id",
        foreign_keys=[("document_id", "documents", "id"), ("round_id", "rounds", "round_id"),
                      *labels.foreign_keys("disclosures")],
        if_not_exists=True,
    )
    db["problems"].create(
        PROBLEMS, pk="id", foreign_keys=[("document_id", "documents", "id"), *labels.foreign_keys("problems")],
        if_not_exists=True,
    )
    db["attachments"].create(ATTACHMENTS, pk="id", if_not_exists=True)
    db["attachment_links"].create(ATTACHMENT_LINKS, pk=("document_id", "url"), if_not_exists=True)
    db["outcomes"].create(OUTCOMES, pk="id", foreign_keys=[("document_id", "documents", "id")], if_not_exists=True)
    db["versions"].create(VERSIONS, pk="id", foreign_keys=[("document_id", "documents", "id")], if_not_exists=True)
    db["failures"].create(FAILURES, pk="id", if_not_exists=True)
    db["crawl_runs"].create(CRAWL_RUNS, pk="id", if_not_exists=True)
    db["writer_progress"].create(WRITER_PROGRESS, pk="stream", if_not_exists=True)
    db["discovered_columns"].create(DISCOVERED_COLUMNS, pk="url", if_not_exists=True)
    units.create(db)
    # A page may fail on every crawl: archives made before this knew had a unique index.
    for index in db["failures"].indexes:
        if index.unique and index.columns == ["url"]:
            db.execute(f"drop index [{index.name}]")
    for table, columns in (
        ("documents", ["url"]),
        ("documents", ["published_at"]),
        ("documents", ["content_sha256"]),
        ("problems", ["document_id"]),
        ("attachments", ["document_id"]),
        ("attachments", ["url"]),
        ("attachment_links", ["url"]),
        ("outcomes", ["document_id"]),
        ("versions", ["document_id"]),
        ("failures", ["url"]),
    ):
        db[table].create_index(columns, unique=table == "documents" and columns == ["url"], if_not_exists=True)
    db["documents"].create_index(["canonical_id"], if_not_exists=True)
    _add_missing_columns(db)
    index_facet_columns(db)
    # Before the is_canonical facet's index carried canonical_id (CARRIED_COLUMNS), the copies had
    # their own index; SQLite chose it for ?is_canonical=1 too and read every row.
    db.execute("drop index if exists idx_documents_is_canonical_canonical_id")
    copy_groups.create_tables(db)
    # A group of copies is found through the canonical_id index: the record page
    # reads it on every visit (a group-by over the whole table took 100 ms at 100,000 documents).
    stored = db.execute("select sql from sqlite_master where type = 'view' and name = 'copies'").fetchone()
    if stored is None or COPIES_VIEW.strip() not in stored[0]:
        db.create_view("copies", COPIES_VIEW, replace=True)
    search_index.create(db.conn)
    db.execute(f"pragma user_version = {schema_version()}")


def _add_missing_columns(db: Database) -> None:
    """Bring an archive made by an earlier version up to this schema.

    Parsed columns it lacked stay empty until a rebuild re-parses its pages;
    ``is_canonical`` is filled at once, the generated columns compute themselves.
    """
    added = set()
    for table, columns in (
        ("documents", DOCUMENTS), ("disclosures", DISCLOSURES), ("problems", PROBLEMS), ("crawl_runs", CRAWL_RUNS),
        ("failures", FAILURES),
    ):
        existing = db[table].columns_dict
        for name, type_ in columns.items():
            if name not in existing:
                db[table].add_column(name, type_)
                added.add((table, name))
    for table, columns in GENERATED.items():
        existing = {row[1] for row in db.execute(f"pragma table_xinfo([{table}])")}
        for name, (type_, expression) in columns.items():
            if name not in existing:
                db.execute(f"alter table [{table}] add column [{name}] {type_} generated always as ({expression}) virtual")
    db.executescript(CANONICAL_TRIGGERS)
    db.executescript(COPIES_VERSION)
    for table in ("disclosures", "problems"):
        if (table, "is_canonical") in added:
            with db.conn:
                db.execute(f"update [{table}] set is_canonical = {_CANONICAL_OF.format(f'[{table}].document_id')}")


@contextmanager
def indexes_built_afterwards(db: Database):
    """For filling a new archive in bulk (a rebuild): the facet and search indexes
    are dropped while the rows are written and built once at the end.

    Building an index once from all its rows is cheaper than updating twenty
    B-trees and the full-text index row by row (a rebuild runs ~20 % faster).
    The indexes the writes read (url, canonical_id, document_id, the MinHash
    bands) stay.  Only for an archive nobody reads yet: until the block ends,
    searches find nothing and facets read every row.
    """
    with db.conn:
        for table, columns in facet_columns().items():
            for column in columns:
                db.execute(f"drop index if exists [{facet_index_name(db, table, column)}]")
    search_index.drop(db.conn)
    yield
    with db.conn:
        index_facet_columns(db)
    search_index.create(db.conn)


def facet_columns() -> dict[str, list[str]]:
    """The columns each table of the archive is faceted by in Datasette (``datasette_metadata.json``)."""
    return {table: [f for f in config.get("facets", []) if isinstance(f, str)] for table, config in _table_settings().items()}


def page_order(db: Database, table: str) -> list[str]:
    """The columns a table's pages are in the order of: its ``sort_desc`` or ``sort`` in the
    metadata, else its primary key (Datasette's order), or none for a rowid table."""
    config = _table_settings().get(table, {})
    if config.get("sort_desc") or config.get("sort"):
        return [config.get("sort_desc") or config.get("sort")]
    keys = sorted((row[5], row[1], row[2]) for row in db.execute(f"pragma table_info([{table}])") if row[5])
    if not keys or (len(keys) == 1 and keys[0][2].upper() == "INTEGER"):  # the rowid
        return []
    return [name for _, name, _ in keys]


@lru_cache(maxsize=1)
def _table_settings() -> dict[str, dict]:  # read by every facet index's columns and name
    return json.loads(METADATA.read_text(encoding="utf-8"))["databases"][METADATA_DB_KEY]["tables"]


def facet_index_name(db: Database, table: str, column: str) -> str:
    return f"idx_{table}_{column}_page" if page_order(db, table) else f"idx_{table}_{column}"


# Columns a facet's index carries beyond the page's.  A search counts texts from the copies
# alone (archive.search_index.copies_of): a copy's row and its text's id come from this index
# without reading the row (202 -> 23 ms for 30,000 copies, measured when an index held these
# two columns alone).
CARRIED_COLUMNS = {("documents", "is_canonical"): ["canonical_id"]}


def facet_index_columns(db: Database, table: str, column: str) -> list[str]:
    """The index behind a facet column.

    A table whose pages are in an order of columns (documents: newest first;
    disclosures, problems: their key) gets, for each facet column, an index on
    that column, then the page's order, then its other facet columns.  A page
    filtered by the facet (``?is_canonical=1``, ``?level=central``) then reads
    its rows in the index's order, and its count and every other facet from the
    index alone.  With one-column indexes SQLite sorted every matching row, texts
    and all, and each facet read every matching row again: at 1,000,000 documents
    ``?is_canonical=1`` ran past the 3 s limit (HTTP 400) and
    ``?doc_type=rectification_report`` took 3.2 s, two of its facets timed out.
    Tables in rowid order keep one-column indexes: the rows with one value of an
    indexed column are in rowid order there, and a longer index would lose that.
    """
    order = page_order(db, table)
    carried = CARRIED_COLUMNS.get((table, column), [])
    if not order:
        return [column, *carried]
    others = [other for other in facet_columns()[table] if other != column and other not in order]
    return [column, *(name for name in order if name != column), *others, *carried]


def index_facet_columns(db: Database) -> None:
    """An index on every facet column (:func:`facet_index_columns`): Datasette counts each
    facet of a table page from it instead of reading every row (a page or more each, for the texts)."""
    tables = set(db.table_names())
    for table, columns in facet_columns().items():
        if table not in tables:
            continue
        existing = {row[1] for row in db.execute(f"pragma table_xinfo([{table}])")}  # generated columns too
        leading = {(db.execute(f"pragma index_info([{index[1]}])").fetchone() or (None, None, None))[2]
                   for index in db.execute(f"pragma index_list([{table}])").fetchall()}
        ordered = bool(page_order(db, table))
        for column in columns:
            if column not in existing:
                continue
            wanted = [name for name in facet_index_columns(db, table, column) if name in existing]
            if ordered:
                # An archive made before had one-column indexes, which SQLite would go on choosing.
                db.execute(f"drop index if exists [idx_{table}_{column}]")
                db[table].create_index(wanted, index_name=facet_index_name(db, table, column), if_not_exists=True)
            elif column not in leading:  # an index it leads serves its facet
                db[table].create_index(wanted, if_not_exists=True)
