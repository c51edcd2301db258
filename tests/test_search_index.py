"""The search index and the query reader, on real SQLite files (no server).

Every answer is compared with the substring oracle :func:`archive.search_index.comparable`.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive import search_index
from archive.db import Archive, connect
from archive.importer import import_paths
from archive.plugin.search_page import snippet

FIXTURES = Path(__file__).parent / "fixtures"


def matching_ids(conn, text: str, table: str = "documents") -> set[str]:
    fts = search_index.INDEXES[table].fts
    rows = conn.execute(
        f"select id from {table} where rowid in (select rowid from {fts} where {fts} match ?)", [search_index.parse(text).match]
    )
    return {row[0] for row in rows}


def oracle_ids(conn, term: str) -> set[str]:
    wanted = search_index.comparable(term)
    rows = conn.execute(
        "select id, coalesce(title, ''), body_text, source, author, editor, publisher, declared_source, declared_author"
        " from documents"
    )
    return {row[0] for row in rows if any(wanted in search_index.comparable(field or "") for field in row[1:])}


@pytest.fixture(scope="module")
def archive_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "archive.db"
    with Archive(path) as archive:
        import_paths([FIXTURES / "documents", FIXTURES / "disclosures", FIXTURES / "provenance"], archive)
    conn = connect(path).conn
    yield path, conn
    conn.close()


def test_fold_keeps_length_and_simplifies_character_by_character():
    assert search_index.fold("巡察整改進展情況的通報") == "巡察整改进展情况的通报"
    # Full-width and ASCII letters, digits and punctuation meet; case and accents are ignored.
    assert search_index.fold("ＣＯＶＩＤ－１９，“四风”") == search_index.fold("covid-19,“四风”") == "covid－19，“四风”"
    assert search_index.fold("Émile") == "emile"
    text = "乾隆著作裏面\u3000王\u200b伟"
    assert len(search_index.fold(text)) == len(text)
    assert search_index.comparable(text) == "干隆著作里面王伟"  # spaces and zero-width characters ignored
    assert search_index.index_form("巡視ab") == "巡 视 a b"


@pytest.mark.parametrize(
    "term",
    ["整", "整改", "巡察组", "巡察整改", "关于巡察整改进展情况", "李明远", "中央纪委国家监委网站", "四风", "12家", "X月X日", "贸促会"],
)
def test_every_length_is_an_exact_substring_search(archive_db, term):
    _, conn = archive_db
    expected = oracle_ids(conn, term)
    assert matching_ids(conn, term) == expected


def test_traditional_and_simplified_find_each_other(archive_db):
    _, conn = archive_db
    simplified = matching_ids(conn, "梅溪县白石镇")
    traditional = matching_ids(conn, "梅溪縣白石鎮")
    assert simplified == traditional
    assert len(simplified) == 2  # the report and its traditional-character copy


def test_phrases_never_cross_punctuation(archive_db):
    _, conn = archive_db
    assert matching_ids(conn, "聚焦四风") == set()
    assert len(matching_ids(conn, "聚焦“四风")) == 1
    assert matching_ids(conn, "聚焦“四风") == oracle_ids(conn, "聚焦“四风")


def test_bylines_and_problems_are_searchable(archive_db):
    _, conn = archive_db
    # 李明远 is a byline: moved out of the text into source/author, still found.
    assert len(matching_ids(conn, "李明远")) == 1
    assert matching_ids(conn, "李明远") == oracle_ids(conn, "李明远")
    problem_titles = {
        row[0]
        for row in conn.execute(
            "select title from problems where rowid in (select rowid from problems_fts where problems_fts match ?)",
            [search_index.parse("党费").match],
        )
    }
    assert problem_titles == {"党费收缴不规范"}


def test_words_operators_and_quotes(archive_db):
    _, conn = archive_db
    both = matching_ids(conn, "巡察 四风")
    assert both == oracle_ids(conn, "巡察") & oracle_ids(conn, "四风")
    either = matching_ids(conn, "贸促会 OR 白石镇")
    assert either == oracle_ids(conn, "贸促会") | oracle_ids(conn, "白石镇")
    without = matching_ids(conn, "整改 NOT 四风")
    assert without == oracle_ids(conn, "整改") - oracle_ids(conn, "四风")
    # Quotes keep a phrase with its punctuation; outside quotes, punctuation at the ends is ignored.
    assert matching_ids(conn, "四风、") == oracle_ids(conn, "四风")
    assert matching_ids(conn, '"（一）党的政治建设方面"') == oracle_ids(conn, "（一）党的政治建设方面")


@pytest.mark.parametrize(
    "text, match, notes",
    [
        ("四风 OR", '"四 风"', ["OR needs a word on each side; ignored"]),
        ("OR 四风", '"四 风"', ["OR needs a word on each side; ignored"]),
        ("、", '"、"', []),
        ('"', '"＂"', []),  # ASCII punctuation is indexed as its full-width twin
        ("()", '"（ ）"', []),
        ("   ", None, []),
        ("王伟 OR 钱立军", '"王 伟" OR "钱 立 军"', []),
    ],
)
def test_query_reading(text, match, notes):
    query = search_index.parse(text)
    assert query.match == match
    assert query.notes == notes


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
       | st.text(alphabet='"()*:^+-、，。 ORNTAD四风{}', max_size=30))
def test_any_input_is_a_valid_query(text):
    conn = sqlite3.connect(":memory:")
    conn.execute(f"create virtual table t using fts5(body, tokenize=\"{search_index.TOKENIZE}\")")
    conn.execute("insert into t values (?)", [search_index.index_form("四风、整改（一）OR “x”")])
    query = search_index.parse(text)
    if query.match is not None:
        conn.execute("select count(*) from t where t match ?", [query.match]).fetchone()


def test_two_hundred_characters(archive_db):
    _, conn = archive_db
    body = conn.execute("select body_text from documents where length(body_text) > 400 limit 1").fetchone()[0]
    quote = body[100:300]
    assert len(matching_ids(conn, quote)) >= 1
    assert matching_ids(conn, quote) == oracle_ids(conn, quote)


@pytest.mark.slow
def test_plain_sqlite_searches_with_the_documented_query(archive_db):
    path, _ = archive_db
    plain = sqlite3.connect(path)  # no function registered: what any SQLite tool sees
    documented = (
        "select title from documents where rowid in "
        "(select rowid from documents_fts where documents_fts match '\"巡 察 整 改\"')"
    )
    titles = {row[0] for row in plain.execute(documented)}
    ids = {row[0] for row in plain.execute(documented.replace("select title", "select id"))}
    assert titles and ids == oracle_ids(plain, "巡察整改")
    plain.close()
    shell = subprocess.run(["sqlite3", str(path), documented], capture_output=True, text=True, timeout=60)
    assert shell.returncode == 0, shell.stderr
    assert set(shell.stdout.splitlines()) == titles


def empty_archive(path):
    with Archive(path):
        pass
    return connect(path)


def test_edits_and_deletions_keep_the_index_in_step(tmp_path):
    db = empty_archive(tmp_path / "a.db")
    with db.conn:
        db["documents"].insert({"id": "a", "url": "u:a", "title": "标题", "body_text": "查处违规吃喝问题", "editor": "王 伟"})
    assert matching_ids(db.conn, "违规吃喝") == {"a"}
    assert matching_ids(db.conn, "王伟") == {"a"}
    with db.conn:
        db["documents"].update("a", {"body_text": "清退违规资金"})
    assert matching_ids(db.conn, "违规吃喝") == set()
    assert matching_ids(db.conn, "清退") == {"a"}
    with db.conn:
        db["documents"].update("a", {"last_seen_at": "2024"})  # not an indexed column: no re-indexing
        db["documents"].delete("a")
    assert matching_ids(db.conn, "清退") == set()
    db.execute("insert into documents_fts (documents_fts, rank) values ('integrity-check', 1)")
    db.conn.close()


def test_an_archive_indexed_by_the_old_tokenizer_is_migrated(tmp_path, archive_db):
    path = tmp_path / "old.db"
    shutil.copy(archive_db[0], path)
    conn = sqlite3.connect(path)
    # Put back the schema the zh_char tokenizer left: its FTS table (which no
    # SQLite can open without that tokenizer) and its triggers.
    for name in ("documents_search_insert", "documents_search_delete", "documents_search_update"):
        conn.execute(f"drop trigger {name}")
    conn.execute("pragma writable_schema = on")
    conn.execute(
        "update sqlite_master set sql = ? where name = 'documents_fts'",
        ["CREATE VIRTUAL TABLE [documents_fts] USING FTS5 ([title], [body_text], content=[documents], tokenize='zh_char')"],
    )
    conn.execute("pragma writable_schema = off")
    conn.execute("pragma user_version = 0")  # as every archive made before the schema had a version
    conn.commit()
    conn.close()
    with pytest.raises(sqlite3.OperationalError, match="no such tokenizer"):
        sqlite3.connect(path).execute("select count(*) from documents_fts").fetchone()
    with Archive(path) as archive:
        assert matching_ids(archive.db.conn, "巡察整改") == oracle_ids(archive.db.conn, "巡察整改")
        assert archive.db.execute("pragma integrity_check").fetchone() == ("ok",)


def test_snippet_marks_the_hits_in_the_texts_own_characters():
    text = "前言。" * 50 + "對梅溪縣白石鎮黨委開展了常規巡察，反饋巡察意見。" + "结语。" * 50
    shown = snippet(text, ["白石镇", "巡察"])
    assert "<mark>白石鎮</mark>" in shown
    assert shown.count("<mark>巡察</mark>") == 2
    assert shown.startswith("…") and shown.endswith("…")
    assert snippet("<b>四风</b>", ["四风"]) == "&lt;b&gt;<mark>四风</mark>&lt;/b&gt;"
    # A long text is folded a piece at a time; a hit across two pieces is still found.
    long_text = "前" * 65534 + "白石鎮" + "后" * 100_000
    assert "<mark>白石鎮</mark>" in snippet(long_text, ["白石镇"])


def test_the_install_compiled_the_index_form():
    """README command 1 compiles archive/_index_form.c; without it indexing runs at NumPy speed."""
    assert search_index._compiled_index_form is not None
    assert search_index._compiled_index_form_utf8 is not None
    assert search_index._compiled_pair_form_utf8 is not None


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=200))
def test_the_index_form_in_sql_is_the_same_from_utf8_compiled_or_not(text):
    """The index's views pass texts to zh_index_form as UTF-8 BLOBs and index the bytes it
    returns: the compiled UTF-8 path and the fallback give the text's index form, encoded."""
    expected = search_index._numpy_index_form(text).encode("utf-8")  # the reference, not the function under test
    assert search_index.sql_index_form(text.encode("utf-8")) == expected
    compiled, search_index._compiled_index_form_utf8 = search_index._compiled_index_form_utf8, None
    try:
        assert search_index.sql_index_form(text.encode("utf-8")) == expected
    finally:
        search_index._compiled_index_form_utf8 = compiled
    assert search_index.sql_index_form(text) == expected.decode("utf-8")


