"""Extraction quality and speed on the evaluation corpus: our pipeline, trafilatura
and GNE, scored in the same run on the same pages (``bench/corpus/``).

Per page: body F1 over Han characters, leaked page-furniture strings, and exact
matches of title, published_at, source, author, editor and original_url.  Our
side runs the whole processing path (``pipelines.process``: extract, clean,
normalise, classify, disclosure parsing).  trafilatura gets the page bytes
(``bare_extraction`` with metadata); GNE gets the decoded page (it does no
decoding of its own).  A text dump is handed to the peers as HTML, one ``<p>``
per line, the form the peer study used.  The peers' dates are read with our
date parser, so a format difference is not counted against them; fields a
peer does not extract (source, editor, original_url) are ``None`` for it.

    .venv/bin/python bench/bench_extract.py [--seconds 5] [--pages] [--corpus bench/holdout]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import trafilatura  # noqa: E402
from gne import GeneralNewsExtractor  # noqa: E402

from bench.bench_pipeline import as_html  # noqa: E402
from bench.scoring import CORPUS, EXACT_FIELDS, CorpusPage, load_corpus, score  # noqa: E402
from pipelines import process  # noqa: E402
from pipelines.extract import decode  # noqa: E402
from pipelines.normalise import parse_published  # noqa: E402


def ours(page: CorpusPage, prepared) -> dict:
    result = process(prepared)
    return result.document or {}


def _peer_input(page: CorpusPage):
    body = page.path.read_bytes()
    text = decode(body)
    return (body if page.is_html else as_html(text).encode("utf-8")), (text if page.is_html else as_html(text))


def trafilatura_record(page: CorpusPage, prepared) -> dict:
    found = trafilatura.bare_extraction(prepared[0], url=page.gold["url"], with_metadata=True)
    document = found.as_dict() if found is not None else {}
    return {
        "title": document.get("title"),
        "published_at": parse_published(document.get("date")),
        "author": document.get("author"),
        "body_text": document.get("text") or "",
    }


_GNE = GeneralNewsExtractor()


def gne_record(page: CorpusPage, prepared) -> dict:
    try:
        document = _GNE.extract(prepared[1])
    except Exception:  # GNE raises on pages where it finds no content
        document = {}
    return {
        "title": document.get("title") or None,
        "published_at": parse_published(document.get("publish_time")),
        "author": document.get("author") or None,
        "body_text": document.get("content") or "",
    }


TOOLS = {
    "ours (pipeline)": (ours, CorpusPage.raw_document),
    "trafilatura": (trafilatura_record, _peer_input),
    "GNE": (gne_record, _peer_input),
}


def run(pages: list[CorpusPage], seconds: float) -> dict:
    """Score every tool, then time them in alternating passes over the corpus, so a
    change in the machine's load (shared cores) falls on all of them alike."""
    inputs, records = {}, {}
    for name, (extract, prepare) in TOOLS.items():
        inputs[name] = [prepare(page) for page in pages]
        records[name] = [extract(page, prepared) for page, prepared in zip(pages, inputs[name])]  # also the warm-up
    spent = dict.fromkeys(TOOLS, 0.0)
    passes = 0
    while sum(spent.values()) < seconds * len(TOOLS):
        for name, (extract, _) in TOOLS.items():
            start = time.perf_counter()
            for page, prepared in zip(pages, inputs[name]):
                extract(page, prepared)
            spent[name] += time.perf_counter() - start
        passes += 1
    return {
        name: (passes * len(pages) / spent[name], [score(record, page.gold) for page, record in zip(pages, records[name])], records[name])
        for name in TOOLS
    }


def table(results: dict, pages: list[CorpusPage]) -> str:
    fields = len(EXACT_FIELDS) * len(pages)
    rows = [
        "| extractor | body F1 mean | F1 min | pages F1 ≥ 0.99 | leaked strings | metadata exact | pages/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, (rate, scores, _) in results.items():
        f1s = [s.f1 for s in scores]
        exact = sum(s.exact for s in scores)
        rows.append(
            f"| {name} | {sum(f1s) / len(f1s):.3f} | {min(f1s):.3f} | {sum(f >= 0.99 for f in f1s)}/{len(pages)} "
            f"| {sum(len(s.leaks) for s in scores)} | {exact}/{fields} ({exact / fields:.1%}) | {rate:.1f} |"
        )
    return "\n".join(rows)


def per_field(results: dict, pages: list[CorpusPage]) -> str:
    rows = ["| extractor | " + " | ".join(EXACT_FIELDS) + " |", "|---" * (len(EXACT_FIELDS) + 1) + "|"]
    for name, (_, scores, _) in results.items():
        rows.append(f"| {name} | " + " | ".join(f"{sum(s.fields[f] for s in scores)}/{len(pages)}" for f in EXACT_FIELDS) + " |")
    return "\n".join(rows)


def details(results: dict, pages: list[CorpusPage]) -> str:
    name = next(iter(results))
    _, scores, records = results[name]
    lines = []
    for page, s, record in zip(pages, scores, records):
        misses = [f"{f}={record.get(f)!r} (gold {page.gold[f]!r})" for f, ok in s.fields.items() if not ok]
        if s.f1 < 0.99 or s.leaks or misses:
            lines.append(f"{page.name}: F1 {s.f1:.3f} leaks {s.leaks} {'; '.join(misses)}")
    return "\n".join(lines) or "every page exact"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0, help="timing budget per extractor")
    parser.add_argument("--pages", action="store_true", help="list our pipeline's misses page by page")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="a corpus folder (default bench/corpus; bench/holdout)")
    args = parser.parse_args()
    pages = load_corpus(args.corpus)
    results = run(pages, args.seconds)
    families = len({page.gold["family"] for page in pages})
    print(f"corpus: {len(pages)} pages, {families} families\n")
    print(table(results, pages))
    print()
    print(per_field(results, pages))
    ours_rate, peer_rate = results["ours (pipeline)"][0], results["trafilatura"][0]
    print(f"\nspeed ratio ours / trafilatura: {ours_rate / peer_rate:.2f}x (target ≥ 2x)")
    if args.pages:
        print("\n" + details(results, pages))


if __name__ == "__main__":
    main()
