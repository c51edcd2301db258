import functools
import json
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from pipelines.classify import classify
from pipelines.disclosure import cn_to_int, parse_disclosure
from pipelines.disclosure.problems import status_class

FIXTURES = Path(__file__).parent / "fixtures" / "disclosures"
GOLD = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "gold"

DISCLOSURE_KEYS = {
    "unit", "unit_type", "province", "level", "kind", "inspection_kind", "term", "round", "round_id", "team",
    "inspection_start", "inspection_end", "feedback_date", "published_at", "lag_days",
    "problems_stated", "problems_itemised", "problems_total", "status_source",
    "problems_completed", "problems_basically_completed", "problems_phase_completed", "problems_in_progress",
    "problems_unfinished", "problems_long_term_only", "problems_no_status", "problems_long_term",
    "money_recovered_yuan", "cases_filed", "people_disciplined", "people_organisational", "people_accountable",
    "clues_transferred", "rules_made", "has_contact_block", "contact_phone", "contact_address",
    "contact_postcode", "contact_email", "is_template", "stated_completion_rate", "stated_matches_items",
    "problems_origin", "problems_in_attachments",
}
PROBLEM_KEYS = {"number", "section_path", "title", "status", "status_class", "long_term", "deadline", "deadline_date",
                "responsible_unit", "text", "attachment_id", "source_row"}
COUNT_KEYS = {"problems_total", "problems_completed", "problems_basically_completed", "problems_in_progress",
              "problems_unfinished", "problems_long_term_only", "problems_no_status", "problems_long_term"}


def parse_fixture(name: str, published_at: str | None = None) -> dict | None:
    title, _, body = (FIXTURES / name).read_text(encoding="utf-8").partition("\n")
    return parse_disclosure(title, body, published_at)


def subset(record: dict, keys: set[str]) -> dict:
    return {key: record[key] for key in keys}


# --- seed 004: a city-level 巡察 report from a template site -------------------------

@pytest.fixture(scope="module")
def seed_004():
    if not GOLD.is_dir():
        pytest.skip("shared/ corpus not available")
    record = json.loads(next(GOLD.glob("004_*.json")).read_text(encoding="utf-8"))
    return parse_disclosure(record["title"], record["body"])


def test_seed_004_disclosure(seed_004):
    disclosure = seed_004["disclosure"]
    assert set(disclosure) == DISCLOSURE_KEYS
    assert subset(disclosure, {"kind", "level", "team", "unit", "unit_type", "is_template"}) == {
        "kind": "巡察", "level": "city", "team": "市委巡察二组",
        "unit": "市委市直机关工委", "unit_type": "部门", "is_template": True,
    }
    # 2019年X月X日至X月X日 / 2020年X月X日: redacted, so unknown
    assert disclosure["inspection_start"] is None
    assert disclosure["inspection_end"] is None
    assert disclosure["feedback_date"] is None
    assert disclosure["lag_days"] is None
    assert disclosure["term"] is None and disclosure["round"] is None and disclosure["round_id"] is None


def test_seed_004_counts_and_placeholders(seed_004):
    disclosure = seed_004["disclosure"]
    assert subset(disclosure, COUNT_KEYS | {"problems_stated", "problems_itemised", "status_source"}) == {
        "problems_total": 30, "problems_completed": 29, "problems_no_status": 1, "problems_long_term": 23,
        "problems_basically_completed": 0, "problems_in_progress": 0, "problems_unfinished": 0,
        "problems_long_term_only": 0, "problems_stated": None, "problems_itemised": 30, "status_source": "items",
    }
    # 对X名相关责任人…共清退返还金额X元 and 联系电话：XX；…: placeholders, not values
    assert disclosure["people_disciplined"] is None
    assert disclosure["money_recovered_yuan"] is None
    assert seed_004["outcomes"] == []
    assert disclosure["has_contact_block"] is True
    assert [disclosure[k] for k in ("contact_phone", "contact_address", "contact_postcode", "contact_email")] == [None] * 4


def test_seed_004_problems(seed_004):
    problems = seed_004["problems"]
    assert [p["number"] for p in problems] == list(range(1, 31))
    assert all(set(p) == PROBLEM_KEYS for p in problems)
    assert Counter((p["status"], p["status_class"], p["long_term"]) for p in problems) == {
        ("已完成，并将长期坚持", "completed_long_term", True): 23, ("已完成", "completed", False): 6, (None, "none", False): 1,
    }
    assert [p["number"] for p in problems if p["status"] is None] == [10]
    assert [p["number"] for p in problems if p["status_class"] == "completed"] == [6, 12, 15, 16, 21, 25]
    first = problems[0]
    assert first["title"] == "对市直机关党建工作统筹谋划不够"
    assert first["text"].startswith("认真学习贯彻习近平总书记")
    assert "整改情况" not in first["text"][:6]
    assert problems[9]["title"] == "理论学习中心组学习示范缺位"
    assert problems[5]["title"] == "贯彻市委‘X’发展战略研究部署不够及时"
    # the last problem stops at section 三
    assert problems[29]["text"].endswith("提高审理工作质量和效果。")


def test_seed_004_sections(seed_004):
    # Six problems under each of the five party-building areas of section 二.
    sections = ["（一）党的政治建设方面", "（二）党的思想建设方面", "（三）党的组织建设方面",
                "（四）党的作风建设方面", "（五）党的纪律建设方面"]
    expected = [f"二、巡察反馈问题的整改情况 / {s}" for s in sections for _ in range(6)]
    assert [p["section_path"] for p in seed_004["problems"]] == expected