def test_bytes_that_are_not_utf8_become_replacement_characters_in_the_index_form():
    table = search_index._fold_table()
    assert search_index._compiled_index_form_utf8(b"A\xff\xe4\xb8", table) == "a \ufffd \ufffd \ufffd".encode("utf-8")
    assert search_index._compiled_index_form_utf8("巡視\n".encode("utf-8") + b"\xc0", table) == "巡 视   \ufffd".encode("utf-8")


@pytest.mark.parametrize("text", [
    "", "巡", "巡視整改 ABC，１２", "Ｅ-mail: X@y.COM\t\n", "𠀀𪚥\U000E0001\U000E0100é", "\x00\x7f\u3000\uff5e",
])
def test_compiled_and_numpy_index_forms_agree(text):
    assert search_index._compiled_index_form(text, search_index._fold_table()) == search_index._numpy_index_form(text)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_compiled_and_numpy_index_forms_agree_on_any_text(text):
    assert search_index._compiled_index_form(text, search_index._fold_table()) == search_index._numpy_index_form(text)


def ids_of(conn, rowids: list[int]) -> set[str]:
    return {row[0] for row in conn.execute("select id from documents where rowid in (select value from json_each(?))",
                                           [json.dumps(rowids)])}


def oracle_texts(conn, ids: set[str]) -> int:
    """Texts among the documents: a page and its republished copies are one."""
    canonical = dict(conn.execute("select id, coalesce(canonical_id, id) from documents"))
    return len({canonical[i] for i in ids})


