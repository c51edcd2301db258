"""Clean stage: apply the boilerplate rules and split the content into paragraphs.

The rules themselves are data in :mod:`pipelines.boilerplate`; a site
profile's template may add its own ``drop`` selectors.  The stage returns the
paragraphs that remain, the metadata the rules captured (bylines, editor,
original link…) and the names of the rules that fired.

Title handling is structural rather than pattern-based: a text document's
first short line without sentence punctuation is its title
(``leading_title``); a copy of the title at the top of the body is dropped
(``repeated_title``, as are copies among its first paragraphs: a gallery prints
it over each picture), and short lines above it are the headline (``headline``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from . import metalines
from .boilerplate import DOM_RULES, INLINE_RULES, LINE_RULES
from .classify import fold_simplified
from .extract import Extracted
from .selectors import css, xpath
from .text import normalise_space

_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol tr table section article blockquote header footer pre dd dt".split()
)
_SENTENCE_END = re.compile(r"[。！？；!?;]|[:：]$")
_RUNNING_TEXT = re.compile(r"[。！？；!?;]")
# A text dump's metadata line sits within its first lines (header, title; a government
# page's information table prints a score of label and value lines above it).
_HEADER_LINES = 24

_FOLD = re.compile(r"[\W_]+")
# The unlabelled metadata of a dump's head (see _loose_meta).
_LOOSE_MARKS = " \t□■◆●-—"
_BULLETS = "•·▪■◆● \t"
# Decoration after a title (``特稿:中国战“疫”五字诀******``).
_TITLE_TRAIL = "*＊ \t"
_JOURNAL_ISSUE = re.compile(rf"(?P<journal>[{metalines.HAN}]{{2,20}})\s*\d{{4}}\s*年\s*(?:第\s*)?\d{{1,2}}\s*期")
# A date in brackets under the title, with the outlet and its clock (``(博讯北京时间2019年8月04日 来稿)``).
_BRACKETED_DATE = re.compile(rf"[（(]\s*[{metalines.HAN}]{{0,8}}?(?:北京时间)?\s*(?P<date>{metalines.DATE.pattern})\s*(?:来稿|讯|电|报道)?\s*[）)]")
# A WeChat article's head: the writer, the account, the day (``杨波 信息通信技术与政策 2022-12-10``).
_ACCOUNT_LINE = re.compile(rf"(?P<writer>[{metalines.HAN}]{{2,3}})\s+(?P<account>[^\s\d]{{2,20}})\s+(?P<date>{metalines.DATE.pattern})")
_NAME_LINE = re.compile(rf"[{metalines.HAN}]{{2,4}}(?:(?:\s+|\s*[,，]\s*)[{metalines.HAN}]{{2,4}}){{0,3}}|[{metalines.HAN}](?:\s[{metalines.HAN}]){{1,2}}")
_NOT_NAMES = frozenset("摘要 引言 前言 导读 导语 编者按 概述 正文 简介 目录 附件 原文 全文 图片 视频 专题 评论 其他 其它 更多 听新闻 朗读 分享 收藏".split())
_NAME_LINES_AFTER_TITLE = 3
_LABEL_ONLY = re.compile(rf"[•·\-\s]*[{metalines.HAN}]{{2,6}}\s*[:：]")
_SUBTITLE = re.compile(r"\s*(?:-{2}|—{1,2})")
_AFFILIATION = re.compile(r"大学|学院|研究院|研究所|研究中心|党校|学校")
_NAVIGATION = re.compile(r"\s*[【\[<《]?\s*(?:返回(?:上一级|上级|首页|列表|顶部)?|上一级|关闭窗口|打印本页)\s*[】\]>》]?\s*")
# Rule pinyin_gloss: a gateway copy prints a character's pinyin after it (``關(guān)系``,
# ``南方都市報(bào)``).  Not text the rules should have to read: they match the line without
# it; the text keeps it as printed, and a value cut from such a line loses it.
# (A gloss whose bracket or character the copy turned into ``?`` goes too: ``光明日?qǐng)?bào)``.)
_PINYIN_GLOSS = re.compile(rf"(?:(?<=[{metalines.HAN}?])\(|\?)(?:[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*)\)")
# A date printed on the title's own line (``…整改情况的通报 2024-05-06``).
# (Sina's old layout glues the site's address, the date and the outlet to the title:
# ``肩負人民的囑托和期望……http://www.sina.com.cn 2008年03月06日 07:25 經濟參考報``.)
_TITLE_DATE = re.compile(rf"(?:\s+|(?=https?://))(?:https?://[\w./-]+\s*)?[（(]?(?P<date>{metalines.DATE.pattern})[）)]?"
                         rf"(?:\s*(?P<declared_source>{metalines.OUTLET}))?$")


@dataclass
class Cleaned:
    paragraphs: list[str]
    meta: dict = field(default_factory=dict)
    rules_fired: list[str] = field(default_factory=list)
    title_line: str | None = None

    def fire(self, name: str, captured: dict | None = None) -> None:
        if name not in self.rules_fired:
            self.rules_fired.append(name)
        for key, value in (captured or {}).items():
            if value and key not in self.meta:
                self.meta[key] = value.strip()


def _remove_keep_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _tree_to_lines(tree: etree._Element) -> list[str]:
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag == "br":
            el.tail = "\n" + (el.tail or "")
        elif tag in _BLOCK_TAGS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    return "".join(tree.itertext()).split("\n")


def _apply_dom_rules(tree: etree._Element, extracted: Extracted, cleaned: Cleaned) -> None:
    rules = [(r.name, xpath(r.xpath)(tree)) for r in DOM_RULES]
    if extracted.template is not None:
        rules += [(f"profile_drop:{name}", css(tree, sel)) for name, sel in extracted.template.drop.items()]
    for name, found in rules:
        for el in found:
            if el is not tree:
                _remove_keep_tail(el)
        if found:
            cleaned.fire(name)


def unglossed(text: str) -> str:
    """``text`` without pinyin glosses (rule ``pinyin_gloss``); a gloss whose character was
    lost leaves U+FFFD in its place, so no value is read as whole without it."""
    return _PINYIN_GLOSS.sub(lambda m: metalines.LOST if m[0].startswith("?") else "", text)


def _as_printed(paragraph: str, twin: str) -> str:
    """The paragraph in the positions of its twin: as published (a traditional copy
    keeps 雲溪市廉政網), less its pinyin glosses; the twin itself when even that differs."""
    if len(paragraph) == len(twin):
        return paragraph
    plain = unglossed(paragraph)
    return plain if len(plain) == len(twin) else twin


def _captured(match, paragraph: str, twin: str) -> dict[str, str]:
    """A rule's named groups, cut from the paragraph as published (see :func:`_as_printed`)."""
    text = _as_printed(paragraph, twin)
    if isinstance(match, re.Match):
        return {k: text[match.start(k) : match.end(k)] for k, v in match.groupdict().items() if v is not None}
    return match.captures(text)


