"""Chinese full-text search through a real Datasette server, over HTTP.

Queries of 1, 2, 3 and 4 Han characters and longer behave as exact substring
search over titles, texts and bylines, traditional and simplified characters
alike; any input gives a page, never an error.  Each answer is compared with
the substring oracle (:func:`archive.search_index.comparable`) and with concrete
values.
"""

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from datasette_server import get_json, served_archive

from archive import search_index
from archive.db import Archive
from archive.importer import import_paths

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
TEXT_FIELDS = ("title", "body_text", "source", "author", "editor", "publisher", "declared_source", "declared_author")


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory):
    folder = tmp_path_factory.mktemp("search")
    db_path = folder / "archive.db"
    long_report = folder / "long_report.txt"
    paragraph = "市委巡察组对全市二十个单位开展了常规巡察，发现问题一百二十个，已整改一百零八个。"
    long_report.write_text("关于全市巡察工作情况的长篇报告\n" + "\n".join([paragraph] * 60), encoding="utf-8")
    with Archive(db_path) as archive:
        import_paths([FIXTURES / "documents", FIXTURES / "disclosures", FIXTURES / "provenance", long_report], archive)
        rows = {r["id"]: r for r in archive.db["documents"].rows}
    return db_path, rows


@pytest.fixture(scope="module")
def served(archive_path):
    db_path, rows = archive_path
    with served_archive(db_path) as base:
        yield f"{base}/archive", rows