def test_seeds_000_to_003_are_not_reports():
    if not GOLD.is_dir():
        pytest.skip("shared/ corpus not available")
    for prefix in ("000", "001", "002", "003"):
        record = json.loads(next(GOLD.glob(f"{prefix}_*.json")).read_text(encoding="utf-8"))
        assert parse_disclosure(record["title"], record["body"], record["published_at"]) is None, prefix


# --- own fixtures ----------------------------------------------------------------------

def test_central_province_report():
    parsed = parse_fixture("central_province.txt", "2021-10-27T09:30:00+08:00")
    disclosure = parsed["disclosure"]
    assert set(disclosure) == DISCLOSURE_KEYS
    assert disclosure == {
        "unit": "临江省", "unit_type": "省区市", "province": None, "level": "central", "kind": "巡视",
        "inspection_kind": "常规", "term": 19, "round": 6, "round_id": "19-6", "team": "中央第八巡视组",
        "inspection_start": "2020-10", "inspection_end": "2020-12", "feedback_date": "2021-02-03",
        "published_at": "2021-10-27T09:30:00+08:00", "lag_days": 266,
        "problems_stated": 5, "problems_itemised": 5, "problems_total": 5, "status_source": "items",
        "problems_completed": 3, "problems_basically_completed": 1, "problems_phase_completed": 0, "problems_in_progress": 1,
        "problems_unfinished": 0, "problems_long_term_only": 0, "problems_no_status": 0, "problems_long_term": 2,
        "money_recovered_yuan": 3_568_000.0 + 125_000_000.0 + 28_000_000.0,  # 356.8万 + 1.25亿 + 2800万
        "cases_filed": 45, "people_disciplined": 38, "people_organisational": None, "people_accountable": None,
        "clues_transferred": None, "rules_made": 46,
        "has_contact_block": True, "contact_phone": "0898-66123456", "contact_address": "临江省安澜市滨江路18号",
        "contact_postcode": "571100", "contact_email": "ljxszgb@163.com",
        "is_template": False, "stated_completion_rate": 60.0,
        "stated_matches_items": True, "problems_origin": "text", "problems_in_attachments": None,
    }
    problems = parsed["problems"]
    assert [(p["number"], p["status"], p["status_class"]) for p in problems] == [
        (1, "已完成，并将长期坚持", "completed_long_term"), (2, "正在推进", "in_progress"), (3, "已完成", "completed"),
        (4, "基本完成", "basically_completed"), (5, "已完成，并将长期坚持", "completed_long_term"),
    ]
    assert problems[2]["title"] == "纠治‘四风’不够彻底"
    assert problems[2]["section_path"] == "二、巡视反馈问题的整改进展情况 / （二）关于全面从严治党方面"
    assert problems[3]["text"] == "对省属企业开展专项审计，追回被挪用的专项资金1.25亿元，挽回经济损失2800万元；制定修订制度46项。"
    # every amount is an outcome row with its sentence
    money = [(o["value"], o["sentence"]) for o in parsed["outcomes"] if o["kind"] == "money_recovered_yuan"]
    assert money == [
        (3_568_000.0, "整改情况（已完成）：开展违规发放津补贴专项整治，清退违规发放津补贴资金356.8万元"),
        (125_000_000.0, "整改情况（基本完成）：对省属企业开展专项审计，追回被挪用的专项资金1.25亿元，挽回经济损失2800万元"),
        (28_000_000.0, "整改情况（基本完成）：对省属企业开展专项审计，追回被挪用的专项资金1.25亿元，挽回经济损失2800万元"),
    ]


def test_central_ministry_report_with_unquoted_problems():
    parsed = parse_fixture("central_ministry.txt", "2024-07-30")
    disclosure = parsed["disclosure"]
    assert subset(disclosure, {"unit", "unit_type", "level", "term", "round", "round_id", "team",
                               "inspection_start", "inspection_end", "feedback_date", "lag_days"}) == {
        "unit": "海事航运部", "unit_type": "中央和国家机关", "level": "central", "term": 20, "round": 2,
        "round_id": "20-2", "team": "中央第五巡视组", "inspection_start": "2023-10-12",
        "inspection_end": "2024-01-10", "feedback_date": "2024-04-18", "lag_days": 103,
    }
    assert disclosure["people_disciplined"] == 5
    assert disclosure["money_recovered_yuan"] == 126_000.0
    assert disclosure["contact_address"] == "北京市东城区1234号信箱"  # 邮政信箱 stands for the address
    assert disclosure["contact_email"] == "xszg@mot-example.cn"
    assert disclosure["rules_made"] is None
    problems = parsed["problems"]
    assert [(p["title"], p["status"], p["status_class"]) for p in problems] == [
        ("贯彻落实海洋强国战略统筹谋划不够", "已完成", "completed"),           # status bracket on the heading
        ("推进行业安全监管改革用力不足", "持续推进", "in_progress"),
        ("落实中央八项规定精神不够严格", "已完成，并将长期坚持", "completed_long_term"),  # 整改进展：已完成，并将长期坚持。
        ("部属单位“三重一大”决策制度执行不到位", "未完成", "in_progress"),
    ]
    assert problems[2]["text"].startswith("开展违规收送礼品礼金问题专项治理")
    assert problems[3]["section_path"] == "二、巡视反馈问题整改落实情况 / （二）落实全面从严治党战略部署方面"
    assert subset(disclosure, {"problems_completed", "problems_in_progress", "problems_unfinished"}) == {
        "problems_completed": 2, "problems_in_progress": 1, "problems_unfinished": 1,
    }