def _line_rule(paragraph: str, twin: str, cleaned: Cleaned):
    """The line rule that drops the paragraph (its captures recorded), or None."""
    for rule in LINE_RULES:
        if m := rule.match(twin):
            cleaned.fire(rule.name, _captured(m, paragraph, twin))
            return rule
    return None


def _cut_inline(paragraph: str, twin: str, cleaned: Cleaned) -> tuple[str, str]:
    """Cut inline matches found in ``twin`` (the simplified form) out of ``paragraph``."""
    for rule in INLINE_RULES:
        m = rule.pattern.search(twin)
        if m and m.group(0).strip():
            cleaned.fire(rule.name, _captured(m, paragraph, twin))
            paragraph = _as_printed(paragraph, twin)
            if len(twin) == len(paragraph):
                paragraph = normalise_space(paragraph[: m.start()] + paragraph[m.end() :])
            twin = normalise_space(twin[: m.start()] + twin[m.end() :])
            if len(twin) != len(paragraph):
                paragraph = twin
    return paragraph, twin


def _simplified_twins(paragraphs: list[str]) -> list[str]:
    """The paragraphs in simplified characters and without pinyin glosses, for matching the rules.

    Rules are written in simplified Chinese; a traditional-character copy
    (歡迎來到…, 原文鏈接, 版權所有) must meet them too, while its text is kept
    as published.
    """
    joined = "\n".join(paragraphs)
    converted = fold_simplified(unglossed(joined))
    if converted == joined:
        return paragraphs
    twins = converted.split("\n")
    return twins if len(twins) == len(paragraphs) else paragraphs


def _fold(text: str) -> str:
    return _FOLD.sub("", text)


def _is_label_only(line: str) -> bool:
    return bool(_NAVIGATION.fullmatch(line)) or len(metalines.HAN_CHAR.findall(line)) < 2


