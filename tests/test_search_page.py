"""The search plan (archive/plugin/search_page.py) on a real archive, in process: which
searches are walked in the table's order and which are listed from the index."""

from collections import OrderedDict

import pytest

from archive import search_index
from archive.db import Archive, connect
from archive.importer import import_paths
from archive.plugin import search_page


@pytest.fixture(scope="module")
def old_and_new(tmp_path_factory):
    """60 texts imported in order; 甲乙丙 is in the first 12 only, 通报 in every one."""
    folder = tmp_path_factory.mktemp("texts")
    for number in range(1, 61):
        old = "会议听取了甲乙丙工作的汇报。" if number <= 12 else ""
        (folder / f"{number:03}.txt").write_text(
            f"第{number}号情况通报\n{old}本单位第{number}次通报了巡察整改的进展，逐条对照问题清单。", encoding="utf-8")
    path = folder / "archive.db"
    with Archive(path) as archive:
        import_paths([folder], archive)
    conn = connect(path).conn
    yield conn
    conn.close()


def test_a_term_frequent_only_in_old_rows_is_listed_not_walked(old_and_new, monkeypatch):
    monkeypatch.setattr(search_page, "PROBE_LIMIT", 2)
    rowids = [row[0] for row in old_and_new.execute("select rowid from documents order by rowid")]
    assert len(rowids) == 60
    # Every one of the first rows holds 甲乙丙 (the probe from the start alone would walk it),
    # but from the newest end 3 matches span 49 rows (6 %): listed from the index.
    plan = search_page.make_plan(old_and_new, "documents", search_index.parse("甲乙丙"))
    assert not plan.dense and plan.rowids == rowids[:12] and (plan.count, plan.texts) == (12, 12)
    # A term in every row is dense at both ends: walked, and counted in the index.
    plan = search_page.make_plan(old_and_new, "documents", search_index.parse("通报"))
    assert plan.dense and plan.rowids is None and plan.count == 60


def test_a_shorter_phrase_is_verified_on_the_rows_of_its_rare_window(old_and_new, monkeypatch):
    """甲乙丙工作 (5 characters): the index would seek 工's and 作's lists in every row
    holding 甲; its window 甲乙丙 is cheaper (a sample of the rows says so), so the 12
    rows holding that window are verified on their texts, and the answer is exact."""
    verified = []
    real = search_index.verified_on_texts
    monkeypatch.setattr(search_index, "verified_on_texts",
                        lambda conn, table, terms, candidates: verified.append(candidates) or real(conn, table, terms, candidates))
    rowids = [row[0] for row in old_and_new.execute("select rowid from documents order by rowid")]
    assert search_index.rare_window(old_and_new, "documents", ["甲乙丙工作"]) == search_index.phrase("甲乙丙")
    plan = search_page.make_plan(old_and_new, "documents", search_index.parse("甲乙丙工作"))
    assert plan.rowids == rowids[:12] and (plan.count, plan.texts) == (12, 12)
    assert verified == [rowids[:12]]
    # Not in this order anywhere: at most those 12 rows are verified, and none holds it.
    verified.clear()
    plan = search_page.make_plan(old_and_new, "documents", search_index.parse("甲乙丙作工"))
    assert plan.rowids == [] and plan.count == 0 and len(verified) == 1 and set(verified[0]) <= set(rowids[:12])
    # A term of 4 characters, or one with OR beside it, is asked of the index as it is.
    assert search_index.rare_window(old_and_new, "documents", ["甲乙丙工"]) is None
    verified.clear()
    plan = search_page.make_plan(old_and_new, "documents", search_index.parse("甲乙丙工作 OR 通报"))
    assert verified == [] and plan.count == 60