def test_provincial_xunshi_report():
    disclosure = parse_fixture("provincial_xunshi.txt")["disclosure"]
    assert subset(disclosure, {"unit", "unit_type", "level", "kind", "term", "round", "round_id", "team",
                               "inspection_start", "inspection_end", "feedback_date", "published_at", "lag_days"}) == {
        "unit": "青崖市", "unit_type": "市州", "level": "provincial", "kind": "巡视", "term": 13, "round": 5,
        "round_id": None,  # only central rounds have ids
        "team": "省委第二巡视组", "inspection_start": "2022-03-15", "inspection_end": "2022-05-20",
        "feedback_date": "2022-07-08", "published_at": None, "lag_days": None,
    }
    assert disclosure["money_recovered_yuan"] == 864_000.0
    assert disclosure["people_disciplined"] == 12
    assert disclosure["rules_made"] == 15
    assert disclosure["problems_long_term"] == 1  # 正在推进，需长期坚持


def test_county_xuncha_report_with_mixed_statuses():
    parsed = parse_fixture("county_xuncha.txt", "2023-10-09")
    disclosure = parsed["disclosure"]
    assert subset(disclosure, {"unit", "unit_type", "level", "kind", "inspection_kind", "term", "round",
                               "team", "feedback_date", "lag_days"}) == {
        "unit": "梅溪县白石镇", "unit_type": "乡镇", "level": "county", "kind": "巡察", "inspection_kind": "常规",
        "term": 15, "round": 3, "team": "县委第二巡察组", "feedback_date": "2023-07-05", "lag_days": 96,
    }
    assert [(p["number"], p["status"], p["status_class"]) for p in parsed["problems"]] == [
        (1, "已完成，并将长期坚持", "completed_long_term"), (2, "基本完成", "basically_completed"),
        (3, "正在推进", "in_progress"), (4, "未完成", "in_progress"), (5, None, "none"), (6, "持续推进", "in_progress"),
    ]
    assert subset(disclosure, {"problems_total", "problems_completed", "problems_basically_completed",
                               "problems_in_progress", "problems_unfinished", "problems_no_status",
                               "problems_long_term"}) == {
        "problems_total": 6, "problems_completed": 1, "problems_basically_completed": 1,
        "problems_in_progress": 2, "problems_unfinished": 1, "problems_no_status": 1, "problems_long_term": 1,
    }
    assert disclosure["cases_filed"] == 3
    assert disclosure["people_disciplined"] == 3  # 2名村干部…党纪处分 + 政务处分1人
    assert disclosure["money_recovered_yuan"] == 32_800.0
    assert parsed["problems"][4]["text"] == "制定党员积分管理办法，按季度公布积分结果。"


def test_traditional_copy_parses_like_the_original():
    original = parse_fixture("county_xuncha.txt", "2023-10-09")
    traditional = parse_fixture("county_xuncha_traditional.txt", "2023-10-09")
    assert "縣委第二巡察組" in (FIXTURES / "county_xuncha_traditional.txt").read_text(encoding="utf-8")
    assert traditional == original


@pytest.mark.parametrize("name", ["entry_notice.txt", "feedback_notice.txt"])
def test_notices_are_not_parsed(name):
    assert parse_fixture(name) is None


# --- grammar details -------------------------------------------------------------------

def test_aggregate_sentences_when_no_items():
    body = (
        "根据区委统一部署，2022年4月至6月，区委第一巡察组对某某街道党工委开展了常规巡察，并于2022年7月反馈了巡察意见。"
        "现将巡察整改进展情况予以公布。\n"
        "巡察反馈的97个问题，完成整改88个，基本完成整改3个，持续整改问题4个，未完成2个，总体完成率90.72%。"
    )
    disclosure = parse_disclosure("关于巡察整改进展情况的通报", body)["disclosure"]
    assert subset(disclosure, {"problems_total", "problems_completed", "problems_basically_completed",
                               "problems_in_progress", "problems_unfinished", "problems_no_status",
                               "stated_completion_rate", "feedback_date", "inspection_end", "unit_type", "status_source"}) == {
        "problems_total": 97, "problems_completed": 88, "problems_basically_completed": 3,
        "problems_in_progress": 4, "problems_unfinished": 2, "problems_no_status": 0,  # the stated buckets add up
        "stated_completion_rate": 90.72, "feedback_date": "2022-07", "inspection_end": "2022-06",
        "unit_type": "乡镇", "status_source": "stated",
    }


def test_unnumbered_about_headings_and_half_width_brackets():
    body = (
        "2021年5月至7月，中央第二巡视组对某某大学党委进行了常规巡视，并于2021年9月10日反馈了巡视意见。\n"
        "二、巡视反馈问题整改情况\n"
        "(一)政治建设方面\n"
        "关于落实立德树人根本任务有差距的问题\n"
        "整改情况(已完成)：修订人才培养方案。\n"
        "关于意识形态工作责任制落实不到位的问题(正在推进)\n"
        "建立阵地管理台账。\n"
    )
    parsed = parse_disclosure("中共某某大学委员会关于十九届中央第七轮巡视整改进展情况的通报", body)
    assert parsed["disclosure"]["unit"] == "某某大学"
    assert parsed["disclosure"]["unit_type"] == "中管高校"
    assert parsed["disclosure"]["round_id"] == "19-7"
    assert [(p["number"], p["title"], p["status"], p["section_path"]) for p in parsed["problems"]] == [
        (1, "落实立德树人根本任务有差距", "已完成", "二、巡视反馈问题整改情况 / (一)政治建设方面"),
        (2, "意识形态工作责任制落实不到位", "正在推进", "二、巡视反馈问题整改情况 / (一)政治建设方面"),
    ]
    assert parsed["problems"][0]["text"] == "修订人才培养方案。"