def _looks_like_title(line: str, above_meta: bool = False) -> bool:
    """A short line without sentence punctuation, in words: not a link back
    (``返回上一级``), a document number (``113307000025920705/2024-00019``) or a date.
    Above the metadata line a title may end in a question or exclamation mark
    (``民工荒 慌什麼?``)."""
    punctuated = _SENTENCE_END.search(line[:-1] if above_meta and line[-1:] in "?？!！" else line)
    return (4 <= len(line) <= 60 and not punctuated and len(metalines.HAN_CHAR.findall(line)) >= 2
            and not _NAVIGATION.fullmatch(line) and not metalines.DATE.match(line))


# A title that announces pictures (``…之记者篇(组图)``): the short lines between its head and its text are their captions.
_PICTURED = re.compile(r"[（(](?:组图|图|多图|附图|图文)[）)]\s*$")
# The caption of a table the dump lost, left as the last line (``…各巡察组进驻情况一览表``).
_ORPHAN_TABLE_CAPTION = re.compile(r"(?!附件|附表)[^。！？；!?;，,:：]{4,60}(?:一览表|统计表|情况表|明细表|汇总表)")
_DOUBLED_TITLE_WITHIN = 12
# A paper's abstract, and the keywords line under it (text of the paper, not a page's 关键词 furniture).
_ABSTRACT = re.compile(r"[\[【]?\s*摘\s*要\s*[\]】]?\s*[:：]?")
_KEYWORDS = re.compile(r"[\[【]?\s*关键词\s*[\]】]?\s*[:：]?")


def _doubled_title(paragraphs: list[str]) -> int | None:
    """The index of a title-like line the next line repeats, within a dump's head."""
    for i in range(min(len(paragraphs) - 1, _DOUBLED_TITLE_WITHIN)):
        if _RUNNING_TEXT.search(paragraphs[i]):
            return None
        if _looks_like_title(paragraphs[i]) and _fold(paragraphs[i]) == _fold(paragraphs[i + 1]):
            return i
        if (_looks_like_title(paragraphs[i + 1]) and re.match(r"(?:网站)?首\s?页\s", paragraphs[i])
                and _fold(paragraphs[i]).endswith(_fold(paragraphs[i + 1]))):
            return i + 1  # a breadcrumb that ends with the title (首页 百科知识 欧美业界关于…)
    return None


def _handle_titles(paragraphs: list[str], known_title: str | None, is_text: bool, cleaned: Cleaned) -> list[str]:
    title = known_title
    # Links back and document numbers above a dump's first line are no title.
    skip = 0
    while skip < min(len(paragraphs) - 1, 3) and _is_label_only(paragraphs[skip]):
        skip += 1
    if not title and is_text and (doubled := _doubled_title(paragraphs)):
        # Rule doubled_title: the title printed twice (the page's heading, then again
        # at the top of the text) is the title, whatever header lines are above it.
        skip = doubled
        cleaned.fire("doubled_title")
    if not title and is_text and paragraphs and _looks_like_title(paragraphs[skip]):
        title = cleaned.title_line = paragraphs[skip].lstrip(_BULLETS).rstrip(_TITLE_TRAIL)
        if skip:
            cleaned.fire("page_header")
        paragraphs = paragraphs[skip + 1 :]
        cleaned.fire("leading_title")
    twin = fold_simplified(unglossed(cleaned.title_line or ""))
    if cleaned.title_line and (dated := _TITLE_DATE.search(twin)):
        printed = _as_printed(cleaned.title_line, twin)
        cleaned.fire("title_line_date", {key: printed[dated.start(group) : dated.end(group)]
                                         for key, group in (("page_date", "date"), ("declared_source", "declared_source"))
                                         if dated[group]})
        title = cleaned.title_line = printed[: dated.start()]
    if not title:
        return paragraphs
    folded_title = _fold(title)
    for i, paragraph in enumerate(paragraphs[:3]):
        if _fold(paragraph) == folded_title:
            headline = paragraphs[:i]
            if all(_looks_like_title(h) for h in headline):
                if headline:
                    cleaned.fire("headline", {"headline": " ".join(headline)})
                cleaned.fire("repeated_title")
                return _without_title_copies(paragraphs[i + 1 :], folded_title, cleaned)
    return _without_title_copies(paragraphs, folded_title, cleaned)


