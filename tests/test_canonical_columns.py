"""is_canonical and published_month: on every row, whatever wrote it, and on archives made before them."""

import sqlite3
from pathlib import Path

from archive import schema, search_index
from archive.db import Archive
from pipelines import RawDocument

MIRROR = Path(__file__).resolve().parents[1] / "crawler" / "mirror" / "sites"
HEBEI_CCDI = "https://www.ccdi.gov.cn/yaowenn/202110/t20211027_253108.html"
HEBEI_SINA = "https://finance.sina.com.cn/roll/2021-10-28/doc-iktzscyy2216354.shtml"


def mirrored(url: str) -> RawDocument:
    body = (MIRROR / url.split("://", 1)[1]).read_bytes()
    return RawDocument(url=url, body=body, content_type="text/html", fetched_at="2021-11-01T00:00:00+00:00")


def flags(archive, table, key="document_id"):
    return {
        row["url"]: row["is_canonical"]
        for row in archive.db.query(
            f"select doc.url, t.is_canonical from [{table}] t join documents doc on doc.id = t.{key}"
        )
    }


def test_flags_follow_the_canonical_record_when_the_original_arrives_after_its_copy(tmp_path):
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest(mirrored(HEBEI_SINA))
        assert flags(archive, "disclosures") == {HEBEI_SINA: 1}
        archive.ingest(mirrored(HEBEI_CCDI))
        assert flags(archive, "disclosures") == {HEBEI_SINA: 0, HEBEI_CCDI: 1}
        assert set(flags(archive, "problems").items()) == {(HEBEI_SINA, 0), (HEBEI_CCDI, 1)}
        documents = {r["url"]: (r["is_canonical"], r["published_month"]) for r in archive.db["documents"].rows}
        assert documents == {HEBEI_SINA: (0, "2021-10"), HEBEI_CCDI: (1, "2021-10")}
        month = archive.db.execute("select published_month from disclosures where document_id = ?",
                                   [archive.document_for_url(HEBEI_CCDI)["id"]]).fetchone()[0]
        assert month == "2021-10"


def test_an_archive_made_before_the_columns_gets_them_filled(tmp_path):
    path = tmp_path / "old.db"
    with Archive(path) as archive:
        archive.ingest(mirrored(HEBEI_SINA))
        archive.ingest(mirrored(HEBEI_CCDI))
    old = sqlite3.connect(path)
    search_index.register_functions(old)
    # Indexes on the columns about to go (every facet column has one) go first.
    for table, column in (("documents", "is_canonical"), ("documents", "published_month"), ("disclosures", "published_month"),
                          ("disclosures", "is_canonical"), ("problems", "is_canonical")):
        for (index,) in old.execute(f"select name from pragma_index_list('{table}')").fetchall():
            if column in {row[2] for row in old.execute(f"pragma index_info([{index}])")}:
                old.execute(f"drop index [{index}]")
    old.executescript("""
        drop trigger disclosures_is_canonical; drop trigger problems_is_canonical; drop trigger documents_canonical_moved;
        drop trigger documents_copy_inserted; drop trigger documents_copy_moved; drop trigger documents_copy_deleted;
        drop trigger problems_copy_inserted; drop trigger problems_copy_moved; drop trigger problems_copy_deleted;
        drop table copies_version;
        alter table documents drop column is_canonical; alter table documents drop column published_month;
        alter table disclosures drop column published_month;
        alter table disclosures drop column is_canonical; alter table problems drop column is_canonical;
        pragma user_version = 0;  -- made by other code: brought up to date when next opened
    """)
    old.close()
    with Archive(path) as archive:
        assert flags(archive, "disclosures") == {HEBEI_SINA: 0, HEBEI_CCDI: 1}
        assert set(flags(archive, "problems").values()) == {0, 1}
        generated = {row[1] for row in archive.db.execute("pragma table_xinfo(documents)")}
        assert set(schema.GENERATED["documents"]) <= generated
        assert archive.db.execute("select count(*) from copies_version").fetchone()[0] == 2


def test_the_copies_version_moves_when_a_copy_is_made_and_only_then(tmp_path):
    """What archive.search_index.copies_of keeps its copies by (schema.COPIES_VERSION)."""
    with Archive(tmp_path / "a.db") as archive:
        def versions():
            return dict(archive.db.execute("select table_name, version from copies_version").fetchall())

        start = versions()
        archive.ingest(mirrored(HEBEI_CCDI))  # a text: no copy yet
        assert versions() == start
        archive.ingest(mirrored(HEBEI_SINA))  # its republished copy, and the copy's problems
        copied = versions()
        assert copied["documents"] > start["documents"] and copied["problems"] > start["problems"]
        archive.db.execute("update documents set last_seen_at = '2026-12-07T00:00:00+00:00'")  # no copy moves
        assert versions() == copied
        archive.db.execute("delete from problems where is_canonical = 1")  # the text's own problems
        assert versions() == copied
        archive.db.execute("delete from problems where is_canonical = 0")
        assert versions()["problems"] > copied["problems"]
    # Another archive at the same path does not start where this one stood.
    (tmp_path / "a.db").unlink()
    with Archive(tmp_path / "a.db") as again:
        assert dict(again.db.execute("select table_name, version from copies_version").fetchall()) != start