@pytest.mark.parametrize("term", ["整改", "白石镇", "巡", "不存在的词"])
def test_every_match_is_counted_in_pages_and_texts(archive_db, term):
    _, conn = archive_db
    rowids = search_index.matching_rowids(conn, "documents", search_index.parse(term).match)
    assert ids_of(conn, rowids) == oracle_ids(conn, term)
    assert search_index.count_texts(conn, "documents", rowids) == oracle_texts(conn, oracle_ids(conn, term))
    assert search_index.count_matches(conn, "documents", search_index.parse(term).match) == (
        oracle_texts(conn, oracle_ids(conn, term)), len(oracle_ids(conn, term)))


def test_a_copy_is_counted_with_its_text(archive_db):
    _, conn = archive_db
    rowids = search_index.matching_rowids(conn, "documents", search_index.parse("白石镇").match)
    assert len(rowids) == 2  # a report and its traditional-character copy
    assert search_index.count_texts(conn, "documents", rowids) == 1
    assert search_index.count_matches(conn, "documents", search_index.parse("白石镇").match) == (1, 2)


def made_sample(shares: dict, rates: dict, windows: dict, rows: int = 500):
    window_rows = np.zeros(2**20, dtype=np.uint32)
    for window, count in windows.items():
        window_rows[search_index._window_buckets(window)[0]] = count
    return search_index.Sample(rows, shares, rates, window_rows)


