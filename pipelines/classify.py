"""Document-type classifier for inspection (巡视/巡察) texts.

Grammar: an ordered list of `Rule`s. Each rule looks at the title or the body,
matches a regex (and optionally must *not* match an `unless` regex), and names
the doc type it decides. Title rules come first because a headline states what
the document is; body rules only decide when no title rule fired. The first
matching rule wins, so more specific rules sit above more general ones.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import opencc

DOC_TYPES = (
    "rectification_report",
    "feedback_notice",
    "entry_notice",
    "round_summary",
    "policy_qa",
    "news",
    "other",
)

# Full-width digits and Latin letters → ASCII, so numbers and X placeholders
# match one pattern whatever width the source used; the corner brackets of
# traditional-character copies (「」『』) → the quotes of their originals (“”‘’).
# Other punctuation stays as is: patterns accept both widths.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF5B) if chr(cp).isalnum()}
_FOLD.update({ord("「"): "“", ord("」"): "”", ord("『"): "‘", ord("』"): "’"})
_TO_FOLD = re.compile("[" + "".join(map(chr, _FOLD)) + "]")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


# OpenCC converts through three UTF-8 copies of its input (38 MB at once for a 10 MB page's
# text): a longer text is converted this many characters at a time, each piece ending at a
# line break (no phrase of its dictionaries spans one, so the result is the same).
CONVERT_PIECE = 1 << 18


def _to_simplified(text: str) -> str:
    try:
        return _t2s().convert(text)
    except UnicodeEncodeError:  # lone surrogates cannot reach the C++ converter
        return _t2s().convert(text.encode("utf-8", "replace").decode("utf-8"))


def fold_simplified(text: str) -> str:
    """Simplified characters, ASCII digits/letters, “” quotes; safe on any str."""
    if len(text) <= CONVERT_PIECE:
        simplified = _to_simplified(text)
    else:
        pieces, start = [], 0
        while start < len(text):
            cut = text.find("\n", start + CONVERT_PIECE)
            end = len(text) if cut < 0 else cut + 1
            pieces.append(_to_simplified(text[start:end]))
            start = end
        simplified = "".join(pieces)
    if not _TO_FOLD.search(simplified):  # str.translate is slow; most texts have none
        return simplified
    return simplified.translate(_FOLD)


@dataclass(frozen=True)
class Rule:
    name: str
    doc_type: str
    field: str  # "title" or "body"
    pattern: re.Pattern[str]
    why: str
    unless: re.Pattern[str] | None = None

    def matches(self, title: str, body: str) -> bool:
        text = title if self.field == "title" else body
        if not self.pattern.search(text):
            return False
        return self.unless is None or not self.unless.search(text)


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE)


# Markers that the text itself reports rectification results, as opposed to
# mentioning that rectification will follow.
_STATUS_MARK = r"【(?:已整改|已完成|整改中|正在整改|基本完成|阶段性完成|长期坚持|持续推进)】"
# The report's own publication clause in its wordings: 现将(巡察)整改(进展)情况予以公布 /
# 报告如下 / 通报如下 / 公示如下, (现根据规定)将…情况予以通报, 现将整改进展情况向社会公开,
# 现将巡察整治情况予以公布.
_PUBLICATION = (
    r"将.{0,16}整[改治].{0,8}情况(?:予以(?:公布|通报|公开|公示)|向(?:党内和)?社会(?:公开|公布|通报)"
    r"|(?:公示|通报|报告|公布)如下)"
)
_REPORT_MARKERS = _re(
    rf"整改(?:进展)?情况[（(：:]|{_PUBLICATION}|整改(?:进展)?情况的?(?:通报|公告|公示)"
    rf"|{_STATUS_MARK}|(?:完成情况|整改进度|整改状态)[：:]"
)
# A round's progress published for many units at once (向40家被巡察单位党组织…反馈): a summary.
_MANY_UNITS = r"(?<!\d)\d{1,4}(?:家|个)被巡[察视](?:单位|党组织)"

RULES: tuple[Rule, ...] = (
    Rule(
        "title_press_qa", "policy_qa", "title",
        _re(r"答记者问|答问|问答|权威解读"),
        "An official answering reporters' questions about a rule is policy Q&A.",
    ),
    Rule(
        "title_round_summary", "round_summary", "title",
        _re(r"(?:巡视|巡察)\s*整改(?:进展)?情况(?:综述|述评|扫描|(?:集中|全部|开始|陆续|分批)公布)"),
        "CCDI's wrap-up of a whole round is titled 整改进展情况综述; news of a round's reports "
        "published together: 整改情况集中公布 / 全部公布 / 开始公布.",
    ),
    Rule(
        "title_rules_document", "other", "title",
        _re(r"(?:意见|办法|规定|细则|规程|实施方案)$"),
        "A rule or guidance about inspections (关于做好巡察整改情况公开工作的意见) states how to "
        "publish, not what was rectified; a team's findings (反馈意见, 巡察意见) are not rules.",
        unless=_re(r"(?:反馈|巡视|巡察|整改)意见$"),
    ),
    Rule(
        "title_entry_notice", "entry_notice", "title",
        _re(r"进驻.{0,30}(?:公告|通告)|(?:巡视|巡察).{0,20}(?:公告|通告)$|^巡\s*[视察]\s*公\s*告$"),
        "Entry notices are announcements (公告/通告) of a team's arrival.",
        unless=_re(r"整改|反馈"),
    ),
    Rule(
        "title_feedback_notice", "feedback_notice", "title",
        _re(r"反馈.{0,8}(?:巡视|巡察)(?:意见|情况)|(?:巡视|巡察)(?:意见|情况)反馈"),
        "A team handing its findings back to the unit: 反馈巡视情况.",
        unless=_re(r"整改"),
    ),
    Rule(
        "title_report_family", "rectification_report", "title",
        _re(r"(?:巡视|巡察).{0,20}整[改治].{0,8}情况的?(?:通报|公告|报告|公示|公开)"),
        "The report title family: …关于(X届中央第X轮)巡视整改(进展)情况的通报; villages post 公示.",
    ),
    Rule(
        "body_round_complete", "round_summary", "body",
        _re(r"至此.{0,60}整改(?:进展)?情况已(?:全部)?公布完毕"),
        "Only a round summary says every unit's rectification is now public.",
    ),
    Rule(
        "body_round_progress", "round_summary", "body",
        _re(rf"(?s)\A(?=.*?{_MANY_UNITS}).*?{_PUBLICATION}"),
        "The progress of a whole round's units published in one text (十二届区委第二轮巡察…"
        "40家被巡察单位…现将整改进展情况向社会公开) is a summary, not one unit's report.",
    ),
    Rule(
        "body_qa_layout", "policy_qa", "body",
        _re(r"^[ \t\u3000]*问[：:].*\n[ \t\u3000]*答[：:]"),
        "Question/answer paragraphs (问：/答：) are the Q&A layout.",
    ),
    Rule(
        "body_entry_contact", "entry_notice", "body",
        _re(r"(?:值班电话|邮政信箱|(?<!信息)举报(?:电话|(?:电子)?邮箱)|(?:巡视|巡察)信箱|受理(?:来信来电来访)?时间|信访截止时间)"
            r"\s*(?:为|[：:])|受理信访(?:举报)?时间(?:截止到|截至|截止)"),
        "An entry notice itself gives the duty phone, PO box and hours as values (举报电话：…, "
        "受理信访时间截止到…; a portal's 不良信息举报电话 footer is not one); news about entry only "
        "mentions that they were published.",
        unless=_REPORT_MARKERS,
    ),
    Rule(
        "body_report_publication", "rectification_report", "body",
        _re(rf"{_PUBLICATION}|整改情况[（(]\s*(?:已完成|基本完成|阶段性完成|正在推进|持续推进|未完成)"
            rf"|{_STATUS_MARK}"),
        "The report's own publication clause (予以公布, 予以通报, 向社会公开, 报告如下…), or itemised "
        "status lines and 【已整改】 marks — in a text about an inspection: an audit's rectification "
        "report (审计查出问题整改情况…报告如下) never names 巡视/巡察.",
        unless=_re(r"(?s)\A(?!.*巡[视察])"),
    ),
    Rule(
        "body_feedback_given", "feedback_notice", "body",
        _re(r"反馈了?(?:巡视|巡察)(?:意见|情况)|(?:巡视|巡察)组(?:指出|认为)"),
        "Feedback notices relay what the team pointed out (巡视组指出…).",
        unless=_REPORT_MARKERS,
    ),
    Rule(
        "body_mentions_inspection", "news", "body",
        _re(r"巡视|巡察"),
        "Any other text about inspections is reporting on them.",
    ),
)

FALLBACK_RULE = "no_rule"


def classify_explained(title: str, body: str) -> tuple[str, str]:
    """Return (doc_type, name of the rule that decided)."""
    title, body = fold_simplified(title), fold_simplified(body)
    for rule in RULES:
        if rule.matches(title, body):
            return rule.doc_type, rule.name
    return "other", FALLBACK_RULE


def classify(title: str, body: str) -> str:
    """Return one of DOC_TYPES for a document's title and clean body."""
    return classify_explained(title, body)[0]
