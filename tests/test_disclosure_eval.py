"""The disclosure grammar meets its bar on the project's evaluation set (bench/disclosure_eval)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from archive import schema

BENCH = Path(__file__).resolve().parents[1] / "bench"
_spec = importlib.util.spec_from_file_location("score_disclosures", BENCH / "score_disclosures.py")
score_disclosures = importlib.util.module_from_spec(_spec)
sys.modules["score_disclosures"] = score_disclosures  # its dataclasses look their module up
_spec.loader.exec_module(score_disclosures)


@pytest.fixture(scope="module", params=["disclosure_eval", "disclosure_holdout"])
def scores(request):
    return score_disclosures.score_all(BENCH / request.param)


def test_the_set_covers_levels_kinds_and_unit_types():
    golds = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(score_disclosures.EVAL.glob("*.json"))]
    assert len(golds) >= 30
    assert len(golds) == len(list(score_disclosures.EVAL.glob("*.txt")))
    disclosures = [g["disclosure"] for g in golds]
    assert {d["level"] for d in disclosures} >= {"central", "provincial", "city", "county", "internal"}
    assert {d["inspection_kind"] for d in disclosures} >= {"常规", "专项", "回头看", "提级", "联动", "机动"}
    assert {d["unit_type"] for d in disclosures} >= {
        "省区市", "市州", "县区", "乡镇", "村社区", "部门", "中央和国家机关", "中管企业", "中管金融企业", "中管高校"}
    assert {d["status_source"] for d in disclosures} >= {"items", "stated", "selection", None}
    assert any(d["is_template"] for d in disclosures)
    # is_canonical: archive state, not parsed; the attachment columns: the set's texts link no
    # files, and stated_matches_items is the comparison of two gold fields, not a reading.
    columns = set(schema.DISCLOSURES) - {"document_id", "title", "is_canonical", "problems_origin",
                                         "problems_in_attachments", "stated_matches_items"}
    assert all(set(d) == columns for d in disclosures)  # every column has its gold


def test_field_accuracy(scores):
    assert scores["field_accuracy"] >= 0.97, [w for r in scores["reports"] for w in r.wrong]


def test_status_counts_exact(scores):
    assert scores["status_counts_share"] >= 0.95


def test_money_exact_on_every_report_that_states_money(scores):
    assert scores["money_reports"] >= 5
    assert len(scores["money_exact"]) == scores["money_reports"]


def test_no_value_from_a_placeholder(scores):
    assert scores["placeholder_values"] == {}
