"""The generic reader for Chinese CMS pages (pipelines/generic.py) and the
labelled metadata lines it and the clean stage read (pipelines/metalines.py)."""

from __future__ import annotations

import pytest

from bench.scoring import han_f1
from crawler.mirror import SITES_DIR
from pipelines import RawDocument, metalines, process
from tests.test_own_publisher import PAGES

# -- metadata lines -------------------------------------------------------------------------

META_LINES = [
    ("发布时间：2023-09-15 16:20 来源：中共青岚县委办公室 浏览次数： 字号：大 中 小",
     {"published": "2023-09-15 16:20", "source": "中共青岚县委办公室"}),
    ("来源：北京市纪委市监委网站 | 2021-08-06 20:10", {"source": "北京市纪委市监委网站", "published": "2021-08-06 20:10"}),
    ("时间: 2023-09-18 09:12 来源: 青岚县人民政府网 作者: 佚名 点击: 次",
     {"published": "2023-09-18 09:12", "source": "青岚县人民政府网", "author": "佚名"}),
    ("2024年09月30日05:51 | 来源：人民网-人民日报", {"published": "2024年09月30日05:51", "source": "人民网-人民日报"}),
    ("【发布日期：2023-11-22】【来源：江淮省交通运输厅】【字号：大 中 小】", {"published": "2023-11-22", "source": "江淮省交通运输厅"}),
    ("2023-11-10 09:35:21 来源：区纪委监委 评论： 0 点击:", {"published": "2023-11-10 09:35:21", "source": "区纪委监委"}),
    ("来源：中央纪委国家监委网站 2021年10月23日 09:05", {"source": "中央纪委国家监委网站", "published": "2021年10月23日 09:05"}),
    ("记者：文川　通讯员：杨柳", {"author": "文川、杨柳"}),
    ("记者 王生霞 通讯员 杨生军", {"byline": "王生霞 通讯员 杨生军"}),
    ("澎湃新闻记者 邹卫", {"byline": "邹卫", "outlet": "澎湃新闻"}),
    ("本刊记者  韩冰", {"byline": "韩冰", "outlet": "本刊"}),
    ("（编辑：吴桐　审核：冯远）", {"editor": "吴桐"}),
    ("【纠错】 责任编辑： 王雅楠", {"editor": "王雅楠"}),
    ("分享到：微信 微博 QQ空间", {}),
    ("上传时间：2023-11-07  浏览次数：1024  下载次数：35", {"published": "2023-11-07"}),
    ("2015-03-12 10:20:33　来源：云溪日报　作者：卢瑶　[字号 大 中 小]",
     {"published": "2015-03-12 10:20:33", "source": "云溪日报", "author": "卢瑶"}),
    ("青州新闻网 2023年6月12日 08:15 记者 严明", {"published": "2023年6月12日 08:15", "byline": "严明", "outlet": "青州新闻网"}),
    # Real forms (bench/real_pages): a counter word without its colon, labels left empty, 刊发日期.
    ("发表日期:2011-02-12 点击", {"published": "2011-02-12"}),
    ("文章来源: 文章作者: 发布时间:2007-06-09 01:14 字体: [ ]  进入论坛", {"published": "2007-06-09 01:14"}),
    ("刊发日期:2011-12-08 阅读次数: 作者:  语音阅读:", {"published": "2011-12-08"}),
    ("发布时间:2010年03月07日 16:09 | 进入复兴论坛 | 来源:人民网", {"published": "2010年03月07日 16:09", "source": "人民网"}),
    ("2005-04-27 14:32更新 来源:新华网", {"published": "2005-04-27 14:32", "source": "新华网"}),
    ("- 发布时间:2014-10-11 05:38:46 来源:经济日报 责任编辑:罗伯特",
     {"published": "2014-10-11 05:38:46", "source": "经济日报", "editor": "罗伯特"}),
    ("作者:admin    发布于:2023-11-11 13:53", {"author": "admin", "published": "2023-11-11 13:53"}),
    ("www.folksfolks.com 2012-03-12 16:59  田兴春 来源:人民网 我来说两句",
     {"published": "2012-03-12 16:59", "byline": "田兴春", "source": "人民网"}),
    ("时间:2019年06月17日 点击次数:28596", {"published": "2019年06月17日"}),
    ("时间:2022-08-26 百科知识 版权反馈", {"published": "2022-08-26"}),
]

