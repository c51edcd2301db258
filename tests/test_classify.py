import json
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from pipelines.classify import DOC_TYPES, RULES, classify, classify_explained

FIXTURES = Path(__file__).parent / "fixtures" / "disclosures"
GOLD = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "gold"


def fixture(name: str) -> tuple[str, str]:
    title, _, body = (FIXTURES / name).read_text(encoding="utf-8").partition("\n")
    return title, body


def gold(prefix: str) -> tuple[str, str]:
    if not GOLD.is_dir():
        pytest.skip("shared/ corpus not available")
    record = json.loads(next(GOLD.glob(f"{prefix}_*.json")).read_text(encoding="utf-8"))
    return record["title"], record["body"]


@pytest.mark.parametrize(
    ("seed", "doc_type"),
    [("000", "round_summary"), ("001", "news"), ("002", "policy_qa"), ("003", "news"), ("004", "rectification_report")],
)
def test_seeds(seed, doc_type):
    assert classify(*gold(seed)) == doc_type


def test_seed_001_is_news_about_entry_not_an_entry_notice():
    # It mentions 进驻 and that 值班电话 were published, but gives no values.
    title, body = gold("001")
    assert "进驻" in title and "值班电话" in body
    assert classify_explained(title, body) == ("news", "body_mentions_inspection")


def test_seed_titles_decide_before_bodies():
    assert classify_explained(*gold("000"))[1] == "title_round_summary"
    assert classify_explained(*gold("002"))[1] == "title_press_qa"
    assert classify_explained(*gold("004"))[1] == "title_report_family"


def test_seed_bodies_alone_are_enough():
    assert classify_explained("", gold("000")[1]) == ("round_summary", "body_round_complete")
    assert classify_explained("", gold("002")[1]) == ("policy_qa", "body_qa_layout")
    assert classify_explained("", gold("004")[1]) == ("rectification_report", "body_report_publication")


@pytest.mark.parametrize(
    ("name", "doc_type", "rule"),
    [
        ("central_province.txt", "rectification_report", "title_report_family"),
        ("central_ministry.txt", "rectification_report", "title_report_family"),
        ("provincial_xunshi.txt", "rectification_report", "title_report_family"),
        ("county_xuncha.txt", "rectification_report", "title_report_family"),
        ("county_xuncha_traditional.txt", "rectification_report", "title_report_family"),
        ("entry_notice.txt", "entry_notice", "title_entry_notice"),
        ("feedback_notice.txt", "feedback_notice", "title_feedback_notice"),
    ],
)
def test_fixtures(name, doc_type, rule):
    assert classify_explained(*fixture(name)) == (doc_type, rule)


def test_entry_and_feedback_bodies_without_title():
    assert classify_explained("", fixture("entry_notice.txt")[1]) == ("entry_notice", "body_entry_contact")
    assert classify_explained("", fixture("feedback_notice.txt")[1]) == ("feedback_notice", "body_feedback_given")


def test_report_contact_block_does_not_make_it_an_entry_notice():
    # Reports close with 联系电话/邮政编码 too; the report markers win.
    body = fixture("county_xuncha.txt")[1].replace("联系电话", "值班电话")
    assert classify("", body) == "rectification_report"


@pytest.mark.parametrize(
    ("title", "doc_type"),
    [
        ("中共某某集团有限公司党组关于巡视整改情况的通报", "rectification_report"),
        ("关于十一届县委第二轮巡察集中整改进展情况的公告", "rectification_report"),
        ("中央第三巡视组向某某省委反馈巡视情况", "feedback_notice"),
        ("市委第一巡察组进驻市财政局开展巡察工作公告", "entry_notice"),
        ("十九届中央第五轮巡视整改进展情况综述", "round_summary"),
        ("中纪委有关负责人就巡视工作条例答记者问", "policy_qa"),
        ("關於巡察整改階段情況的通報", "rectification_report"),
    ],
)
def test_titles(title, doc_type):
    assert classify(title, "") == doc_type


def test_a_rounds_reports_published_together_is_a_summary():
    assert classify_explained("今年中央首輪巡視 整改情況集中公佈", "") == ("round_summary", "title_round_summary")
    assert classify("十九届中央第七轮巡视整改进展情况全部公布", "") == "round_summary"
    # one unit's report keeps its title family
    assert classify("关于十一届县委第二轮巡察集中整改进展情况的公告", "") == "rectification_report"


def test_a_rule_about_publishing_rectification_is_no_report():
    body = "现就做好巡察整改情况公开工作提出如下意见。"
    assert classify_explained("關於做好巡察整改情況公開工作的意見", body) == ("other", "title_rules_document")
    assert classify("关于印发《巡察整改监督办法》的通知", "") != "rectification_report"
    # a team's findings end in 反馈意见 and are no rule
    title = "市委第一巡察组关于巡察市财政局党组的反馈意见"
    assert classify_explained(title, "市委第一巡察组反馈了巡察意见。")[1] != "title_rules_document"


def test_an_audit_rectification_report_is_no_inspection_report():
    clause = "《审计报告》反映涉及4个方面共计50项具体问题，现将整改具体情况报告如下："
    assert classify("关于2020年度审计查出问题整改情况的报告", clause) == "other"
    # the same clause after an inspection is a report's
    assert classify("", "市委第二巡察组对市审计局党组进行了巡察。" + clause) == "rectification_report"


def test_an_entry_notice_gives_its_tip_off_channels_as_values():
    body = "县委第二巡察组对县人大机关开展巡察。现公告如下：\n2.举报电子邮箱：whxwxcz2@163.com；\n3.举报电话：0553-2595762"
    assert classify_explained("", body) == ("entry_notice", "body_entry_contact")
    # news saying a phone was set up gives no value; a portal footer's number is the portal's
    assert classify("", "县委第二巡察组进驻县人大机关，设立了举报电话和意见箱。") == "news"
    assert classify("", "县委第二巡察组进驻县人大机关。\n违法和不良信息举报电话:010-57654321") == "news"


def test_unrelated_text_is_other():
    assert classify_explained("今日天气", "晴，最高气温25度。") == ("other", "no_rule")


def test_rules_are_documented_data():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    for rule in RULES:
        assert rule.doc_type in DOC_TYPES
        assert rule.field in ("title", "body")
        assert rule.why


@given(st.text(), st.text())
def test_never_raises(title, body):
    doc_type, rule = classify_explained(title, body)
    assert doc_type in DOC_TYPES
    assert isinstance(rule, str)


def test_a_long_text_is_folded_a_piece_at_a_time_with_the_same_result(monkeypatch):
    """fold_simplified converts a text longer than CONVERT_PIECE in pieces cut at line breaks
    (OpenCC holds three UTF-8 copies of what it converts): the same characters come out."""
    from pipelines import classify as module

    lines = ["巡視組對該單位開展了常規巡視，發現問題３項。", "整改落實情況：已完成。", "聯繫電話：０５５１－６２００００３", ""] * 40
    text = "\n".join(lines)
    whole = module.fold_simplified(text)
    assert whole.startswith("巡视组对该单位开展了常规巡视，发现问题3项。\n整改落实情况：已完成。\n联系电话：0551－6200003\n")
    monkeypatch.setattr(module, "CONVERT_PIECE", 7)
    assert module.fold_simplified(text) == whole
    assert module.fold_simplified("no line break in a text longer than a piece: 對該單位") == "no line break in a text longer than a piece: 对该单位"
