"""The search benchmark at a small size, as a test of exactness only.

``bench/bench_search.py --exactness-only`` builds a generated archive through
the project's ingest, serves it, and compares every benchmark query (1–4
characters common and rare, a traditional query, a byline, 200 characters)
with a substring oracle, in SQL and over HTTP.  With a small probe limit the
broad-search plans (dense walk, bounded count) run too.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert len(rows) == 13
    assert all(sql == "exact" and http == "exact" for _, _, sql, http in rows)
    matches = {label: int(count) for label, count, _, _ in rows}
    assert matches["2 chars, common"] == 400 and 0 < matches["4 chars, rare"] < 10
    assert "exact: 13/13 queries" in run.stdout
