"""Whole records from fixture documents: one per input shape and boilerplate family."""

import json
from pathlib import Path

import pytest

from archive.importer import raw_document_for
from pipelines import process

FIXTURES = Path(__file__).parent / "fixtures" / "documents"


def record(name):
    result = process(raw_document_for(FIXTURES / name))
    assert result.failure is None, result.failure
    return result.document


def test_sina_republish_front_matter():
    doc = record("sina_republish.md")
    assert doc["title"] == "二十届中央第二轮巡视整改进展情况综述"
    # GMT in the front matter, converted to Beijing time (the next calendar day).
    assert doc["published_at"] == "2024-05-15T07:30:05+08:00"
    assert (doc["source"], doc["author"]) == ("中央纪委国家监委网站", "李明远")
    assert (doc["editor"], doc["editor_code"]) == ("王海", "SF012")
    assert doc["publisher"] == "新浪财经"
    assert json.loads(doc["categories"]) == ["金融", "新浪财经", "新浪财经－国內"]
    assert doc["body_text"].split("\n")[0].startswith("5月14日，中国贸促会等3个单位")
    assert len(doc["body_text"].split("\n")) == 3
    for leak in ("李明远", "责任编辑", "SF012", "海量资讯", "appendQr", "news_keyword_pub", "998877665.png", "{"):
        assert leak not in doc["body_text"]
    assert json.loads(doc["boilerplate_rules"]) == [
        "html_comment", "style_script", "qr_app_block", "byline_paragraph", "editor_tag",
    ]


def test_aggregator_text_dump():
    doc = record("aggregator_dump.txt")
    assert doc["title"] == "市委巡察组完成对12家单位的进驻"
    assert doc["published_at"] == "2023-06-02"
    assert (doc["source"], doc["author"]) == ("中国共产党新闻网", "周晓峰")
    assert (doc["declared_source"], doc["declared_author"]) == ("廉政在线", "佚名")
    assert doc["original_url"] == "https://www.example-party.cn/Item/778899.aspx"
    assert doc["original_published_at"] == "2023-05-30"
    assert doc["publisher"] == "清风时评网"
    assert json.loads(doc["categories"]) == ["巡视巡察"]
    assert doc["editor"] is None
    assert doc["body_text"] == (
        "据市纪委监委网站消息,截至5月29日,市委第三轮巡察各巡察组已完成对12家市直单位的进驻。\n"
        "本轮巡察聚焦“四风”问题和群众身边的不正之风，巡察期间设立值班电话和专门邮箱。\n"
        "据悉，巡察组将在进驻期间受理反映被巡察单位领导班子及其成员问题的来信来电来访。"
    )


def test_template_report_keeps_contact_block_and_placeholders():
    doc = record("template_report.txt")
    assert doc["title"] == "关于巡察整改进展情况的通报"
    assert doc["published_at"] is None  # 2021年X月X日 is redacted, not a date
    assert doc["doc_type"] == "rectification_report"
    body = doc["body_text"]
    assert "仅供学习" not in body and "会员群" not in body and "订阅" not in body
    assert body.endswith("联系电话：XX；通信地址：XX；邮政编码：XX；电子邮箱：XXX。")
    assert "2021年X月X日至X月X日" in body


def test_unknown_site_is_read_by_the_generic_extractor():
    doc = record("unknown_site.html")
    assert doc["extractor"] == "generic"
    assert doc["title"] == "县纪委监委召开巡察整改推进会"
    assert doc["published_at"] == "2023-03-08T10:15:00+08:00"
    # The site's name after the title in <title>: the page's own publisher.
    assert doc["publisher"] == "某县廉政网"
    assert doc["body_text"].startswith("3月7日，县纪委监委召开巡察整改推进会")
    assert doc["body_text"].endswith("其余14个正在推进。")
    assert "版权所有" not in doc["body_text"] and "首页" not in doc["body_text"]


@pytest.mark.parametrize(
    "body, kind",
    [(b"", "empty"), (b"   \n\t", "empty"), (b"\x00\x01\x02PNG binary", "binary")],
)
def test_unusable_input_is_a_recorded_failure(body, kind):
    from pipelines import RawDocument

    result = process(RawDocument(url="file:///tmp/x.txt", body=body))
    assert result.document is None
    assert (result.failure.stage, result.failure.kind) == ("extract", kind)


def test_boilerplate_only_page_is_not_a_document():
    from pipelines import RawDocument

    page = "京ICP备12345678号\n上一篇: 某某\n清风网 版权所有".encode()
    result = process(RawDocument(url="file:///tmp/footer.txt", body=page))
    assert (result.failure.stage, result.failure.kind) == ("clean", "boilerplate_only")


def dump(text: str) -> dict:
    from pipelines import RawDocument

    result = process(RawDocument(url="file:///import/page.txt", body=text.encode("utf-8")))
    assert result.failure is None, result.failure
    return result.document


def test_a_dump_dated_day_first_or_on_its_title_line_gets_its_date_and_outlet():
    body = "1月28日上午,省十三届人大三次会议召开首场新闻发布会。"
    doc = dump(f"省十三届人大三次会议举行首场新闻发布会\n\n29.01.2019  17:22\n\n{body}\n")
    assert (doc["title"], doc["published_at"], doc["body_text"]) == (
        "省十三届人大三次会议举行首场新闻发布会", "2019-01-29T17:22:00+08:00", body)
    doc = dump(f"|\n肩負人民的囑托和期望……http://www.sina.com.cn 2008年03月06日 07:25 經濟參考報\n{body}\n")
    assert (doc["title"], doc["published_at"], doc["source"]) == (
        "肩負人民的囑托和期望……", "2008-03-06T07:25:00+08:00", "經濟參考報")
    # A placeholder writer (作者:admin) is no author.
    doc = dump(f"乡村之美丨“千万工程”二十年\n作者:admin    发布于:2023-11-11 13:53\n{body}\n")
    assert (doc["published_at"], doc["author"]) == ("2023-11-11T13:53:00+08:00", None)


def test_names_run_together_with_roles_are_names_apart():
    doc = dump("四届市委第六轮巡察工作正式启动\n本报讯(记者马开良见习记者韩筱蓓)9月27日,四届市委第六轮巡察工作正式启动。\n")
    assert doc["author"] == "马开良、韩筱蓓"


def test_a_traditional_copys_own_paper_is_no_source():
    doc = dump("【本報綜合報道】十九屆中央第四輪巡視已陸續展開,將對卅七個中央和國家機關部門開展常規巡視。\n")
    assert doc["source"] is None
    assert doc["body_text"].startswith("十九屆中央第四輪巡視")


def test_an_e_papers_dated_line_is_its_issue_a_portals_is_today():
    body = "本报讯 记者姜明助报道:连日来,嘉鱼县组织县直、乡镇两级巡查组开展交叉巡查。"
    doc = dump(f"2018年1月25日 星期\n嘉鱼开展交叉巡查\n{body}\n第02版:综合新闻 上一版3  4下一版\n")
    assert (doc["title"], doc["published_at"], doc["author"]) == ("嘉鱼开展交叉巡查", "2018-01-25", "姜明助")
    doc = dump(f"2024年3月15日 星期五\n嘉鱼开展交叉巡查\n{body}\n")
    assert doc["published_at"] is None