def test_texts_are_counted_from_the_copies_among_the_matches():
    conn = sqlite3.connect(":memory:")
    conn.execute("create table documents (id text primary key, canonical_id text,"
                 " is_canonical integer generated always as (coalesce(canonical_id, id) = id) virtual)")
    # Rows 1-3 one text (2 and 3 its copies), 4 a text, 5 a copy of 4, 6 a text.
    conn.executemany("insert into documents (rowid, id, canonical_id) values (?, ?, ?)",
                     [(1, "a", None), (2, "b", "a"), (3, "c", "a"), (4, "d", None), (5, "e", "d"), (6, "f", None)])
    count = lambda rowids: search_index.count_texts(conn, "documents", rowids)  # noqa: E731
    assert count([1, 2, 3, 4, 5, 6]) == 3
    assert count([2, 3]) == 1  # copies whose text's own page does not match: their text, once
    assert count([2, 5, 6]) == 3 and count([5, 2]) == 2  # in any order
    assert count([4, 5]) == 1 and count([6]) == 1 and count([]) == 0


def test_the_copies_are_read_from_an_index_alone(archive_db):
    """A copy's row and its text's id come from one index (no row read): 202 -> 23 ms for 30,000 copies."""
    _, conn = archive_db
    plan = " ".join(row[3] for row in conn.execute("explain query plan " + search_index._COPIES["documents"]))
    assert "SEARCH d USING INDEX idx_documents_is_canonical_page (is_canonical=?)" in plan
    assert "USING COVERING INDEX sqlite_autoindex_documents_1 (id=?)" in plan
    assert conn.execute("select name from pragma_index_info('idx_documents_is_canonical_page') order by seqno desc limit 1"
                        ).fetchone() == ("canonical_id",)
    indexes = {row[1] for row in conn.execute("pragma index_list(documents)")}
    # SQLite would pick these for ?is_canonical=1 too, and read every row
    assert not indexes & {"idx_documents_is_canonical", "idx_documents_is_canonical_canonical_id"}


def _archive_copy(tmp_path, archive_db) -> Path:
    path = tmp_path / "archive.db"
    source, _ = archive_db
    with sqlite3.connect(source) as original, sqlite3.connect(path) as copy:
        original.backup(copy)
    return path


