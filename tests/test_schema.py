"""The archive's schema (archive/schema.py): the indexes behind a filtered table page.

Datasette's table page runs, for ``/archive/documents?<facet>=<value>``, the page's
rows in the table's order, their count and every facet, each as its own statement.
SQLite's query plans (``explain query plan``) show which index each one reads.
"""

import sqlite3

import pytest
from sqlite_utils import Database

from archive import schema
from archive.db import Archive

FACETS = schema.facet_columns()["documents"]


@pytest.fixture
def documents(tmp_path):
    path = tmp_path / "archive.db"
    Archive(path).close()
    conn = sqlite3.connect(path)
    yield conn
    conn.close()


def plan(conn: sqlite3.Connection, sql: str) -> str:
    return " | ".join(row[3] for row in conn.execute("explain query plan " + sql, {"p0": "x", "p1": "y"}))


def page_statements(where: str) -> dict[str, str]:
    """What Datasette 0.65 runs for a documents page with ``where`` (views/table.py, facets.py)."""
    statements = {
        "rows": f"select id, title from documents where {where} order by published_at desc, rowid desc limit 51",
        "count": f"select count(*) from documents where {where}",
    }
    for facet in FACETS:
        statements[f"facet {facet}"] = (
            f"select {facet} as value, count(*) as count from (select * from documents where {where})"
            f" where {facet} is not null group by {facet} order by count desc, value limit 31")
    return statements


@pytest.mark.parametrize("column", FACETS)
def test_a_page_filtered_by_a_facet_reads_its_index_alone(documents, column):
    """Rows in the index's order (no sort of every matching row), count and facets from the index."""
    index = schema.facet_index_name(Database(documents), "documents", column)
    for name, sql in page_statements(f"{column} = :p0").items():
        shown = plan(documents, sql)
        assert f"USING INDEX {index} ({column}=?)" in shown or f"USING COVERING INDEX {index} ({column}=?)" in shown, (name, shown)
        if name == "rows":
            assert "TEMP B-TREE FOR ORDER BY" not in shown, shown  # RIGHT PART (rowid, among equal dates) only


def test_two_filters_read_one_facet_index(documents):
    shown = plan(documents, "select count(*) from documents where doc_type = :p0 and is_canonical = :p1")
    assert "idx_documents_doc_type_page" in shown or "idx_documents_is_canonical_page" in shown, shown


def test_the_facet_index_carries_the_page_order_and_the_other_facets(documents):
    db = Database(documents)
    assert schema.facet_index_columns(db, "documents", "site") == [
        "site", "published_at", "doc_type", "is_canonical", "published_month", "publisher"]
    assert schema.facet_index_columns(db, "documents", "is_canonical")[-1] == "canonical_id"  # the copies, read from it
    # Pages of a table without a sort are in the order of its key.
    assert schema.facet_index_columns(db, "problems", "status_class") == ["status_class", "id", "long_term", "is_canonical"]
    # A table in rowid order keeps a one-column index: its rows of one value are in rowid order there.
    assert schema.facet_index_columns(db, "failures", "stage") == ["stage"]


def test_a_page_of_reports_filtered_by_level_reads_them_in_key_order(documents):
    """Datasette orders a table without a sort by its key: disclosures by document_id."""
    shown = plan(documents, "select * from disclosures where level = :p0 order by document_id limit 51")
    assert "USING INDEX idx_disclosures_level_page (level=?)" in shown and "TEMP B-TREE" not in shown, shown
    facet = plan(documents, "select province as value, count(*) as count from (select * from disclosures where level = :p0)"
                            " where province is not null group by province order by count desc, value limit 31")
    assert "USING COVERING INDEX idx_disclosures_level_page (level=?)" in facet, facet


def test_an_archive_with_one_column_facet_indexes_is_brought_up_to_date(tmp_path):
    path = tmp_path / "archive.db"
    Archive(path).close()
    conn = sqlite3.connect(path)
    for column in FACETS:
        conn.execute(f"drop index [{schema.facet_index_name(Database(conn), 'documents', column)}]")
        conn.execute(f"create index [idx_documents_{column}] on documents ([{column}])")
    conn.execute("create index idx_documents_is_canonical_canonical_id on documents (is_canonical, canonical_id)")
    conn.execute("pragma user_version = 0")  # made by other code: the next writer brings it up to date
    conn.commit()
    conn.close()
    Archive(path).close()
    conn = sqlite3.connect(path)
    indexes = {row[1] for row in conn.execute("pragma index_list(documents)")}
    conn.close()
    assert {f"idx_documents_{column}_page" for column in FACETS} <= indexes
    assert not indexes & ({f"idx_documents_{column}" for column in FACETS} | {"idx_documents_is_canonical_canonical_id"})