def get(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8"), dict(error.headers)


def url(base: str, path: str, **args) -> str:
    return f"{base}/{path}?" + urllib.parse.urlencode(args)


def search_ids(base: str, query: str, **args) -> set[str]:
    rows = get_json(url(base, "documents.json", _search=query, _shape="array", _col="title", _size="max", **args))
    return {row["id"] for row in rows}


def oracle(rows: dict, term: str) -> set[str]:
    wanted = search_index.comparable(term)
    return {i for i, row in rows.items() if any(wanted in search_index.comparable(row[f] or "") for f in TEXT_FIELDS)}


SINA = "af843bb05a08b9fc"


@pytest.mark.parametrize(
    "query, expected_count",
    [
        ("贸", 1),
        ("四风", 3),
        ("林业", 1),
        ("贸促会", 1),
        ("巡察整改", 4),
        ("进驻", 2),
        ("李明远", 1),  # a byline: moved out of the text into source/author, still found
        ("白石镇", 2),  # a report and its traditional-character copy
        ("白石鎮", 2),
        ("关于巡察整改进展情况的通报", 1),
        ("不存在的词", 0),
    ],
)
def test_search_box_is_substring_search(served, query, expected_count):
    base, rows = served
    found = search_ids(base, query)
    assert found == oracle(rows, query)
    assert len(found) == expected_count


def test_search_is_exact_across_punctuation(served):
    base, rows = served
    assert search_ids(base, "聚焦四风") == set()
    assert search_ids(base, "聚焦“四风") == oracle(rows, "聚焦“四风") != set()


@pytest.mark.parametrize(
    "query", ['"', "四风 OR", "、", "()", '"四风', "OR", "AND NOT", "title:四风", "四风*", "NEAR(四风", "^", "\x01", "{}"]
)
def test_any_input_gives_a_page(served, query):
    base, _ = served
    status, html, _ = get(url(base, "documents", _search=query))
    assert status == 200
    assert "search matches" in html
    status, body, _ = get(url(base, "documents.json", _search=query))
    assert status == 200 and "rows" in json.loads(body)
    status, html, _ = get(url(base.rsplit("/", 1)[0], "-/search", q=query))
    assert status == 200 and "Search the archive" in html


def test_two_hundred_characters_find_their_text(served):
    base, rows = served
    longest = max(rows.values(), key=lambda r: len(r["body_text"]))
    quote = longest["body_text"][100:300]
    assert len(quote) == 200
    assert longest["id"] in search_ids(base, quote)
    assert search_ids(base, quote) == oracle(rows, quote)


def test_dangling_operator_is_ignored_with_a_plain_message(served):
    base, rows = served
    status, html, _ = get(url(base, "documents", _search="四风 OR"))
    assert "OR needs a word on each side; ignored" in html
    assert search_ids(base, "四风 OR") == oracle(rows, "四风")


def test_results_show_a_highlighted_snippet(served):
    base, _ = served
    _, html, _ = get(url(base, "documents", _search="贸促会"))
    assert "<mark>贸促会</mark>" in html
    _, html, _ = get(url(base.rsplit("/", 1)[0], "-/search", q="纪律建设"))
    # Shown in each text's own characters: the traditional copy's hit stays traditional.
    assert re.findall(r"<mark>.*?</mark>", html) == ["<mark>纪律建设</mark>", "<mark>紀律建設</mark>"]
    # Two pages, one text: the traditional copy is marked and counted once.
    counts = re.findall(r"<h2>(Documents|Problems)\s*<small class=\"found\">— ([\d,]+) texts? found([^<]*)</small>", html)
    assert counts == [("Documents", "1", " (2 pages: republished copies marked, counted once)"), ("Problems", "0", "")]
    assert html.count('class="copy-mark"') == 1
    _, html, _ = get(url(base.rsplit("/", 1)[0], "-/search", q="党费"))
    assert "<mark>党费</mark>收缴不规范" in html and html.count('href="/-/document/') >= 2


def test_problems_are_searched_like_documents(served):
    base, _ = served
    rows = get_json(url(base, "problems.json", _search="党费", _shape="array"))
    assert [(r["number"], r["title"]) for r in rows] == [(2, "党费收缴不规范")]
    rows = get_json(url(base, "problems.json", _search="黨費", _shape="array"))
    assert [r["title"] for r in rows] == ["党费收缴不规范"]


def test_canned_queries_are_served(served):
    base, _ = served
    rows = get_json(f"{base}/template_copies.json?_shape=array")
    assert [r["title"] for r in rows] == ["关于巡察整改进展情况的通报"]
    rows = get_json(url(base, "problems_mentioning.json", phrase="党费", _shape="array"))
    assert [(r["number"], r["title"]) for r in rows] == [(2, "党费收缴不规范")]
    assert get_json(url(base, "problems_mentioning.json", phrase="", _shape="array")) == []


def test_json_text_is_truncated_unless_asked(served):
    base, rows = served
    longest = max(rows.values(), key=lambda r: len(r["body_text"]))
    assert len(longest["body_text"]) > 1000
    status, body, headers = get(url(base, f"documents/{longest['id']}.json", _shape="array"))
    assert status == 200
    text = json.loads(body)[0]["body_text"]
    assert len(text) == 1001 and text.endswith("…")
    assert headers.get("x-text-truncated-at") == "1000"
    full = get_json(url(base, f"documents/{longest['id']}.json", _shape="array", _full="1"))[0]["body_text"]
    assert full == longest["body_text"]


def test_server_is_read_only_and_local(served):
    base, _ = served
    databases = get_json(base.rsplit("/", 1)[0] + "/-/databases.json")
    # Mutable: crawls write while it is served; Datasette reads it through read-only connections.
    assert [d["is_mutable"] for d in databases] == [True]
    request = urllib.request.Request(f"{base}/documents/-/insert", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10)
    with pytest.raises(urllib.error.HTTPError):
        get_json(f"{base}.json?" + urllib.parse.urlencode({"sql": "delete from documents"}))
    assert get_json(f"{base}.json?_shape=array&sql=select+count(*)+as+n+from+documents")[0]["n"] > 0


def texts_of(rows: dict, ids: set[str]) -> int:
    return len({rows[i]["canonical_id"] or i for i in ids})


def test_broad_searches_are_planned_and_counted_exactly(archive_path):
    """With a probe limit of 2 every common term is 'broad': the page walks the
    table in its sort order, facets come on request and group the matches read
    once — the rows are still exactly the oracle's, and the count is exact."""
    db_path, rows = archive_path
    with served_archive(db_path, env={"ZHENGGAI_SEARCH_PROBE_LIMIT": "2"}) as base:
        expected = oracle(rows, "整改")
        texts = texts_of(rows, expected)
        assert len(expected) > texts > 2  # copies among them
        _, html, _ = get(url(base, "-/search", q="整改"))
        found = re.search(r"<h2>Documents\s*<small class=\"found\">— ([\d,]+) texts found \(([\d,]+) pages", html)
        assert found and found.groups() == (str(texts), str(len(expected)))
        base = f"{base}/archive"
        assert search_ids(base, "整改") == expected
        assert search_ids(base, "整改", _sort="title") == expected
        page = get_json(url(base, "documents.json", _search="整改"))
        assert page["filtered_table_rows_count"] is None and page["facet_results"] == {}
        assert f"({texts} texts in {len(expected)} pages; add &_withfacets=1 to count by facet" in page["human_description_en"]
        _, html, _ = get(url(base, "documents", _search="整改"))
        assert f"{len(expected)} rows" in html
        faceted = get_json(url(base, "documents.json", _search="整改", _withfacets="1"))
        assert sum(v["count"] for v in faceted["facet_results"]["doc_type"]["results"]) == len(expected)
        canonical = {v["value"]: v["count"] for v in faceted["facet_results"]["is_canonical"]["results"]}
        assert canonical == {1: texts, 0: len(expected) - texts}  # every copy's canonical text matches too
        # A character every row holds: its facets are the whole table's.
        assert oracle(rows, "的") == set(rows)
        faceted = get_json(url(base, "documents.json", _search="的", _withfacets="1"))
        assert sum(v["count"] for v in faceted["facet_results"]["doc_type"]["results"]) == len(rows)
        assert f"({texts_of(rows, set(rows))} texts in {len(rows)} pages" in faceted["human_description_en"]
        # Rare terms are still listed in full and counted.
        page = get_json(url(base, "documents.json", _search="贸促会"))
        assert page["filtered_table_rows_count"] == 1
        # Broad terms of every plan — a pair (整改), a phrase whose matches are sparse
        # (listed from the index's whole list, the page scanning the sort column's index)
        # or dense (walked) — give the oracle's rows, newest first, and its exact count.
        for term in ("四风", "巡察整改", "进驻", "白石镇", "问题", "的"):
            expected = oracle(rows, term)
            texts = texts_of(rows, expected)
            page = get_json(url(base, "documents.json", _search=term, _col="published_at", _size="max"))
            assert {row[0] for row in page["rows"]} == expected, term
            dates = [row[1] or "" for row in page["rows"]]
            assert dates == sorted(dates, reverse=True), term
            counted = re.search(r"\(([\d,]+) texts?(?: in ([\d,]+) pages)?", page["human_description_en"])
            assert (int(counted[1]), int(counted[2] or counted[1])) == (texts, len(expected)), term


def test_a_count_the_page_does_not_wait_for_follows_from_its_address(archive_path):
    """With no time to count (a budget of 0 ms) a dense search is served at once; the
    page gives the address of its count, and /-/count answers it exactly."""
    db_path, rows = archive_path
    env = {"ZHENGGAI_SEARCH_PROBE_LIMIT": "2", "ZHENGGAI_SEARCH_COUNT_BUDGET_MS": "0"}
    with served_archive(db_path, env=env) as base:
        _, html, _ = get(url(base, "-/search", q="四风"))
        assert re.search(r'<small class="found" data-count-url="/-/count\?table=documents&amp;q=[^"]+">— counting…', html)
        for term in ("四风", "的", "整改"):  # dense here: most rows the probe went through match
            expected = oracle(rows, term)
            texts = texts_of(rows, expected)
            page = get_json(url(f"{base}/archive", "documents.json", _search=term, _col="published_at", _size="max"))
            assert {row[0] for row in page["rows"]} == expected, term
            address = re.search(r"\(counting… exact count: (/-/count\?\S+?);", page["human_description_en"])
            assert address, page["human_description_en"]
            count = get_json(base + address[1])
            assert (count["texts"], count["pages"], count["table"], count["search"]) == (texts, len(expected), "documents", term)
            pages = f" in {len(expected):,} pages" if len(expected) != texts else ""
            assert count["said"] == f"{texts:,} {'text' if texts == 1 else 'texts'}{pages}"
            # Counted once: the page asked again states it (while the index and the copies stand).
            again = get_json(url(f"{base}/archive", "documents.json", _search=term, _col="published_at", _size="max"))
            assert f"({count['said']};" in again["human_description_en"] and "counting" not in again["human_description_en"]
        _, html, _ = get(url(base, "-/search", q="四风"))
        assert f'<small class="found">— {texts_of(rows, oracle(rows, "四风"))} texts found' in html
        status, body, _ = get(url(base, "-/count", table="users", q="整改"))
        assert status == 400 and "tables: documents, problems" in body
    # With the default budget these small counts are stated on the page itself.
    with served_archive(db_path, env={"ZHENGGAI_SEARCH_PROBE_LIMIT": "2"}) as base:
        page = get_json(url(f"{base}/archive", "documents.json", _search="四风"))
        assert "counting" not in page["human_description_en"]
        assert f"({texts_of(rows, oracle(rows, '四风'))} texts" in page["human_description_en"]
