"""The boilerplate rules, as data.

Each rule has a name (recorded on every document it fires on, so a reader can
audit what was removed), a short documentation string, and a pattern.  The
kinds:

* :class:`DomRule` — an XPath; matching elements are removed from the HTML
  content (their tail text is kept: it belongs to the parent).
* :class:`LineRule` — a regex that must match a whole paragraph (or, for
  ``anywhere`` rules, occur in a paragraph no longer than ``max_length``);
  the paragraph is dropped.  Named groups become metadata (``editor``…).
* :class:`MetaLineRule` — a paragraph that is wholly a labelled metadata line;
  its label vocabulary is the data of :mod:`pipelines.metalines`.
* :class:`InlineRule` — a regex matched inside a paragraph; only the matched
  span is cut.  Used for bylines and datelines that sit inside body text.
* :class:`StructuralRule` — decided by a line's place in the document (the
  header above a text dump's title, the footer after the article's closing
  line); applied by the clean stage.

Metadata group names: ``publisher``, ``breadcrumb``, ``page_date``,
``declared_author``, ``declared_source``, ``byline_source``, ``byline_author``, ``dateline_author``,
``dateline_reporters``,
``dateline_month``, ``dateline_day``, ``editor``, ``original_url``.

What must stay is as important as what goes: a disclosure's own closing
contact block (``联系电话：XX；通信地址：…``) and redacted ``X`` placeholders
are document text, so no rule matches on 联系电话 or 邮箱 alone.
Every rule has a test in ``tests/test_boilerplate.py`` showing both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import metalines


@dataclass(frozen=True)
class DomRule:
    name: str
    doc: str
    xpath: str


@dataclass(frozen=True)
class LineRule:
    name: str
    doc: str
    pattern: re.Pattern
    max_length: int = 200
    anywhere: bool = False
    """True: the pattern may match anywhere in the (short) paragraph; False: it must match all of it."""
    ends_article: bool = False
    """True: the line closes the article (tools, 上一篇/下一篇, related lists): after running
    text, the lines after it are the page's footer unless running text follows (structural
    rule ``page_footer``)."""

    def match(self, paragraph: str) -> re.Match | None:
        if len(paragraph) > self.max_length:
            return None
        return self.pattern.search(paragraph) if self.anywhere else self.pattern.fullmatch(paragraph)


class _MetaLineMatch:
    """A parsed metadata line with the group interface of a regex match."""

    _GROUPS = {"published": "page_date", "source": "declared_source", "author": "declared_author",
               "editor": "editor", "byline": "byline_author", "outlet": "byline_source"}

    def __init__(self, found: metalines.MetaLine):
        self.found = found

    def captures(self, text: str) -> dict[str, str]:
        return {self._GROUPS[k]: v for k, v in self.found.values(text).items()}


@dataclass(frozen=True)
class MetaLineRule:
    """A line that is wholly labelled metadata, read by :func:`pipelines.metalines.parse`
    (its label vocabulary is the data); the values become metadata."""

    name: str
    doc: str
    max_length: int = 200
    ends_article: bool = False

    def match(self, paragraph: str) -> _MetaLineMatch | None:
        if len(paragraph) > self.max_length:
            return None
        found = metalines.parse(paragraph)
        return _MetaLineMatch(found) if found is not None else None


@dataclass(frozen=True)
class StructuralRule:
    """A rule that decides by a line's place in a document, not by its text alone."""

    name: str
    doc: str


@dataclass(frozen=True)
class InlineRule:
    name: str
    doc: str
    pattern: re.Pattern


def _re(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.I)


_HAN = metalines.HAN
_OUTLET = metalines.OUTLET
_NAME = rf"[{_HAN}·]{{2,4}}"
_CN_NUMERALS = "〇一二三四五六七八九十"
# A broadcaster's programme named after its dateline (央视网消息(焦点访谈):).
_PROGRAMME = rf"[{_HAN}]{{0,6}}(?:访谈|调查|联播|直播间|观察|时评|快讯|聚焦|30分)"
# Words a page prints beside its name that are no writer's name (`新华网 正文`, `（编者按完）`).
_PAGE_WORDS = r"(?:正文|首页|评论|专题|编者按完?|完|附件|附录|全文|原文|图片|视频|链接)\s*(?:$|[）)])"