NOT_META_LINES = [
    "巡察时间：2023年4月10日至6月10日",
    "时间：2024年3月11日至5月10日",
    "联系电话：0571-87654321；通信地址：杭州市某路1号",
    "今天是：2023年9月20日 星期三",
    "2024年3月11日",
    "整改情况（已完成，并将长期坚持）：修订完善工作规则。",
    "发布机构： 区财政局 发文日期： 2023-03-20",
    "（一）关于落实主体责任不到位的问题",
    "来源：关于加强巡察整改工作的意见。全文如下",
    "云溪日报 2023年5月6日",
    # A word after a notice's date, with no page tool after it, is the notice's text.
    "时间：2024年3月11日 全天",
]


@pytest.mark.parametrize("line, expected", META_LINES, ids=[m[0][:12] for m in META_LINES])
def test_metadata_line_fields(line, expected):
    found = metalines.parse(line)
    assert found is not None
    assert found.values(line) == expected


@pytest.mark.parametrize("line", NOT_META_LINES)
def test_body_lines_with_labels_are_not_metadata(line):
    assert metalines.parse(line) is None


def test_a_date_line_may_put_the_day_first_and_glue_a_view_counter():
    assert metalines.date_line("29.01.2019  17:22") == {"page_date": "29.01.2019  17:22"}
    assert metalines.date_line("2022/6/29 4:50:15发布97次查看") == {"page_date": "2022/6/29 4:50:15"}
    # A version number or a sentence with a count is no date line.
    assert metalines.date_line("巡察组共发放问卷97次查看") is None
    assert metalines.date_line("v2.0.1 发布") is None


# -- whole pages ----------------------------------------------------------------------------


def page(head: str, body: str) -> bytes:
    return f'<!DOCTYPE html><html><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'.encode()


PARAGRAPHS = [
    "县委第二巡察组对县住房和城乡建设局党组开展了常规巡察，并反馈了巡察意见。",
    "县住房和城乡建设局党组把巡察整改作为重大政治任务，制定整改方案，明确整改时限和责任人。",
    "截至目前，反馈的14个问题已完成整改12个，其余2个正在持续推进。",
]
ARTICLE = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
NAV = '<div class="nav"><a href="/">首页</a><a href="/a/">工作动态</a><a href="/b/">巡察工作</a><a href="/c/">通知公告</a></div>'
FOOT = '<div class="footer">主办：某县人民政府办公室 地址：某县滨河路1号 电话：0791-6621000 赣ICP备05004512号</div>'


def read(html: bytes, url: str = "https://www.example-county.gov.cn/zwgk/202309/t20230915_1043521.html") -> dict:
    result = process(RawDocument(url=url, body=html, content_type="text/html"))
    assert result.failure is None, result.failure
    assert result.document["extractor"] == "generic"
    return result.document


