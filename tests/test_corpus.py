"""Our pipeline against the evaluation corpus (``bench/corpus``: 45 pages of CMS
families and text dumps written for the project, each with its gold record) and
the pages held out while it was tuned (``bench/holdout``).

The bar for every page: body F1 over Han characters ≥ 0.99 and no leaked page
furniture; the publisher is the page's own or none; title, published_at, source,
author, editor and original_url exact.
``bench/bench_extract.py`` scores trafilatura and GNE on the same pages.
"""

from __future__ import annotations

import pytest

from bench.scoring import CORPUS, load_corpus, score
from pipelines import process

PAGES = load_corpus() + load_corpus(CORPUS.parent / "holdout")


@pytest.fixture(scope="module")
def records():
    found = {}
    for page in PAGES:
        result = process(page.raw_document())
        assert result.failure is None, (page.name, result.failure)
        found[page.name] = result.document
    return found


def test_the_corpus_spans_families_and_encodings():
    assert len(PAGES) >= 50
    assert len({page.gold["family"] for page in PAGES}) >= 10
    assert {page.gold["charset"] for page in PAGES} == {"utf-8", "gbk"}
    assert sum(not page.is_html for page in PAGES) >= 5  # text dumps


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_page_body_is_exact(records, page):
    result = score(records[page.name], page.gold)
    assert result.f1 >= 0.99
    assert result.leaks == []
    assert records[page.name]["publisher"] in (None, page.gold["publisher"])


def test_metadata_is_exact(records):
    misses = [
        f"{page.name}.{field}: {records[page.name][field]!r} != {page.gold[field]!r}"
        for page in PAGES
        for field, exact in score(records[page.name], page.gold).fields.items()
        if not exact
    ]
    assert misses == []