# Rules select inside the article's container (``.//``), not the whole page:
# what is outside it is not the article's text anyway.  A rule that reads
# attributes first keeps the elements that have them (``.//*[@class][…]``):
# the same matches, and the tests of every other element skipped — most of a
# page's elements have no class.
DOM_RULES: tuple[DomRule, ...] = (
    DomRule("html_comment", "HTML comments (CMS markers such as `<!-- 正文下iframe -->`).", ".//comment()"),
    DomRule(
        "style_script",
        "`<style>`, `<script>`, `<noscript>`, `<template>`: code, never text (Sina's QR CSS is `&#123;`-escaped).",
        ".//style | .//script | .//noscript | .//template",
    ),
    DomRule(
        "qr_app_block",
        "QR-code and app-download blocks: Sina's `appendQr_wrap`, share-widget QR popups, stock-account promos.",
        ".//*[@class][contains(concat(' ', normalize-space(@class), ' '), ' appendQr_wrap ')"
        " or contains(@class, 'wechat-qrcode') or contains(@class, 'app-kaihu')"
        " or contains(@class, 'finance_app')]",
    ),
    DomRule(
        "embedded_ads",
        "Ad slots and embedded frames inside the article container.",
        ".//ins[contains(@class, 'sinaads')] | .//iframe | .//*[contains(@class, 'article-bottom')]",
    ),
    DomRule(
        "hidden_block",
        "Elements a browser never shows (`display:none`, `visibility:hidden`, `hidden`): "
        "spam links injected into article bodies, script templates.",
        ".//*[@hidden or @style][@hidden or contains(translate(@style, 'DISPLAYNOEVIBT ', 'displaynoevibt'), 'display:none')"
        " or contains(translate(@style, 'DISPLAYNOEVIBT ', 'displaynoevibt'), 'visibility:hidden')]",
    ),
    DomRule(
        "page_furniture",
        "Share bars, related-article and tag lists, previous/next links and comment forms that CMS "
        "templates put inside the article container (WordPress `sharedaddy`, `jp-relatedposts`, `post-tags`…).",
        ".//*[@class or @id][" + " or ".join(
            f"contains(@class, '{token}') or contains(@id, '{token}')"
            for token in ("share", "sharing", "related", "relevant", "tags", "keyword", "prenext",
                          "post-navigation", "nav-links", "comment", "xgwz", "xgxw", "tuijian", "recommend")
        ) + "]",
    ),
)

