"""Real material nobody on the project wrote: article pages (``bench/real_pages/``) and
rectification texts (``bench/real_texts/``), each with its origin in the folder's
``MANIFEST.csv``.  ``dev/`` is what rules may be tuned against; ``heldout/`` is scored once,
at the end of a piece of work, and reported apart (``--split heldout``).

Pages are stored as the public store keeps them: text dumps of the page as it was read
(menus, labels, footers and all), so they go through the import path (``pipelines.process``
on the dump, a ``file:`` URL).  trafilatura and GNE get the same dump as HTML, one ``<p>``
per line (as in ``bench/bench_extract.py``), in the same run.  A gold record names:

* ``title``, ``published_at`` (``YYYY-MM-DD`` when the page prints a day only, with the
  time as printed otherwise), ``source``, ``author``: ``null`` when the page states none;
  a list where the page states two defensible values (a 来源 label and a dateline, a
  traditional and a simplified spelling): any of them is right;
* the body: the lines from the one holding ``body_first`` to the one holding ``body_last``,
  without the lines holding a ``body_skip`` string, with every ``body_cut`` string (a
  dateline, a trailing byline) removed;
* ``must_not_remain``: furniture strings that must not be in the body.

Per page: body F1 over Han characters (``bench/scoring.py``), refused (our pipeline records
a failure instead of a document), date right to the day (pages that print a date), to the
minute (pages that print a time), wrong dates (a day that is not the page's, or a date
where the page prints none), and title / source / author where the page prints them.

A text's gold names its ``doc_type`` (a list: any of them is right, so a news item about a
round may be read as news or as a round summary, but never as a report) and, for a report,
every field of :data:`FIELDS` the text states (a list where the text states two defensible values:
the unit as the opening names it and with the place its title adds); the fields it does not
state must stay null.

    .venv/bin/python bench/bench_real.py [--split dev|heldout] [--pages] [--texts] [-v]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_pipeline import as_html  # noqa: E402
from bench.scoring import han_f1, leaked  # noqa: E402
from bench.score_disclosures import _same  # noqa: E402
from pipelines import RawDocument, process  # noqa: E402
from pipelines.classify import classify  # noqa: E402
from pipelines.disclosure import parse_disclosure  # noqa: E402
from pipelines.normalise import parse_published  # noqa: E402

PAGES = REPO / "bench" / "real_pages"
TEXTS = REPO / "bench" / "real_texts"
META = ("title", "source", "author")
# Disclosure fields a report's text states or must leave null: who, when, how many, what
# came of it.  (Status counts are derived from the items and totals, so a 0 there is a
# count, not an invented value: they are scored where stated only.)
FIELDS = (
    "unit", "level", "kind", "term", "round", "team", "inspection_start", "inspection_end", "feedback_date",
    "problems_stated", "stated_completion_rate", "money_recovered_yuan", "rules_made",
)


@dataclass
class RealPage:
    name: str
    text: str
    gold: dict

    @property
    def body(self) -> str:
        lines = self.text.splitlines()
        start = next(i for i, line in enumerate(lines) if self.gold["body_first"] in line)
        end = next(i for i in range(len(lines) - 1, -1, -1) if self.gold["body_last"] in lines[i])
        kept = [line for line in lines[start:end + 1] if not any(s in line for s in self.gold["body_skip"])]
        body = "\n".join(kept)
        for cut in self.gold["body_cut"]:
            body = body.replace(cut, "")
        return body

    def accepts(self, field: str, value) -> bool:
        expected = self.gold[field]
        return value in expected if isinstance(expected, list) else value == expected


def load_pages(split: str) -> list[RealPage]:
    return [
        RealPage(path.stem, path.with_suffix(".txt").read_text(encoding="utf-8"), json.loads(path.read_text(encoding="utf-8")))
        for path in sorted((PAGES / split).glob("*.json"))
    ]


def ours(page: RealPage) -> dict | None:
    path = PAGES / "x" / f"{page.name}.txt"  # a file: URL of no real host, as an import gives
    result = process(RawDocument(url=path.as_uri(), body=page.text.encode("utf-8"), content_type=None))
    return None if result.failure else result.document


def trafilatura_record(page: RealPage) -> dict:
    import trafilatura

    found = trafilatura.bare_extraction(as_html(page.text).encode("utf-8"), with_metadata=True)
    document = found.as_dict() if found is not None else {}
    return {"title": document.get("title"), "published_at": parse_published(document.get("date")),
            "author": document.get("author"), "source": None, "body_text": document.get("text") or ""}


def gne_record(page: RealPage) -> dict:
    from gne import GeneralNewsExtractor

    try:
        document = GeneralNewsExtractor().extract(as_html(page.text))
    except Exception:  # GNE raises on pages where it finds no content
        document = {}
    return {"title": document.get("title") or None, "published_at": parse_published(document.get("publish_time")),
            "author": document.get("author") or None, "source": None, "body_text": document.get("content") or ""}


TOOLS = {"ours (pipeline)": ours, "trafilatura": trafilatura_record, "GNE": gne_record}


def score_page(page: RealPage, record: dict | None) -> dict:
    if record is None:
        return {"refused": True, "f1": 0.0, "leaks": [], "day": False, "minute": False, "wrong_date": False,
                **{f: False for f in META}}
    gold_date, got = page.gold["published_at"], record.get("published_at")
    return {
        "refused": False,
        "f1": han_f1(record.get("body_text") or "", page.body),
        "leaks": leaked(record.get("body_text") or "", page.gold["must_not_remain"]),
        "day": bool(gold_date and got and got[:10] == gold_date[:10]),
        "minute": bool(gold_date and got and got[:16] == gold_date[:16]),
        "wrong_date": bool(got and (not gold_date or got[:10] != gold_date[:10])),
        **{field: page.accepts(field, record.get(field)) for field in META},
    }


def _printed(page: RealPage, field: str) -> bool:
    expected = page.gold[field]
    return expected is not None and expected != [None] and not (isinstance(expected, list) and None in expected)


def page_table(pages: list[RealPage], results: dict) -> str:
    dated = [p for p in pages if p.gold["published_at"]]
    timed = [p for p in dated if "T" in p.gold["published_at"]]
    rows = [
        f"pages: {len(pages)} from {len({p.gold['origin'].split('/')[2] for p in pages})} hosts; "
        f"{len(dated)} print a date, {len(timed)} a time",
        "",
        "| extractor | body F1 mean | pages F1 ≥ 0.99 | refused | leaked strings | date to the day | to the minute "
        "| wrong dates | title | source | author |",
        "|---" * 11 + "|",
    ]
    for name, scores in results.items():
        by_name = dict(zip((p.name for p in pages), scores))
        f1s = [s["f1"] for s in scores]
        cells = [
            f"{sum(f1s) / len(f1s):.3f}", f"{sum(f >= 0.99 for f in f1s)}/{len(pages)}",
            str(sum(s["refused"] for s in scores)), str(sum(len(s["leaks"]) for s in scores)),
            f"{sum(by_name[p.name]['day'] for p in dated)}/{len(dated)}",
            f"{sum(by_name[p.name]['minute'] for p in timed)}/{len(timed)}",
            str(sum(s["wrong_date"] for s in scores)),
        ]
        for field in META:
            printed = [p for p in pages if _printed(p, field)]
            cells.append(f"{sum(by_name[p.name][field] for p in printed)}/{len(printed)}")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def page_misses(pages: list[RealPage], scores: list[dict], records: list[dict | None]) -> str:
    lines = []
    for page, score, record in zip(pages, scores, records):
        if record is None:
            lines.append(f"{page.name}: REFUSED")
            continue
        misses = [f"{f}={record.get(f)!r} (gold {page.gold[f]!r})" for f in META if not score[f]]
        if page.gold["published_at"] and not score["minute"] or score["wrong_date"]:
            misses.append(f"published_at={record.get('published_at')!r} (gold {page.gold['published_at']!r})")
        if score["f1"] < 0.99 or score["leaks"] or misses:
            lines.append(f"{page.name}: F1 {score['f1']:.3f} leaks {score['leaks']} {'; '.join(misses)}")
    return "\n".join(lines) or "every page exact"


def score_text(path: Path) -> dict:
    gold = json.loads(path.read_text(encoding="utf-8"))
    title, _, body = path.with_suffix(".txt").read_text(encoding="utf-8").partition("\n")
    doc_type = classify(title, body)
    parsed = parse_disclosure(title, body, gold["published_at"], doc_type)
    disclosure = (parsed or {}).get("disclosure") or {}
    is_report = "rectification_report" in gold["doc_type"]
    stated = {key: any(_same(v, disclosure.get(key)) for v in (value if isinstance(value, list) else [value]))
              for key, value in gold["fields"].items()}
    nulls = {key: disclosure.get(key) is None for key in FIELDS if key not in gold["fields"]} if is_report else {}
    return {
        "name": path.stem, "doc_type": doc_type, "doc_type_right": doc_type in gold["doc_type"],
        "negative_parsed": not is_report and parsed is not None, "is_report": is_report,
        "stated": stated, "nulls": nulls, "disclosure": disclosure, "gold": gold,
    }


def text_table(scores: list[dict]) -> str:
    reports = [s for s in scores if s["is_report"]]
    stated = [ok for s in scores for ok in s["stated"].values()]
    nulls = [ok for s in scores for ok in s["nulls"].values()]
    return "\n".join([
        f"texts: {len(scores)} ({len(reports)} reports, {len(scores) - len(reports)} other texts)",
        f"doc_type right         {sum(s['doc_type_right'] for s in scores)}/{len(scores)}",
        f"negatives as reports   {sum(s['negative_parsed'] for s in scores)}",
        f"stated fields exact    {sum(stated)}/{len(stated)}" + (f" ({sum(stated) / len(stated):.1%})" if stated else ""),
        f"nulls kept null        {sum(nulls)}/{len(nulls)}",
    ])


def text_misses(scores: list[dict]) -> str:
    lines = []
    for s in scores:
        wrong = [f"{k}: expected {s['gold']['fields'][k]!r}, got {s['disclosure'].get(k)!r}" for k, ok in s["stated"].items() if not ok]
        wrong += [f"{k}: expected null, got {s['disclosure'].get(k)!r}" for k, ok in s["nulls"].items() if not ok]
        if not s["doc_type_right"] or wrong:
            lines.append(f"{s['name']}: doc_type {s['doc_type']} (gold {s['gold']['doc_type']})" + "".join(f"\n    {w}" for w in wrong))
    return "\n".join(lines) or "every text exact"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev", choices=("dev", "heldout"))
    parser.add_argument("--pages", action="store_true", help="only the article pages")
    parser.add_argument("--texts", action="store_true", help="only the rectification texts")
    parser.add_argument("-v", "--verbose", action="store_true", help="list our misses item by item")
    args = parser.parse_args()
    if not args.texts:
        pages = load_pages(args.split)
        records = {name: [tool(page) for page in pages] for name, tool in TOOLS.items()}
        results = {name: [score_page(p, r) for p, r in zip(pages, recs)] for name, recs in records.items()}
        print(page_table(pages, results))
        if args.verbose:
            print("\n" + page_misses(pages, results["ours (pipeline)"], records["ours (pipeline)"]))
        print()
    if not args.pages:
        scores = [score_text(path) for path in sorted((TEXTS / args.split).glob("*.json"))]
        print(text_table(scores))
        if args.verbose:
            print("\n" + text_misses(scores))


if __name__ == "__main__":
    main()