def _make_a_copy(writer: sqlite3.Connection, rowids: list[int]) -> None:
    """One text among ``rowids`` made a copy of another among them, as copy groups do."""
    text, other = writer.execute(
        "select a.id, b.id from documents a, documents b where a.rowid in (select value from json_each(?)) "
        "and b.rowid in (select value from json_each(?)) and a.is_canonical and b.is_canonical and a.id < b.id limit 1",
        [json.dumps(rowids), json.dumps(rowids)]).fetchone()
    with writer:
        writer.execute("update documents set canonical_id = ? where id = ?", [text, other])


def test_counts_follow_the_copies_another_connection_changes(tmp_path, archive_db):
    """The copies are read once and kept (a count does not read 30,000 copies each
    time); a commit elsewhere that makes a text a copy is counted at once."""
    path = _archive_copy(tmp_path, archive_db)
    reader = connect(path).conn
    match = search_index.parse("巡").match
    rowids = search_index.matching_rowids(reader, "documents", match)
    before = search_index.count_matches(reader, "documents", match)
    assert before == (oracle_texts(reader, oracle_ids(reader, "巡")), len(rowids))
    writer = sqlite3.connect(path)
    _make_a_copy(writer, rowids)
    writer.close()
    assert search_index.count_matches(reader, "documents", match) == (before[0] - 1, before[1])
    assert search_index.count_texts(reader, "documents", rowids) == before[0] - 1
    reader.close()


def test_copies_read_once_serve_every_connection_until_a_copy_changes(tmp_path, archive_db):
    """While a crawl writes, every Datasette connection counting texts would read the
    copies again after each write; they are read once per change of a copy instead."""
    path = _archive_copy(tmp_path, archive_db)
    first, second = connect(path).conn, connect(path).conn
    match = search_index.parse("巡").match
    rowids = search_index.matching_rowids(first, "documents", match)
    before = search_index.count_matches(first, "documents", match)
    copies_read = []
    second.set_trace_callback(lambda sql: copies_read.append(sql) if "d.is_canonical = 0" in sql else None)
    assert search_index.count_matches(second, "documents", match) == before and copies_read == []
    writer = sqlite3.connect(path)
    with writer:  # what most of a crawl's writes are: no copy made
        writer.execute("update documents set last_seen_at = '2026-12-07T00:00:00+00:00' where rowid = ?", [rowids[0]])
    assert search_index.count_matches(second, "documents", match) == before and copies_read == []
    _make_a_copy(writer, rowids)
    writer.close()
    assert search_index.count_matches(second, "documents", match) == (before[0] - 1, before[1])
    assert search_index.count_matches(first, "documents", match) == (before[0] - 1, before[1])
    assert len(copies_read) == 1
    first.close()
    second.close()


def test_rarest_windows_weigh_what_the_index_reads_against_what_is_verified():
    common = {c: 1.0 for c in "的整改工作台账办公区第一"}
    rates = {c: 30.0 for c in common} | {"。": 110.0, "鑫": 0.002}
    sample = made_sample(common | {"。": 1.0, "鑫": 0.002}, rates,
                         {"的整改": 400, "整改鑫": 1, "改鑫台": 1, "鑫台账": 1, "台账工": 300, "账工作": 450, "办公区": 45,
                          "公区。": 50, "区。第": 2, "。第一": 30})
    # 鑫 is in 1 row of 500: a window with it is cheap to find and leaves few rows to verify.
    windows, cost = search_index.rarest_windows(["的整改鑫台账工作"], sample)
    assert windows == ["整改鑫"] and cost < 100
    # Every character common: the rarest window (区。第, 2 rows of 500) costs 170 to read and
    # leaves 0.4 % to verify (60); 办公区 and 。第一 together would cost 260 and leave 0.54 % (81).
    assert search_index.rarest_windows(["办公区。第一"], sample) == (["区。第"], 230)
    # Two windows in a tenth of the rows each: reading the second (90) saves verifying 9 % of all rows (1,350).
    sample = made_sample(common, rates, {"办公区": 50, "公区台": 100, "区台账": 100, "台账工": 50})
    assert search_index.rarest_windows(["办公区台账工"], sample) == (["办公区", "台账工"], 180 + 150)
    assert search_index.rarest_windows(["办公区台账工"], sample, most=1) == (["办公区"], 90 + 1500)
    # Windows never overlap within a term; a short term gives none.
    windows, _ = search_index.rarest_windows(["的整改鑫台账工作", "工作"], sample, most=3)
    assert all(abs("的整改鑫台账工作".index(a) - "的整改鑫台账工作".index(b)) >= 3 for a in windows for b in windows if a != b)
    assert "工作" not in windows


