"""The search benchmark at a small size, as a test of exactness only.

``bench/bench_search.py --exactness-only`` builds a generated archive through
the project's ingest, serves it, and compares every benchmark query (1–4
characters common and rare, a traditional query, bylines, names, Latin with
Chinese, no hits, 10-, 30- and 200-character quotations, a search with facets)
with a substring oracle, in SQL and over HTTP, and the count every page states
(texts and pages) with the oracle's.  With a small probe limit the broad-search
plans (dense walk, every match counted) run too; then `bench_search_copies.py` makes three in
ten of its documents copies and checks every count of texts and pages again.

The archives of 300,000 and 1,000,000 documents are loaded in bulk
(``bench/bulk_archive.py``); at 5,000 documents such an archive is checked
against the ingest-built one: equal documents tables, the same rows and counts
for every benchmark query.
"""

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from archive.db import connect

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_search.py"


def test_benchmark_queries_are_exact(tmp_path):
    run = subprocess.run(
        [sys.executable, str(BENCH), "--docs", "400", "--exactness-only", "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ingest: {'new': 400}" in run.stdout
    rows = re.findall(r"^  (.+?)\s+(\d+) docs .*SQL (\w+)\s+HTTP (\w+)", run.stdout, re.M)
    assert len(rows) == 20
    assert all(sql == "exact" and http == "exact" for _, _, sql, http in rows)
    matches = {label: int(count) for label, count, _, _ in rows}
    # 欧阳志远 is planted in 0.1 % of documents: whether one of 400 has it depends on the fixtures the text is cut from.
    assert matches["2 chars, common"] == 400 and 0 < matches["2 chars, rare"] < 40 and matches["4 chars, rare"] < 10
    assert matches["no hits"] == 0 and matches["200-char quotation"] >= 1
    assert run.stdout.count("pages, stated") == 20
    assert "exact: 20/20 queries" in run.stdout
    # The same archive with three in ten documents made copies: every class counted exactly, in texts and pages.
    run = subprocess.run(
        [sys.executable, str(BENCH.with_name("bench_search_copies.py")), "--workdir", str(tmp_path), "--repeat", "1"],
        capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "119 of the documents made copies" in run.stdout
    counted = re.findall(r"^  (.+?)\s+(\d+) pages\s+(\d+) texts .* (exact|WRONG)", run.stdout, re.M)
    assert len(counted) == 19 and all(verdict == "exact" for *_, verdict in counted)
    assert {label: (int(pages), int(texts)) for label, pages, texts, _ in counted}["2 chars, common"] == (400, 281)


BULK_DOCS = 5000


def test_bulk_archive_answers_as_the_ingest_built_one(tmp_path):
    """The benchmark's bulk path (for 300,000 and 1,000,000 documents) stores what the
    ingest stores in the documents table and answers every benchmark query alike."""
    sys.path.insert(0, str(BENCH.parent))
    import bench_search
    from bulk_archive import bulk_load

    ingested, bulk = tmp_path / "ingested" / "archive.db", tmp_path / "bulk" / "archive.db"
    ingested.parent.mkdir()
    bulk.parent.mkdir()
    assert bench_search.ingest(ingested, BULK_DOCS)["outcomes"] == {"new": BULK_DOCS}
    assert bulk_load(bulk, BULK_DOCS, workers=2)["outcomes"] == {"new": BULK_DOCS}

    # Every column of every row, in the same order (rowids included): the texts, bylines, dates,
    # document types and canonical ids the search page, its counts and facets read.
    tables = []
    for path in (ingested, bulk):
        conn = sqlite3.connect(path)
        tables.append(conn.execute("select rowid, * from documents order by rowid").fetchall())
        conn.close()
    assert len(tables[0]) == BULK_DOCS and tables[0] == tables[1]
    # A larger bulk archive starts from a smaller one's rows (1 M from 300,000): the same table.
    smaller, continued = tmp_path / "smaller" / "archive.db", tmp_path / "continued" / "archive.db"
    smaller.parent.mkdir()
    continued.parent.mkdir()
    (smaller.with_suffix(".built.json")).write_text(json.dumps(bulk_load(smaller, BULK_DOCS // 5, workers=2)))
    assert bulk_load(continued, BULK_DOCS, workers=2, prefix=smaller)["copied_from_prefix"] == BULK_DOCS // 5
    conn = sqlite3.connect(continued)
    assert conn.execute("select rowid, * from documents order by rowid").fetchall() == tables[1]
    conn.close()

    queries = bench_search.benchmark_queries(bulk)
    assert queries == bench_search.benchmark_queries(ingested)
    answers = []
    for path in (ingested, bulk):
        conn = connect(path).conn
        ours = bench_search.OursInProcess(path)
        answers.append({term: (bench_search.sql_ids(conn, term), ours.search(term)) for _, term in queries})
        conn.close()
    matched = {label: len(answers[0][term][0]) for label, term in queries}
    assert answers[0] == answers[1]
    # Queries of every breadth were compared: all documents, a share, a few, none.
    assert matched["2 chars, common"] == BULK_DOCS and 0 < matched["2 chars, rare"] < BULK_DOCS // 10
    assert matched["30-char quotation"] >= 1 and matched["no hits"] == 0
    # The oracle (one pass over the stored texts) agrees with the index on the bulk archive.
    oracle = bench_search.Oracle(bulk, [term for _, term in queries])
    assert all(oracle.matches(term) == answers[1][term][0] for _, term in queries)
