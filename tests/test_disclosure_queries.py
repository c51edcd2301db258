"""The journalists' canned queries over a real Datasette server: texts are counted, not pages.

The archive holds the 河北省 report four times (CCDI, Sina, people.com.cn and a
traditional-character aggregator copy), the 吉林省 report once, and two reports of the
evaluation set, one of them also as a traditional-character copy.
"""

import urllib.parse
from pathlib import Path

import opencc
import pytest
from datasette_server import get_json, served_archive
from test_provenance import HEBEI_CCDI, HEBEI_PEOPLE, HEBEI_SINA, JILIN_CCDI, mirrored

from archive.db import Archive
from archive.importer import raw_document_for
from pipelines import RawDocument, process

pytestmark = pytest.mark.slow

EVAL = Path(__file__).resolve().parents[1] / "bench" / "disclosure_eval"
PROVENANCE = Path(__file__).parent / "fixtures" / "provenance"
SOE = EVAL / "10_provincial_soe_table_header.txt"
VILLAGE = EVAL / "17_city_village_tiji_marks.txt"


def report_file(path: Path, name: str, text: str | None = None) -> RawDocument:
    body = (text or path.read_text(encoding="utf-8")).encode("utf-8")
    return RawDocument(url=f"file:///reports/{name}", body=body, content_type="text/plain",
                       fetched_at="2024-08-01T00:00:00+00:00")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("queries") / "archive.db"
    soe_traditional = opencc.OpenCC("s2t").convert(SOE.read_text(encoding="utf-8"))
    with Archive(db_path) as archive:
        for raw in (mirrored(HEBEI_SINA), raw_document_for(PROVENANCE / "aggregator_traditional.txt"),
                    mirrored(HEBEI_PEOPLE), mirrored(JILIN_CCDI), mirrored(HEBEI_CCDI),
                    report_file(SOE, "soe.txt"), report_file(SOE, "soe_big5.txt", soe_traditional),
                    report_file(VILLAGE, "village.txt")):
            assert archive.save(process(raw)) == "new"
        pages = archive.count("disclosures")
        texts = archive.db.execute("select count(distinct canonical_id) from documents").fetchone()[0]
    assert (pages, texts) == (8, 4)
    with served_archive(db_path) as base:
        yield f"{base}/archive"


def query(base, name, **params):
    return get_json(f"{base}/{name}.json?" + urllib.parse.urlencode({"_shape": "array", **params}))


def test_money_by_unit_type_counts_each_text_once(served):
    rows = {row["unit_type"]: row for row in query(served, "money_by_unit_type")}
    # 河北省 (326.4万 + 1.2亿, 71 people) once, not four times; 吉林省 4780万.
    assert rows["省区市"] == {
        "unit_type": "省区市", "reports": 2, "reports_with_money": 2, "money_recovered_yuan": 123_264_000 + 47_800_000,
        "cases_filed": None, "people_disciplined": 71, "people_organisational": None, "people_accountable": None,
    }
    # The SOE report and its traditional copy: one report.
    assert rows["国有企业"]["reports"] == 1
    assert rows["国有企业"]["money_recovered_yuan"] == 18_653_000 + 2_376_000
    assert rows["国有企业"]["people_disciplined"] == 5
    assert rows["村社区"]["money_recovered_yuan"] == 48_500


def test_units_that_marked_every_problem_completed(served):
    rows = query(served, "units_all_completed")
    assert sorted((r["unit"], r["problems_total"], r["status_source"]) for r in rows) == [
        ("湖南省交通水利建设集团有限公司", 4, "items"),
        ("金华市婺城区罗店镇石塘村", 5, "items"),
    ]
    assert {r["province"] for r in rows} == {"湖南省", "浙江省"}


def test_lag_by_round_averages_texts_not_pages(served):
    rows = {row["round"]: row for row in query(served, "lag_by_round")}
    # 河北省 from its CCDI original (272 days, not its copies' 273) and 吉林省 (273).
    round_ = "19届中央第6轮巡视 (19-6)"  # rounds are named as the ledger and the dashboard name them
    assert rows[round_] == {"round": round_, "reports": 2, "min_days": 272, "avg_days": 272.5, "max_days": 273}


def test_unfinished_problems_count_unlabelled_ones(served):
    rows = query(served, "unfinished_problems")
    assert all(r["status_class"] not in ("completed", "completed_long_term") for r in rows)
    hebei = [r for r in rows if r["unit"] == "河北省"]
    assert sorted(r["status_class"] for r in hebei) == ["basically_completed", "in_progress", "none"]


def test_outcomes_of_a_report_list_every_amount_with_its_sentence(served):
    soe = get_json(f"{served}/documents.json?" + urllib.parse.urlencode(
        {"_shape": "array", "title__startswith": "湖南省交通水利建设集团"}))
    assert len(soe) == 1  # the traditional copy's title is in traditional characters
    rows = query(served, "outcomes_of_report", document_id=soe[0]["id"])
    assert [(r["kind"], r["value"], r["counted"]) for r in rows] == [
        ("money_recovered_yuan", 18_653_000, 1), ("money_recovered_yuan", 2_376_000, 1), ("people_disciplined", 5, 1)]
    assert "追回违规分包管理费1865.3万元" in rows[0]["sentence"]


def test_status_class_facet_counts_problems_without_status(served):
    facets = get_json(f"{served}/problems.json?_facet=status_class&_size=0")["facet_results"]["status_class"]["results"]
    counts = {f["value"]: f["count"] for f in facets}
    assert counts["none"] == 4  # 河北省's unlabelled problem, in each of its four copies