_TITLE_COPIES_WITHIN = 8


def _without_title_copies(paragraphs: list[str], folded_title: str, cleaned: Cleaned) -> list[str]:
    """Copies of the title among the first paragraphs (a gallery page prints it over each picture)."""
    head = [p for p in paragraphs[:_TITLE_COPIES_WITHIN] if _fold(p) != folded_title]
    if len(head) == min(len(paragraphs), _TITLE_COPIES_WITHIN) or not head:
        return paragraphs
    cleaned.fire("repeated_title")
    return head + paragraphs[_TITLE_COPIES_WITHIN:]


def _join_label_values(lines: list[str]) -> list[str]:
    """A dump of a government page's info table prints each label on its own line and its
    value on the next (``• 发布日期:`` / ``2024年04月06日 16:34``): one metadata line again
    (joined only when that makes a metadata line, which the stage then removes)."""
    joined: list[str] = []
    for line in lines:
        pair = f"{joined[-1]} {line}" if joined else ""
        if joined and _LABEL_ONLY.fullmatch(joined[-1]) and metalines.parse(fold_simplified(pair)) is not None:
            joined[-1] = pair
        else:
            joined.append(line)
    return joined


def _loose_meta(line: str, after_title: bool) -> dict[str, str] | None:
    """What an unlabelled metadata line of a dump's head gives: a bare date, a journal
    issue (``理论月刊 2018年10期``), or — just under the title — the writer's name alone
    (``陈芝``, ``□ 龙 钰``).  Read in simplified characters without pinyin glosses
    (``南方都市報(bào)``), the values as printed."""
    twin = fold_simplified(unglossed(line))
    found = _loose_meta_of(twin, after_title)
    printed = _as_printed(line, twin)
    if not found or printed == twin:
        return found
    return {key: printed[twin.index(value) : twin.index(value) + len(value)] if value in twin else value
            for key, value in found.items()}


def _loose_meta_of(line: str, after_title: bool) -> dict[str, str] | None:
    bare = line.strip(_LOOSE_MARKS)
    if found := metalines.date_line(bare):
        return found
    if (date := metalines.DATE.match(bare)) and _is_name(bare[date.end() :].strip()):
        return {"page_date": date[0], "declared_author": _name(bare[date.end() :])}  # 2019-06-25 01:54乔德福
    if m := _JOURNAL_ISSUE.fullmatch(bare):
        return {"declared_source": m["journal"]}
    if m := _BRACKETED_DATE.fullmatch(bare):
        return {"page_date": m["date"]}  # (博讯北京时间2019年8月04日 来稿)
    if (m := _ACCOUNT_LINE.fullmatch(bare)) and _is_name(m["writer"]):
        return {"declared_author": m["writer"], "declared_source": m["account"], "page_date": m["date"]}
    if after_title and _is_name(bare):
        return {"declared_author": _name(bare)}
    return None


def _is_name(text: str) -> bool:
    """A writer's name alone (``陈芝``), names (``郭芳 王红茹``) or an affiliation and a
    name (``复旦大学 章培恒``) — a single word of four characters is more likely a heading."""
    return bool(_NAME_LINE.fullmatch(text)) and text not in _NOT_NAMES and (" " in text or len(text) <= 3)


def _name(text: str) -> str:
    """Names as printed; a name spaced out letter by letter (``龙 钰``) is one name."""
    parts = text.split()
    return "".join(parts) if all(len(p) == 1 for p in parts) else " ".join(parts)


