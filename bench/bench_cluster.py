"""A crawl shared by 1, 2 and 3 workers, in the same run, on a latency-bound mirror.

    python bench/bench_cluster.py [--articles 150] [--delay 1.0] [--worker-concurrency 2]

The mirror's Beijing column is grown to ``--articles`` articles (as in
``bench_crawl.py``) and every answer takes ``--delay`` seconds, like a distant
server.  The delay must keep the crawl latency-bound on the machine that runs
it: on two cores, with 0.25 s, three workers, the writer and the mirror share
the CPU and the crawl measures it (1.5× one worker) instead of the cluster.

Each worker may have ``--worker-concurrency`` requests in flight (``CONCURRENT_REQUESTS``: what one machine's share of a large crawl is), the site
allows more than three workers use (16 at a time, no delay: the crawl's politeness, given to
the coordinator — a worker's own is ignored), so the crawl's speed is the number of
workers — what a cluster is for.  For each worker count, a fresh
archive and Redis database: a coordinator (``python -m archive crawl --cluster``,
the one writer) and the workers (``python -m archive worker --cluster``), all real
processes.  Reported:

* pages/s fetched, on the mirror's own clock, from the moment every worker has
  joined the crawl (they start up at different speeds) to the last answer, and the
  speed-up of 2 and 3 workers over one (target: 3 workers ≥ 2.5×);
* the writer's documents/s (its time spent applying captures, as it prints),
  beside ``rebuild --from-warc`` of the same captures in this run: the one
  ingest path with and without the cluster's bookkeeping.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_crawl import SPIDER, grow_site  # noqa: E402
from cluster_services import redis_server  # noqa: E402

from archive.rebuild import rebuild  # noqa: E402
from crawler.cluster.crawl import ClusterCrawl, connect  # noqa: E402
from crawler.mirror import SITES_DIR, start_mirror  # noqa: E402

_WRITER_LINE = re.compile(r"writer: (\d+) documents in ([\d.]+) s of writing \(([\d.]+) documents/s\)")


def crawl(workers: int, redis_url: str, mirror, folder: Path, worker_concurrency: int) -> dict:
    folder.mkdir()
    db = folder / "archive.db"
    mirror.visits.clear()
    coordinator = subprocess.Popen(
        [sys.executable, "-m", "archive", "crawl", SPIDER, "--cluster", redis_url, "--db", str(db),
         *(arg for setting in ("CLUSTER_POLL_SECONDS=0.2", "LOG_LEVEL=WARNING", *SITE_ALLOWANCE) for arg in ("-s", setting))],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    host_map = json.dumps(mirror.host_map)
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "archive", "worker", "--cluster", redis_url, "--host-map", host_map,
             "--warc-dir", str(folder / f"worker-{n}"),
             *(arg for setting in _worker_settings(worker_concurrency) for arg in ("-s", setting))],
            cwd=ROOT, stdout=subprocess.DEVNULL,
        )
        for n in range(workers)
    ]
    all_joined = _when_all_joined(redis_url, workers, coordinator)
    output, _ = coordinator.communicate()
    for worker in started:
        worker.wait()
    if coordinator.returncode:
        raise RuntimeError(f"the {workers}-worker crawl failed:\n{output}")
    pages = [(start, end) for _, path, start, end in mirror.visits if path != "/robots.txt" and start >= all_joined]
    seconds = max(end for _, end in pages) - all_joined
    documents, writing, rate = _WRITER_LINE.search(output).groups()
    return {
        "workers": workers, "pages": len(pages), "seconds": seconds, "pages_per_second": len(pages) / seconds,
        "documents": int(documents), "writer_seconds": float(writing), "writer_rate": float(rate),
        "warc": folder / "warc",
    }


# The crawl's politeness, set by the coordinator (crawler/cluster/politeness.py): a site
# that allows more than three workers use.
SITE_ALLOWANCE = ("CONCURRENT_REQUESTS_PER_DOMAIN=16", "DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False")


def _worker_settings(worker_concurrency: int) -> list[str]:
    """A worker's share (``CONCURRENT_REQUESTS``; ``--no-politeness`` would also lift it)."""
    return [f"CONCURRENT_REQUESTS={worker_concurrency}", "RETRY_BACKOFF_BASE=0", "LOG_LEVEL=WARNING"]


def _when_all_joined(redis_url: str, workers: int, coordinator: subprocess.Popen) -> float:
    """``time.monotonic()`` (the mirror's clock) when the last worker joined the crawl."""
    client = connect(redis_url)
    while coordinator.poll() is None:
        crawl = ClusterCrawl.current(client)
        if crawl is not None and len(crawl.workers(SPIDER)) >= workers:
            return time.monotonic()
        time.sleep(0.02)
    raise RuntimeError("the crawl ended before every worker had joined it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=150)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds every answer of the mirror takes")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="requests in flight per worker")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        base = Path(tmp)
        sites = Path(shutil.copytree(SITES_DIR, base / "sites"))
        list_pages = grow_site(sites, args.articles)
        runs = []
        with start_mirror(sites, challenge=False, delay=args.delay) as mirror:
            for workers in (1, 2, 3):
                with redis_server(base / f"redis-{workers}") as redis:
                    runs.append(crawl(workers, redis.url, mirror, base / f"crawl-{workers}", args.worker_concurrency))
                print(f"{workers} worker(s): {runs[-1]['pages_per_second']:.1f} pages/s", flush=True)
        started = time.perf_counter()
        rebuilt = rebuild(runs[-1]["warc"], base / "rebuilt.db", progress=False)
        rebuild_rate = sum(rebuilt.outcomes.values()) / (time.perf_counter() - started)

    print(f"mirror: {args.articles} articles on {list_pages} list pages, {args.delay:.2f} s an answer; "
          f"{args.worker_concurrency} requests in flight per worker")
    one = runs[0]["pages_per_second"]
    for run in runs:
        print(f"{run['workers']} worker(s): {run['pages']} pages in {run['seconds']:.1f} s = "
              f"{run['pages_per_second']:.1f} pages/s ({run['pages_per_second'] / one:.2f}× one worker)")
    last = runs[-1]
    print(f"writer: {last['documents']} documents in {last['writer_seconds']:.1f} s = {last['writer_rate']:.1f} documents/s; "
          f"rebuild of the same captures: {rebuild_rate:.1f} documents/s (ratio {last['writer_rate'] / rebuild_rate:.2f}); "
          f"the writer keeps up with 3 workers: {last['writer_rate'] / last['pages_per_second']:.2f}× their page rate")


if __name__ == "__main__":
    main()