# Order matters: the first rule that matches a line takes it (a footer's
# "某某网 版权所有" is a copyright line before it could look like a byline).
LINE_RULES: tuple[LineRule | MetaLineRule, ...] = (
    LineRule(
        "paid_template_spam",
        "Header lines of paid template sites selling copies of reports (`仅供学习 禁止外传`, membership offers).",
        _re(r"仅供学习|禁止外传|酷乐文行|自建平台|实时分享|不断迭代|订阅立享|打击倒卖|倒卖会员|会员群|免费QQ群|会员资料"),
        max_length=60,
        anywhere=True,
    ),
    LineRule(
        "injected_spam",
        "A line of porn or gambling keywords injected above a copied article "
        "(`国产自产视频一区二区三区,777米奇影院…`, `彩神ap网投|用户注册`).",
        _re(r"一区二区|无码|在线观看|精品久久|成a人|三级电视|婷婷|彩神|网投|真人娱乐|百家乐|博彩"),
        max_length=160,
        anywhere=True,
    ),
    LineRule(
        "site_welcome",
        "A portal's greeting line (`欢迎来到乡镇时评网!`, `您好,欢迎来到三六零分类信息网!老站,欢迎发信息`, "
        "`广州某某有限公司欢迎您!`); "
        "names the publisher.",
        _re(rf"[•·*\s]*(?:您好\s*[,，!！]?\s*)?欢迎(?:来到|访问|光临)(?P<publisher>[^\s!！,，。]{{1,18}}(?:网|网站|在线|平台|频道|门户))"
            r"(?:[!！。]|[!！]\s*[^。]{1,30})?|[^\s,，。!！]{2,24}欢迎您[!！]?"),
    ),
    LineRule(
        "breadcrumb",
        "Navigation trail (`当前所在: 首页>>党建工作`, `首页 > 要闻`); its last parts are categories.",
        _re(r"(?:(?:当前|您的|您现在的|您所在的|所在)(?:所在)?的?(?:位置)?\s*[:：]\s*)?(?P<breadcrumb>首页\s*(?:>>|>|»|＞|/|→).{1,80})"),
    ),
    LineRule(
        "section_trail",
        "A navigation trail that does not start at 首页 (`人民网>>文化>>文化名人库`, `新闻中心 > 天下`, "
        "`您所在的位置: 东南网 > 专题> 两会花絮 > 正文`): "
        "short parts joined by `>`; a title or sentence that merely holds a `>` stays.",
        _re(r"(?:(?:当前|您的|您现在的|您所在的|所在)的?位置\s*[:：]\s*)?"
            r"(?P<breadcrumb>[^\s>»＞。，,！？；]{1,10}(?:\s*(?:>>|>|»|＞|→)\s*[^\s>»＞。，,！？；]{1,10}){1,5})"),
        max_length=80,
    ),
    LineRule(
        "today_line",
        "A portal header's date of today (`今天是：2023年9月20日 星期三`, `2024年3月15日 星期五`, "
        "`2018年1月25日 星期` whose weekday the dump lost): never the page's date — except on an e-paper's "
        "page (one that prints its page label, rule `paper_page`), where a bare dated line is the issue's day.",
        _re(r"(?:今天是|今日|今天)\s*[:：]?\s*\d{4}年\d{1,2}月\d{1,2}日.{0,12}"
            r"|(?P<issue_date>\d{4}年\d{1,2}月\d{1,2}日)\s*(?:星期[一二三四五六日天]?|周[一二三四五六日天])"),
        max_length=40,
    ),
    LineRule(
        "menu_bar",
        "A site's menu flattened into one line (`首页 | 廉政要闻 | 巡视巡察 | 联系我们`, `网站首页 | 关于我们 | 网站地图`).",
        _re(r"(?:网站)?首\s?页(?:\s*[|｜/·]\s*|\s+)(?:[^\s|｜/·]{2,8}(?:\s*[|｜/·]\s*|\s+)){2,}[^\s|｜/·]{2,8}"),
        max_length=120,
    ),
    LineRule(
        "disclaimer",
        "Site disclaimers about reposted content and reprint notices (`本文为湖南频道原创文章,转载请附上原文出处链接`).",
        _re(r"(?:本站部分信息|本网部分转载|免责声明|郑重声明|声明\s*[:：]|转载此文是出于传递更多信息|凡本网注明|本网站所刊载"
            r"|本文为[^。，,]{0,12}原创(?:文章|稿件)[,，]\s*转载).*"),
        max_length=300,
    ),
    LineRule(
        "site_sponsor",
        "Site operator lines (`…研究院主办 | …办公室 主管`).",
        _re(
            r"[^。；;，,]{2,60}(?:主办|主管|承办)\s*[|｜].*"
            r"|.*[|｜]\s*[^。；;，,]{2,60}(?:主办|主管|承办)\s*"
            r"|(?:主办|主管|承办|合作|协办)单位\s*[:：].{0,60}|技术支持\s*[:：].{0,60}"
        ),
        max_length=120,
    ),
    LineRule(
        "icp_number",
        "ICP licence and public-security registration numbers (`京ICP备11019690号-100`).",
        _re(r"ICP备|ICP证|公网安备|网安备"),
        max_length=100,
        anywhere=True,
    ),
    LineRule(
        "copyright",
        "Copyright lines (`乡镇时评网 xzspw.org.cn 版权所有。`).",
        _re(r"版权所有|Copyright|©|All Rights Reserved"),
        max_length=140,
        anywhere=True,
    ),
    LineRule(
        "site_contact_footer",
        "A site's own contact footer: customer-service QQ, complaint hotlines, office addresses, the mobile "
        "site and SMS/MMS numbers of a portal (`SMS: | (852) 6500 6500 | MMS: | ireport@on.cc`). "
        "Not a notice's contact block, which names 通信地址/邮政编码 and has none of these markers.",
        _re(r"客服\s*QQ|通联\s*QQ|违法和不良信息举报|[一二三]办公区\s*[:：]|广告(?:合作|服务)\s*[:：]|爆料(?:热线|方法)"
            r"|手机网站\s*[:：]|\b[SM]MS\s*[:：]"),
        max_length=300,
        anywhere=True,
    ),
    LineRule(
        "byline_paragraph",
        "A paragraph that is only an outlet and a writer (`中央纪委国家监委网站 王卓`); not an outlet and a "
        "page word (`新华网 正文`: a header).",
        _re(rf"(?P<byline_source>{_OUTLET})\s+(?:记者|通讯员)?\s*(?!{_PAGE_WORDS})(?P<byline_author>{_NAME}(?:[\s、]{_NAME}){{0,3}})"),
        max_length=40,
    ),
    LineRule(
        "credit_line",
        "A writer's name or a unit alone in brackets on the line after the text (`(王素娟)`, "
        "`（县纪委监委）`): the author, or the source.",
        _re(rf"[（(]\s*(?:(?P<byline_source>[{_HAN}]{{1,12}}?(?:纪委监委|纪委|监委|巡察办|融媒体中心|新闻中心))"
            rf"|(?!{_PAGE_WORDS})(?P<byline_author>{_NAME}(?:[\s、]{_NAME}){{0,2}}))\s*[）)]"),
        max_length=20,
    ),
    LineRule(
        "author_profile",
        "A journal article's note on its writer (`作者简介:李红勃,法学博士,…教授。`, `[作者简介]陈燕(1977- ),女,…`): "
        "the writer's name; the note is no text of the article.",
        _re(rf"[\[【]?作者简介[\]】]?\s*[:：]?\s*(?P<declared_author>[{_HAN}·]{{2,3}})\s*[,，(（].{{0,200}}"),
        max_length=240,
    ),
    LineRule(
        "journal_source",
        "The journal a republished article came from, in 《》 with its issue and a note (`文章来源:《现代法学》2019年第05期,注释已略。`).",
        _re(r"(?:文章来源|来源|原载|原文载于?)\s*[:：]\s*《(?P<declared_source>[^》]{2,20})》[^。]{0,30}。?"),
        max_length=60,
    ),
    LineRule(
        "anonymous_byline",
        "A byline that names outlets' reporters but no one (`新华社记者`, `人民日報記者 新華社記者`).",
        _re(rf"(?:{_OUTLET}(?:特约|驻[{_HAN}]{{1,4}})?(?:记者|通讯员)\s*){{1,3}}"),
        max_length=30,
    ),
    LineRule(
        "author_line",
        "A line that is only the writer after 作者 without a colon (`作者北方`); not a heading "
        "such as 作者简介.",
        _re(rf"作者\s*(?!简介|单位|介绍|信息|声明)(?P<declared_author>{_NAME})"),
        max_length=10,
    ),
    LineRule(
        "photo_caption",
        "A picture's caption: a short line that ends with the photographer's credit (`基层代表代朝霞 人民网记者田兴春 摄`, "
        "`本图:白贵教授 摄影/朱瑞峰`, `…亲切握手。新华社记者 饶爱民 摄`, `…实体信箱。受访者供图`). "
        "A caption naming who stands where (`段羡菊(左二,新华社贵州分社记者)和同事在贵州山区采访`) when it "
        "is no sentence. A link to the page's pictures (`点击此处查看全部新闻图片`, `【点击查看其它图片】`) goes with them. "
        "A credit in brackets after a sentence (`…会议。（新华社记者 张三 摄）`) is not cut this way.",
        _re(rf".{{0,140}}?(?:(?:记者|摄影)\s*[{_HAN}·]{{2,4}}(?:[\s、]+[{_HAN}·]{{2,4}})?\s*摄|摄影\s*[/:：]\s*[{_HAN}·]{{2,4}}"
            rf"|(?:受访者|资料|网络|单位)供图|[（(]\s*图片来源\s*[:：][^（）()]{{1,30}}[）)])"
            r"|[【\[]?点击(?:此处)?查看(?:全部|其它|其他|更多)?(?:新闻)?图片[】\]]?"
            r"|(?=[^。]{4,80}$).*?[（(](?:前排|后排)?[左右中](?:[一二三四五六七八九]|起)?[）)，,、].*"),
        max_length=160,
    ),
    LineRule(
        "editor_tag",
        "Responsible-editor tags with staff codes (`责任编辑：梁斌 SF055`, `(责编：汤诗瑶、丁涛)`, `【编辑:王永吉】`).",
        _re(r"[（(【\[]?\s*(?:责任编辑|责编|编辑)\s*[：:]\s*(?P<editor>[^（）()【】\[\]：:]{1,40}?)\s*[）)】\]]?"),
        max_length=60,
    ),
    LineRule(
        "page_tools",
        "Page tool links (`【字号：大 中 小】`, `【打印】【关闭】`, `[打印本页] [关闭窗口]`, `分享到：`, "
        "`页面有问题?请点击打印板-》打印版 [推荐此文给朋友]`), bulleted (`• 打印`, `• 【字号`) or not.",
        _re(
            r"[•·▪]?\s*(?:【?\s*(?:字号|字体)(?:\s*[:：].*)?|分享到?\s*[:：].*|扫一扫在手机打开当前页"
            r"|(?:[【\[]?\s*(?:打印(?:本页|此页|本文|此文)?|关闭(?:窗口|本页)?|返回(?:顶部)?|顶部|收藏|纠错)\s*[】\]]?\s*[|｜]?\s*)+"
            r"|.{0,24}(?:打印版|推荐此文给朋友).{0,24}"
            r"|没有评论\s*[:：]?|发表评论|[（(]单词翻译\s*[:：].{0,10}[)）]|听新闻|语音(?:播报|阅读)|朗读"
            r"|(?:字体大小|视力保护色)\s*[:：]?"
            r"|[（(]?\s*(?:阅读|查看)(?:全部|全文)[^（）()]{0,12}(?:登录|注册|会员)[^（）()]{0,6}[）)]?)"
        ),
        max_length=60,
        ends_article=True,
    ),
    MetaLineRule(
        "page_meta_line",
        "A page's labelled metadata line (`2020-11-12 作者:佚名 来源: 七一网`, `发布时间：… 来源：… "
        "编辑：… 审核：… 浏览量：…`, `记者 王生霞 通讯员 杨生军`): dates, sources, authors and editors go "
        "to metadata, 审核/校对/浏览量/字号 are dropped with it.",
    ),
    LineRule(
        "qr_app_text",
        "The bare-text form of QR / app-download prompts (`海量资讯、精准解读，尽在新浪财经APP`, `扫描二维码…`, "
        "`打开网易新闻 查看精彩图片`).",
        _re(r"尽在新浪财经APP|(?:扫描|扫码|长按|识别).{0,10}二维码|下载.{0,12}(?:APP|客户端)|打开[^\s。，,]{2,8}\s*查看精彩图片"),
        max_length=60,
        anywhere=True,
    ),
    LineRule(
        "original_link",
        "A republisher's link to the original (`原文链接:https://…`); kept as original_url.",
        _re(r"(?:原文链接|原文地址|原文网址|阅读原文)\s*[:：]\s*(?P<original_url>https?://\S+)"),
    ),
    LineRule(
        "prev_next",
        "Links to neighbouring articles (`上一篇:` / `下一篇:`).",
        _re(r"(?:上一篇|下一篇|上一条|下一条|上一页|下一页)\s*[:：]?.*"),
        max_length=80,
        ends_article=True,
    ),
    LineRule(
        "related_list",
        "The heading of a related-articles list (`相关文章`, `相关链接`, `推荐阅读`, `往下看更多文章`…).",
        _re(r"[【\[]?\s*(?:相关(?:文章|链接|阅读|新闻|信息|推荐|稿件)?|(?:新闻|今日|精彩|热点|编辑)?推荐(?:阅读|内容)?|猜你喜欢|延伸阅读"
            r"|热点(?:内容|文章|新闻)|(?:一周|今日|本周)?热门(?:文章|新闻)?|最新文章|往下看更多文章|(?:查看|阅读|点击)更多(?:文章|新闻)?)"
            r"\s*[】\]]?\s*[:：]?"),
        max_length=12,
        ends_article=True,
    ),
    LineRule(
        "link_list_item",
        "An item of a headline list beside the article (`·   张涛看望慰问春节... 01/22`, `·访谈:王宏甲谈…`, "
        "`组图:“圆明园”惊艳全貌`): a middle dot or 组图 and a short headline, perhaps cut with `...` and dated; "
        "after a bullet `•` only a headline cut with `...` (`• 内容质量` is the article's own list).",
        _re(r"(?:·\s*|组图\s*[:：])[^。，,；;！？!?]{2,40}?(?:\.{3}|…)?\s*(?:\d{1,2}[-/]\d{1,2})?"
            r"|•\s*[^。，,；;！？!?]{2,40}?(?:\.{3}|…)\s*(?:\d{1,2}[-/]\d{1,2})?"),
        max_length=45,
    ),
    LineRule(
        "share_buttons",
        "A share or follow button left as a line of its own (`微博`, `Qzone`, `关注新华网`, `评论`).",
        _re(rf"(?:微博|微信|Qzone|QQ空间|人人网|豆瓣|评论|关注[{_HAN}]{{2,8}}网)"),
        max_length=10,
    ),
    LineRule(
        "word_menu",
        "A channel menu of five or more short words (`新闻 评说 图书 饮食 文化批评`).",
        _re(rf"(?:[{_HAN}]{{2,4}}\s+){{4,}}[{_HAN}]{{2,4}}"),
        max_length=60,
    ),
    LineRule(
        "markup_leftover",
        "A dump line that is only markup: empty tags of injected spam (`<sub id=\"nldp9\"></sub>`) or a "
        "picture placeholder (`<image>data:image/s3,…</image>`).",
        _re(r"(?:<image>.*?</image>\s*)+|(?:</?[a-z][a-z0-9]*(?:\s[^<>]*)?>\s*)+"),
        max_length=400,
    ),
    LineRule(
        "site_address",
        "A line that is only the site's address (`http://www.henanjj.cn`).",
        _re(r"https?://[\w.-]+/?"),
        max_length=60,
    ),
    LineRule(
        "paper_page",
        "A newspaper page label (`第01版:头版`, `进驻情况见第三版`, `第02版:综合新闻 上一版3  4下一版`).",
        _re(r"第\s*[A-Z]?\d{1,3}\s*版\s*[:：].{0,12}?(?:\s*上一版.{0,6}下一版)?|.{0,12}见第[一二三四五六七八九十\d]{1,3}版"),
        max_length=40,
    ),
    LineRule(
        "catalogue_numbers",
        "A journal article's catalogue line (`中图分类号:D262文献标识码:A`, `文章编号:1003-0751(2019)04-0008-06`, `DOI:`, "
        "`[中图分类号] D262.6 [文献标识码] A`).",
        _re(r"(?:[\[【]\s*(?:中图分类号|文献标识码|文章编号|DOI)\s*[\]】]\s*[:：]?|(?:中图分类号|文献标识码|文章编号|DOI)\s*[:：]).{0,80}"),
        max_length=120,
    ),
    LineRule(
        "affiliation_line",
        "An author's affiliation with its postcode in brackets under a journal article's title "
        "(`(华中师范大学法学院,湖北 武汉 430079)`).",
        _re(r"[（(](?![^（）()]*(?:邮编|邮政编码|电话|地址|信箱|邮箱))[^（）()]{2,120}?\d{6}[^（）()]{0,60}[）)]"),
        max_length=200,
    ),
    LineRule(
        "symbol_line",
        "A line of symbols only, no word (`\\`, `※※`, `***`): a dump's separator or a stray escape.",
        re.compile(r"[^\w\u3400-\u9fff]{1,12}"),
        max_length=12,
    ),
    LineRule(
        "print_edition",
        "A newspaper's print-edition line under a web copy (`《 人民日报 》（2024年09月30日 04 版）`).",
        _re(r"《\s*[^》]{2,12}\s*》\s*[（(]\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*第?\s*\d{1,2}\s*版\s*[）)]"),
        max_length=50,
    ),
    LineRule(
        "css_leftover",
        "CSS rules that leaked into text (`.appendQr_wrap{border:1px …}`).",
        _re(r"[.#]?[\w\-][\w\- .#:>]*\s*\{[^{}]*\}"),
        max_length=400,
    ),
)

