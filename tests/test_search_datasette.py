"""Chinese full-text search through a real Datasette server, over HTTP.

Queries of 1, 2, 3 and 4 Han characters must behave as substring search
over title and body: the default tokenizer finds nothing for Chinese and the
trigram tokenizer nothing under three characters.
"""

import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from datasette_server import get_json, served_archive

from archive.db import Archive
from archive.importer import import_paths

FIXTURES = Path(__file__).parent / "fixtures" / "documents"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("search") / "archive.db"
    with Archive(db_path) as archive:
        import_paths([FIXTURES], archive)
        texts = {r["title"]: r["title"] + "\n" + r["body_text"] for r in archive.db["documents"].rows}
    with served_archive(db_path) as base:
        yield f"{base}/archive", texts


def search(base, query):
    url = f"{base}/documents.json?" + urllib.parse.urlencode({"_search": query, "_shape": "array", "_col": "title"})
    return {row["title"] for row in get_json(url)}


SINA = "二十届中央第二轮巡视整改进展情况综述"
AGGREGATOR = "市委巡察组完成对12家单位的进驻"
TEMPLATE = "关于巡察整改进展情况的通报"
COUNTY = "县纪委监委召开巡察整改推进会"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("贸", {SINA}),
        ("四风", {SINA, AGGREGATOR}),
        ("林业", {TEMPLATE}),
        ("贸促会", {SINA}),
        ("巡察整改", {TEMPLATE, COUNTY}),
        ("进驻", {AGGREGATOR}),
        ("不存在的词", set()),
    ],
)
def test_search_box_is_substring_search(served, query, expected):
    base, texts = served
    assert search(base, query) == expected
    # The same answer as a plain substring test over title + body.
    assert {title for title, text in texts.items() if query in text} == expected


def test_search_is_exact_across_punctuation(served):
    base, _ = served
    # "四风" occurs inside quotes “四风”; the characters around the quotes are not adjacent.
    assert search(base, "聚焦四风") == set()
    assert search(base, "聚焦“四风") == {AGGREGATOR}


def test_server_is_read_only_and_local(served):
    base, _ = served
    databases = get_json(base.rsplit("/", 1)[0] + "/-/databases.json")
    assert [d["is_mutable"] for d in databases] == [False]
    request = urllib.request.Request(f"{base}/documents/-/insert", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10)


def test_canned_queries_are_served(served):
    base, _ = served
    rows = get_json(f"{base}/template_copies.json?_shape=array")
    assert [r["title"] for r in rows] == [TEMPLATE]
    rows = get_json(f"{base}/problems_mentioning.json?" + urllib.parse.urlencode({"phrase": "党费", "_shape": "array"}))
    assert [(r["number"], r["title"]) for r in rows] == [(2, "党费收缴不规范")]
