"""Peak memory of `archive import` of one large page, against the page's size.

Builds a page of report lines (the shapes: ``paras``, one <p> per line; ``onepara``,
every line in one <p>; ``text``, a .txt file) just under the 10 MB page cap, imports
it into a new archive in a child process and reports the child's peak RSS, the
import's wall time, and the same for a 100 KB page of the same shape (the fixed cost
of the process: Python, lxml, OpenCC, the profiles…), alternating.

    .venv/bin/python bench/bench_page_memory.py [--mb 9.9] [--shapes paras onepara text] [--limit-mb 300]

Exits 1 when a large page's import peaks above ``--limit-mb``.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from test_crash_safety import report_text  # noqa: E402


def page(shape: str, size: int) -> tuple[str, bytes]:
    rng = random.Random(5)
    lines = report_text(3).splitlines()
    pieces, length = [], 0
    while length < size:
        line = f"{rng.choice(lines)}{rng.randrange(10**6)}"
        piece = f"<p>{line}</p>\n" if shape == "paras" else line + ("\n" if shape == "text" else "")
        pieces.append(piece)
        length += len(piece.encode())
    body = "".join(pieces)
    if shape == "text":
        return "page.txt", body.encode()
    if shape == "onepara":
        body = f"<p>{body}</p>"
    return "page.html", f"<html><head><title>通报</title></head><body><h1>{lines[0]}</h1>{body}</body></html>".encode()


def import_peak(name: str, body: bytes) -> tuple[float, float]:
    """(peak RSS in MB of a child importing the page, seconds)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(body)
        script = (
            "import resource, subprocess, sys\n"
            "done = subprocess.run([sys.executable, '-m', 'archive', 'import', sys.argv[1], '--db', sys.argv[2]],"
            " capture_output=True, text=True)\n"
            "assert done.returncode == 0, done.stderr\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        )
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", script, str(path), str(Path(folder) / "a.db")],
                              cwd=REPO, capture_output=True, text=True, check=True)
        return int(done.stdout) / 1024, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=9.9)
    parser.add_argument("--shapes", nargs="+", default=["paras", "onepara", "text"])
    parser.add_argument("--limit-mb", type=float, default=300)
    args = parser.parse_args()
    over = False
    for shape in args.shapes:
        name, large = page(shape, int(args.mb * 1e6))
        _, small = page(shape, 100_000)
        base_mb, base_s = import_peak(name, small)
        peak_mb, seconds = import_peak(name, large)
        ratio = (peak_mb - base_mb) / (len(large) / 2**20)
        print(f"{shape:8} {len(large) / 1e6:5.1f} MB page: peak {peak_mb:6.0f} MB in {seconds:5.1f} s; "
              f"100 KB page: {base_mb:4.0f} MB in {base_s:4.1f} s; {ratio:.1f} MB per MB of page above that")
        over |= peak_mb > args.limit_mb
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