def test_a_phrase_costs_its_characters_read_in_the_rows_of_the_rarest():
    sample = made_sample({"。": 1.0, "第": 1.0, "佚": 0.2}, {"。": 110.0, "第": 26.0, "佚": 0.2}, {})
    assert search_index.Sample.window_cost(sample, "。第") == 136  # both lists read whole
    # In the rows holding 佚 (a fifth), 。's long list is sought (40 positions' cost), not read.
    assert search_index.Sample.window_cost(sample, "。佚") == 40 + 0.2


def test_the_sample_gives_each_characters_share_of_rows(archive_db):
    _, conn = archive_db
    rows = conn.execute("select count(*) from documents").fetchone()[0]
    assert rows < search_index.FREQUENCY_SAMPLE  # every row is in the sample: the shares are exact
    frequencies = search_index.sample(conn, "documents").shares
    for character in ("贸", "巡", "的"):
        assert frequencies[character] == len(oracle_ids(conn, character)) / rows
    assert "鑫" not in frequencies and 0 < frequencies["贸"] < frequencies["巡"] <= frequencies["的"] <= 1


def _sample_taken_after(key: tuple[str, str], moment: float, timeout: float = 20.0) -> search_index.Sample:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kept = search_index._SAMPLES.get(key)
        if kept is not None and kept[0] > moment:
            return kept[1]
        time.sleep(0.05)
    raise AssertionError(f"no sample of {key} taken in {timeout} s")


def test_an_old_sample_serves_while_a_new_one_is_taken_in_the_background(tmp_path, archive_db, monkeypatch):
    path = _archive_copy(tmp_path, archive_db)
    conn = sqlite3.connect(path)
    search_index.register_functions(conn)  # the index's triggers call them
    key = (search_index.database_file(conn), "documents")
    first = search_index.sample(conn, "documents")
    assert "鑫" not in first.shares
    with conn:
        conn.execute("update documents set title = title || '鑫'")  # every row now holds 鑫
    assert search_index.sample(conn, "documents") is first  # still fresh: kept
    monkeypatch.setattr(search_index, "FREQUENCY_TTL_S", 0)
    asked = time.monotonic()
    assert search_index.sample(conn, "documents") is first  # old: served at once, a new one taken apart
    assert _sample_taken_after(key, asked).shares["鑫"] == 1.0
    conn.close()


def test_datasette_samples_the_archive_as_it_starts(tmp_path, archive_db):
    from datasette.app import Datasette

    path = _archive_copy(tmp_path, archive_db)
    with sqlite3.connect(path) as conn:
        key = search_index.database_file(conn)
    started = time.monotonic()
    asyncio.run(Datasette([str(path)]).invoke_startup())
    for table in search_index.INDEXES:
        assert _sample_taken_after((key, table), started).rows > 0


@pytest.mark.parametrize("start, length", [(100, 10), (40, 30), (100, 200), (0, 8)])
def test_long_phrases_are_found_by_their_rarest_windows(archive_db, start, length):
    _, conn = archive_db
    for (body,) in conn.execute("select body_text from documents where length(body_text) > 400 order by rowid limit 3"):
        quote = body[start : start + length]
        found = ids_of(conn, search_index.rarest_windows_rowids(conn, "documents", [quote]))
        assert found and found == oracle_ids(conn, quote)
        # Every term must occur: the quotation and a word found elsewhere.
        both = ids_of(conn, search_index.rarest_windows_rowids(conn, "documents", [quote, "整改"]))
        assert both == oracle_ids(conn, quote) & oracle_ids(conn, "整改")