def test_problem_text_can_start_on_the_heading_line():
    body = ("中央第一巡视组对某某集团有限公司党组进行了常规巡视。现将巡视整改进展情况予以公布。\n"
            "1.关于安全生产责任落实不到位的问题。整改情况（正在推进）：开展隐患排查。\n"
            "逐项销号管理。\n")
    problem = parse_disclosure("", body)["problems"][0]
    assert (problem["title"], problem["status"], problem["text"]) == (
        "安全生产责任落实不到位", "正在推进", "开展隐患排查。\n逐项销号管理。")


def central(unit, unit_type, **more):
    return {"unit": unit, "unit_type": unit_type, "level": "central", **more}


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("中央第一巡视组对中国某某银行股份有限公司党委进行了常规巡视", central("中国某某银行股份有限公司", "中管金融企业")),
        ("中央第二巡视组对中国某某集团有限公司党组进行了常规巡视", central("中国某某集团有限公司", "中管企业")),
        ("中央第三巡视组对中国人民银行党委进行了常规巡视", central("中国人民银行", "中央和国家机关")),
        ("中央第四巡视组对新疆生产建设兵团党委进行了常规巡视", central("新疆生产建设兵团", "省区市")),
        ("中央第五巡视组对某某自治区党委进行了常规巡视", central("某某自治区", "省区市")),
        ("中央第六巡视组对某某省开展了专项巡视", central("某某省", "省区市", inspection_kind="专项")),
        ("中央第七巡视组对某某部党组开展了机动巡视",
         central("某某部", "中央和国家机关", inspection_kind="机动", team="中央第七巡视组")),
        ("省委第三巡视组对某某市开展了巡视“回头看”",
         {"level": "provincial", "inspection_kind": "回头看", "team": "省委第三巡视组", "unit_type": "市州"}),
        ("五届市委第九轮巡视中，市委第四巡视组对某某区开展了常规巡视",  # a municipality's 巡视 ranks as provincial
         {"level": "provincial", "term": 5, "round": 9, "team": "市委第四巡视组", "unit_type": "县区"}),
        ("市委第一巡察组对某某区委开展了常规巡察", {"unit": "某某区", "unit_type": "县区", "level": "city"}),
        ("市委第二巡察组对市财政局党组开展了常规巡察", {"unit": "市财政局", "unit_type": "部门", "level": "city"}),
        ("十一届市委第三提级交叉巡察组对某某村党支部开展了提级巡察",
         {"unit": "某某村", "unit_type": "村社区", "inspection_kind": "提级", "team": "市委第三提级交叉巡察组",
          "level": "city"}),
        ("县委第三巡察组对县农业农村局党组开展了常规巡察", {"unit": "县农业农村局", "unit_type": "部门", "level": "county"}),
        ("区委第一巡察组对某某街道党工委开展了常规巡察", {"unit": "某某街道", "unit_type": "乡镇", "level": "county"}),
        ("集团公司党组第二巡视组对所属某某公司党委开展了常规巡视",
         {"unit": "某某公司", "unit_type": "国有企业", "level": "internal"}),
    ],
)
def test_opening_clause(clause, expected):
    disclosure = parse_disclosure("", f"{clause}。现将巡视整改情况予以公布。")["disclosure"]
    assert subset(disclosure, set(expected)) == expected


def test_unit_and_round_from_the_title_when_the_body_does_not_say():
    disclosure = parse_disclosure("中共临江省委关于十九届中央第六轮巡视整改进展情况的通报",
                                  "现将巡视整改进展情况予以公布。")["disclosure"]
    assert subset(disclosure, {"unit", "unit_type", "province", "level", "kind", "round_id", "team"}) == {
        "unit": "临江省", "unit_type": "省区市", "province": None, "level": "central", "kind": "巡视", "round_id": "19-6", "team": None,
    }


def test_full_width_digits_and_year_rollover():
    body = "２０２０年１１月至１月，中央第三巡视组对某某省进行了常规巡视，并于２０２１年３月５日向某某省委反馈了巡视意见。现将巡视整改进展情况予以公布。"
    disclosure = parse_disclosure("", body)["disclosure"]
    assert (disclosure["inspection_start"], disclosure["inspection_end"], disclosure["feedback_date"]) == (
        "2020-11", "2021-01", "2021-03-05")


def test_template_title_and_unit_placeholders():
    body = "根据党中央统一部署，中央第X巡视组对XX省进行了常规巡视。现将巡视整改进展情况予以公布。"
    disclosure = parse_disclosure("中共XX省委关于十九届中央第X轮巡视整改进展情况的通报", body)["disclosure"]
    assert disclosure["is_template"] is True
    assert disclosure["unit"] is None and disclosure["unit_type"] is None
    assert disclosure["round"] is None and disclosure["round_id"] is None


@pytest.mark.parametrize(("text", "value"), [("六", 6), ("十", 10), ("十三", 13), ("二十", 20), ("二十一", 21),
                                             ("12", 12), ("三四", None), ("X", None), ("", None)])
def test_cn_to_int(text, value):
    assert cn_to_int(text) == value


