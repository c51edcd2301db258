"""Each boilerplate rule: what it removes, what it must keep, what it captures.

A case is (rule, input, paragraphs left, metadata captured).  The KEEP cases
are lines that look like boilerplate but are document text.
"""

import lxml.html
import pytest

from pipelines.boilerplate import DOM_RULES, INLINE_RULES, LINE_RULES, STRUCTURAL_RULES
from pipelines.clean import clean
from pipelines.extract import Extracted

BODY = "巡察组对县林业局党组开展了常规巡察。"

TEXT_CASES = [
    ("paid_template_spam", ["仅供学习 禁止外传", "会员群：          免费QQ群：", BODY], [BODY], {}),
    ("site_welcome", ["• 欢迎来到乡镇时评网!", BODY], [BODY], {"publisher": "乡镇时评网"}),
    ("dateline", ["据新华社拉萨电（记者 魏武）" + BODY], [BODY], {"byline_source": "新华社", "byline_author": "魏武"}),
    ("dateline", ["中新网2月27日电 " + BODY], [BODY], {"byline_source": "中新网"}),
    ("dateline", ["【中新社北京十二月三日电】" + BODY], [BODY], {"byline_source": "中新社"}),
    ("dateline", ["央广网北京11月10日消息(记者王远)" + BODY], [BODY], {"byline_source": "央广网", "byline_author": "王远"}),
    ("name_parenthetical", [BODY + "（陈芊霖）"], [BODY], {"byline_author": "陈芊霖"}),
    ("reporter_parenthetical", [BODY + "（总台央视记者 宋琎）"], [BODY], {"byline_author": "宋琎"}),
    ("page_meta_line", ["（来源:央视新闻客户端 总台央视记者:王莉）", BODY], [BODY],
     {"declared_source": "央视新闻客户端", "byline_author": "王莉"}),
    ("page_meta_line", ["半月谈记者 史卫燕", BODY], [BODY], {"byline_source": "半月谈", "byline_author": "史卫燕"}),
    ("catalogue_numbers", ["中图分类号:D262文献标识码:A", "文章编号:1003-0751(2019)04-0008-06", BODY], [BODY], {}),
    ("affiliation_line", ["(华中师范大学法学院,湖北 武汉 430079)", BODY], [BODY], {}),
    ("symbol_line", ["\\", "※※", BODY], [BODY], {}),
    ("dateline", ["新华社北京1月11日电题:中国战“疫”五字诀", BODY], [BODY], {"byline_source": "新华社"}),
    ("page_tools", ["听新闻", "(阅读全部图文内容,您需要先登录!)", BODY], [BODY], {}),
    ("page_meta_line", ["标签:党组织;整改;重大战略", BODY], [BODY], {}),
    ("injected_spam", ["国产自产视频一区二区三区,777米奇影院影音先锋第四色", "彩神ap网投|用户注册 | 官网首页登录平台网址", BODY], [BODY], {}),
    ("breadcrumb", ["当前所在: 首页>>党建工作", BODY], [BODY], {"breadcrumb": "首页>>党建工作"}),
    ("breadcrumb", ["首页 > 要闻 > 巡视巡察", BODY], [BODY], {"breadcrumb": "首页 > 要闻 > 巡视巡察"}),
    ("breadcrumb", ["您所在的位置:首页 > 通信与网络 > 设计应用", BODY], [BODY], {}),
    ("section_trail", ["人民网>>文化>>文化名人库>>余秋雨>>众说纷纭", BODY], [BODY], {"breadcrumb": "人民网>>文化>>文化名人库>>余秋雨>>众说纷纭"}),
    ("section_trail", ["新闻中心 > 天下", BODY], [BODY], {}),
    ("link_list_item", ["·   张涛看望慰问春节... 01/22", "·访谈:王宏甲谈21世纪中国新教育", "组图:“圆明园”惊艳全貌", BODY], [BODY], {}),
    ("word_menu", ["新闻 评说 图书 饮食 文化批评", BODY], [BODY], {}),
    ("markup_leftover", ['<sub id="nldp9"></sub><track id="nldp9"></track>', '<image>data:image/s3,"x" alt="截屏"</image>', BODY], [BODY], {}),
    ("site_address", ["http://www.henanjj.cn", BODY], [BODY], {}),
    ("paper_page", ["第01版:头版", BODY, "进驻情况见第三版"], [BODY], {}),
    ("related_list", [BODY, "一周热门", "某县召开巡察工作会议"], [BODY], {}),
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
    ("today_line", ["今天是：2023年9月20日 星期三", BODY], [BODY], {}),
    ("today_line", ["2024年3月15日 星期五", BODY], [BODY], {}),
    ("menu_bar", ["首页 | 廉政要闻 | 巡视巡察 | 纪法课堂 | 联系我们", BODY], [BODY], {}),
    ("menu_bar", [BODY, "网站首页 | 关于我们 | 联系方式 | 网站地图"], [BODY], {}),
    ("related_list", [BODY, "相关文章"], [BODY], {}),
    ("print_edition", [BODY, "《 人民日报 》（ 2024年09月30日 04 版）"], [BODY], {}),
    (
        "page_meta_line",
        ["发布时间：2023-8-16 09:20:11  来源：市委巡察办  编辑：孙雯  审核：马骏  浏览量：1283", BODY],
        [BODY],
        {"page_date": "2023-8-16 09:20:11", "declared_source": "市委巡察办", "editor": "孙雯"},
    ),
    (
        "page_meta_line",
        ["时间: 2023-09-18 09:12 来源: 青岚县人民政府网 作者: 佚名 点击: 次", BODY],
        [BODY],
        {"page_date": "2023-09-18 09:12", "declared_source": "青岚县人民政府网", "declared_author": "佚名"},
    ),
    ("page_meta_line", ["澎湃新闻记者 邹卫", BODY], [BODY], {"byline_source": "澎湃新闻", "byline_author": "邹卫"}),
    ("page_meta_line", [BODY, "（编辑：吴桐　审核：冯远）"], [BODY], {"editor": "吴桐"}),
    ("page_meta_line", [BODY, "【纠错】 责任编辑： 王雅楠"], [BODY], {"editor": "王雅楠"}),
    (
        "dateline",
        ["中央纪委国家监委网站讯 江淮省某某涉嫌严重违纪违法，目前正接受审查调查。"],
        ["江淮省某某涉嫌严重违纪违法，目前正接受审查调查。"],
        {"byline_source": "中央纪委国家监委网站"},
    ),
    (
        "dateline",
        ["本报讯（记者 周航 通讯员 邓清）云溪市建立巡察整改机制。"],
        ["云溪市建立巡察整改机制。"],
        {"byline_source": "本报", "byline_author": "周航 通讯员 邓清"},
    ),
    (
        "compiler_credit",
        [BODY, "（中央纪委国家监委网站 林澈整理）"],
        [BODY],
        {"byline_source": "中央纪委国家监委网站", "byline_author": "林澈"},
    ),
    ("site_welcome", ["您好,欢迎来到三六零分类信息网!老站,搜索引擎当天收录,欢迎发信息", BODY], [BODY], {"publisher": "三六零分类信息网"}),
    ("section_trail", ["您所在的位置: 东南网 > 专题> 2012年全国两会> 两会花絮 > 正文", BODY], [BODY], {}),
    ("disclaimer", [BODY, "本文为湖南频道原创文章,转载请附上原文出处链接和本声明。"], [BODY], {}),
    ("qr_app_text", ["打开网易新闻 查看精彩图片", BODY], [BODY], {}),
    ("related_list", [BODY, "往下看更多文章", "某县召开巡察工作会议"], [BODY], {}),
    ("share_buttons", ["关注新华网", "微博", "Qzone", "评论", BODY], [BODY], {}),
    ("unit_parenthetical", [BODY + "(顺德区纪委监委)"], [BODY], {"byline_source": "顺德区纪委监委"}),
    ("credit_line", [BODY, "(王素娟)"], [BODY], {"byline_author": "王素娟"}),
    ("credit_line", [BODY, "（隆回县纪委监委）"], [BODY], {"byline_source": "隆回县纪委监委"}),
    (
        "photo_caption",
        ["基层代表代朝霞 人民网记者田兴春 摄", "本图:河北大学新闻与传播学院  白贵教授  摄影/朱瑞峰",
         "5月26日,胡锦涛同吴伯雄举行会谈。这是胡锦涛同吴伯雄亲切握手。新华社记者 饶爱民 摄",
         "2025年12月,华东师范大学校园内一处“青年百问”实体信箱。受访者供图", BODY],
        [BODY],
        {},
    ),
    ("dateline", ["人民监督网 讯:" + BODY], [BODY], {"byline_source": "人民监督网"}),
    ("slash_credits", [BODY, "(文/刘钰 图/编辑 崔倩 审核/王霄飞)"], [BODY], {"byline_author": "刘钰"}),
    ("trailing_names", [BODY + " 马要党 张正余"], [BODY], {"byline_author": "马要党 张正余"}),
    ("author_line", ["作者北方", BODY], [BODY], {"declared_author": "北方"}),
    ("anonymous_byline", ["新华社记者", "人民日報記者 新華社記者", BODY], [BODY], {}),
    ("today_line", ["2018年1月25日 星期", BODY], [BODY], {"issue_date": "2018年1月25日"}),
    ("author_profile", ["作者简介:李红勃,法学博士,中国政法大学法治政府研究院教授。", BODY], [BODY], {"declared_author": "李红勃"}),
    ("author_profile", ["[作者简介]陈燕(1977- ),女,湖南宁乡人,中共中央党校中共党史专业博士生。", BODY], [BODY], {"declared_author": "陈燕"}),
    ("journal_source", ["文章来源:《现代法学》2019年第05期,注释已略。", BODY], [BODY], {"declared_source": "现代法学"}),
    ("site_welcome", ["广州某某元件有限公司欢迎您!", BODY], [BODY], {}),
    ("page_tools", [BODY, "• 打印", "• 收藏", "• 【字号"], [BODY], {}),
    ("slash_credits", [BODY + "(撰稿:窦玲玲 编辑:江伟 审"], [BODY], {"byline_author": "窦玲玲"}),
    ("page_tools", ["页面有问题?请点击打印板-》打印版                  [推荐此文给朋友]", BODY], [BODY], {}),
    ("paper_page", [BODY, "第02版:综合新闻 上一版3  4下一版"], [BODY], {}),
    ("photo_caption", ["段羡菊(左二,新华社贵州分社记者)和同事在贵州山区采访", BODY], [BODY], {}),
    ("dateline", ["本报讯 记者姜明助、通讯员陈琳、田亮报道:" + BODY], [BODY],
     {"byline_source": "本报", "dateline_reporters": "姜明助、通讯员陈琳、田亮"}),
    ("dateline", ["【本報綜合報道】" + BODY], [BODY], {"byline_source": "本報"}),
    ("site_contact_footer", [BODY, "傳 真: | (852) 3600 8800 | 手機網站: | m.on.cc | ||", "SMS: | (852) 6500 6500 | MMS: | ireport@on.cc |"],
     [BODY], {}),
    ("dateline", ["央视网消息(焦点访谈):" + BODY], [BODY], {"byline_source": "央视网"}),
    ("dateline", ["东方网特派记者姚莉莉6月17日消息:" + BODY], [BODY], {"byline_source": "东方网", "dateline_author": "姚莉莉"}),
    ("slash_credits", [BODY + "(文/图 理电学院)"], [BODY], {"byline_source": "理电学院"}),
    ("catalogue_numbers", ["[中图分类号] D262.6 [文献标识码] A", BODY], [BODY], {}),
    ("photo_caption", ["点击此处查看全部新闻图片", "【点击查看其它图片】", BODY], [BODY], {}),
    ("dateline", ["东方网特派记者姚莉莉6月17日消息:" + BODY], [BODY], {"byline_source": "东方网"}),
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
    # A notice's own dates, duty phone and mailbox, its signature and date line.
    "时间：2024年3月11日至5月10日",
    "巡察时间：2023年4月10日至6月10日",
    "值班电话：0793-5312208（工作日8:30—12:00，14:30—17:30）",
    "邮政信箱：白水县A206号邮政信箱",
    "县委第三巡察组",
    "2024年3月11日",
    # A serial's 待续 and a photo credit in brackets are no writer.
    "巡察整改工作取得阶段性成效。（待续）",
    "修订完善制度3项。（已完成）",
    # A notice's own postcode in brackets, the article's own bulleted list.
    "（邮政编码：331800）",
    "• 内容质量",
    "开展专项清理。（正在推进）",
    "巡察组召开反馈会议。（新华社记者 张三 摄）",
    # A sentence holding a `>`, a list item that is a sentence, names with a role are text.
    "整改完成率 > 90% 的单位有12家。",
    "· 建立健全巡察整改长效机制，制定完善制度12项。",
    "参加人：孙中艮 刘会聪 段太香 杨弃 徐隽倬",
    "https://www.ccdi.gov.cn/ 已开设专栏，公布整改情况。",
    # A photo credit is not a compiler's credit; a headline mentioning 首页 is no menu.
    "（湖北省枝江市纪委监委供 黄睿智 摄）",
    "首页设立巡察整改专栏，公开问题清单和整改进展。",
    # An editor's note closing, a page word after the outlet: no writer, no credit.
    "连续四天播发。(编者按完)",
    # A sentence naming a unit in brackets mid-text, a photo the text describes, a share of views.
    "县纪委（县监委）召开专题会议，部署整改工作。",
    "摄影爱好者在巡察组驻地外拍下了这一幕。",
    "评论员文章指出，整改必须动真碰硬。",
    "文/图片均由县纪委监委提供，巡察组于5月进驻。",
    "作者简介",
    "来源:《人民日报》报道称,巡视整改取得新进展,群众普遍反映满意,各地将持续推进整改工作。",
    "县委书记王某(左一)向群众讲解整改政策。",
    "新华社记者在现场看到，群众排起了长队。",
    "巡察整改工作取得阶段性成效。 附件",
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
    (
        "hidden_block",
        '<p>正文第一段。</p><div style="display:none"><a href="http://casino.example/">澳门博彩</a></div>'
        '<p>正文第二段。<span style="DISPLAY: none">六合彩资料</span></p>',
    ),
    (
        "page_furniture",
        '<p>正文第一段。</p><div class="sharedaddy"><h3>分享此文章：</h3></div><p>正文第二段。</p>'
        '<div id="jp-relatedposts"><p><a href="/a">禾湾镇召开专题民主生活会</a></p></div><div class="post-tags">标签：整改</div>',
    ),
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


def test_a_page_word_after_the_outlet_is_no_writer():
    result = clean_lines(["新华网 正文", BODY])
    assert "byline_author" not in result.meta
    result = clean_lines(["央视网消息(焦点访谈):" + BODY])
    assert "byline_author" not in result.meta


def test_rules_read_a_gateway_copy_without_its_pinyin_glosses():
    # Rule pinyin_gloss: a converter printed the pinyin after some characters (`臺(tái)`);
    # the rules see the line without it, the text keeps it, a value cut out of it loses it.
    result = clean(Extracted(format="text", lines=[
        "您的位置:中國臺(tái)灣網(wǎng)  >   臺(tái)灣頻道  >   時(shí)政  >   正文",
        "兩岸駐點(diǎn)記者回顧2014:兩岸關(guān)系克難前行",
        "2014年12月30日 14:10 來源:新華臺(tái)灣 字號(hào):       轉(zhuǎn)發(fā) 打印",
        "2014年,兩岸關(guān)系克難前行,繼續(xù)保持了和平發(fā)展勢(shì)頭。",
        "責(zé)任編輯:admin",
    ]))
    assert result.title_line == "兩岸駐點(diǎn)記者回顧2014:兩岸關(guān)系克難前行"
    assert result.paragraphs == ["2014年,兩岸關(guān)系克難前行,繼續(xù)保持了和平發(fā)展勢(shì)頭。"]
    assert (result.meta["page_date"], result.meta["declared_source"], result.meta["editor"]) == (
        "2014年12月30日 14:10", "新華臺灣", "admin")
    result = clean(Extracted(format="text", lines=[
        "“中餐比西餐吃得香” 新聞中心趣事多多", "http://whmsebhyy.com 2001年10月22日 11:31 南方都市報(bào)", BODY]))
    assert (result.meta["page_date"], result.meta["declared_source"]) == ("2001年10月22日 11:31", "南方都市報")
    # A gloss whose bracket or character became `?` goes too.
    result = clean_lines(["發(fā)稿時(shí)間:2020-06-05 13:46:38 來(lái)源:光明日?qǐng)?bào)", BODY])
    assert (result.paragraphs, result.meta["page_date"]) == ([BODY], "2020-06-05 13:46:38")
    assert "declared_source" not in result.meta  # 光明日 and a lost character: not read at all
    # Pinyin that is not a gloss of the character before it stays text, and stays unread.
    keep = "省卫生健康委（wèi）召开会议。"
    assert clean_lines([keep]).paragraphs == [keep]


def test_every_rule_has_a_test_case():
    tested = {c[0] for c in TEXT_CASES} | {c[0] for c in DOM_CASES} | {c[0] for c in STRUCTURAL_CASES}
    defined = {r.name for r in (*DOM_RULES, *LINE_RULES, *INLINE_RULES, *STRUCTURAL_RULES)}
    assert defined == tested


def test_every_rule_is_documented():
    for rule in (*DOM_RULES, *LINE_RULES, *INLINE_RULES, *STRUCTURAL_RULES):
        assert len(rule.doc) > 20, rule.name


NOTICE_CONTACT = "联系电话：0791-6627815；通信地址：青岚县滨河路18号；邮政编码：331800；电子邮箱：qlzj@163.com。"

# (rule, text dump lines, paragraphs left, title found)
STRUCTURAL_CASES = [
    (
        "page_header",
        ["松坪廉政网", "县纪委监委开展专项检查", "时间：2024-03-12  来源：松坪县纪委监委", BODY],
        [BODY],
        "县纪委监委开展专项检查",
    ),
    (
        "title_line_date",
        ["返回上一级", "中共某县交通运输局党组关于巡察整改情况的通报 2024-05-06", BODY],
        [BODY],
        "中共某县交通运输局党组关于巡察整改情况的通报",
    ),
    (
        "dump_head_meta",
        ["中共中央宣传部委托新华通讯社主办", "那些为基层发声呼吁的稿件", "2020-05-11 09:42", "来源:半月谈网", BODY],
        [BODY],
        "那些为基层发声呼吁的稿件",
    ),
    (
        "dump_head_meta",
        ["互联网扩张背景下的权力监督", "2018-02-01 14:54", "理论月刊 2018年10期", "关键词:权力监督信息", "□ 龙 钰", BODY],
        [BODY],
        "互联网扩张背景下的权力监督",
    ),
    (
        "title_line_date",
        ["|", "肩負人民的囑托和期望……http://www.sina.com.cn 2008年03月06日 07:25 經濟參考報", BODY],
        [BODY],
        "肩負人民的囑托和期望……",
    ),
    (
        "doubled_title",
        ["搜狐网站", "搜狐 ChinaRen 17173 焦点房地产 搜狗", "新闻中心 > 国内新闻 > 中国名刊精品 > 《中国新闻周刊》 > 《中国新闻周刊》精彩报道",
         "揭秘台海破冰之旅:20年前两岸新闻人首次合作", "揭秘台海破冰之旅:20年前两岸新闻人首次合作", BODY],
        [BODY],
        "揭秘台海破冰之旅:20年前两岸新闻人首次合作",
    ),
    (
        "dump_head_meta",
        ["河南省委第一轮巡视将开始 10日陆续进驻商丘等地", "07.05.2014  19:02", BODY],
        [BODY],
        "河南省委第一轮巡视将开始 10日陆续进驻商丘等地",
    ),
    (
        "dump_head_meta",
        ["谈谈晚报常青花园社区周报近日创刊", "2022/6/29 4:50:15发布97次查看", BODY],
        [BODY],
        "谈谈晚报常青花园社区周报近日创刊",
    ),
    (
        "pictures_caption",
        ["钓鱼台酒店“蹲点”回顾之记者篇(组图)", "http://www.sina.com.cn 2004年02月28日20:09 人民网", "人民网记者 管克江",
         "中国国际广播电台的记者阵容", BODY],
        [BODY],
        "钓鱼台酒店“蹲点”回顾之记者篇(组图)",
    ),
    (
        "orphan_table_caption",
        ["顺德区启动村级党组织巡察", BODY, "十三届顺德区委2019年第一轮村级党组织巡察各巡察组进驻情况一览表"],
        [BODY],
        "顺德区启动村级党组织巡察",
    ),
    (
        "page_footer",
        [BODY, NOTICE_CONTACT, "[打印本页] [关闭窗口]", "县委巡察办召开巡察工作例会 2024-03-08", "地址：松坪县府前街1号 电话：0578-8120001"],
        [BODY, NOTICE_CONTACT],
        None,
    ),
]


@pytest.mark.parametrize("rule, lines, expected, title", STRUCTURAL_CASES, ids=[c[0] for c in STRUCTURAL_CASES])
def test_structural_rule(rule, lines, expected, title):
    result = clean(Extracted(format="text", lines=list(lines), meta={} if title else {"page_title": "某标题"}))
    assert result.paragraphs == expected
    assert rule in result.rules_fired
    assert result.title_line == title


def test_no_footer_before_running_text_and_the_footer_still_gives_its_editor():
    # A tools line above the body (字号, 打印) ends nothing; after the body it ends the article,
    # and an editor tag below it is still read.
    result = clean_lines(["【字号：大 中 小】【打印】", BODY, "【打印】【关闭】", "【责任编辑：程浩】", "地址：某路1号"])
    assert result.paragraphs == [BODY]
    assert result.meta["editor"] == "程浩"


def test_text_after_a_misplaced_closing_line_stays():
    heading = "二、整改落实情况"
    result = clean_lines([BODY, "上一篇: 某会议召开", heading, "整改工作取得阶段性成效。"])
    assert result.paragraphs == [BODY, heading, "整改工作取得阶段性成效。"]
    assert "page_footer" not in result.rules_fired


def test_a_traditional_copy_keeps_its_own_characters_in_metadata():
    result = clean_lines(["發佈時間：2023-08-17 11:02  來源：雲溪市廉政網  瀏覽量：96", "歡迎訪問廉政新聞網", BODY])
    assert result.paragraphs == [BODY]
    assert result.meta["declared_source"] == "雲溪市廉政網"
    assert result.meta["publisher"] == "廉政新聞網"


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


def test_a_heading_under_an_unpictured_title_and_an_attachments_table_stay():
    lines = ["外国记者爱吃中餐 新闻中心趣事多多", "2001年10月22日 11:31 南方都市报", "外国记者爱吃中餐", BODY, "附件:各巡察组进驻情况一览表"]
    result = clean(Extracted(format="text", lines=lines))
    assert result.paragraphs == ["外国记者爱吃中餐", BODY, "附件:各巡察组进驻情况一览表"]


def test_copies_of_the_title_over_a_gallerys_pictures_go():
    caption = "东方网记者在唐古拉山口。"
    result = clean(Extracted(format="text", lines=[
        "青藏高原有知音 天路东方网友多(组图)", "2006年06月19日11:01 东方网", "青藏高原有知音天路东方网友多(组图)",
        caption, "青藏高原有知音天路东方网友多(组图)", BODY]))
    assert result.paragraphs == [caption, BODY]
    # A text that is nothing but its title keeps it.
    result = clean(Extracted(format="text", lines=["巡察整改情况", "巡察整改情况"], meta={"page_title": "巡察整改情况"}))
    assert result.paragraphs == ["巡察整改情况"]


def test_dump_head_meta_reads_the_date_source_and_writer_beside_the_title():
    result = clean(Extracted(format="text", lines=[
        "互联网扩张背景下的权力监督", "2018-02-01 14:54", "理论月刊 2018年10期", "关键词:权力监督信息", "□ 龙 钰", BODY,
    ]))
    assert (result.meta["page_date"], result.meta["declared_source"], result.meta["declared_author"]) == (
        "2018-02-01 14:54", "理论月刊", "龙钰")
    result = clean(Extracted(format="text", lines=["基于Ajax与MVC模式的信息系统的研究与设计", "来源:电子技术应用2014年第2期", "唐永瑞, 张达敏", BODY]))
    assert (result.paragraphs, result.meta["declared_author"]) == ([BODY], "唐永瑞, 张达敏")
    result = clean(Extracted(format="text", lines=["构建腐败风险防控机制的着力点", "2019-06-25 01:54乔德福", BODY]))
    assert (result.title_line, result.meta["page_date"], result.meta["declared_author"]) == (
        "构建腐败风险防控机制的着力点", "2019-06-25 01:54", "乔德福")
    result = clean(Extracted(format="text", lines=["余秋雨何曾剽窃我的著作", "2006年06月28日17:54 【字号 】【留言】【论坛】【打印】【关闭", BODY]))
    assert (result.title_line, result.meta["page_date"]) == ("余秋雨何曾剽窃我的著作", "2006年06月28日17:54")
    result = clean(Extracted(format="text", lines=[
        "新浪首页 > 新闻中心 > 正文", "中国通天路上架桥人(图)", "http://www.sina.com.cn 2003年06月15日18:59 中国新闻网", BODY]))
    assert (result.title_line, result.meta["page_date"], result.meta["declared_source"]) == (
        "中国通天路上架桥人(图)", "2003年06月15日18:59", "中国新闻网")


def test_a_title_above_the_metadata_line_may_ask_and_loses_its_decoration():
    result = clean(Extracted(format="text", lines=["今日觀察文字稿-民工荒 慌什麼?", "來源:央視網 發布時間:2011-02-16", BODY]))
    assert (result.title_line, result.paragraphs) == ("今日觀察文字稿-民工荒 慌什麼?", [BODY])
    result = clean(Extracted(format="text", lines=["特稿:中国战“疫”五字诀******", BODY]))
    assert result.title_line == "特稿:中国战“疫”五字诀"
    # Without a metadata line under it, a question is the text's first sentence, not its title.
    result = clean(Extracted(format="text", lines=["巡察整改为什么要公开?", BODY]))
    assert result.title_line is None


def test_a_dump_title_is_never_a_link_back_a_document_number_or_a_date():
    for junk in (["返回上一级"], ["113307000025920705/2024-00019"], ["【返回首页】", "2024-05-06"]):
        result = clean(Extracted(format="text", lines=[*junk, "中共某县交通运输局党组关于巡察整改情况的通报", BODY]))
        assert (result.title_line, result.paragraphs) == ("中共某县交通运输局党组关于巡察整改情况的通报", [BODY])


def test_dump_head_meta_reads_a_bracketed_date_and_a_wechat_head():
    result = clean(Extracted(format="text", lines=[
        "[博讯主页]->[大众观点]", "现在应当是清算魏于全学术腐败的时候了", "(博讯北京时间2019年8月04日 来稿)", BODY]))
    assert (result.title_line, result.meta["page_date"], result.paragraphs) == (
        "现在应当是清算魏于全学术腐败的时候了", "2019年8月04日", [BODY])
    result = clean(Extracted(format="text", lines=[
        "查看原文", "其他", "产业与政策丨以提升互联网网络质效助推数字经济发展", "杨波 信息通信技术与政策 2022-12-10", BODY]))
    assert (result.title_line, result.meta["declared_author"], result.meta["declared_source"], result.meta["page_date"]) == (
        "产业与政策丨以提升互联网网络质效助推数字经济发展", "杨波", "信息通信技术与政策", "2022-12-10")
    # A sentence in brackets that holds a date is text.
    result = clean(Extracted(format="text", lines=["某县巡察工作规程", BODY, "（本规程自2024年1月1日起施行）"]))
    assert result.paragraphs[-1] == "（本规程自2024年1月1日起施行）"


def test_an_info_table_printed_label_above_value_is_read_as_one_line_each():
    result = clean(Extracted(format="text", lines=[
        "镇巴县人民政府工作规则", "• 索引号:", "6107280000/2024-001005", "• 发布日期:", "2024年04月06日 16:34", BODY]))
    assert result.meta["page_date"] == "2024年04月06日 16:34"
    assert result.title_line == "镇巴县人民政府工作规则"


def test_a_government_info_table_above_the_title_is_header():
    table = ["• 信息索引号:", "113307020501239658/2023-46395", "• 文件名称:", "中共某区文旅体局党组关于巡察整改情况的通报",
             "• 发布机构:", "区文旅体局", "• 成文日期:", "2023-05-04", "• 公开方式:", "主动公开", "朗读"]
    result = clean(Extracted(format="text", lines=[
        *table, "• 中共某区文旅体局党组关于巡察整改情况的通报", "日期:2023-05-04 08:46:31 来源:区文旅体局 浏览量:", BODY]))
    assert (result.title_line, result.paragraphs) == ("中共某区文旅体局党组关于巡察整改情况的通报", [BODY])
    assert result.meta["page_date"] == "2023-05-04 08:46:31"


def test_an_affiliation_and_a_subtitle_between_title_and_date_are_headline():
    result = clean(Extracted(format="text", lines=[
        "人民网>>文化>>众说纷纭", "余秋雨何曾剽窃我的著作", "--一场闹剧及其背后", "复旦大学 章培恒",
        "2006年06月28日17:54 【字号 】【留言】【论坛】【打印】【关闭", BODY]))
    assert (result.title_line, result.meta["declared_author"], result.paragraphs) == ("余秋雨何曾剽窃我的著作", "章培恒", [BODY])


def test_a_papers_keywords_under_its_abstract_are_text_a_pages_keywords_are_not():
    abstract, keywords = "摘 要:党的十八大以来查处的案件表明,腐败仍然是一个问题。", "关键词:市级领导干部;腐败风险;防控机制"
    assert clean_lines([abstract, keywords, BODY]).paragraphs == [abstract, keywords, BODY]
    assert clean_lines([BODY, keywords]).paragraphs == [BODY]


def test_a_breadcrumb_ending_with_the_title_is_header():
    result = clean(Extracted(format="text", lines=[
        "首页 百科知识 欧美业界关于新闻报道品质的异见", "欧美业界关于新闻报道品质的异见", BODY]))
    assert (result.title_line, result.paragraphs) == ("欧美业界关于新闻报道品质的异见", [BODY])
    assert "doubled_title" in result.rules_fired


def test_a_subtitle_under_the_metadata_line_is_head_not_text():
    result = clean(Extracted(format="text", lines=["县委书记的一天", "发表日期:2011-02-12 点击", "——走近县委书记(上)", BODY]))
    assert (result.title_line, result.paragraphs, result.meta["subtitle"]) == ("县委书记的一天", [BODY], "走近县委书记(上)")
    # Below running text a dash opens a list item of the text.
    lines = ["县委书记的一天", "发表日期:2011-02-12 点击", BODY, "——经济平稳快速增长。"]
    assert clean(Extracted(format="text", lines=lines)).paragraphs == [BODY, "——经济平稳快速增长。"]


def test_dump_head_meta_keeps_names_and_dates_below_running_text_or_far_from_the_title():
    # A notice's signature and date under its text, a heading further down: document text.
    lines = ["宁阳县粮食应急预案的通知", BODY, "宁阳县人民政府办公室", "2017年2月10日"]
    result = clean(Extracted(format="text", lines=lines))
    assert result.paragraphs == [BODY, "宁阳县人民政府办公室", "2017年2月10日"]
    assert "dump_head_meta" not in result.rules_fired
    result = clean(Extracted(format="text", lines=["某县巡察工作规程", "引言", BODY]))
    assert result.paragraphs == ["引言", BODY] and "declared_author" not in result.meta
