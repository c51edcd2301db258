"""Pages of the served archive while SQL abuses run: latency against the same pages unabused.

    .venv/bin/python bench/bench_sql_limits.py [--db ARCHIVE] [--rounds 6] [--pages 30]

``archive serve`` on ``--db`` (default: an archive imported from the test
fixtures).  Rounds alternate: in one, ``--pages`` table pages (each URL new,
so the page cache never answers) are fetched one after another with nothing
else running; in the next, the same number while three clients send the
abuses of issue 25 in a loop — ``printf('%.*c', 900000000, 'x')``, a
recursive CTE that runs until the 3 s limit, ``zeroblob(2000000000)`` —
each waiting 0.2 s after a 429.  Reported: p50 / p95 / max page latency of
each condition, their ratio, and what the abuses got (status, seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from archive.db import Archive  # noqa: E402
from archive.importer import import_paths  # noqa: E402

ABUSES = {
    "printf width": "select length(printf('%.*c', 900000000, 'x'))",
    "time limit": "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) from n",
    "zeroblob": "select length(zeroblob(2000000000))",
}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    return status, time.perf_counter() - started


def _serve(db: Path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "archive", "serve", "--db", str(db), "--port", str(port)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            _get(f"{base}/-/versions.json")
            return server, base
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("archive serve did not start")


def _round(base: str, database: str, first_size: int, pages: int, abused: bool, outcomes: list) -> list[float]:
    stop = threading.Event()

    def abuse(name: str) -> None:
        url = f"{base}/{database}.json?" + urllib.parse.urlencode({"sql": ABUSES[name]})
        while not stop.is_set():
            status, seconds = _get(url)
            outcomes.append((name, status, seconds))
            if status == 429:
                time.sleep(0.2)

    threads = [threading.Thread(target=abuse, args=(name,)) for name in ABUSES] if abused else []
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.3 if abused else 0)
        return [_get(f"{base}/{database}/documents?_size={size}")[1] for size in range(first_size, first_size + pages)]
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def _summary(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"p50 {1000 * statistics.median(ordered):6.0f} ms   p95 {1000 * p95:6.0f} ms   max {1000 * ordered[-1]:6.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="an archive to serve (default: one imported from the test fixtures)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds, alternating idle and abused")
    parser.add_argument("--pages", type=int, default=30, help="pages per round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "archive.db"
            with Archive(db) as archive:
                import_paths([REPO / "tests" / "fixtures" / "disclosures", REPO / "tests" / "fixtures" / "documents"], archive)
        server, base = _serve(db)
        try:
            _get(f"{base}/{db.stem}/documents?_size=1")  # templates compiled before the clock runs
            timings = {False: [], True: []}
            outcomes: list = []
            for number in range(args.rounds):
                abused = bool(number % 2)
                timings[abused] += _round(base, db.stem, 2 + number * args.pages, args.pages, abused, outcomes)
        finally:
            server.terminate()
            server.wait()
    print(f"{args.rounds} rounds of {args.pages} uncached table pages, alternating; load average {os.getloadavg()[0]:.1f}")
    print(f"  idle      {_summary(timings[False])}")
    print(f"  abused    {_summary(timings[True])}")
    ratio = statistics.median(timings[True]) / statistics.median(timings[False])
    print(f"  median page time abused / idle: {ratio:.2f}x")
    for name in ABUSES:
        answers = [(status, seconds) for abuse, status, seconds in outcomes if abuse == name]
        by_status = {status: sum(1 for s, _ in answers if s == status) for status in sorted({s for s, _ in answers})}
        slowest = max((seconds for _, seconds in answers), default=0)
        print(f"  {name:13} {json.dumps(by_status)}  slowest answer {slowest:.2f} s")


if __name__ == "__main__":
    main()
