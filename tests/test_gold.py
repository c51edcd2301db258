"""The seeds against their hand-judged gold records (needs ../shared; skipped without it)."""

import json
from pathlib import Path

import pytest

from archive.db import Archive
from archive.importer import import_paths
from bench.scoring import EXACT_FIELDS, han_f1, leaked

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "corpus" / "seeds"
GOLD = SHARED / "corpus" / "gold"

pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared corpus not present")


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
    assert leaked(row["body_text"], gold["boilerplate_removed"]) == []
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
