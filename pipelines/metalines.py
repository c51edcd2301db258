"""The labelled metadata lines Chinese CMSs print around an article.

Nearly every site prints a line such as ``发布时间：2023-09-15 16:20　来源：县委办
作者：张三　编辑：李四　审核：王五　浏览量：356　【字号：大 中 小】【打印】``.  Its
labels are data (:data:`LABELS`): each names the record field it fills, or
``None`` for furniture that is recognised but is not metadata (审核, 校对,
浏览量, 字号…).  :func:`parse` reads a line into fields only when the *whole*
line is such a line — every piece a known label with a plausible value, a bare
date, a reporter byline or a tool word — so body text that merely contains a
label (``巡察时间：2023年4月10日至6月10日``, ``联系电话：…``) is never taken.

Values are returned as spans of the line, so a caller that parsed a simplified
twin of a traditional-character line can cut the value out of the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
HAN_CHAR = re.compile(f"[{HAN}]")
# A character a copy lost (U+FFFD): a value holding one is not read.
LOST = "\ufffd"

# label → field; longer labels first where one ends another (信息来源 before 来源).
LABELS: dict[str, str | None] = {
    **dict.fromkeys(
        ("发布时间", "发布日期", "发表时间", "发表日期", "发稿时间", "发文时间", "刊发日期", "刊发时间", "上传时间", "上传日期",
         "发布于", "发表于", "时间", "日期"),
        "published",
    ),
    **dict.fromkeys(("信息来源", "稿件来源", "文章来源", "新闻来源", "本文来源", "内容来源", "来源", "出处"), "source"),
    **dict.fromkeys(("作者", "撰稿", "撰文", "记者", "通讯员"), "author"),
    **dict.fromkeys(("责任编辑", "网络编辑", "值班编辑", "编辑", "责编"), "editor"),
    # Furniture: recognised, never metadata.
    **dict.fromkeys(
        (
            "审核", "审校", "校对", "签发", "终审", "摄影", "图片", "视频",
            "浏览量", "浏览次数", "浏览", "点击数", "点击量", "点击次数", "点击", "阅读量", "阅读数", "阅读次数", "阅读",
            "访问量", "访问次数", "下载次数", "下载量", "人气", "评论", "字号", "字体", "分享到", "分享", "关键词",
            "标签", "分类", "所属栏目", "栏目", "文档序号", "归档时间", "字体大小", "视力保护色", "语音阅读",
        ),
        None,
    ),
}
# Furniture labels whose value is a list (标签:党组织;整改;重大战略).
_LIST_LABELS = frozenset({"标签", "关键词"})
# Words that stand alone on a metadata line: tools, counters' units, font sizes.
TOOL_WORDS = frozenset(
    "打印 打印本页 打印此页 关闭 关闭窗口 关闭本页 纠错 收藏 分享 返回 顶部 返回顶部 字号 字体 大 中 小 默认 次 T A"
    " 留言 论坛 转发 参与互动 发表评论 我要评论 我来说两句 版权反馈 点击 浏览 阅读 语音阅读 听新闻 朗读 - • ·"
    " 更新 发布 发表".split()  # 2005-04-27 14:32更新
)
# Tool links named after the site's own forum or channel (`进入复兴论坛`, `进入论坛`).
_TOOL_PHRASE = re.compile(rf"进入[{HAN}]{{0,6}}论坛|[{HAN}]{{2,4}}报道")  # …|北京报道
# The site's address printed beside the date (`http://www.CRNTT.com   2018-03-18 14:06:59`).
_ADDRESS = re.compile(r"(?:https?://)?(?:www\.)?(?=[\w.-]*[A-Za-z])[\w-]+(?:\.[\w-]+)+/?", re.ASCII)  # not 07.05.2014
# A reporter's role before the names (记者 王生霞 通讯员 杨生军), optionally after
# the outlet (澎湃新闻记者 邹卫, 本刊记者 杨巨帅).  Roles are never names.
ROLE_WORDS = ("特约记者", "见习记者", "实习记者", "首席记者", "记者", "特约通讯员", "通讯员", "实习生", "摄影", "摄")
SELF_OUTLETS = ("本报", "本刊", "本网", "本站", "本台")

_LABEL = re.compile(
    rf"(?<![{HAN}A-Za-z])(?P<label>{'|'.join(sorted(LABELS, key=len, reverse=True))})\s*[:：]\s*"
)
_CHUNKS = re.compile(r"\s*[|｜丨【】\[\]（）()]\s*")
# Year first, or day first with dots (`29.01.2019  17:22`, a city portal's style).
DATE = re.compile(
    r"(?:\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?|\d{1,2}\.\d{1,2}\.\d{4})"
    r"(?:\s*\d{1,2}\s*[:：时]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2}\s*秒?)?)?"
)
# Outlets whose name has none of the usual endings (半月谈记者 史卫燕).
NAMED_OUTLETS = ("半月谈", "瞭望", "求是", "财新", "界面", "央视", "总台央视")
OUTLET = (rf"(?:《?[{HAN}]{{1,20}}?(?:网站|网|报社|日报|报|杂志社|杂志|周刊|通讯社|社|电视台|台|客户端|新闻(?![网社]))》?"
          rf"|{'|'.join(NAMED_OUTLETS)})")
_NAME = rf"[{HAN}·]{{2,4}}"
_ROLE = "|".join(ROLE_WORDS)
BYLINE = re.compile(
    rf"(?P<outlet>{OUTLET}|{'|'.join(SELF_OUTLETS)})?\s*(?:{_ROLE})\s*[:：]?\s*"
    rf"(?P<names>{_NAME}(?:\s*[\s、，,]\s*(?:(?:{_ROLE})\s*[:：]?\s*)?{_NAME}){{0,5}})"
)
_SENTENCE = re.compile(r"[。！？；!?;，,]")
_SOURCE_BYLINE = re.compile(rf"\s+(?:{OUTLET})?\s*(?:{_ROLE})\s*[:：]?\s*(?P<names>{_NAME}(?:[\s、]{_NAME}){{0,3}})$")


@dataclass
class MetaLine:
    """Fields found on a metadata line, as (start, end) spans of the line:
    ``published``, ``source``, ``author`` and ``editor`` from labels, ``byline``
    for the names of a reporter byline without a label (``记者 王生霞 通讯员 杨生军``)."""

    fields: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    outlet: tuple[int, int] | None = None
    """The outlet of a reporter byline (澎湃新闻记者 …, 本刊记者 …)."""

    def add(self, name: str, span: tuple[int, int]) -> None:
        self.fields.setdefault(name, []).append(span)

    def values(self, line: str) -> dict[str, str]:
        """The fields' text in ``line``: several authors are joined by ``、``."""
        found = {}
        for name, spans in self.fields.items():
            texts = [line[a:b].strip() for a, b in spans if line[a:b].strip()]
            if texts:
                found[name] = "、".join(texts) if name in ("author", "byline") else texts[0]
        if self.outlet:
            found["outlet"] = line[self.outlet[0] : self.outlet[1]]
        return found


