"""Each boilerplate rule: what it removes, what it must keep, what it captures.

A case is (rule, input, paragraphs left, metadata captured).  The KEEP cases
are lines that look like boilerplate but are document text.
"""

import lxml.html
import pytest

from pipelines.boilerplate import DOM_RULES, INLINE_RULES, LINE_RULES
from pipelines.clean import clean
from pipelines.extract import Extracted

BODY = "巡察组对县林业局党组开展了常规巡察。"

TEXT_CASES = [
    ("paid_template_spam", ["仅供学习 禁止外传", "会员群：          免费QQ群：", BODY], [BODY], {}),
    ("site_welcome", ["• 欢迎来到乡镇时评网!", BODY], [BODY], {"publisher": "乡镇时评网"}),
    ("breadcrumb", ["当前所在: 首页>>党建工作", BODY], [BODY], {"breadcrumb": "首页>>党建工作"}),
    ("breadcrumb", ["首页 > 要闻 > 巡视巡察", BODY], [BODY], {"breadcrumb": "首页 > 要闻 > 巡视巡察"}),
    (
        "page_meta_line",
        ["2020-11-12 作者:佚名 来源: 七一网", BODY],
        [BODY],
        {"page_date": "2020-11-12", "declared_author": "佚名", "declared_source": "七一网"},
    ),
    (
        "byline_paragraph",
        ["中央纪委国家监委网站 王卓", BODY],
        [BODY],
        {"byline_source": "中央纪委国家监委网站", "byline_author": "王卓"},
    ),
    ("editor_tag", [BODY, "责任编辑：梁斌 SF055"], [BODY], {"editor": "梁斌 SF055"}),
    ("editor_tag", [BODY, "(责编：汤诗瑶、丁涛)"], [BODY], {"editor": "汤诗瑶、丁涛"}),
    ("editor_tag", [BODY, "【编辑:王永吉】"], [BODY], {"editor": "王永吉"}),
    ("qr_app_text", [BODY, "海量资讯、精准解读，尽在新浪财经APP"], [BODY], {}),
    ("qr_app_text", [BODY, "扫描二维码关注清风微信公众号"], [BODY], {}),
    (
        "original_link",
        [BODY, "原文链接:https://www.12371.gov.cn/Item/566092.aspx"],
        [BODY],
        {"original_url": "https://www.12371.gov.cn/Item/566092.aspx"},
    ),
    ("prev_next", [BODY, "上一篇: 铁纪护航 颗粒归仓", "下一篇：某某会议召开"], [BODY], {}),
    ("disclaimer", [BODY, "本站部分信息由相应民事主体自行提供,该信息内容的真实性由该民事主体负责。"], [BODY], {}),
    ("site_sponsor", [BODY, "北京某某研究院主办 | 政讯通-政务信息一体化办公室 主管"], [BODY], {}),
    ("icp_number", [BODY, "京ICP备11019690号-100"], [BODY], {}),
    ("copyright", [BODY, "乡镇时评网 xzspw.org.cn 版权所有。"], [BODY], {}),
    (
        "site_contact_footer",
        [BODY, "联系电话:010-56019387,违法和不良信息举报电话:010-57028685", "邮箱: a@b.cn 客服QQ : 2909421493"],
        [BODY],
        {},
    ),
    ("page_tools", [BODY, "【字号：大 中 小】", "打印本页", "关闭窗口"], [BODY], {}),
    ("css_leftover", [BODY, ".appendQr_wrap{border:1px solid #E6E6E6;padding:8px;}"], [BODY], {}),
    (
        "dateline",
        ["中国共产党新闻网北京10月16日电   (扶婧颖)据中央纪委国家监委网站消息,截至10月14日,巡视全面展开。"],
        ["据中央纪委国家监委网站消息,截至10月14日,巡视全面展开。"],
        {"byline_source": "中国共产党新闻网", "byline_author": "扶婧颖", "dateline_month": "10", "dateline_day": "16"},
    ),
    (
        "dateline",
        ["本报北京4月20日电 （记者张洋）4月20日，中央巡视组反馈情况。"],
        ["4月20日，中央巡视组反馈情况。"],
        {"byline_source": "本报", "byline_author": "张洋"},
    ),
    (
        "reporter_parenthetical",
        ["以强有力的监督切实推动巡视整改落地落实。（通讯员 何清平）"],
        ["以强有力的监督切实推动巡视整改落地落实。"],
        {"byline_author": "何清平"},
    ),
    ("html_comment_text", ["巡察整改<!-- 正文下iframe -->情况"], ["巡察整改情况"], {}),
]