def test_a_long_phrase_whose_windows_occur_apart_finds_nothing(archive_db):
    _, conn = archive_db
    body = conn.execute("select body_text from documents where length(body_text) > 400 order by rowid limit 1").fetchone()[0]
    swapped = body[110:120] + body[100:110]  # both halves are in the text, not in this order
    assert oracle_ids(conn, swapped) == set()
    assert search_index.rarest_windows_rowids(conn, "documents", [swapped]) == []
    assert search_index.rarest_windows_rowids(conn, "documents", ["巡察整改工作鑫鑫鑫鑫"]) == [] == list(oracle_ids(conn, "巡察整改工作鑫鑫鑫鑫"))


# --- the pair index ---------------------------------------------------------------


def pair_ids(conn, text: str) -> set[str]:
    fts = search_index.PAIRS["documents"].fts
    rows = conn.execute(f"select id from documents where rowid in (select rowid from {fts} where {fts} match ?)",
                        [search_index.parse(text).pair_match])
    return {row[0] for row in rows}


def test_the_paired_characters_are_common_han_characters():
    paired = search_index.paired_characters()
    assert len(paired) == 200 and {"整", "改", "巡", "视", "的", "党"} <= paired
    assert all("\u4e00" <= character <= "\u9fff" for character in paired) and "鑫" not in paired


@pytest.mark.parametrize("text, pairs", [
    ("整改 整改，巡视整改", "整改 改整 改， ，巡 巡视 视整"),  # whitespace joins, punctuation is a character
    ("巡視\n整改", "巡视 视整 整改"),  # folded first
    ("鑫整王伟", ""),  # a character outside the set makes no pair
    ("整\U000E0041改\ufe0f整", "整改 改整"),  # a tag (plane 14) and a variation selector are ignored
    ("整\U00020000改", ""),  # an ideograph above the table (four bytes) is never paired
    ("", ""),
])
def test_pair_form_keeps_each_pair_of_paired_characters_once(text, pairs):
    kept = [pair for pair in pairs.split() if all(c in search_index.paired_characters() for c in pair)]
    assert search_index.pair_form(text) == " ".join(kept)
    assert search_index.sql_pair_form(text.encode("utf-8")) == " ".join(kept).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("整改巡视的党组织工作鑫 ，\n視A1"), max_size=300) | st.text(max_size=100))
def test_compiled_and_python_pair_forms_agree(text):
    assert search_index.sql_pair_form(text.encode("utf-8")).decode("utf-8") == search_index.pair_form(text)


def test_compiled_pair_form_holds_every_pair_of_the_set_once():
    # Every ordered pair of the paired characters, twice over: the longest pair form there is.
    ordered = sorted(search_index.paired_characters())
    text = "".join(first + second for first in ordered for second in ordered) * 2
    form = search_index.sql_pair_form(text.encode("utf-8")).decode("utf-8")
    assert form == search_index.pair_form(text)
    assert len(form.split()) == len(set(form.split())) == len(ordered) ** 2


def test_searches_of_paired_terms_read_the_pair_index():
    assert search_index.parse("整改").pair_match == '"整改"'
    assert search_index.parse("改整 OR 巡視 NOT 工作").pair_match == '"改整" OR "巡视" NOT "工作"'
    assert search_index.parse("整改 王伟").pair_match is None  # 王 and 伟 are not paired characters
    assert search_index.parse("党组织").pair_match is None  # three characters: positions needed
    assert search_index.pair_candidates(search_index.parse("党组织 巡视")) == '"党组" AND "组织" AND "巡视"'
    assert search_index.pair_candidates(search_index.parse("党组织 OR 巡视")) is None


@pytest.mark.parametrize("term", ["整改", "改整", "巡视", "的工", "巡察"])
def test_the_pair_index_finds_what_the_oracle_finds(archive_db, term):
    _, conn = archive_db
    assert search_index.is_pair(term)
    assert pair_ids(conn, term) == oracle_ids(conn, term) == matching_ids(conn, term)


