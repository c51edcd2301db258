"""How an extracted record is scored against a gold record.

Shared by the benchmark (``bench/bench_extract.py``) and the tests that hold
the pipeline to its bar (``tests/test_corpus.py``, ``tests/test_gold.py``):

* body: F1 over the multiset of Han characters (punctuation, digits and
  whitespace do not count; a title or boilerplate line left in lowers
  precision, a lost paragraph lowers recall);
* leaks: gold ``must_not_remain`` strings found in the body, whitespace removed;
* metadata: exact equality of each of :data:`EXACT_FIELDS` (``None`` matches
  ``None``: a value invented where the page states none is a miss).
"""

from __future__ import annotations

import collections
import json
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines import RawDocument

CORPUS = Path(__file__).resolve().parent / "corpus"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
EXACT_FIELDS = ("title", "published_at", "source", "author", "editor", "original_url")
_SPACE = re.compile(r"\s+")


def han_f1(produced: str, expected: str) -> float:
    got, want = collections.Counter(HAN.findall(produced)), collections.Counter(HAN.findall(expected))
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def leaked(body: str, forbidden: list[str]) -> list[str]:
    squeezed = _SPACE.sub("", body)
    return [s for s in forbidden if _SPACE.sub("", s) in squeezed]


@dataclass
class CorpusPage:
    gold: dict
    path: Path

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def url(self) -> str:
        return self.gold["url"] or self.path.resolve().as_uri()

    @property
    def is_html(self) -> bool:
        return self.path.suffix == ".html"

    def raw_document(self) -> RawDocument:
        """The page as a crawl (HTML, at its URL) or an import (a saved text dump) hands it over."""
        return RawDocument(url=self.url, body=self.path.read_bytes(), content_type="text/html" if self.is_html else None)


def load_corpus(directory: Path = CORPUS) -> list[CorpusPage]:
    pages = []
    for gold_file in sorted((directory / "gold").glob("*.json")):
        gold = json.loads(gold_file.read_text(encoding="utf-8"))
        pages.append(CorpusPage(gold, directory / "pages" / gold["file"]))
    return pages


@dataclass
class Score:
    f1: float
    leaks: list[str]
    fields: dict[str, bool]

    @property
    def exact(self) -> int:
        return sum(self.fields.values())


def score(record: dict, gold: dict) -> Score:
    body = record.get("body_text") or ""
    return Score(
        f1=han_f1(body, gold["body"]),
        leaks=leaked(body, gold.get("must_not_remain") or gold.get("boilerplate_removed") or []),
        fields={field: record.get(field) == gold[field] for field in EXACT_FIELDS},
    )
