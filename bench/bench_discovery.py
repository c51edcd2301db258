"""Discovery on the ten CMS-family test sites, with no profile: what it finds, per site.

    python bench/bench_discovery.py [--delay 0.0]

Crawls the hosts of ``crawler/mirror/discovery_hosts.csv`` with ``python -m archive
crawl --hosts`` against the mirror (politeness off, robots.txt obeyed), twice into one
archive, and reports per site:

* rectification articles archived / present (the inspection columns' articles,
  ``crawler/mirror/families.py``), target ≥ 95 % overall;
* pages outside the inspection columns taken as articles (must be 0);
* the pagination form the site uses, and whether discovery followed it to the last
  list page (every article of the column's last page archived);
* requests of the first run (from the home page) and of the second, the peer measured
  in the same invocation: the same crawl starting from the columns the first run
  stored (and finding nothing new), as a crawl with known columns would.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.mirror import start_mirror  # noqa: E402
from crawler.mirror.families import SITES  # noqa: E402

HOSTS_FILE = ROOT / "crawler/mirror/discovery_hosts.csv"
TARGET = 0.95


def crawl(db: Path, host_map: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "archive", "crawl", "--hosts", str(HOSTS_FILE), "--db", str(db),
         "-s", "POLITENESS_OFF=True", "-s", f"MIRROR_HOST_MAP={json.dumps(host_map)}", "-s", "LOG_LEVEL=INFO"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    return time.perf_counter() - started, done


def site_rows(db: Path) -> list[dict]:
    conn = sqlite3.connect(db)
    archived = {row[0] for row in conn.execute("select url from documents")}
    runs = {}
    for spider, requests in conn.execute("select spider, requests from crawl_runs order by id"):
        runs.setdefault(spider, []).append(requests or 0)
    rows = []
    for site in SITES:
        expected = site.inspection_articles
        last_page_articles = {
            article.url for column, articles in site.articles.items() if column.inspection
            for article in articles[(len(articles) - 1) // column.per_page * column.per_page:]
        }
        rows.append({
            "host": site.host, "family": site.family, "pagination": site.pagination,
            "archived": len(expected & archived), "present": len(expected),
            "outside": len({url for url in archived if url.split("/")[2] == site.host} - expected),
            "pagination_followed": last_page_articles <= archived,
            "requests": runs.get(site.host, [0, 0]),
        })
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds each mirror answer takes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work, start_mirror(delay=args.delay) as mirror:
        db = Path(work) / "archive.db"
        first_seconds, first = crawl(db, mirror.host_map)
        second_seconds, second = crawl(db, mirror.host_map)
        rows = site_rows(db)
    print(f"{'host':26} {'family':11} {'archived':>8} {'outside':>7} {'paged':>5} {'req 1st':>7} {'req 2nd':>7}  pagination")
    for row in rows:
        first_requests, second_requests = (row["requests"] + [0, 0])[:2]
        print(f"{row['host']:26} {row['family']:11} {row['archived']:>4}/{row['present']:<3} {row['outside']:>7} "
              f"{'yes' if row['pagination_followed'] else 'NO':>5} {first_requests:>7} {second_requests:>7}  {row['pagination']}")
    archived = sum(row["archived"] for row in rows)
    present = sum(row["present"] for row in rows)
    outside = sum(row["outside"] for row in rows)
    followed = sum(row["pagination_followed"] for row in rows)
    share = archived / present
    print(f"\nall: {archived}/{present} rectification articles archived ({share:.1%}, target ≥ {TARGET:.0%}), "
          f"{outside} pages outside inspection columns taken, pagination followed on {followed}/{len(rows)} sites")
    print(f"first run (from home pages) {first_seconds:.1f} s, exit {first.returncode}; "
          f"second run (stored columns) {second_seconds:.1f} s, exit {second.returncode}; "
          f"ratio {first_seconds / second_seconds:.2f}")
    ok = share >= TARGET and outside == 0 and followed == len(rows) and first.returncode == second.returncode == 0
    if not ok:
        print(first.stdout[-3000:], first.stderr[-3000:], file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
