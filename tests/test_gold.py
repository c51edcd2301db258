"""The seeds against their hand-judged gold records (needs ../shared; skipped without it)."""

import collections
import json
import re
from pathlib import Path

import pytest

from archive.db import Archive
from archive.importer import import_paths

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "corpus" / "seeds"
GOLD = SHARED / "corpus" / "gold"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
EXACT_FIELDS = ("title", "published_at", "source", "author", "editor", "original_url")

pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared corpus not present")


def han_f1(produced: str, expected: str) -> float:
    got, want = collections.Counter(HAN.findall(produced)), collections.Counter(HAN.findall(expected))
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("gold") / "archive.db"
    with Archive(db_path) as archive:
        report = import_paths([SEEDS], archive)
        assert report.failures == []
        yield archive


def seed_ids():
    return sorted(p.stem for p in SEEDS.glob("*.txt")) if SEEDS.is_dir() else []


@pytest.mark.parametrize("seed", seed_ids())
def test_seed_matches_gold(archive, seed):
    gold = json.loads((GOLD / f"{seed}.json").read_text(encoding="utf-8"))
    row = archive.document_for_url((SEEDS / f"{seed}.txt").resolve().as_uri())
    assert han_f1(row["body_text"], gold["body"]) >= 0.995
    squeezed = re.sub(r"\s", "", row["body_text"])
    leaked = [s for s in gold["boilerplate_removed"] if re.sub(r"\s", "", s) in squeezed]
    assert leaked == []
    for field in EXACT_FIELDS:
        assert row[field] == gold[field], field
    for field in ("publisher", "editor_code", "original_published_at", "declared_source"):
        if field in gold:
            assert row[field] == gold[field], field
    if "categories" in gold:
        assert json.loads(row["categories"]) == gold["categories"]


def test_one_row_per_seed_and_reimport_changes_nothing(archive):
    assert archive.count("documents") == len(seed_ids()) == 5
    report = import_paths([SEEDS], archive)
    assert archive.count("documents") == 5
    assert dict(report.outcomes) == {"unchanged": 5}