INLINE_RULES: tuple[InlineRule, ...] = (
    InlineRule(
        "html_comment_text",
        "HTML comments left in a text dump.",
        re.compile(r"<!--.*?-->", re.S),
    ),
    InlineRule(
        "dateline",
        "A dateline opening the lead paragraph (`中国共产党新闻网北京10月16日电 (扶婧颖)`, "
        "`本报北京4月20日电 （记者张洋）`, `中央纪委国家监委网站讯`, `本报讯（记者 周航 通讯员 邓清）`, "
        "`据新华社拉萨电（记者 …）`, `中新网2月27日电`, `央广网北京11月10日消息（记者王远）`, `【中新社北京十二月三日电】`, "
        "`人民监督网 讯:`, `【本報綜合報道】`, `本报讯 记者姜明助、通讯员陈琳报道:`, `东方网特派记者姚莉莉6月17日消息:`, `央视网消息(焦点访谈):` — a programme in the "
        "brackets is no writer).",
        re.compile(
            rf"^[【\[]?据?(?P<byline_source>{_OUTLET})(?:(?:特派|驻[{_HAN}]{{1,4}})?记者\s*(?P<dateline_author>[{_HAN}·]{{2,3}}))?"
            rf"(?:[{_HAN}]{{0,8}}?(?:(?P<dateline_month>\d{{1,2}})月(?P<dateline_day>\d{{1,2}})日"
            rf"|[{_CN_NUMERALS}]{{1,3}}月[{_CN_NUMERALS}]{{1,3}}日)(?:电|讯|消息)|\s?讯|综合报道|消息(?=\s|[（(:：])|[{_HAN}]{{2,8}}?电(?=\s*[（(]\s*记者))[】\]]?"
            rf"\s*(?:[（(]\s*(?:{_PROGRAMME})\s*[）)]"
            r"|[（(]\s*(?:记者\s*|通讯员\s*)?(?P<byline_author>[^（）()]{1,30}?)\s*[）)]"
            r"|\s*(?:记者|通讯员)\s*(?P<dateline_reporters>[^:：。（）()]{2,30}?)报道\s*(?=[:：]))?\s*[:：]?\s*"
            r"(?:题\s*[:：].*$)?"
        ),
    ),
    InlineRule(
        "compiler_credit",
        "A closing credit of who compiled the text (`（中央纪委国家监委网站 林澈整理）`): source and author.",
        re.compile(
            rf"\s*[（(]\s*(?P<byline_source>{_OUTLET})\s+(?P<byline_author>{_NAME}(?:[\s、]{_NAME}){{0,3}})\s*(?:综合)?整理\s*[）)]\s*$"
        ),
    ),
    InlineRule(
        "reporter_parenthetical",
        "A reporter or correspondent credit closing a paragraph (`（通讯员 何清平）`, `（记者 张三 李四）`).",
        re.compile(rf"\s*[（(]\s*(?:{_OUTLET})?(?:记者|通讯员|作者)[\s:：]*(?P<byline_author>[^（）()]{{2,30}}?)(?<!摄)\s*[）)]\s*$"),
    ),
    InlineRule(
        "name_parenthetical",
        "A writer's name alone in brackets closing the last sentence (`图为7月3日会议现场。（陈芊霖）`); "
        "not 待续 or 完, not a problem's status (`（已完成）`, `（正在推进）`), and not a bracket after "
        "anything but a sentence's end, and not a page word (`（编者按完）`).",
        re.compile(rf"(?<=[。！？!?”])\s*[（(]\s*(?!(?:待续|未完待续|全文完|完|略|同上)\s*[）)])"
                   r"(?!(?:已|基本|正在|持续|长期|阶段性)?(?:完成|整改|推进|坚持|办结|销号|解决|落实))"
                   rf"(?!{_PAGE_WORDS})(?P<byline_author>{_NAME}(?:\s+{_NAME}){{0,2}})\s*[）)]\s*$"),
    ),
    InlineRule(
        "trailing_names",
        "Writers' names after the last sentence, set off by a space (`…抓好巡察整改工作。 马要党 张正余`).",
        re.compile(rf"(?<=[。！？!?”])\s+(?!{_PAGE_WORDS})(?P<byline_author>[{_HAN}·]{{2,3}}(?:\s+[{_HAN}·]{{2,3}}){{0,2}})\s*$"),
    ),
    InlineRule(
        "slash_credits",
        "The credits in brackets closing the text or on a line of their own, written with slashes "
        "(`（文/刘钰 图/编辑 崔倩 审核/王霄飞）`: the writer; `（文/图 理电学院）`: the unit, the source), "
        "or with colons (`(撰稿:窦玲玲 编辑:江伟 审`, its end lost by the dump).",
        re.compile(rf"(?:(?<=[。！？!?”])|^)\s*[（(]\s*(?:文\s*/\s*图\s+(?P<byline_source>[{_HAN}]{{2,12}})"
                   rf"|(?:文|撰稿|作者)\s*[/:：]\s*(?P<byline_author>{_NAME})(?:\s+(?:图|摄影|编辑|责编|审核|校对)[^（）()]{{0,40}})?)"
                   r"\s*(?:[）)]|(?=\s*$))\s*$"),
    ),
    InlineRule(
        "unit_parenthetical",
        "A discipline commission or newsroom credited in brackets closing the last sentence "
        "(`…公布了联系方式。(顺德区纪委监委)`, `（隆回县融媒体中心）`): the source.",
        re.compile(rf"(?<=[。！？!?”])\s*[（(]\s*(?P<byline_source>[{_HAN}]{{1,12}}?(?:纪委监委|纪委|监委|巡察办|融媒体中心|新闻中心))"
                   r"\s*[）)]\s*$"),
    ),
)