def test_adversarial_input_is_fast():
    report = "现将巡视整改进展情况予以公布。\n"
    bodies = [
        report + "对" + "某" * 50_000,
        report + "1.关于“" + "某" * 50_000 + "\n",
        report + "清退" + "1" * 50_000,
        report + "（" * 20_000 + "已完成" + "，" * 20_000,
        report + ("整改情况（" + "1" * 30 + "\n") * 2_000,
        report + "2020年" * 20_000,
        report + "（" + " " * 30_000 + "）",
        report + "\n" * 50_000 + "问：",
        report + "党纪" * 20_000,
        report + "1" * 50_000 + "人",
        report + "第" + "十" * 50_000,
    ]
    for body in bodies:
        started = time.perf_counter()
        parse_disclosure("关于巡察整改情况的通报", body)
        assert time.perf_counter() - started < 3, body[:40]


FRAGMENTS = [line for name in ("central_province.txt", "central_ministry.txt", "county_xuncha.txt")
             for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines()]


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text(), st.one_of(st.none(), st.text()))
def test_never_raises_on_any_text(title, body, published_at):
    parsed = parse_disclosure(title, body, published_at)
    assert parsed is None or set(parsed["disclosure"]) == DISCLOSURE_KEYS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=25), st.text(max_size=10))
def test_never_raises_on_report_shaped_text(lines, published_at):
    parsed = parse_disclosure("关于巡视整改进展情况的通报", "\n".join(lines), published_at)
    assert set(parsed["disclosure"]) == DISCLOSURE_KEYS
    assert all(set(p) == PROBLEM_KEYS for p in parsed["problems"])


# --- traditional copies ------------------------------------------------------------------

EVAL = Path(__file__).resolve().parents[1] / "bench" / "disclosure_eval"
REPORTS = [p for p in [*sorted(FIXTURES.glob("*.txt")), *sorted(EVAL.glob("*.txt")),
                        *sorted(EVAL.with_name("disclosure_holdout").glob("*.txt"))]
           if "notice" not in p.name and "traditional" not in p.name]  # those are copies already
_CORNER_QUOTES = str.maketrans({"“": "「", "”": "」", "‘": "『", "’": "』"})


@functools.cache
def converter(config: str):
    import opencc

    return opencc.OpenCC(config)


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.stem)
def test_traditional_copy_parses_to_the_same_disclosure(path):
    """OpenCC's Taiwan, Hong Kong and plain traditional copies, with corner-bracket quotes."""
    text = path.read_text(encoding="utf-8")
    title, _, body = text.partition("\n")
    original = parse_disclosure(title, body, "2024-01-01T08:00:00+08:00")
    assert original is not None and original["problems"] or original["disclosure"]["problems_stated"] or \
        original["disclosure"]["money_recovered_yuan"]
    for config in ("s2t", "s2tw", "s2hk"):
        copy = converter(config).convert(text).translate(_CORNER_QUOTES)
        assert copy != text
        copy_title, _, copy_body = copy.partition("\n")
        assert parse_disclosure(copy_title, copy_body, "2024-01-01T08:00:00+08:00") == original, config


# --- units, places, outcomes, placeholders ---------------------------------------------

@pytest.mark.parametrize(
    ("name", "hint", "province"),
    [
        ("丽水市莲都区", None, "浙江省"),
        ("鼓楼区", None, None),                       # four 鼓楼区: no guess
        ("鼓楼区", "福建省", "福建省"),                # the site's province settles it
        ("福州市鼓楼区温泉街道南门社区", None, "福建省"),  # the city settles it
        ("河北区教育局", None, "天津市"),              # a district of Tianjin, not 河北省
        ("吉林市", None, "吉林省"),
        ("安徽工程技术大学", None, "安徽省"),          # a province's short form, at the start only
        ("中国东方航空集团有限公司", None, None),       # 东方 is a city of Hainan, but not here
        ("中山大学", None, None),
        ("临江省", None, None),                       # no such province
        ("新疆生产建设兵团", None, "新疆生产建设兵团"),
        ("广西壮族自治区", None, "广西壮族自治区"),
    ],
)
def test_province_of(name, hint, province):
    from pipelines.disclosure.places import province_of

    assert province_of(name, hint) == province


def test_province_from_the_site_only_for_local_units():
    local = "县委第一巡察组对县财政局党组开展了常规巡察。现将巡察整改情况予以公布。"
    assert parse_disclosure("", local, site="zhejiang")["disclosure"]["province"] == "浙江省"
    assert parse_disclosure("", local, site="ccdi")["disclosure"]["province"] is None
    national = "中央第二巡视组对中国某某集团有限公司党组进行了常规巡视。现将巡视整改情况予以公布。"
    assert parse_disclosure("", national, site="zhejiang")["disclosure"]["province"] is None


@pytest.mark.parametrize(
    ("clause", "title", "unit"),
    [
        ("县委第三巡察组对县农业农村局党组开展了常规巡察", "中共梅溪县农业农村局党组关于巡察整改情况的通报", "梅溪县农业农村局"),
        ("县委第三巡察组对县农业农村局党组开展了常规巡察", "关于巡察整改情况的通报", "县农业农村局"),
        ("根据梅溪县委统一部署，县委第三巡察组对县农业农村局党组开展了常规巡察", "", "梅溪县农业农村局"),
        ("县委第二巡察组对白石镇党委开展了常规巡察", "中共梅溪县白石镇委员会关于巡察整改情况的通报", "梅溪县白石镇"),
        ("县委第三巡察组对我村开展了村级巡察", "石门村党支部关于巡察整改情况的公示", "石门村"),
        ("县委第三巡察组对县农业农村局党组开展了常规巡察", "中共XX县农业农村局党组关于巡察整改情况的通报", "县农业农村局"),
    ],
)
def test_unit_full_name(clause, title, unit):
    assert parse_disclosure(title, f"{clause}。现将巡察整改情况予以公布。")["disclosure"]["unit"] == unit