@pytest.mark.parametrize(
    "head, heading, title, publisher",
    [
        ("<title>县住建局巡察整改情况_通知公告_某县人民政府</title>", "<h1>县住建局巡察整改情况</h1>", "县住建局巡察整改情况", "某县人民政府"),
        ("<title>某县人民政府 县住建局巡察整改情况</title>", '<td class="title">县住建局巡察整改情况</td>', "县住建局巡察整改情况", "某县人民政府"),
        ("<title>县住建局巡察整改情况--中国纪检监察杂志</title>",
         '<div class="tit"><p>县住建局巡察整改情况</p><p>本刊记者 韩冰</p></div>', "县住建局巡察整改情况", "中国纪检监察杂志"),
        # The site's logo is a heading too; the article's is the longer one <title> carries.
        ('<title>县住建局巡察整改情况_巡视巡察_清风文苑网</title>',
         '<div class="logo"><h1><a href="/">清风文苑网</a></h1></div><div class="title"><h2>县住建局巡察整改情况</h2></div>',
         "县住建局巡察整改情况", "清风文苑网"),
        # PHPCMS prints date and source inside the <h1>.
        ("<title>县住建局巡察整改情况 - 工作动态 - 清风临塘</title>",
         "<h1>县住建局巡察整改情况<br /><span>2023-11-10 09:35:21 来源：区纪委监委 评论：0 点击:</span></h1>",
         "县住建局巡察整改情况", "清风临塘"),
        # <title> without the article's title: the heading just above the body.
        ('<meta name="SiteName" content="某县纪委监委"><title>评论——某县纪委监委</title>',
         '<div class="logo">某县纪委监委</div><h2 class="tit">县住建局巡察整改情况</h2>', "县住建局巡察整改情况", "某县纪委监委"),
    ],
)
def test_title_is_reconciled_and_the_site_name_is_the_publisher(head, heading, title, publisher):
    doc = read(page(head, NAV + heading + ARTICLE + FOOT))
    assert (doc["title"], doc["publisher"]) == (title, publisher)
    assert doc["body_text"].startswith("县委第二巡察组") and doc["body_text"].endswith("正在持续推进。")


def test_article_title_meta_loses_its_markup_and_a_title_keeps_its_own_dash():
    # A CMS wrote the headline's markup into ArticleTitle; no heading element repeats the title.
    head = ('<meta name="ArticleTitle" content="&lt;div&gt;&lt;p&gt;&lt;span&gt;县住建局巡察整改情况&lt;/span&gt;&lt;/p&gt;&lt;/div&gt;">'
            "<title>县住建局巡察整改情况_某县人民政府</title>")
    assert read(page(head, NAV + ARTICLE + FOOT))["title"] == "县住建局巡察整改情况"
    # Only the site's and column's names are cut from <title>: the title's own dash stays.
    head = "<title>从严治党——县住建局巡察整改情况_通知公告_某县人民政府</title>"
    assert read(page(head, NAV + ARTICLE + FOOT))["title"] == "从严治党——县住建局巡察整改情况"


def test_a_json_ld_date_is_read_when_the_page_prints_none():
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "县住建局巡察整改情况",'
            ' "datePublished": "2023-09-15T16:20:00+08:00"}</script><title>县住建局巡察整改情况_某县人民政府</title>')
    doc = read(page(head, NAV + "<h1>县住建局巡察整改情况</h1>" + ARTICLE + FOOT), url="https://www.example-county.gov.cn/zwgk/a/1043521.html")
    assert doc["published_at"] == "2023-09-15T16:20:00+08:00"


def test_info_line_gives_date_source_author_editor_and_furniture_goes():
    info = '<div class="info">发布时间：2023-09-15 16:20　来源：县委巡察办　作者：郑伟　编辑：林夕　审核：黄蓉　浏览量：356</div>'
    doc = read(page("<title>县住建局巡察整改情况-某县廉政网</title>", NAV + "<h1>县住建局巡察整改情况</h1>" + info + ARTICLE + FOOT))
    assert (doc["published_at"], doc["source"], doc["author"], doc["editor"]) == (
        "2023-09-15T16:20:00+08:00", "县委巡察办", "郑伟", "林夕",
    )
    assert "黄蓉" not in doc["body_text"] and "浏览量" not in doc["body_text"] and "ICP" not in doc["body_text"]


def test_an_info_line_above_the_title_is_read_too():
    info = '<div class="info">2023-05-06 10:00 来源：县委巡察办</div>'
    doc = read(page("<title>县住建局巡察整改情况_某县人民政府</title>", NAV + info + "<h1>县住建局巡察整改情况</h1>" + ARTICLE))
    assert (doc["published_at"], doc["source"]) == ("2023-05-06T10:00:00+08:00", "县委巡察办")


