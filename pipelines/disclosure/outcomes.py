"""What the rectification yielded: money recovered, cases, people, clues, rules.

Every figure is kept as an outcome row with the sentence it was read from, so a
journalist can check each one.  A column sums its figures, except when the report gives
its own total outside the problems' text — a sentence with 共/累计/合计/总计 reporting
several kinds at once ("整改期间，共追回各类资金1560万元，立案审查调查27件，给予党纪政务
处分31人…") — which then stands for the details the items give.  A figure after 其中 ("of
which") is part of the figure of its kind before it ("累计退缴资金3.6万元，其中个人退缴1.2万元":
3.6万元, not 4.8万元), in its sentence or, for a sentence opening with 其中, the one before —
up to a clause that adds (，另…, ，此外…).

Money counts only amounts recovered (追缴, 挽回, 追回, 收回, 清退, 退缴, 返还, 收缴) in
元, 万元 or 亿元; figures in 万人, 万平方米 or 万户 are not money, and an X placeholder is
no figure.
"""
from __future__ import annotations

import re

_AMOUNT = r"(?<![\d.,])(?P<amount>\d{1,12}(?:,\d{3}){0,4}(?:\.\d{1,6})?)\s?(?:余|多)?\s?(?P<unit>万|亿)?元"
_MONEY_VERBS = "追缴|挽回|追回|收回|清退|退缴|返还|收缴|退还"
_STOP = r"[^，。；;|｜\t\n]"
_MONEY_UNIT = {None: 1.0, "万": 1e4, "亿": 1e8}

_KINDS = (  # (column, patterns): the first group that matched holds the number
    ("money_recovered_yuan", (
        rf"(?P<verb>{_MONEY_VERBS}){_STOP}{{0,24}}?{_AMOUNT}",
        rf"{_AMOUNT}{_STOP}{{0,8}}?(?:已)?(?:全部)?(?P<verb>{_MONEY_VERBS})",
    )),
    ("cases_filed", (r"立案(?:审查调查|审查|调查)?(?:共|共计)?(?P<n>\d{1,6})件",)),
    ("people_disciplined", (
        r"(?:党纪政务|党纪和政务|党纪、政务|党政纪)处分(?:共|共计)?(?P<n>\d{1,6})[人名]",
        r"(?:党纪|政务)处分(?:共|共计)?(?P<n>\d{1,6})[人名]",
        rf"(?P<n>\d{{1,6}})[人名]{_STOP}{{0,12}}?(?:党纪政务|党纪和政务|党纪|政务)处分",
    )),
    ("people_organisational", (
        r"组织处理(?:干部|党员干部|领导干部)?(?:共|共计)?(?P<n>\d{1,6})人",
        rf"(?P<n>\d{{1,6}})[人名]{_STOP}{{0,12}}?组织处理",
    )),
    ("people_accountable", (
        r"问责(?:党员干部|领导干部|干部|责任人|相关责任人)?(?:共|共计)?(?P<n>\d{1,6})人",
        rf"(?P<n>\d{{1,6}})[人名]{_STOP}{{0,12}}?问责",
    )),
    ("clues_transferred", (
        r"(?:移交|移送)的?(?:问题)?线索(?:共|共计)?(?P<n>\d{1,6})[件条个]",
        r"(?:移交|移送)的?(?P<n>\d{1,6})[件条个](?:问题)?线索",
    )),
    ("rules_made", (
        rf"(?:制定|修订|完善|新建|建立|出台|健全){_STOP}{{0,12}}?制度(?:机制|规定|办法)?(?:共|共计)?(?P<n>\d{{1,6}})[项个件条]",
        r"建章立制(?P<n>\d{1,6})[项个件条]",
        # 先后制定、完善31项制度
        rf"(?:制定|修订|完善|新建|建立|出台|健全)(?:[、和及与](?:制定|修订|完善|新建|建立|出台|健全))*了?"
        r"(?:各类|相关|各项)?(?P<n>\d{1,6})[项个件条](?:规章|管理)?制度",
    )),
)
_KINDS = tuple((kind, tuple(re.compile(p) for p in patterns)) for kind, patterns in _KINDS)
COLUMNS = tuple(kind for kind, _ in _KINDS)
_TOTAL_MARKER = re.compile(r"共|累计|合计|总计")
_PART_MARKER = "其中"
# A clause that adds to the figures, not a part of them, ends what 其中 covers.
_PARTS_END = re.compile(r"[，,；;](?:另外?|此外|同时|还)")
_SENTENCE = re.compile(r"[^。；;\n]+")
_DIGIT = re.compile(r"\d")


def _value(kind: str, match: re.Match) -> float | int:
    if kind == "money_recovered_yuan":
        return round(float(match["amount"].replace(",", "")) * _MONEY_UNIT[match["unit"]], 2)
    return int(match["n"])


def _mentions(sentence: str) -> list[tuple[str, re.Match]]:
    found: list[tuple[str, re.Match]] = []
    if not _DIGIT.search(sentence):
        return found  # every pattern reads a figure
    for kind, patterns in _KINDS:
        spans: list[tuple[int, int]] = []
        for pattern in patterns:
            for match in pattern.finditer(sentence):
                if any(s < match.end() and match.start() < e for s, e in spans):
                    continue  # one figure, read by two forms
                spans.append(match.span())
                found.append((kind, match))
    return sorted(found, key=lambda item: item[1].start())


def outcomes(lines: list[str], owned: list[bool]) -> tuple[dict, list[dict]]:
    """(column → value, the outcome rows) from the body's lines; ``owned`` marks problem text."""
    rows: list[dict] = []
    # The rows read from a summary sentence, and those that are a part of a figure before them
    # (其中…), by id: more keys grew every row's dict from 184 to 272 bytes (5 MB of a huge
    # page's 50,000 rows).
    summaries: set[int] = set()
    parts: set[int] = set()
    for line, in_problem in zip(lines, owned):
        before: set[str] = set()  # the kinds of the line's sentence before this one
        for sentence in _SENTENCE.findall(line):
            mentions = _mentions(sentence)
            stripped = sentence.strip()  # one string for every figure of the sentence
            summary = (not in_problem and bool(_TOTAL_MARKER.search(sentence))
                       and len({kind for kind, _ in mentions}) >= 2)
            parts_from = sentence.find(_PART_MARKER)
            parts_end = _PARTS_END.search(sentence, max(parts_from, 0))
            parts_end = parts_end.start() if parts_end else len(sentence)
            for kind, match in mentions:
                part = parts_from >= 0 and parts_from < match.start() < parts_end and (
                    kind in before if not sentence[:parts_from].strip() else
                    any(k == kind and m.start() < parts_from for k, m in mentions))
                rows.append({"kind": kind, "value": _value(kind, match), "phrase": match[0], "sentence": stripped})
                if summary:
                    summaries.add(id(rows[-1]))
                if part:
                    parts.add(id(rows[-1]))
            before = {kind for kind, _ in mentions}
    columns: dict = {}
    for kind in COLUMNS:
        of_kind = [row for row in rows if row["kind"] == kind]
        wholes = [row for row in of_kind if id(row) not in parts]
        totals = [row for row in wholes if id(row) in summaries]
        counted = totals or wholes
        counted_rows = {id(row) for row in counted}
        for row in of_kind:
            row["counted"] = id(row) in counted_rows
        columns[kind] = sum(row["value"] for row in counted) if counted else None
        if kind == "money_recovered_yuan" and columns[kind] is not None:
            columns[kind] = round(float(columns[kind]), 2)
    return columns, rows