def test_money_every_amount_and_never_a_count_of_people_or_area():
    body = ("现将巡察整改情况予以公布。\n"
            "惠及群众3.2万人，新建保障性住房12万平方米，纳入监测对象1.2万户。\n"
            "追回资金1.5亿元、挽回损失300余万元，收缴违纪款12,345.5元；违规资金8.6万元已全部清退。\n"
            "核减工程造价2460万元，补缴监管资金1.37亿元，追回资金X万元。")
    parsed = parse_disclosure("关于巡察整改情况的通报", body)
    assert parsed["disclosure"]["money_recovered_yuan"] == 150_000_000 + 3_000_000 + 12_345.5 + 86_000
    assert [o["phrase"] for o in parsed["outcomes"]] == [
        "追回资金1.5亿元", "挽回损失300余万元", "收缴违纪款12,345.5元", "8.6万元已全部清退"]


def test_a_stated_summary_total_stands_for_the_items_details():
    body = ("一、总体情况\n"
            "整改期间，共追回各类资金1560万元，立案审查调查27件，给予党纪政务处分31人。\n"
            "二、巡察反馈问题整改情况\n"
            "1.关于“国有资金管理存在风险”问题\n"
            "整改情况（已完成）：追回违规出借资金560万元，给予2人党纪处分。\n")
    parsed = parse_disclosure("关于巡察整改情况的通报", body)
    assert subset(parsed["disclosure"], {"money_recovered_yuan", "cases_filed", "people_disciplined"}) == {
        "money_recovered_yuan": 15_600_000.0, "cases_filed": 27, "people_disciplined": 31}
    assert [(o["value"], o["counted"]) for o in parsed["outcomes"] if o["kind"] == "money_recovered_yuan"] == [
        (15_600_000.0, True), (5_600_000.0, False)]


def test_a_figure_after_qizhong_is_part_of_the_one_before_not_added_to_it():
    body = ("现将巡察整改情况予以公布。\n"
            "累计退缴违规资金3.6万元，其中个人退缴1.2万元，另清退违规发放的补贴2万元。\n"
            "给予党纪政务处分15人。其中，给予党纪处分3人；问责干部4人，其中组织处理2人。")
    parsed = parse_disclosure("关于巡察整改情况的通报", body)
    assert subset(parsed["disclosure"], {"money_recovered_yuan", "people_disciplined", "people_organisational",
                                         "people_accountable"}) == {
        "money_recovered_yuan": 56_000.0, "people_disciplined": 15, "people_organisational": 2, "people_accountable": 4}
    assert [(o["phrase"], o["counted"]) for o in parsed["outcomes"] if o["kind"] in ("money_recovered_yuan", "people_disciplined")] == [
        ("退缴违规资金3.6万元", True), ("退缴1.2万元", False), ("清退违规发放的补贴2万元", True),
        ("党纪政务处分15人", True), ("党纪处分3人", False)]


def test_people_cases_clues_and_rules():
    body = ("现将巡察整改情况予以公布。\n"
            "对巡察移交的问题线索8件，其中立案4件，给予党纪处分3人、政务处分2人，组织处理3人，问责2人；"
            "对5名责任人员进行组织处理；新建和完善制度17项。")
    disclosure = parse_disclosure("关于巡察整改情况的通报", body)["disclosure"]
    assert subset(disclosure, {"clues_transferred", "cases_filed", "people_disciplined", "people_organisational",
                               "people_accountable", "rules_made"}) == {
        "clues_transferred": 8, "cases_filed": 4, "people_disciplined": 5, "people_organisational": 8,
        "people_accountable": 2, "rules_made": 17}


def test_placeholder_contact_block_and_dates_are_no_values():
    body = ("根据县委统一部署，2021年X月X日至X月X日，县委第X巡察组对县农业农村局党组开展了常规巡察，"
            "并于2021年X月X日反馈了巡察意见。现将巡察整改情况予以公布。\n"
            "联系电话：XXXX-XXXXXXX；通信地址：XX县XX路XX号；邮政编码：XXXXXX；电子邮箱：XXXX@XX.com。")
    disclosure = parse_disclosure("关于巡察整改情况的通报", body)["disclosure"]
    assert disclosure["has_contact_block"] is True and disclosure["is_template"] is True
    assert subset(disclosure, {"contact_phone", "contact_address", "contact_postcode", "contact_email", "team",
                               "inspection_start", "inspection_end", "feedback_date"}) == dict.fromkeys(
        ["contact_phone", "contact_address", "contact_postcode", "contact_email", "team", "inspection_start",
         "inspection_end", "feedback_date"])
    assert disclosure["level"] == "county"  # 县委 is printed; only the team's number is redacted


def test_periods_by_part_of_month_and_month_only_feedback():
    body = ("根据县委统一部署，2023年12月下旬至1月上旬，县委第四巡察组对县城投集团党委开展了常规巡察，"
            "2024年3月，县委第四巡察组向集团党委反馈了巡察意见。现将巡察整改情况予以公布。")
    disclosure = parse_disclosure("", body, "2024-05-10")["disclosure"]
    assert subset(disclosure, {"inspection_start", "inspection_end", "feedback_date", "lag_days"}) == {
        "inspection_start": "2023-12", "inspection_end": "2024-01", "feedback_date": "2024-03", "lag_days": None}


