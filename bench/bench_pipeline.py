"""Pipeline throughput vs trafilatura.extract on the same documents, in the same run.

Inputs: the seeds in ../shared/corpus/seeds when present, else the project's own
fixture documents, plus the mirror's article pages.  Our side runs the whole
processing path (extract, clean, normalise, classify, disclosure parsing); the
peer gets each document as HTML (a front-matter document's HTML body; a text
document with one <p> per line, the form the peer study used).

    .venv/bin/python bench/bench_pipeline.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import trafilatura  # noqa: E402

from archive.importer import raw_document_for  # noqa: E402
from pipelines import process  # noqa: E402
from pipelines.extract import decode  # noqa: E402

SEEDS = REPO.parent / "shared" / "corpus" / "seeds"
FIXTURES = REPO / "tests" / "fixtures" / "documents"
MIRROR = REPO / "crawler" / "mirror" / "sites"
_FRONT_MATTER = re.compile(r"\A\s*---.*?\n---[ \t]*\n", re.S)


def as_html(text: str) -> str:
    if _FRONT_MATTER.match(text):
        return _FRONT_MATTER.sub("", text, count=1)
    if text.lstrip().startswith("<"):
        return text
    return "<html><body>" + "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip()) + "</body></html>"


def inputs() -> list:
    paths = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else sorted(FIXTURES.iterdir())
    paths += sorted(p for p in MIRROR.rglob("*") if p.suffix in (".html", ".shtml", ".htm") and "/t2" in str(p))[:20]
    docs = []
    for path in paths:
        raw = raw_document_for(path)
        docs.append((raw, as_html(decode(raw.body, raw.content_type))))
    return docs


def rate(function, items, seconds: float) -> float:
    for item in items:  # warm-up: imports, regex compilation, profile loading
        function(item)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for item in items:
            function(item)
        done += len(items)
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    docs = inputs()
    ours = rate(lambda d: process(d[0]), docs, args.seconds)
    peer = rate(lambda d: trafilatura.extract(d[1]), docs, args.seconds)
    print(f"documents: {len(docs)}")
    print(f"pipeline (extract→store-ready record): {ours:8.1f} docs/s")
    print(f"trafilatura.extract:                   {peer:8.1f} docs/s")
    print(f"ratio pipeline / trafilatura:          {ours / peer:8.2f}x  (target ≥ 2x)")


if __name__ == "__main__":
    main()