def test_the_pair_index_follows_edits_and_deletions(tmp_path):
    db = empty_archive(tmp_path / "a.db")
    with db.conn:
        db["documents"].insert({"id": "a", "url": "u:a", "title": "标题", "body_text": "整 改工作", "editor": "王伟"})
    assert pair_ids(db.conn, "整改") == {"a"} and pair_ids(db.conn, "改工") == {"a"}
    with db.conn:
        db["documents"].update("a", {"body_text": "改整"})
    assert pair_ids(db.conn, "整改") == set() and pair_ids(db.conn, "改整") == {"a"}
    with db.conn:
        db["documents"].delete("a")
    assert pair_ids(db.conn, "改整") == set()
    db.execute("insert into documents_pairs (documents_pairs, rank) values ('integrity-check', 1)")
    db.conn.close()


def test_candidates_verified_on_their_texts(archive_db):
    _, conn = archive_db
    candidates = search_index.matching_rowids(conn, "documents", '"整改"', search_index.PAIRS["documents"].fts)
    for terms in (["整改工作"], ["整改", "巡察"], ["改整改整"]):
        expected = set.intersection(*(oracle_ids(conn, term) for term in terms))
        assert ids_of(conn, search_index.verified_on_texts(conn, "documents", terms, candidates)) == expected


def test_a_pair_index_of_other_characters_is_not_read_and_is_built_again(tmp_path):
    """The pair form's SQL name carries a fingerprint of the paired characters: an index
    built with another set is left unread (the per-character index answers) until the
    archive is next opened for writing, which builds it again."""
    from archive.plugin.search_page import make_plan

    path = tmp_path / "a.db"
    with Archive(path) as archive:
        import_paths([FIXTURES / "documents"], archive)
    conn = connect(path).conn
    pairs = search_index.PAIRS["documents"]
    assert make_plan(conn, "documents", search_index.parse("整改")).fts == pairs.fts
    other = [statement.replace(search_index.PAIR_FUNCTION, search_index.FUNCTION) for statement in pairs.ddl()[:1]]
    with conn:
        conn.execute(f"drop view {pairs.view}")
        conn.execute(other[0])  # as an index of another set of characters would read it
    assert not search_index.definition_matches(conn, pairs)
    plan = make_plan(conn, "documents", search_index.parse("整改"))
    assert plan.fts == search_index.INDEXES["documents"].fts
    assert ids_of(conn, plan.rowids) == oracle_ids(conn, "整改")
    assert search_index.create(conn) == ["documents"]
    assert make_plan(conn, "documents", search_index.parse("整改")).fts == pairs.fts
    conn.close()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_compiled_comparable_is_the_folded_text_without_ignored_characters(text):
    assert search_index._compiled_comparable is not None  # README command 1 compiles it
    assert search_index.comparable(text) == search_index.fold(text).replace(" ", "")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("整改巡視视的 ，,A a１\n\ufe0f"), max_size=4), max_size=3),
       st.lists(st.none() | st.text(alphabet=st.sampled_from("整改巡視视的 ，,A a１\n\ufe0f"), max_size=40)
                | st.text(max_size=40), max_size=4))
def test_compiled_holds_all_is_the_substring_oracle(terms, values):
    """Every term in the comparable form of one of the texts (str or UTF-8 bytes), as the oracle says."""
    assert search_index._compiled_holds_all is not None  # README command 1 compiles it
    wanted = tuple(search_index.comparable(term).encode("utf-8") for term in terms)
    texts = [search_index.comparable(value) for value in values if value is not None]
    expected = all(any(search_index.comparable(term) in text for text in texts) for term in terms)
    assert search_index.holds_all(wanted, values) is expected
    as_bytes = [None if value is None else value.encode("utf-8", "surrogatepass") for value in values]
    assert search_index.holds_all(wanted, as_bytes) is expected
    assert search_index.holds(json.dumps(terms), *values) == int(expected)


def test_holds_all_reads_bytes_that_are_not_utf8_as_sqlite_stores_them():
    # A lone byte is U+FFFD, as next_code_point reads it; the rest of the text is still compared.
    assert search_index.holds_all(("整改".encode("utf-8"),), (b"\xff\xe6\x95\xb4\xe6\x94\xb9",)) is True
    assert search_index.holds_all(("整改".encode("utf-8"),), (b"\xe6\x95\xb4\xff\xe6\x94\xb9",)) is False