@pytest.mark.parametrize(
    ("line", "status", "status_class", "deadline", "responsible_unit", "text"),
    [
        ("1.关于“甲”问题（已完成，并将长期坚持）", "已完成，并将长期坚持", "completed_long_term", None, None, ""),
        ("1.关于“甲”问题\n【整改中】开展排查。", "整改中", "in_progress", None, None, "开展排查。"),
        ("1.关于“甲”问题\n开展排查。【已整改】", "已整改", "completed", None, None, "开展排查。"),
        ("1.关于“甲”问题\n开展排查。\n整改进度：基本完成。", "基本完成", "basically_completed", None, None, "开展排查。"),
        ("1.关于“甲”问题\n整改措施：开展排查；责任单位：县财政局；整改时限：长期坚持；完成情况：已完成。",
         "已完成", "completed", "长期坚持", "县财政局", "开展排查"),
        ("1.关于“甲”问题\n整改情况：建立台账。（长期坚持）", "长期坚持", "long_term", None, None, "建立台账。"),
        ("1.关于“甲”问题\n整改情况：建立台账。", None, "none", None, None, "建立台账。"),
        ("1 | 甲 | 建立台账 | 县财政局 | 2024年6月底前 | 已完成", "已完成", "completed", "2024年6月底前", "县财政局", "建立台账"),
        # Words of 一览表 status cells: a stage done is not completed; 并长期坚持 is long-term.
        ("1 | 甲 | 建立台账 | 县财政局 | 2024年6月30日 | 已完成并长期坚持", "已完成并长期坚持", "completed_long_term",
         "2024年6月30日", "县财政局", "建立台账"),
        ("1 | 甲 | 引进人才 | 县人社局 | 2024年12月 | 阶段性完成", "阶段性完成", "phase_completed", "2024年12月", "县人社局",
         "引进人才"),
    ],
)
def test_status_forms(line, status, status_class, deadline, responsible_unit, text):
    problem = parse_disclosure("关于巡察整改情况的通报", "现将巡察整改情况予以公布。\n" + line)["problems"][0]
    assert (problem["status"], problem["status_class"], problem["deadline"], problem["responsible_unit"],
            problem["text"]) == (status, status_class, deadline, responsible_unit, text)


def test_village_report_with_marks_is_a_report_not_a_feedback_notice():
    body = ("2024年4月，市委第五巡察组对罗店镇石塘村党支部开展了提级巡察。巡察组指出的问题共2个。\n"
            "1.村务公开不及时。已建立村务公开月度清单。【已整改】\n"
            "2.党员发展把关不严。已重新履行培养考察程序。【已整改】")
    assert classify("", body) == "rectification_report"
    assert classify("石塘村党支部关于市委提级巡察反馈问题整改情况的公示", body) == "rectification_report"


# -- real wordings (issue 20): publication clauses, 阶段性完成, stated totals ----------

OPENING = "根据区委统一部署，2024年3月至5月，区委第二巡察组对区交通运输局党组进行了常规巡察，并于2024年6月12日反馈了巡察意见。"


@pytest.mark.parametrize("clause", [
    "现将巡察整改进展情况报告如下：",
    "现将整改进展情况报告如下：",
    "现根据规定将巡察整改进展情况予以公布。",
    "现将巡察整治情况予以公布。",
    "按照有关要求，将巡察整改进展情况予以通报。",
    "现将整改进展情况向社会公开，接受干部群众监督。",
])
def test_every_publication_clause_makes_a_report(clause):
    body = OPENING + clause + "\n截至目前，反馈的12个问题已完成整改10个，正在推进2个。"
    assert classify("", body) == "rectification_report"
    parsed = parse_disclosure("", body, "2024-09-01")
    assert (parsed["disclosure"]["team"], parsed["disclosure"]["problems_stated"]) == ("区委第二巡察组", 12)


def test_news_and_a_round_summary_with_a_publication_clause_are_no_report():
    # A round's progress for forty units at once is a summary; news that mentions publication is news.
    summary = ("2022年1月27日，区委4个巡察组向40家被巡察单位党组织全面反馈巡察情况。\n"
               "按照规定，现将整改进展情况向社会公开，接受干部群众监督。")
    assert classify("", summary) == "round_summary"
    news = "20日起，中央纪委国家监委网站向社会公布十九届中央第五轮巡视整改进展情况，接受干部群众监督。"
    assert classify("十九届中央第五轮巡视整改进展情况开始公布", news) != "rectification_report"


def test_phase_completed_is_its_own_class_and_never_counted_completed():
    body = (OPENING + "现将整改进展情况予以公布。\n截至目前，反馈的35个问题，整改完成28个，阶段性完成7个。\n"
            "1.关于“项目管理不规范”问题（阶段性完成）\n开展专项清理。\n2.关于“制度执行不严”问题（已完成）\n修订制度3项。")
    disclosure = parse_disclosure("", body, "2024-09-01")["disclosure"]
    assert subset(disclosure, {"problems_total", "problems_completed", "problems_phase_completed", "status_source"}) == {
        "problems_total": 35, "problems_completed": 28, "problems_phase_completed": 7, "status_source": "stated"}
    problems = parse_disclosure("", body, "2024-09-01")["problems"]
    assert [(p["status"], p["status_class"]) for p in problems] == [("阶段性完成", "phase_completed"), ("已完成", "completed")]
    # "已完成阶段性任务" stays in progress, "基本完成" basically completed.
    assert [status_class(s) for s in ("已完成阶段性任务", "基本完成", "阶段性完成整改")] == [
        "in_progress", "basically_completed", "phase_completed"]


