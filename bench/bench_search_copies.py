"""Counting texts when many pages are copies: a generated archive's searches, as it is and
with a share of its documents made republished copies of their neighbours.

    .venv/bin/python bench/bench_search_copies.py --workdir /work/tmp/s27b100k [--share 0.3] [--repeat 5]

The archive ``bench_search.py --workdir`` built (no copies) is copied with SQLite's
backup API to ``copies.db`` beside it; there ``--share`` of the documents (rows whose
rowid ends in 1, 3, 5, 7 or 9, as many of those as the share asks) name the row before
theirs as their canonical record, as the copy groups would.  Every query class is
planned and paged in process (``search_page.make_plan``, every count in full, and the
first page), on both archives, alternating; each count of texts and pages is compared
with the substring oracle's rows and their canonical records.  The copies are read
once per archive state (:func:`archive.search_index.copies_of`): the first search after
a copy changes pays for them, and is reported apart.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import FACETED, Oracle, OursInProcess, benchmark_queries, percentile  # noqa: E402

from archive import search_index  # noqa: E402
from archive.plugin import search_page  # noqa: E402


def with_copies(source: Path, target: Path, share: float) -> int:
    """``target``: ``source`` with ``share`` of its documents made copies of the row before theirs."""
    residues = (1, 3, 5, 7, 9)[: round(share * 10)]
    if not residues or share > 0.5:
        raise SystemExit("--share must be one of 0.1 … 0.5")
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    conn = sqlite3.connect(target)
    with conn:
        conn.execute(f"""update documents set canonical_id = (select p.id from documents p where p.rowid = documents.rowid - 1)
                         where rowid % 10 in ({', '.join(map(str, residues))}) and rowid > 1
                         and id != 'big0000000000000'""")
    (copies,) = conn.execute("select count(*) from documents where is_canonical = 0").fetchone()
    conn.close()
    return copies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True, help="where bench_search.py kept its archive.db")
    parser.add_argument("--share", type=float, default=0.3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    plain = args.workdir / "archive.db"
    copied = args.workdir / "copies.db"
    copies = with_copies(plain, copied, args.share)
    print(f"{copies} of the documents made copies in {copied}", flush=True)
    queries = [query for query in benchmark_queries(plain) if query != FACETED]
    archives = {"no copies": OursInProcess(plain), f"{args.share:.0%} copies": OursInProcess(copied)}
    first = {}
    for name, ours in archives.items():  # the first search after the copies were made reads them
        start = time.perf_counter()
        ours.search(queries[0][1])
        first[name] = (time.perf_counter() - start) * 1000
    print("first search after the copies were made: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in first.items()), flush=True)
    oracle = Oracle(copied, [term for _, term in queries])
    report = {"copies": copies, "first_search_ms": first, "classes": []}
    for label, term in queries:
        expected = oracle.matches(term)
        row = {"class": label, "matches": len(expected), "texts": oracle.texts(term)}
        times: dict[str, list[float]] = {name: [] for name in archives}
        for number in range(args.repeat):
            for name in (list(archives) if number % 2 == 0 else list(reversed(archives))):
                start = time.perf_counter()
                archives[name].search(term)
                times[name].append((time.perf_counter() - start) * 1000)
        planned = search_page.make_plan(archives[f"{args.share:.0%} copies"].conn, "documents", search_index.parse(term),
                                        count_budget_ms=None)
        row["counted"] = (planned.texts, planned.count)
        row["exact"] = row["counted"] == (row["texts"], len(expected))
        for name, values in times.items():
            row[name] = {"p50_ms": percentile(values, 0.5), "p95_ms": percentile(values, 0.95)}
        report["classes"].append(row)
        print(f"  {label:34} {len(expected):>7} pages {row['texts']:>7} texts  "
              + "  ".join(f"{name} p50 {row[name]['p50_ms']:7.1f} ms" for name in archives)
              + f"  {'exact' if row['exact'] else 'WRONG ' + str(row['counted'])}", flush=True)
    (args.workdir / "bench_search_copies.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return 0 if all(row["exact"] for row in report["classes"]) else 1


if __name__ == "__main__":
    sys.exit(main())
