"""A writer's close after one text changed: the unit refresh's time, the write lock it holds, its memory.

    .venv/bin/python bench/bench_units_refresh.py --db ARCHIVE [--rounds 2] [--peer CHECKOUT]

``--db``: an archive, e.g. the one ``bench/bench_search.py --load bulk --build-only``
leaves.  A bulk archive has no report rows, so the first time each of its
rectification reports gets one synthetic ``disclosures`` row (a county bureau
or a central enterprise named from the row id, four levels in turn: 9,028
units and 960,134 reports at 1,000,000 documents); the archive is changed for
good.  Each round is a child process that opens the archive to write, moves
the publication date of its last feedback notice (a text the refresh reads,
so the close derives), and closes it, timing the close and every write
transaction in it, and reading its own peak memory.  With ``--peer`` (another
checkout of the project, e.g. ``git worktree add /tmp/before HEAD~1``) the
rounds alternate this checkout and the peer, and the ratio of their medians
is reported: the machine is shared, so only a peer run beside it compares.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SYNTHETIC_REPORTS = """
insert into disclosures (document_id, title, unit, unit_type, province, level, kind, inspection_kind,
                         term, round, round_id, feedback_date, published_at, is_template)
select id, title,
       case when rowid % 7 = 0 then '中国某某集团有限公司' || (rowid % 400)
            else '某某县' || (rowid % 3000) || '农业农村局' || (rowid % 40) end,
       case when rowid % 7 = 0 then '中管企业' else '部门' end, '浙江省',
       case rowid % 4 when 0 then 'central' when 1 then 'provincial' when 2 then 'city' else 'county' end,
       case when rowid % 4 < 2 then '巡视' else '巡察' end, '常规',
       20, 1 + rowid % 12, null, substr(published_at, 1, 10), published_at, 0
from documents where doc_type = 'rectification_report'
"""

# The child: this runs in a checkout (sys.argv[1]) on the archive (sys.argv[2]) and prints one JSON line.
CLOSE_ONE_CHANGE = """
import json, resource, sys, time
from contextlib import contextmanager
from datetime import datetime
sys.path.insert(0, sys.argv[1])
from archive.db import Archive

archive = Archive(sys.argv[2])
changed = datetime.now().isoformat(timespec="microseconds")  # a new value each round: a change
with archive.transaction():
    archive.db.execute("update documents set published_at = ? where rowid = "
                       "(select max(rowid) from documents where doc_type = 'feedback_notice')", [changed])
held, plain = [], archive.transaction

@contextmanager
def timed():
    started = time.perf_counter()
    with plain():
        yield
    held.append(time.perf_counter() - started)

archive.transaction = timed
started, cpu = time.perf_counter(), time.process_time()
archive.close()
print(json.dumps({"close_s": round(time.perf_counter() - started, 4), "cpu_s": round(time.process_time() - cpu, 4),
                  "lock_s": round(sum(held), 4), "transactions": len(held), "changed": changed,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def add_synthetic_reports(db_path: Path) -> int:
    """One ``disclosures`` row per rectification report, unless the archive has report rows already."""
    sys.path.insert(0, str(REPO))
    from archive.db import Archive

    archive = Archive(db_path)
    try:
        if archive.count("disclosures") == 0:
            with archive.transaction():
                archive.db.execute(SYNTHETIC_REPORTS)
        return archive.count("disclosures")
    finally:
        archive.close()  # derives the units once: the rounds measure a change, not the first derivation


def close_one_change(checkout: Path, db_path: Path) -> dict:
    run = subprocess.run([sys.executable, "-c", CLOSE_ONE_CHANGE, str(checkout), str(db_path)],
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--peer", type=Path, help="another checkout, measured in alternate rounds")
    args = parser.parse_args(argv)
    reports = add_synthetic_reports(args.db)
    checkouts = {"this": REPO, **({"peer": args.peer.resolve()} if args.peer else {})}
    runs = {name: [] for name in checkouts}
    for round_ in range(args.rounds):
        for name, checkout in checkouts.items():
            run = close_one_change(checkout, args.db)
            runs[name].append(run)
            print(f"round {round_ + 1} {name}: {json.dumps(run)}", flush=True)
    result = {"reports": reports, "runs": runs}
    if args.peer:
        result["close_ratio_this_to_peer"] = round(
            statistics.median(r["close_s"] for r in runs["this"]) / statistics.median(r["close_s"] for r in runs["peer"]), 3)
    print(json.dumps({key: value for key, value in result.items() if key != "runs"}))
    return result


if __name__ == "__main__":
    main()