def test_reporter_and_correspondent_are_roles_and_the_meta_tag_adds_the_time():
    info = '<p class="info">日期：2023-09-15　记者 王生霞 通讯员 杨生军</p>'
    head = '<title>县住建局巡察整改情况</title><meta name="PubDate" content="2023-09-15 16:20">'
    doc = read(page(head, "<h1>县住建局巡察整改情况</h1>" + info + ARTICLE))
    assert doc["author"] == "王生霞、杨生军"
    assert doc["published_at"] == "2023-09-15T16:20:00+08:00"


def test_a_page_that_gives_no_date_has_the_day_of_its_cms_url_or_none():
    html = page("<title>县住建局巡察整改情况</title>", "<h1>县住建局巡察整改情况</h1>" + ARTICLE)
    assert read(html)["published_at"] == "2023-09-15"
    assert read(html, url="https://www.example-county.gov.cn/show.asp?id=3387")["published_at"] is None


def test_hidden_spam_and_share_blocks_inside_the_article_go():
    article = ARTICLE.replace(
        "</p>", '</p><div style="display:none"><a href="http://casino.example/">澳门博彩娱乐平台</a></div>', 1
    ) + '<div class="bdsharebuttonbox">分享到：<a>微信</a></div>'
    doc = read(page("<title>县住建局巡察整改情况</title>", "<h1>县住建局巡察整改情况</h1>" + f"<div id='zoom'>{article}</div>"))
    assert "博彩" not in doc["body_text"] and "分享" not in doc["body_text"]
    assert doc["body_text"].count("\n") == 2


def test_sentence_text_in_a_sidebar_is_not_the_article():
    news = "".join(
        f"<li><p>全市纪检监察机关第{n}季度工作会议召开，会议总结工作成效，部署下一阶段重点任务，要求各单位抓好落实。</p></li>"
        for n in range(1, 7)
    )
    html = page(
        "<title>县住建局巡察整改情况_某县</title>",
        f"<div class='main'><div class='left'><h1>县住建局巡察整改情况</h1><div class='con'>{ARTICLE}</div></div>"
        f"<div class='sidebar'><h3>最新动态</h3><ul>{news}</ul></div></div>",
    )
    assert read(html)["body_text"].split("\n") == PARAGRAPHS


def test_a_cms_family_container_wins_over_a_longer_unmarked_block():
    notes = "".join(f"<p>第{n}条：各单位要对照问题清单逐项整改，整改情况按规定向社会公开，接受群众监督。</p>" for n in range(1, 5))
    html = page(
        "<title>县住建局巡察整改情况</title>",
        f"<h1>县住建局巡察整改情况</h1><div class='TRS_Editor'>{ARTICLE}</div><div class='notes'>{notes}</div>",
    )
    assert read(html)["body_text"].split("\n") == PARAGRAPHS


# Where the generic reader cannot match a profile's selectors, and why.
DISAGREE = {
    "finance.sina.com.cn/roll/2021-10-28/doc-iktzqtyu4156271.shtml":
        "a one-line promotion above the short article's container is taken with it (F1 0.93)",
}


@pytest.mark.parametrize("name, file", PAGES, ids=[str(f.relative_to(SITES_DIR)) for _, f in PAGES])
def test_the_generic_reader_agrees_with_each_profiles_template(name, file):
    """Every mirrored article read twice: by its profile, and as a page of an unknown host."""
    path = str(file.relative_to(SITES_DIR))
    body = file.read_bytes()
    by_profile = process(RawDocument(url=f"http://{path}", body=body, content_type="text/html")).document
    generic = process(RawDocument(url=f"http://www.unknown-host.example/{file.name}", body=body, content_type="text/html")).document
    assert generic["extractor"] == "generic"
    assert generic["title"] == by_profile["title"]
    assert generic["published_at"] == by_profile["published_at"]
    if path not in DISAGREE:
        assert han_f1(generic["body_text"], by_profile["body_text"]) >= 0.99


def test_han_characters_are_counted_without_a_list_of_them():
    from pipelines.text import han_count

    assert han_count("巡视整改abc，２０２４年㐀") == 6  # 巡视整改, 年, and 㐀 of Extension A; not the comma or digits
    assert han_count("") == 0
    assert han_count("整" * 1_000_000) == 1_000_000
