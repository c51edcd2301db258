"""The itemised problems of a report, each with its status as printed and its class.

Grammar (clean text, one paragraph per line):

- sections: ``一、…`` then ``（一）…``; problems are read only in sections about the
  feedback and its rectification (heading names 问题, 反馈, 整改情况, 清单…, not 线索),
  or anywhere when the report has no ``一、`` headings.
- a problem opens with a numbered line — ``1.`` / ``1、`` / ``（1）`` / ``问题一：`` /
  ``【已整改】1.`` — a ``（一）`` heading that names a problem (``（一）关于…的问题``), or a
  row of a problem table flattened to text (cells split by ``|``, ``｜`` or tabs, with or
  without a header row).  The numbering style of the first problem is the problems'
  style; a line numbered otherwise inside a problem is one of its measures.  When the
  first problem's heading names a problem (``关于“…”问题``, ``…的问题``), later lines of
  that style must too, so measures numbered like problems stay inside them.
- the heading gives the title: the quoted or ``关于…的问题`` part, else the first sentence.
- the status, as printed: a bracket or 【mark】 on the heading, ``整改情况（已完成）：``,
  a field (``完成情况：已完成``, ``整改进度：…``, ``整改状态：…``), a 【mark】 before or after
  the text, a bracket closing a paragraph (``…。（已完成）``), or the table's status cell.
  Fields ``责任单位：`` and ``整改时限：`` give the responsible unit and the deadline, on
  their own lines or inline (``整改措施：…；责任单位：…；整改时限：…；完成情况：…``).
- a problem's text runs to the next problem, heading, the closing contact block, or a
  summary paragraph (``截至…反馈的N个问题…``, ``下一步，…``, ``总体来看，…``, ``以上问题…``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .dates import CN_DIGITS, cn_to_int, deadline_date

_COMPLETED = ("已完成整改", "已整改完成", "已整改到位", "整改已完成", "已完成", "已整改", "整改完成", "完成整改",
              "已办结", "已落实", "已销号", "已解决", "完成")
_BASIC = ("基本完成整改", "基本整改到位", "基本完成")
# Done for this stage, the problem still open: neither completed nor merely in progress.
_PHASED = ("阶段性完成整改", "阶段性整改完成", "阶段性完成")
# A stage of the task done while the problem stays open is still in progress.
_PROGRESS = ("已完成阶段性任务", "正在推进", "持续推进", "正在整改中", "正在整改", "整改中", "推进中", "未完成",
             "部分完成", "持续整改", "按序时推进", "序时推进")
_LONG = ("并将长期坚持", "并长期坚持", "需长期坚持", "长期坚持", "长期推进", "长期整改", "常态化推进")


def _alternation(words) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_MAIN = _alternation(_COMPLETED + _BASIC + _PHASED + _PROGRESS)
_LONG_TERM = _alternation(_LONG)
STATUS = rf"(?:(?:{_MAIN})(?:\s?[，,、；;]?\s?(?:{_LONG_TERM})|[（(](?:{_LONG_TERM})[）)])?|(?:{_LONG_TERM}))"
_STATUS_WHOLE = re.compile(rf"\s*(?P<status>{STATUS})\s*")
_BRACKET = re.compile(rf"[（(]\s*(?P<status>{STATUS})\s*[）)]")
_MARK = re.compile(rf"【\s*(?P<status>{STATUS})\s*】")
_LABEL_BRACKET = re.compile(rf"^整改(?:情况|进展|进度|结果)?\s*[（(]\s*(?P<status>{STATUS})\s*[）)]\s*[：:]?\s*")
_END_BRACKET = re.compile(rf"[（(]\s*(?P<status>{STATUS})\s*[）)][。.]?$")
_END_MARK = re.compile(rf"【\s*(?P<status>{STATUS})\s*】[。.]?$")
_LEAD_MARK = re.compile(rf"^【\s*(?P<status>{STATUS})\s*】\s*")

_FIELD_LABELS = {
    "text": ("整改措施", "整改情况", "主要措施"),
    "status": ("完成情况", "整改进度", "整改进展", "整改状态", "整改结果", "进展情况", "目前状态", "完成状态"),
    "responsible_unit": ("责任单位", "责任部门", "责任处室", "责任科室", "责任股室", "牵头单位", "牵头部门", "责任领导", "责任人"),
    "deadline": ("整改时限", "完成时限", "整改期限", "时限要求", "完成时间", "整改时间"),
}
_LABEL_KIND = {label: kind for kind, labels in _FIELD_LABELS.items() for label in labels}
_FIELD = re.compile(rf"(?P<label>{_alternation(_LABEL_KIND)})\s*[：:]")

L1 = re.compile(rf"^[{CN_DIGITS}]+[、．.]\s*\S")
L2 = re.compile(rf"^[（(](?P<num>[{CN_DIGITS}]+)[）)]\s*(?P<head>\S.*)$")
_OPENERS = (  # (style, pattern): the head follows the number
    ("marked", re.compile(rf"^【\s*(?P<status>{STATUS})\s*】\s*(?P<num>\d{{1,3}})[.．、](?!\d)\s*(?P<head>.*)$")),
    ("arabic", re.compile(r"^(?P<num>\d{1,3})[.．、](?!\d)\s*(?P<head>\S.*)$")),
    ("paren", re.compile(r"^[（(](?P<num>\d{1,3})[）)]\s*(?P<head>\S.*)$")),
    ("wenti", re.compile(rf"^问题(?P<num>[{CN_DIGITS}]+|\d{{1,3}})\s*[：:、.．]\s*(?P<head>\S.*)$")),
    # An unnumbered heading line "关于…的问题(（status）)": numbered by its place.
    ("about", re.compile(rf"^(?P<num>)(?P<head>(?:关于|针对)[^。；;：:]{{2,120}}?的?问题"
                         rf"(?:\s*[（(【]\s*(?:{STATUS})\s*[）)】])?[。：:]?)$")),
)
_SAME_STYLE = {"marked": "arabic"}  # 【已整改】1. and 1. number one list

_QUOTED = re.compile(r"^(?:关于|针对)?[“\"「『](?P<title>[^”\"」』]{1,200})[”\"」』]\s*的?问题(?=$|[。：:；;，,（(【\s])")
_ABOUT = re.compile(r"^(?:关于|针对)(?P<title>[^。；;：:]{2,120}?)的?问题(?=$|[。：:；;，,（(【\s])")
_HEADING_END = rf"[。：:]?(?=$|[（(【]\s*(?:{STATUS})\s*[）)】][。：:]?$)"
_BARE = re.compile(rf"^(?P<title>[^。；;：:“”]{{2,120}}?)的?问题{_HEADING_END}")

# A line that opens a problem's fields: the heading above it named a problem.
_FIELDS_START = re.compile(r"^(?:整改(?:情况|措施|进展|进度|结果|状态)|完成情况)\s*[（(：:]")
_CONTACT_START = re.compile(r"^(?:欢迎|如有意见|联系电话|监督电话|举报电话|通信地址|通讯地址|邮政编码|电子邮箱)")
_SUMMARY_START = re.compile(r"^(?:下一步|总体来看|总体上看|总的来看|综上|以上问题)")
_SUMMARY_COUNTS = re.compile(r"^(?:截至|截止)[^。]{0,40}?(?:\d+个(?:方面|具体)?问题|反馈的)")
# Sections that hold the feedback's problems; 问题线索 sections hold clue handling.
_PROBLEM_SECTION = re.compile(r"问题|反馈|整改(?:落实|进展|完成)?情况|清单|一览|整改成效")
_NOT_PROBLEM_SECTION = re.compile(r"线索")

_CELL_SPLIT = re.compile(r"[|｜\t]")
_HEADER_COLUMNS = (  # (field, header words), first match wins
    ("number", re.compile(r"^序号$|^编号$")),
    ("status", re.compile(r"完成情况|整改进展|进展情况|整改状态|整改结果|完成状态|是否完成|进度")),
    ("deadline", re.compile(r"时限|期限|完成时间|整改时间")),
    ("responsible_unit", re.compile(r"责任|牵头")),
    ("text", re.compile(r"措施|整改情况")),
    ("title", re.compile(r"问题")),
)
_DEADLINE_CELL = re.compile(r"^(?:\d{4}年|\d{1,2}月|立行立改|长期坚持|长期|持续|\d{4}[.\-/])")
_UNIT_CELL = re.compile(r"(?:科|股|局|部|办|室|委|组|中心|党委|党组|单位|公司|处|厅|院)(?:、|$)")


@dataclass
class Problem:
    number: int | None
    section_path: str | None
    title: str
    heading_status: str | None = None
    lines: list[str] = field(default_factory=list)
    cells: dict | None = None  # a table row's fields
    line: int | None = None  # the line that opened it

    def finish(self) -> dict:
        fields = self.cells or _fields(self.lines)
        status = self.heading_status or fields.get("status")
        return {
            "number": self.number,
            "section_path": self.section_path,
            "title": self.title,
            "status": status,
            "status_class": status_class(status),
            "long_term": bool(status and re.search(_LONG_TERM, status)),
            "deadline": fields.get("deadline"),
            "deadline_date": deadline_date(fields.get("deadline")),
            "responsible_unit": fields.get("responsible_unit"),
            "text": fields.get("text") or "",
        }


def status_class(status: str | None) -> str:
    """completed, completed_long_term, basically_completed, phase_completed, in_progress, long_term or none."""
    if not status:
        return "none"
    main = re.match(_MAIN, status)
    long_term = bool(re.search(_LONG_TERM, status))
    if main is None:
        return "long_term" if long_term else "none"
    word = main[0]
    if word in _BASIC:
        return "basically_completed"
    if word in _PHASED:
        return "phase_completed"
    if word in _PROGRESS:
        return "in_progress"
    return "completed_long_term" if long_term else "completed"


def _strip_end(value: str) -> str:
    return value.strip().rstrip("；;，,。 ").strip()


def _split_status(value: str) -> tuple[str | None, str]:
    """A value that starts with a status: (status, the rest)."""
    match = re.match(rf"\s*(?P<status>{STATUS})(?=$|[。；;，,\s])[。；;，,\s]*", value)
    if not match:
        return None, value
    return match["status"], value[match.end():]


def _fields(lines: list[str]) -> dict:
    """Status, deadline, responsible unit and text of a problem from its lines."""
    found: dict = {}
    text: list[str] = []
    end_status = None
    for raw in lines:
        line = raw.strip()
        lead = _LEAD_MARK.match(line)
        if lead:
            found.setdefault("mark", lead["status"])
            line = line[lead.end():]
        label = _LABEL_BRACKET.match(line)
        if label:
            found.setdefault("label", label["status"])
            line = line[label.end():]
        end = _END_MARK.search(line) or _END_BRACKET.search(line)
        if end:
            end_status = end_status or end["status"]
            line = line[:end.start()].rstrip()
        labels = list(_FIELD.finditer(line))
        if not labels:
            if line:
                text.append(line)
            continue
        before = line[:labels[0].start()].strip()
        if before:
            text.append(before.rstrip("；;"))
        for match, following in zip(labels, [*labels[1:], None]):
            value = line[match.end(): following.start() if following else len(line)]
            kind = _LABEL_KIND[match["label"]]
            if kind in ("text", "status"):
                status, rest = _split_status(value)
                if status:
                    found.setdefault("field", status)
                value = rest  # a progress note without a status word is text
                if value.strip():  # a sentence keeps its 。; a field separator goes
                    text.append(value.strip().rstrip("；;，, ").strip())
            elif _strip_end(value):
                found.setdefault(kind, _strip_end(value))
    status = found.get("label") or found.get("field") or found.get("mark") or end_status
    return {
        "status": status,
        "deadline": found.get("deadline"),
        "responsible_unit": found.get("responsible_unit"),
        "text": "\n".join(text),
    }


def _title(head: str) -> tuple[str, str | None, str, bool]:
    """(title, status on the heading, rest of the line, whether the heading names a problem)."""
    for form in (_QUOTED, _ABOUT, _BARE):
        match = form.match(head)
        if match:
            rest = head[match.end():]
            lead = re.match(rf"^[。：:，,\s]*(?:[（(【]\s*(?P<status>{STATUS})\s*[）)】])?[。：:；;，,\s]*", rest)
            return match["title"].strip(), lead["status"], rest[lead.end():], True
    sentence, _, rest = head.partition("。")
    status = None
    tail = re.search(rf"[（(【]\s*(?P<status>{STATUS})\s*[）)】]$", sentence)
    if tail and not rest:
        status, sentence = tail["status"], sentence[:tail.start()]
    return sentence.strip().rstrip("：:；;，,"), status, rest.strip(), False


def _opener(line: str) -> tuple[str, re.Match] | None:
    for style, pattern in _OPENERS:
        match = pattern.match(line)
        if match:
            return _SAME_STYLE.get(style, style), match
    return None


def _cells(line: str) -> list[str] | None:
    cells = [c.strip() for c in _CELL_SPLIT.split(line.strip().strip("|｜"))]
    cells = [c for c in cells if c]
    return cells if len(cells) >= 4 else None


def _header(cells: list[str]) -> list[str] | None:
    if cells[0].isdigit():
        return None
    columns = [next((name for name, pattern in _HEADER_COLUMNS if pattern.search(cell)), None) for cell in cells]
    if "status" not in columns and columns.count("text") > 1:
        # 问题 | 整改措施 | … | 整改情况: beside a measures column, 整改情况 holds the status.
        columns = [("status" if name == "text" and "措施" not in cell else name) for name, cell in zip(columns, cells)]
    return columns if "title" in columns and ("status" in columns or "text" in columns) else None


def _row(cells: list[str], header: list[str] | None) -> dict | None:
    if not re.fullmatch(r"\d{1,3}", cells[0]):
        return None
    if header and len(header) == len(cells):
        row = {name: cell for name, cell in zip(header, cells) if name}
        row.setdefault("number", cells[0])  # a header whose 序号 cell is blank or misread
    else:  # number | problem | measures | …: the last cells are told by what they hold
        row = {"number": cells[0], "title": cells[1], "text": cells[2]}
        for cell in cells[3:]:
            if _STATUS_WHOLE.fullmatch(cell) and "status" not in row and not _DEADLINE_CELL.match(cell):
                row["status"] = cell
            elif _DEADLINE_CELL.match(cell) and "deadline" not in row:
                row["deadline"] = cell
            elif _UNIT_CELL.search(cell) and "responsible_unit" not in row:
                row["responsible_unit"] = cell
        if "status" not in row and _STATUS_WHOLE.fullmatch(cells[-1]):
            row["status"] = cells[-1]
            if row.get("deadline") == cells[-1]:
                del row["deadline"]
    status = _STATUS_WHOLE.fullmatch(row.get("status") or "")
    row["status"] = status["status"] if status else None
    return row


def _heading(line: str) -> str:
    return line.split("。", 1)[0]


def _l1_head(line: str) -> str:
    return re.sub(rf"^[{CN_DIGITS}]+[、．.]\s*", "", line)


def _names_problem(head: str) -> bool:
    """A heading that names one problem ("…的问题"), not a section about the feedback."""
    return _title(head)[3] and not re.search(r"反馈|巡视|巡察|整改", _title(head)[0])


def parse_problems(lines: list[str]) -> tuple[list[dict], list[bool]]:
    """The problems, and for each line whether it belongs to one (heading or text)."""
    problems, owned = _read_problems(lines)
    return [p.finish() for p in problems], owned


def table_problems(rows: list[list[str]]) -> list[tuple[int, dict]]:
    """The problems of a table (an attachment's 一览表, its rows across pages and sheets), each
    with its row (1-based, header rows counted), read as the rows of a table flattened to text."""
    problems, _ = _read_problems(["\t".join(cell.replace("\t", " ") for cell in row) for row in rows])
    return [(p.line + 1, p.finish()) for p in problems]


def _read_problems(lines: list[str]) -> tuple[list[Problem], list[bool]]:
    has_sections = any(L1.match(line) for line in lines)
    in_section = not has_sections
    path: list[str] = []
    problems: list[Problem] = []
    current: Problem | None = None
    style: str | None = None
    strict = False
    header: list[str] | None = None
    owned = [False] * len(lines)

    # Short notices list their problems as 一、…的问题 headings.
    l1_problems = sum(1 for line in lines if L1.match(line) and _names_problem(_l1_head(line))) >= 2
    for index, line in enumerate(lines):
        cells = _cells(line)
        if cells and in_section:
            header = _header(cells) or header
            row = _row(cells, header)
            if row:
                current = Problem(cn_to_int(row["number"]), " / ".join(path) or None, row.get("title", ""),
                                  cells={k: row.get(k) for k in ("status", "deadline", "responsible_unit", "text")},
                                  line=index)
                problems.append(current)
                owned[index] = True
            current = None if not row else current
            continue
        if L1.match(line) and not _opener(line):
            if l1_problems and _names_problem(_l1_head(line)):
                title, status, rest, _ = _title(_l1_head(line))
                current = Problem(cn_to_int(re.match(rf"[{CN_DIGITS}]+", line)[0]), None, title, status,
                                  [rest] if rest else [])
                problems.append(current)
                owned[index], in_section, path = True, True, []
                continue
            path, current, header = [_heading(line)], None, None
            heading = path[0]
            in_section = bool(_PROBLEM_SECTION.search(heading)) and not _NOT_PROBLEM_SECTION.search(heading)
            continue
        l2 = L2.match(line)
        if l2:
            title, status, rest, names_problem = _title(l2["head"])
            following = lines[index + 1] if index + 1 < len(lines) else ""
            statement = not title.endswith("方面") and bool(_FIELDS_START.match(rest) or _FIELDS_START.match(following))
            if in_section and (names_problem or statement):
                current = Problem(cn_to_int(l2["num"]), " / ".join(path[:1]) or None, title, status,
                                  [rest] if rest else [])
                problems.append(current)
                owned[index] = True
            else:
                path, current = path[:1] + [_heading(line)], None
            continue
        opener = _opener(line) if in_section else None
        if opener:
            line_style, match = opener
            title, status, rest, names_problem = _title(match["head"])
            if style is None:
                style, strict = line_style, names_problem
            if line_style == style and (names_problem or not strict):
                if match.groupdict().get("status"):
                    status = status or match["status"]
                number = cn_to_int(match["num"]) if match["num"] else len(problems) + 1
                current = Problem(number, " / ".join(path) or None, title, status, [rest] if rest else [])
                problems.append(current)
                owned[index] = True
                continue
        if _CONTACT_START.match(line) or _SUMMARY_START.match(line) or _SUMMARY_COUNTS.match(line):
            current = None
        elif current is not None:
            current.lines.append(line)
            owned[index] = True
    return problems, owned