def _split_header(paragraphs: list[str], meta_line_at: int | None, cleaned: Cleaned) -> list[str]:
    """A text dump's head, up to its first running text: the metadata block (the
    labelled metadata line, and the bare dates, journal issues and names beside it)
    follows the title; the title is the line above the block, and what is above the
    title is the page's header.  The block's values go to metadata."""
    head_end = next((i for i, p in enumerate(paragraphs) if _RUNNING_TEXT.search(p)
                     and not (i + 1 == meta_line_at and _looks_like_title(p, above_meta=True))), len(paragraphs))
    head_end = min(head_end, _HEADER_LINES)
    loose = [i for i in range(1, head_end) if _loose_meta(paragraphs[i], after_title=False)]
    if meta_line_at and meta_line_at > head_end:
        meta_line_at = None  # a metadata line after running text closes the article: no head
    block = meta_line_at if meta_line_at else (loose[0] if loose else None)
    if block is None and len(paragraphs) > 1 and _loose_meta(paragraphs[1], after_title=True):
        block = 1  # the first line, then the writer's name or the date under it
    while block and block - 1 in loose:
        block -= 1
    # A writer's line or a subtitle (``--一场闹剧及其背后``) between the title and the block.
    headline = set()
    while block and block >= 2 and (_is_name(paragraphs[block - 1].strip(_LOOSE_MARKS)) or _SUBTITLE.match(paragraphs[block - 1])):
        if _is_name(name := paragraphs[block - 1].strip(_LOOSE_MARKS)):
            cleaned.fire("dump_head_meta", {"declared_author": _name(name.split()[-1] if _AFFILIATION.search(name) else name)})
        headline.add(block - 1)
        block -= 1
    if not block or not _looks_like_title(paragraphs[block - 1], above_meta=True):
        return paragraphs
    if block > 1:
        cleaned.fire("page_header")
    title_at = block - 1
    cleaned.title_line = paragraphs[title_at].lstrip(_BULLETS).rstrip(_TITLE_TRAIL)
    cleaned.fire("leading_title")
    kept = []
    for i in range(block, len(paragraphs)):
        found = i < head_end and _loose_meta(paragraphs[i], after_title=i - title_at <= _NAME_LINES_AFTER_TITLE)
        if i in headline:
            cleaned.fire("dump_head_meta")
        elif i < head_end and i - title_at <= _NAME_LINES_AFTER_TITLE and _SUBTITLE.match(paragraphs[i]):
            cleaned.fire("dump_head_meta", {"subtitle": paragraphs[i].lstrip("-— ")})  # ——走近县委书记(上)
        elif found:
            cleaned.fire("dump_head_meta", found)
        elif i < head_end and _PICTURED.search(cleaned.title_line):
            cleaned.fire("pictures_caption")  # 钓鱼台酒店“蹲点”回顾之记者篇(组图): 中国国际广播电台的记者阵容
        else:
            kept.append(paragraphs[i])
    return kept


def clean(extracted: Extracted) -> Cleaned:
    cleaned = Cleaned(paragraphs=[])
    is_text = extracted.tree is None
    if not is_text:
        _apply_dom_rules(extracted.tree, extracted, cleaned)
        lines = _tree_to_lines(extracted.tree)
    else:
        lines = extracted.lines or []
    found = [p for p in map(normalise_space, lines) if p]
    if is_text:
        found = _join_label_values(found)
    # ``closed``: a line closing the article (【打印】, 上一篇…) came after running text;
    # the lines after it wait in ``footer`` and are the page's footer unless running
    # text follows (then the closing line was not the end).
    paragraphs, footer, meta_line_at, running, closed = [], [], None, False, False
    for index, (paragraph, twin) in enumerate(zip(found, _simplified_twins(found))):
        if _ABSTRACT.match(paragraphs[-1] if paragraphs else "") and _KEYWORDS.match(twin):
            paragraphs.append(paragraph)  # a paper's keywords under its abstract are its text
            continue
        if rule := _line_rule(paragraph, twin, cleaned):
            if rule.name == "page_meta_line" and meta_line_at is None and index < _HEADER_LINES:
                meta_line_at = len(paragraphs)
            closed = closed or (rule.ends_article and running)
            continue
        cut, cut_twin = _cut_inline(paragraph, twin, cleaned)
        if not cut or (cut_twin != twin and _line_rule(cut, cut_twin, cleaned)):
            continue
        is_running = bool(_RUNNING_TEXT.search(cut))
        if closed and not is_running:
            footer.append(cut)
            continue
        paragraphs += footer + [cut]
        footer, closed, running = [], False, running or is_running
    if footer:
        cleaned.fire("page_footer")
    if is_text and len(paragraphs) > 1 and _ORPHAN_TABLE_CAPTION.fullmatch(paragraphs[-1]) and running:
        paragraphs.pop()
        cleaned.fire("orphan_table_caption")
    known_title = extracted.meta.get("fm_title") or extracted.meta.get("page_title")
    if is_text and not known_title:
        paragraphs = _split_header(paragraphs, meta_line_at, cleaned)
        known_title = cleaned.title_line
    cleaned.paragraphs = _handle_titles(
        paragraphs,
        normalise_space(str(known_title)) if known_title else None,
        is_text=is_text,
        cleaned=cleaned,
    )
    return cleaned