def _chunks(line: str):
    start = 0
    for separator in _CHUNKS.finditer(line):
        if separator.start() > start:
            yield start, separator.start()
        start = separator.end()
    if start < len(line):
        yield start, len(line)


# A view counter glued to its words (`发布97次查看`, `浏览 356 次`).
_COUNTER = re.compile(r"(?:发布|发表|更新)?(?:\d+\s*次\s*(?:查看|浏览|阅读|点击)|(?:查看|浏览|阅读|点击)\s*\d+\s*次?)")


def _is_tool(word: str) -> bool:
    return word in TOOL_WORDS or word.isdigit() or bool(_TOOL_PHRASE.fullmatch(word) or _COUNTER.fullmatch(word))


def _trim(line: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding whitespace and tool words (``打印``, ``大 中 小``)."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", line[start:end])]
    while words and _is_tool(line[start + words[0][0] : start + words[0][1]]):
        words.pop(0)
    while words and _is_tool(line[start + words[-1][0] : start + words[-1][1]]):
        words.pop()
    return (start + words[0][0], start + words[-1][1]) if words else (start, start)


# The page's category between its date and its tools (时间:2022-08-26 百科知识 版权反馈); a word
# after a date with no tool after it (时间：2024年3月11日 全天) is a notice's text, not a page's date.
_CATEGORY_THEN_TOOLS = re.compile(rf"[{HAN}]{{2,6}}(?:\s+(?:{'|'.join(w for w in TOOL_WORDS if len(w) > 1)}))+")
_WRITER_AFTER_DATE = re.compile(rf"[{HAN}]{{2,3}}")