STRUCTURAL_RULES: tuple[StructuralRule, ...] = (
    StructuralRule(
        "page_header",
        "In a text dump, the lines above the title when a metadata line follows the title: the "
        "site's name, greeting, date of today, menus and breadcrumbs the page printed before the article.",
    ),
    StructuralRule(
        "title_line_date",
        "A date printed at the end of a text dump's title line (`…整改情况的通报 2024-05-06`): "
        "the page's date, cut from the title; Sina's old layout glues the site's address, the date "
        "and the outlet to it (`……http://www.sina.com.cn 2008年03月06日 07:25 經濟參考報`).",
    ),
    StructuralRule(
        "doubled_title",
        "In a text dump without a metadata line, a title-like line printed twice in a row within "
        "its first lines (the page's heading, then again above the text), or a line under a breadcrumb "
        "that ends with it (`首页 百科知识 欧美业界关于…`): the title; the lines above it are the page's header.",
    ),
    StructuralRule(
        "dump_head_meta",
        "In a text dump's head, before its running text, the unlabelled metadata beside the title: "
        "a bare date line (`2020-05-11 09:42`), a journal issue (`理论月刊 2018年10期`: the source) "
        "and, within three lines under the title, a line that is only the writer's name "
        "(`陈芝`, `□ 龙 钰`), or a subtitle set off by a dash (`——走近县委书记(上)`); a line of the "
        "same form further down, or below running text, stays.",
    ),
    StructuralRule(
        "pictures_caption",
        "In a text dump whose title announces pictures (`…(组图)`, `…(图)`), the lines between the title's "
        "metadata and the first running text: the pictures' captions (`中国国际广播电台的记者阵容`).",
    ),
    StructuralRule(
        "orphan_table_caption",
        "The last line of a text dump when it is the caption of a table the dump lost "
        "(`…各巡察组进驻情况一览表`); an attachment's line (`附件：…一览表`) or a sentence stays.",
    ),
    StructuralRule(
        "page_footer",
        "The lines after a line that closes the article (a rule with `ends_article`, such as "
        "【打印】【关闭】 or 上一篇) that no running text follows: related-article titles, site "
        "addresses, phones and menus of the page footer.  A notice's own contact block comes "
        "before such a line and stays; so does text after a misplaced one.",
    ),
)
