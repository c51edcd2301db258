"""Entry and feedback notices: who, which round, when (pipelines/disclosure/notices.py)."""

from pathlib import Path

from pipelines.disclosure.notices import findings, parse_notice

FIXTURES = Path(__file__).parent / "fixtures" / "disclosures"


def _fixture(name):
    title, body = (FIXTURES / name).read_text(encoding="utf-8").split("\n", 1)
    return title, body


def test_a_county_entry_notice():
    notice = parse_notice(*_fixture("entry_notice.txt"), "entry_notice")
    assert notice == {"units": ["梅溪县农业农村局"], "level": "county", "kind": "巡察", "team": "县委第一巡察组",
                      "term": None, "round": None, "inspection_kind": "常规", "event_date": "2023-09-04"}


def test_a_feedback_notice_day_without_its_year_takes_the_periods_year():
    title, body = _fixture("feedback_notice.txt")
    assert "7月8日" in body and "2022年7月" not in body
    notice = parse_notice(title, body, "feedback_notice")
    assert (notice["units"], notice["level"], notice["event_date"]) == (["青崖市"], "provincial", "2022-07-08")
    assert findings(body) == "青崖市委推动经济社会发展取得一定成效，但也存在一些问题：落实党中央和省委决策部署有温差，乡村振兴项目推进缓慢；违规发放津补贴问题仍有发生"


def test_a_feedback_day_in_the_year_after_the_inspection_takes_the_next_year():
    title = "中央第三巡视组向青川省委反馈巡视情况"
    opening = "根据党中央统一部署，2020年10月至12月，中央第三巡视组对青川省进行了常规巡视。"
    feedback = "{}，中央第三巡视组向青川省委领导班子反馈了巡视情况。"
    assert parse_notice(title, opening + feedback.format("1月28日"), "feedback_notice")["event_date"] == "2021-01-28"
    assert parse_notice(title, opening + feedback.format("12月28日"), "feedback_notice")["event_date"] == "2020-12-28"
    # A period whose end leaves out its year rolls over too (2020年11月至1月).
    rolled = opening.replace("2020年10月至12月", "2020年11月至1月") + feedback.format("2月8日")
    assert parse_notice(title, rolled, "feedback_notice")["event_date"] == "2021-02-08"


def test_a_central_feedback_with_a_dated_day_and_a_former_name():
    notice = parse_notice(
        "中央第五巡视组向中国电力投资集团公司党组反馈专项巡视情况",
        "根据中央统一部署，2014年11月至12月，中央第五巡视组对中国电力投资集团公司进行了专项巡视。"
        "2015年2月6日，中央第五巡视组向中国电力投资集团公司党组反馈了专项巡视情况。",
        "feedback_notice",
    )
    assert (notice["units"], notice["level"], notice["inspection_kind"], notice["event_date"]) == (
        ["中国电力投资集团公司"], "central", "专项", "2015-02-06")


def test_a_round_notice_names_one_unit_per_team():
    notice = parse_notice(
        "中央第六轮巡视完成进驻",
        "根据党中央统一部署，十九届中央第六轮巡视将对32个地方和单位党组织开展常规巡视。\n"
        "中央第一巡视组进驻河北省开展巡视。\n中央第二巡视组进驻吉林省开展巡视。\n中央第二巡视组进驻吉林省开展巡视。",
        "entry_notice",
    )
    assert notice["units"] == ["河北省", "吉林省"] and (notice["term"], notice["round"]) == (19, 6)


def test_other_documents_are_not_notices():
    assert parse_notice("中共河北省委关于十九届中央第六轮巡视整改进展情况的通报", "……", "rectification_report") is None