def _read_piece(line: str, start: int, end: int, found: MetaLine, labelled: bool = False) -> bool:
    """Read one label-free piece: a bare date, a reporter byline, nothing but tool
    words — or those in a row after the outlet (``青州新闻网 2023年6月12日 08:15 记者 严明``)."""
    start, end = _trim(line, start, end)
    piece = line[start:end]
    if not piece:
        return True
    if DATE.fullmatch(piece):
        found.add("published", (start, end))
        return True
    if m := BYLINE.fullmatch(piece):
        found.add("byline", (start + m.start("names"), start + m.end("names")))
        if m.group("outlet"):
            found.outlet = (start + m.start("outlet"), start + m.end("outlet"))
        return True
    date = DATE.search(piece)
    if date is None:
        return False
    before = piece[: date.start()].strip()
    if before and _ADDRESS.fullmatch(before):  # the site's address before the date
        before = ""
    if before and not re.fullmatch(OUTLET, before):
        return False
    after_start, after_end = _trim(line, start + date.end(), end)
    if not before and re.fullmatch(OUTLET, line[after_start:after_end]):
        found.outlet = (after_start, after_end)  # the outlet after the date (2003年06月15日18:59 中国新闻网)
    elif labelled and _WRITER_AFTER_DATE.fullmatch(line[after_start:after_end]):
        found.add("byline", (after_start, after_end))  # the writer after the date on a labelled line (2012-03-12 16:59  田兴春 来源:人民网)
    elif not _read_piece(line, start + date.end(), end, found):
        return False
    found.add("published", (start + date.start(), start + date.end()))
    if before:
        found.outlet = (start, start + len(before))
    return True


def _read_value(line: str, name: str | None, start: int, end: int, found: MetaLine, label: str = "") -> bool:
    """Read a label's value; a date after a source or name (来源：… 2021-10-23 09:05) is the date."""
    untrimmed_end = end
    start, end = _trim(line, start, end)
    value = line[start:end]
    if name is None:
        if label in _LIST_LABELS:  # 标签:党组织;整改;重大战略
            return len(value) <= 60 and not re.search(r"[。！？]", value)
        return len(value) <= 16 and not _SENTENCE.search(value)
    if name == "published":
        # The date, then perhaps an unlabelled byline (日期：2023-09-15 记者 王生霞).
        if not (date := DATE.match(value)):
            return False
        if (date.end() < len(value) and not _read_piece(line, start + date.end(), end, found)
                and not _CATEGORY_THEN_TOOLS.fullmatch(line[start + date.end() : untrimmed_end].strip())):
            return False
        found.add(name, (start, start + date.end()))
        return True
    if name == "source" and (byline := _SOURCE_BYLINE.search(value)):
        # 来源:央视新闻客户端 总台央视记者:王莉 — the source, then the reporter.
        found.add("byline", (start + byline.start("names"), start + byline.end("names")))
        start, end = _trim(line, start, start + byline.start())
        value = line[start:end]
    if (date := DATE.search(value)) and date.start() > 0:
        if not _read_piece(line, start + date.start(), end, found):
            return False
        start, end = _trim(line, start, start + date.start())
        value = line[start:end]
    if not value or re.fullmatch(rf"[{HAN}]{{2,6}}\s*[:：]", value):
        return True  # no value; what follows is the next label (文章来源: 文章作者:)
    if LOST in value:
        return True  # a character the copy lost (光明日�): the value is not read, the line stays metadata
    if len(value) > 40 or re.search(r"[。！？；?!;]", value) or (name == "source" and len(value) < 2):
        return False
    found.add(name, (start, end))
    return True


def date_line(line: str) -> dict[str, str] | None:
    """An unlabelled line that holds a date and nothing else but tool words, the site's
    address and the outlet after the date (``2006年06月28日17:54 【字号 】【留言】【打印】``,
    ``http://www.sina.com.cn 2003年06月15日18:59 中国新闻网``): ``page_date`` and perhaps
    ``declared_source``; None for any other line."""
    if not line or len(line) > 120:
        return None
    found = MetaLine()
    for start, end in _chunks(line):
        start, end = _trim(line, start, end)
        if (address := _ADDRESS.match(line, start, end)) and line[address.end() : end].strip():
            start = address.end()
        elif address and address.end() == end:
            continue
        if not _read_piece(line, start, end, found) or set(found.fields) - {"published"}:
            return None
    dates = found.fields.get("published")
    if not dates:
        return None
    (a, b), outlet = dates[0], found.outlet
    return {"page_date": line[a:b], **({"declared_source": line[outlet[0] : outlet[1]]} if outlet else {})}


def parse(line: str) -> MetaLine | None:
    """The fields of ``line`` if the whole line is a metadata line, else None.

    A line qualifies with at least one known label (or a reporter byline) and
    nothing else but bare dates and tool words."""
    if not line or len(line) > 200:
        return None
    found, labelled = MetaLine(), False
    for chunk_start, chunk_end in _chunks(line):
        labels = list(_LABEL.finditer(line, chunk_start, chunk_end))
        if not _read_piece(line, chunk_start, labels[0].start() if labels else chunk_end, found, labelled=bool(labels)):
            return None
        for i, label in enumerate(labels):
            value_end = labels[i + 1].start() if i + 1 < len(labels) else chunk_end
            if not _read_value(line, LABELS[label["label"]], label.end(), value_end, found, label["label"]):
                return None
            labelled = True
    return found if labelled or "byline" in found.fields else None