def test_a_dense_count_that_cannot_fit_its_budget_is_not_started(old_and_new, monkeypatch):
    """The probe foresees the least time a dense count takes: one that cannot fit its
    budget follows the page without spending the budget."""
    monkeypatch.setattr(search_page, "PROBE_LIMIT", 2)
    monkeypatch.setattr(search_page, "KEPT_COUNTS", 0)
    monkeypatch.setattr(search_page, "_COUNTS", OrderedDict())  # none kept by the tests before
    query = search_index.parse("通报")
    plan = search_page.make_plan(old_and_new, "documents", query, count_budget_ms=60_000)
    assert plan.dense and (plan.count, plan.texts, plan.counting) == (60, 60, False)

    def planned():
        return search_page.SearchPlan(query=query, table="documents", fts=plan.fts, match=plan.match, dense=True)

    over = search_page._count_in_index(old_and_new, planned(), 10, least_ms=10.5)
    assert (over.count, over.texts, over.counting) == (None, None, True)
    within = search_page._count_in_index(old_and_new, planned(), 10, least_ms=9.5)
    assert (within.count, within.texts, within.counting) == (60, 60, False)
    # /-/count (no budget) counts however long it takes.
    unbounded = search_page._count_in_index(old_and_new, planned(), None, least_ms=10**9)
    assert (unbounded.count, unbounded.counting) == (60, False)
    # A 60-row archive foresees well under a millisecond for a count of its lists
    # (LIST_MS_PER_MATCH): counted within a budget of 5 ms.
    assert search_page.make_plan(old_and_new, "documents", search_index.parse("报"), count_budget_ms=5).count == 60
    # What a count reads: a phrase's positions, or only a character's or a pair's lists of rows.
    reads_positions = {term: search_page._reads_positions(search_page.make_plan(old_and_new, "documents", search_index.parse(term)))
                       for term in ("巡察整改", "通报", "报", "通报 OR 巡察整改")}
    assert reads_positions == {"巡察整改": True, "通报": False, "报": False, "通报 OR 巡察整改": True}


def test_a_dense_count_made_once_is_stated_until_the_index_changes(tmp_path, monkeypatch):
    """A count that follows the page (no budget: 0 ms) is made once, by /-/count's plan;
    the next page of the same search states it, until a write changes the index."""
    monkeypatch.setattr(search_page, "PROBE_LIMIT", 2)
    folder = tmp_path / "texts"
    folder.mkdir()
    for number in range(1, 11):
        (folder / f"{number:02}.txt").write_text(f"第{number}号情况通报\n本单位巡察整改的进展。", encoding="utf-8")
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        import_paths([folder], archive)
    conn = connect(path).conn
    query = search_index.parse("通报")
    assert search_page.make_plan(conn, "documents", query, count_budget_ms=0).counting
    counted = search_page.make_plan(conn, "documents", query, count_budget_ms=None)  # what /-/count runs
    assert (counted.count, counted.texts, counted.counting) == (10, 10, False)
    page = search_page.make_plan(conn, "documents", query, count_budget_ms=0)
    assert (page.count, page.texts, page.counting) == (10, 10, False)
    with Archive(path) as archive:  # a visit recorded: the index is as it was
        archive.db.execute("update documents set last_seen_at = '2026-12-07T00:00:00+00:00'")
    assert not search_page.make_plan(conn, "documents", query, count_budget_ms=0).counting
    (folder / "11.txt").write_text("第11号情况通报\n又一份。", encoding="utf-8")
    with Archive(path) as archive:
        import_paths([folder / "11.txt"], archive)
    assert search_page.make_plan(conn, "documents", query, count_budget_ms=0).counting
    assert search_page.make_plan(conn, "documents", query, count_budget_ms=None).count == 11
    with Archive(path) as archive:  # a text made a copy of another: the count of texts moves
        first, second = [row[0] for row in archive.db.execute("select id from documents order by rowid limit 2")]
        archive.db.execute("update documents set canonical_id = ? where id = ?", [first, second])
    assert search_page.make_plan(conn, "documents", query, count_budget_ms=0).counting
    counted = search_page.make_plan(conn, "documents", query, count_budget_ms=None)
    assert (counted.count, counted.texts) == (11, 10)
    # Keeping none (the search bench: every count made afresh): counted, and not kept.
    monkeypatch.setattr(search_page, "KEPT_COUNTS", 0)
    with Archive(path) as archive:
        archive.db.execute("update documents set canonical_id = null")
    assert search_page.make_plan(conn, "documents", query, count_budget_ms=None).texts == 11
    assert search_page.make_plan(conn, "documents", query, count_budget_ms=0).counting
    conn.close()