KEEP_CASES = [
    # A disclosure's own contact block is text, even though it names phone and e-mail.
    "欢迎广大干部群众对巡察整改落实情况进行监督。如有意见建议，请及时向我们反映。联系电话：XX；通信地址：XX；邮政编码：XX；电子邮箱：XXX。",
    "联系电话：0571-87654321；通信地址：杭州市某路1号；邮政编码：310000；电子邮箱：xczg@example.gov.cn。",
    # An entry notice's duty phone and mailbox are its substance.
    "巡察期间设立值班电话：0791-1234567，邮政信箱：南昌市A001号邮政信箱。",
    # Redacted placeholders stay.
    "对X名相关责任人进行严肃处理，共清退返还金额X元。",
    # Headings and sentences that merely contain rule words.
    "二、压实主体责任，强化主管部门监管",
    "会议由市委巡察办主办，各巡察组组长参加。",
    "整改情况（已完成，并将长期坚持）：修订完善工作规则。",
    "欢迎广大干部群众对巡视整改落实情况进行监督。",
    "（一）关于“编辑出版管理不规范”问题",
]


def clean_lines(lines):
    return clean(Extracted(format="text", lines=list(lines), meta={"page_title": "某标题"}))


@pytest.mark.parametrize("rule, lines, expected, captured", TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
def test_text_rule_removes_and_captures(rule, lines, expected, captured):
    result = clean_lines(lines)
    assert result.paragraphs == expected
    assert rule in result.rules_fired
    for key, value in captured.items():
        assert result.meta[key] == value


@pytest.mark.parametrize("line", KEEP_CASES)
def test_document_text_is_kept(line):
    result = clean_lines([line])
    assert result.paragraphs == [line]
    assert result.rules_fired == []


DOM_CASES = [
    ("html_comment", "<p>正文第一段。</p><!-- news_keyword_pub,stock, --><p>正文第二段。</p>"),
    ("style_script", "<style>.a&#123;border:1px&#125;</style><p>正文第一段。</p><script>var x=1;</script><p>正文第二段。</p>"),
    (
        "qr_app_block",
        '<p>正文第一段。</p><div class="clearfix appendQr_wrap"><div class="appendQr_normal"><img src="q.png"></div>'
        '<div class="appendQr_normal_txt">海量资讯</div></div><p>正文第二段。</p>',
    ),
    ("embedded_ads", '<p>正文第一段。</p><ins class="sinaads">广告位</ins><iframe src="x"></iframe><p>正文第二段。</p>'),
]


@pytest.mark.parametrize("rule, html", DOM_CASES, ids=[c[0] for c in DOM_CASES])
def test_dom_rule_removes_elements_and_keeps_text_around(rule, html):
    tree = lxml.html.fragment_fromstring(html, create_parent="div")
    result = clean(Extracted(format="html", tree=tree))
    assert result.paragraphs == ["正文第一段。", "正文第二段。"]
    assert result.rules_fired == [rule]


def test_removed_element_keeps_its_tail_text():
    tree = lxml.html.fragment_fromstring("<p>前文<!-- 注释 -->后文</p>", create_parent="div")
    assert clean(Extracted(format="html", tree=tree)).paragraphs == ["前文后文"]


def test_every_rule_has_a_test_case():
    tested = {c[0] for c in TEXT_CASES} | {c[0] for c in DOM_CASES}
    defined = {r.name for r in (*DOM_RULES, *LINE_RULES, *INLINE_RULES)}
    assert defined == tested


def test_every_rule_is_documented():
    for rule in (*DOM_RULES, *LINE_RULES, *INLINE_RULES):
        assert len(rule.doc) > 20, rule.name


def test_title_copy_and_headline_move_out_of_the_body():
    result = clean(
        Extracted(
            format="text",
            lines=["加强巡视整改 推动高质量发展", "主要负责人就《意见》答记者问", "问：请介绍背景。"],
            meta={"fm_title": "主要负责人就《意见》答记者问"},
        )
    )
    assert result.paragraphs == ["问：请介绍背景。"]
    assert result.meta["headline"] == "加强巡视整改 推动高质量发展"
    assert result.rules_fired == ["headline", "repeated_title"]