@pytest.mark.parametrize("sentence, total", [
    ("省委巡视组反馈的6个方面18个突出问题，已完成整改15个。", 18),
    ("将反馈意见细化成39个具体问题，逐项明确责任。", 39),
    ("制定整改方案，对应34个具体问题清单，目前已全部完成整改。", 34),
    # 4个大方面 groups the problems: it is never their count
    ("区委巡察组共反馈问题4个大方面26个大项的问题，梳理分解整改任务106个。", 26),
    ("反馈问题共12个，已全部完成整改。", 12),
])
def test_stated_totals_in_other_wordings(sentence, total):
    disclosure = parse_disclosure("", OPENING + "现将整改进展情况予以公布。\n" + sentence, "2024-09-01")["disclosure"]
    assert disclosure["problems_stated"] == total


def test_status_counts_in_more_wordings_and_never_of_the_tasks():
    # 已经整改到位 is completed; counts above the stated total are the tasks' (整改任务106个).
    body = OPENING + "现将整改进展情况予以公布。\n其中的13个问题已经整改到位，还有3个问题正在整改之中。"
    disclosure = parse_disclosure("", body, "2024-09-01")["disclosure"]
    assert (disclosure["problems_completed"], disclosure["problems_in_progress"]) == (13, 3)
    body = (OPENING + "现将整改进展情况予以公布。\n区委巡察组共反馈问题26个，"
            "党委将巡察组反馈问题梳理分解整改任务106个，已完成整改98个。")
    disclosure = parse_disclosure("", body, "2024-09-01")["disclosure"]
    assert (disclosure["problems_stated"], disclosure["problems_completed"], disclosure["status_source"]) == (26, None, None)


@pytest.mark.parametrize("opening, published_at, feedback", [
    ("9月11日，市委第四巡察组向市交通运输局党组反馈了巡察意见。", "2024-12-20T10:00:00+08:00", "2024-09-11"),
    # After a publication in March, a September feedback was the year before.
    ("9月11日，市委第四巡察组向市交通运输局党组反馈了巡察意见。", "2025-03-02", "2024-09-11"),
    ("2024年10月至12月，市委第二巡察组对市交通运输局党组进行了巡察，并于1月17日进行了反馈。", "2025-06-01", "2025-01-17"),
    ("市委第二巡察组于2024年10月至12月对市交通运输局党组进行了巡察，并于2025年1月17日进行了反馈。", None, "2025-01-17"),
])
def test_feedback_dates_without_their_year_take_it_from_the_inspection_or_publication(opening, published_at, feedback):
    parsed = parse_disclosure("", opening + "现将巡察整改进展情况予以公布。", published_at)
    assert parsed["disclosure"]["feedback_date"] == feedback


@pytest.mark.parametrize("title, opening, unit, unit_type", [
    ("中共交通运输部党组关于巡视整改进展情况的通报",
     "根据中央统一部署，中央第三巡视组对交通运输部党组(以下简称部党组)进行了常规巡视。", "交通运输部", "中央和国家机关"),
    ("", "根据省委统一部署，省委第五巡视组对省卫(wèi)生健康委党组进行了常规巡视。", "省卫生健康委", "部门"),
    ("中共株洲市卫生健康委员会党组关于巡察整改情况的通报",
     "根据市委统一部署，市委第二巡察组对株洲市卫生健康委员会进行了巡察。", "株洲市卫生健康委员会", "部门"),
    # The inspected field is no unit: the title's issuer is.
    ("中共丹阳市外包服务中心党委关于巡察整改情况的通报",
     "根据市委统一部署，市委第一巡察组对全市民生领域外包服务开展了专项巡察。", "丹阳市外包服务中心", "部门"),
    # A column label before the title (【通报】) is not part of the issuer's name.
    ("【通报】中共许昌市教育局党组关于巡察整改情况的通报",
     "市委第三巡察组对市教育局党组开展了常规巡察。", "许昌市教育局", "部门"),
    # 委员会 after a place or a body is its party committee.
    ("中国共产党建德市大同镇委员会关于巡察整改情况的通报",
     "根据市委统一部署，市委第二巡察组对大同镇委员会进行了巡察。", "建德市大同镇", "乡镇"),
])
def test_unit_without_asides_and_never_the_inspected_field(title, opening, unit, unit_type):
    disclosure = parse_disclosure(title, opening + "现将巡视整改进展情况予以公布。", "2024-01-01")["disclosure"]
    assert (disclosure["unit"], disclosure["unit_type"]) == (unit, unit_type)


def test_term_and_round_stated_after_the_opening_and_rules_counted_before_制度():
    body = (OPENING + "现将巡察整改进展情况予以公布。\n我们坚持落实八届市委第一轮巡察反馈意见，"
            "先后制定、完善31项制度。")
    disclosure = parse_disclosure("", body, "2024-09-01")["disclosure"]
    assert (disclosure["term"], disclosure["round"], disclosure["rules_made"]) == (8, 1, 31)


def test_entry_notices_in_their_real_wordings():
    body = ("按照县委统一部署，十七届县委第六轮巡察共组建6个巡察组对西川镇党委开展巡察。"
            "县委巡察组受理信访举报时间截止到2024年12月10日。")
    assert classify("", body) == "entry_notice"
    assert classify("巡 察 公 告", "六届市委第九轮巡察派出6个巡察组对市委办公室开展常规巡察。") == "entry_notice"
