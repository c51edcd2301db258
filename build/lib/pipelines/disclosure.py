"""Structured facts from a rectification report (巡视/巡察整改情况通报).

Grammar of a report body (clean text, one paragraph per line):

- opening paragraph: ``<period>，<team>对<unit>(进行|开展)了<kind>巡视/巡察，并于<date>(向…)反馈了…意见``
- section headings: ``一、…`` then ``（一）…``
- problem headings: ``N.关于“…”问题`` | ``N.关于…的问题`` | ``N.…的问题`` (whole line),
  or an unnumbered ``关于…的问题`` line; the problem's text runs to the next
  problem or section heading
- status marker inside a problem: ``整改情况（已完成，并将长期坚持）：``, ``整改进展：已完成。``
  or a bracket on the heading ``…的问题（正在推进）``
- anywhere: money / discipline / rules sentences, the closing contact block,
  X/XX placeholders of redacted templates.

Facts the text does not state are None; nothing is inferred from context.
"""
from __future__ import annotations

import datetime as dt
import re

from archive.rounds import round_id_for
from pipelines.classify import classify, normalize

_CN = "一二三四五六七八九十"
_NUM = rf"(?:[{_CN}]{{1,3}}|\d{{1,3}})"
_CN_VALUE = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}
_CN_INT = re.compile(rf"([{_CN[:-1]}])?(十)?([{_CN[:-1]}])?")

# Who sends the team decides the level; 市委 sends 巡视 only in the four
# municipalities, which rank as provinces.
_SENDERS = "自治区党委|兵团党委|区党委|中央|省委|市委|州委|盟委|地委|县委|区委|旗委|党组|党委"
_SENDER_LEVEL = {
    "中央": "central",
    "省委": "provincial", "自治区党委": "provincial", "区党委": "provincial", "兵团党委": "provincial",
    "市委": "city", "州委": "city", "盟委": "city", "地委": "city",
    "县委": "county", "区委": "county", "旗委": "county",
    "党组": "internal", "党委": "internal",
}

_TEAM = re.compile(
    rf"(?P<sender>{_SENDERS})(?:第{_NUM})?(?:提级|交叉|专项|机动|联动)*(?P<word>巡视|巡察)(?:第?{_NUM})?组"
)
_ROUND = re.compile(
    rf"(?:(?P<term>{_NUM})届)?(?P<sender>{_SENDERS})?第(?P<round>{_NUM})轮"
    r"(?:常规|专项|机动|提级|交叉|联动|集中)?(?P<word>巡视|巡察)"
)
_INSPECTION_KINDS = (  # first match wins: the qualifier outranks the generic 常规/专项
    ("回头看", re.compile(r"回头看")),
    ("提级", re.compile(r"提级")),
    ("联动", re.compile(r"联动(?:巡视|巡察)")),
    ("机动", re.compile(r"机动(?:巡视|巡察)")),
    ("专项", re.compile(r"专项(?:巡视|巡察)")),
    ("常规", re.compile(r"常规(?:巡视|巡察)")),
)

_Y, _M, _D = r"\d{4}|X{1,4}", r"\d{1,2}|X{1,2}", r"\d{1,2}|X{1,2}"
_PERIOD = re.compile(
    rf"(?P<y1>{_Y})年(?P<m1>{_M})月(?:(?P<d1>{_D})日)?\s*(?:至|到|—|－|-|~|～)\s*"
    rf"(?:(?P<y2>{_Y})年)?(?P<m2>{_M})月(?:(?P<d2>{_D})日)?"
)
_FEEDBACK = re.compile(rf"于\s*(?P<y>{_Y})年(?P<m>{_M})月(?:(?P<d>{_D})日)?[^。；;，,]{{0,40}}?反馈")
_UNIT_CLAUSE = re.compile(
    r"对(?P<unit>[^，。；、,;]{2,40}?)(?:进行了|开展了|进行|开展)"
    r"(?:为期[^，。]{0,10})?(?:常规|专项|机动|提级|交叉|联动)?(?:巡视|巡察)"
)
_TITLE_ISSUER = re.compile(r"^(?P<issuer>[^，。“”]{2,40}?)关于")
_UNIT_PREFIX = re.compile(r"^(?:中共|中国共产党)")
_UNIT_SUFFIX = re.compile(r"(?:党组织|党组|党委|党工委|党总支|党支部|委员会)(?:[（(](?:党组|党委)[）)])?$")
_REGION_COMMITTEE = re.compile(r"(省|自治区|市|县|区|旗|州|盟)委$")  # XX省委 → XX省

_UNIT_TYPES = (  # (unit_type, levels it applies at, pattern on the normalised unit)
    ("中管高校", {"central"}, re.compile(r"大学$")),
    # Regulators are state organs even though they are inspected with the banks.
    ("中央和国家机关", {"central"}, re.compile(r"人民银行|证监会|银保监会|金融监管|外汇管理局")),
    ("中管金融企业", {"central"}, re.compile(r"银行|保险|证券|信托|资产管理|投资有限责任公司|金融|交易所")),
    ("中管企业", {"central"}, re.compile(r"集团|公司|有限")),
    ("省区市", {"central"}, re.compile(r"(?:省|自治区)$|^(?:北京|天津|上海|重庆)市?$|兵团$")),
    ("中央和国家机关", {"central"}, re.compile(r"[部委局署院办会社]$|^全国|^中央")),
    ("乡镇", {"city", "county"}, re.compile(r"(?:乡|镇|街道)(?:办事处)?$")),
    ("县区", {"provincial", "city"}, re.compile(r"(?:县|区|旗)$")),
    ("市直机关", {"city"}, re.compile(r"^市|市直")),
)

_L1 = re.compile(rf"^[{_CN}]+[、．.]\s*\S")
_L2 = re.compile(rf"^[（(][{_CN}]+[）)]\s*\S")
_PROBLEM_NUMBER = re.compile(r"^(?:(?P<num>\d{1,3})[.．、]|[（(](?P<pnum>\d{1,3})[）)])\s*")
_QUOTED = re.compile(r"^(?:关于)?[“\"「『](?P<title>[^”\"」』]{1,200})[”\"」』]\s*的?问题")
_ABOUT = re.compile(r"^关于(?P<title>[^。；;：:]{2,120}?)的?问题(?=$|[。：:；;，,（(\s])")
# A heading that is the whole line, optionally with a status bracket.
_HEADING_END = r"[。：:]?(?=$|[（(][^）)]{0,20}[）)][。：:]?$)"
_BARE = re.compile(rf"^(?P<title>[^。；;：:“”]{{2,120}}?)的?问题{_HEADING_END}")
_ABOUT_LINE = re.compile(rf"^关于(?P<title>[^。；;：:]{{2,120}}?)的?问题{_HEADING_END}")

_STATUS_WORDS = "已完成阶段性任务|已完成|基本完成|正在推进|持续推进|未完成"
_LONG_TERM = "并将长期坚持|需长期坚持|长期坚持"
_STATUS_BRACKET = re.compile(
    rf"[（(]\s?(?P<status>{_STATUS_WORDS})?\s?[，,、]?\s?(?P<long>{_LONG_TERM})?\s?[）)]"
)
_STATUS_COLON = re.compile(
    rf"整改(?:进展)?(?:情况)?[：:]\s?(?P<status>{_STATUS_WORDS})\s?[，,、]?\s?(?P<long>{_LONG_TERM})?"
)
_STATUS_PREFIX = re.compile(
    rf"^整改(?:进展)?(?:情况)?\s?(?:[（(][^）)]{{0,20}}[）)])?\s?[：:]\s?"
    rf"(?:(?:{_STATUS_WORDS})\s?[，,、]?\s?(?:{_LONG_TERM})?\s?[。；;]\s?)?"
)
_HEAD_LEAD = re.compile(
    rf"^[。：:；;，,\s]{{0,3}}(?:[（(](?:{_STATUS_WORDS})?[，,、]?(?:{_LONG_TERM})?[）)])?[。：:；;，,\s]{{0,3}}"
)
# A stage of the task done while the problem stays open: it is still in progress.
_STATUS_ALIASES = {"已完成阶段性任务": "持续推进"}

_AGGREGATES = (  # used only when the report has no itemised problems
    ("problems_total", re.compile(r"(?:反馈|指出)的?(?:具体)?问题共?(\d{1,6})[个项条]|(?:反馈|指出)的?(\d{1,6})[个项条](?:具体)?问题")),
    ("problems_completed", re.compile(r"(?<![基未])完成整改(\d{1,6})[个项条]|(?<![基未])已完成(\d{1,6})[个项条]")),
    ("problems_basically_completed", re.compile(r"基本完成(?:整改)?(\d{1,6})[个项条]")),
    ("problems_in_progress", re.compile(r"(?:正在推进|持续推进|持续整改|正在整改)(?:问题)?(\d{1,6})[个项条]")),
    ("problems_unfinished", re.compile(r"未完成(?:整改)?(\d{1,6})[个项条]")),
)
_COMPLETION_RATE = re.compile(r"完成率(?:为|达到|达)?\s?(\d{1,3}(?:\.\d{1,4})?)\s?[%％]")
_DISCIPLINED = re.compile(
    r"(?:党纪|政务){1,2}处分共?(\d{1,6})[人名]|(?<!\d)(\d{1,6})[人名][^，。；;\d]{0,10}?(?:党纪|政务){1,2}处分"
)
_MONEY = re.compile(
    r"(?:清退|返还|追回|挽回|收缴|退缴)[^，。；;]{0,20}?(?<![\d.,])(\d{1,12}(?:,\d{3}){0,4}(?:\.\d{1,6})?)\s?(万|亿)?元"
)
_MONEY_UNIT = {None: 1.0, "万": 1e4, "亿": 1e8}
_RULES = re.compile(
    r"(?:制定|修订|完善|新建|建立|出台)[^，。；;\d]{0,12}?制度(?:机制|规定|办法)?共?(\d{1,6})[项个件]"
)

_CONTACT_LABEL = re.compile(r"(?:联系电话|通信地址|通讯地址|邮政信箱|邮政编码|电子邮箱|电子信箱)\s*[：:]")
_CONTACT_FIELDS = (  # (key, pattern, what a real value looks like)
    ("contact_phone", re.compile(r"联系电话\s*[：:]\s*([^；;。，,\n]{1,60})"), re.compile(r"\d")),
    ("contact_address", re.compile(r"(?:通信|通讯|联系|邮寄)地址\s*[：:]\s*([^；;。\n]{1,80})|邮政信箱\s*[：:]\s*([^；;。，,\n]{1,80})"),
     re.compile(r"[^X\s]")),
    ("contact_postcode", re.compile(r"邮政编码\s*[：:]\s*(\d{6})(?!\d)"), re.compile(r"\d{6}")),
    ("contact_email", re.compile(r"电子(?:邮箱|信箱|邮件)\s*[：:]\s*([A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)"),
     re.compile(r"@")),
)
# X standing in for a date, number or name; "X射线"/"X光" are real words.
_PLACEHOLDER = re.compile(r"(?<![A-Za-z])X{1,4}(?![A-Za-z]|射线|光)")


def cn_to_int(text: str | None) -> int | None:
    """Arabic or Chinese numeral below 100 ('十三' → 13, '6' → 6); None otherwise."""
    if not text:
        return None
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    match = _CN_INT.fullmatch(text)
    if not match:
        return None
    tens, ten, ones = match.groups()
    if ten:
        return _CN_VALUE.get(tens, 1) * 10 + _CN_VALUE.get(ones, 0)
    if tens and ones:  # two digits without 十 ("三四") is not a number
        return None
    return _CN_VALUE[tens or ones]


def _iso(year: str | None, month: str | None, day: str | None) -> str | None:
    """ISO date, or YYYY-MM when the day is missing or redacted; None if redacted/invalid."""
    if not year or not month or not year.isdigit() or not month.isdigit():
        return None
    y, m = int(year), int(month)
    if not 1 <= m <= 12 or y < 1900:
        return None
    if not day or not day.isdigit():
        return f"{y:04d}-{m:02d}"
    try:
        return dt.date(y, m, int(day)).isoformat()
    except ValueError:
        return None


def _period(text: str) -> tuple[str | None, str | None]:
    match = _PERIOD.search(text)
    if not match:
        return None, None
    y1, m1, y2, m2 = match["y1"], match["m1"], match["y2"], match["m2"]
    if y2 is None and y1.isdigit() and m1.isdigit() and m2.isdigit():
        # "2020年11月至1月": the end year is left out and may roll over.
        y2 = str(int(y1) + 1) if int(m2) < int(m1) else y1
    return _iso(y1, m1, match["d1"]), _iso(y2, m2, match["d2"])


def _normalize_unit(raw: str) -> str | None:
    unit = _UNIT_PREFIX.sub("", raw.strip())
    unit = _UNIT_SUFFIX.sub("", unit)
    unit = _REGION_COMMITTEE.sub(r"\1", unit)
    if len(unit) < 2 or "X" in unit:  # redacted names are not facts
        return None
    return unit


def _unit(opening: str, title: str) -> str | None:
    match = _UNIT_CLAUSE.search(opening)
    if match:
        return _normalize_unit(match["unit"])
    match = _TITLE_ISSUER.search(title)
    return _normalize_unit(match["issuer"]) if match else None


def _unit_type(unit: str | None, level: str | None) -> str | None:
    if unit is None:
        return None
    for unit_type, levels, pattern in _UNIT_TYPES:
        if level in levels and pattern.search(unit):
            return unit_type
    return "其他"


def _level(sender: str | None, word: str | None) -> str | None:
    if sender == "市委" and word == "巡视":
        return "provincial"
    return _SENDER_LEVEL.get(sender) if sender else None


def _inspection_kind(text: str) -> str | None:
    for kind, pattern in _INSPECTION_KINDS:
        if pattern.search(text):
            return kind
    return None


def _heading_text(line: str) -> str:
    return line.split("。", 1)[0]


def _problem_heading(line: str, count: int) -> tuple[int, str, str] | None:
    """(number, title, rest of line) if the line opens a problem."""
    numbered = _PROBLEM_NUMBER.match(line)
    if numbered:
        number = int(numbered["num"] or numbered["pnum"])
        head = line[numbered.end():]
        forms = (_QUOTED, _ABOUT, _BARE)
    else:
        number, head, forms = count + 1, line, (_ABOUT_LINE,)
    for form in forms:
        match = form.match(head)
        if match:
            return number, match["title"].strip(), head[match.end():]
    return None


def _status(block: str) -> tuple[str | None, bool]:
    markers = [m for pattern in (_STATUS_BRACKET, _STATUS_COLON)
               for m in pattern.finditer(block) if m["status"] or m["long"]]
    if not markers:
        return None, False
    first = min(markers, key=lambda m: m.start())
    status = first["status"]
    return _STATUS_ALIASES.get(status, status), first["long"] is not None


def _problems(lines: list[str]) -> list[dict]:
    problems: list[dict] = []
    path: list[str] = []
    current: dict | None = None
    for line in lines:
        heading = _problem_heading(line, len(problems))
        if heading:
            number, title, rest = heading
            current = {"number": number, "section_path": " / ".join(path) or None,
                       "title": title, "head": rest, "lines": []}
            problems.append(current)
        elif _L1.match(line):
            path, current = [_heading_text(line)], None
        elif _L2.match(line):
            path, current = path[:1] + [_heading_text(line)], None
        elif current is not None:
            current["lines"].append(line)
    return [_finish_problem(p) for p in problems]


def _finish_problem(raw: dict) -> dict:
    status, long_term = _status("\n".join([raw["head"], *raw["lines"]]))
    # Text may start on the heading line itself, after its status bracket.
    lines = [line for line in (_HEAD_LEAD.sub("", raw["head"]), *raw["lines"]) if line]
    if lines:
        lines[0] = _STATUS_PREFIX.sub("", lines[0])
    return {
        "number": raw["number"],
        "section_path": raw["section_path"],
        "title": raw["title"],
        "status": status,
        "long_term": long_term,
        "text": "\n".join(line for line in lines if line),
    }


_COUNT_KEYS = (
    "problems_total", "problems_completed", "problems_basically_completed",
    "problems_in_progress", "problems_unfinished", "problems_no_status", "problems_long_term",
)


def _counts(problems: list[dict], body: str) -> dict:
    if not problems:
        counts: dict = {key: None for key in _COUNT_KEYS}
        for key, pattern in _AGGREGATES:
            match = pattern.search(body)
            if match:
                counts[key] = int(next(g for g in match.groups() if g))
        return counts
    statuses = [p["status"] for p in problems]
    return {
        "problems_total": len(problems),
        "problems_completed": statuses.count("已完成"),
        "problems_basically_completed": statuses.count("基本完成"),
        "problems_in_progress": statuses.count("正在推进") + statuses.count("持续推进"),
        "problems_unfinished": statuses.count("未完成"),
        "problems_no_status": statuses.count(None),
        "problems_long_term": sum(p["long_term"] for p in problems),
    }



def _sum_ints(pattern: re.Pattern[str], text: str) -> int | None:
    values = [int(next(g for g in m.groups() if g)) for m in pattern.finditer(text)]
    return sum(values) if values else None


def _money(text: str) -> float | None:
    amounts = [float(m[1].replace(",", "")) * _MONEY_UNIT[m[2]] for m in _MONEY.finditer(text)]
    return sum(amounts) if amounts else None


def _contact(text: str) -> dict:
    contact: dict = {"has_contact_block": bool(_CONTACT_LABEL.search(text))}
    for key, pattern, real in _CONTACT_FIELDS:
        match = pattern.search(text)
        value = next((g for g in match.groups() if g), "").strip() if match else ""
        contact[key] = value if real.search(value) else None
    return contact


def _lag_days(feedback_date: str | None, published_at: str | None) -> int | None:
    if not feedback_date or len(feedback_date) != 10 or not isinstance(published_at, str):
        return None
    try:
        published = dt.date.fromisoformat(published_at[:10])
    except ValueError:
        return None
    return (published - dt.date.fromisoformat(feedback_date)).days


def parse_disclosure(
    title: str, body: str, published_at: str | None = None, doc_type: str | None = None
) -> dict | None:
    """Parse a rectification report into {"disclosure": {...}, "problems": [...]}.

    Returns None when the document is not a rectification report; a caller
    that has classified the document already passes ``doc_type``.
    """
    if (doc_type or classify(title, body)) != "rectification_report":
        return None
    title, body = normalize(title), normalize(body)
    lines = [line.strip(" \t\r\u3000\xa0") for line in body.split("\n")]
    lines = [line for line in lines if line]
    opening = next((line for line in lines if _TEAM.search(line) or _UNIT_CLAUSE.search(line)),
                   lines[0] if lines else "")

    team = _TEAM.search(opening) or _TEAM.search(body)
    round_match = _ROUND.search(title) or _ROUND.search(opening)
    sender = team["sender"] if team else (round_match["sender"] if round_match else None)
    kind = next((m["word"] for m in (team, round_match) if m),
                next((w for w in ("巡视", "巡察") if w in title + opening), None))
    level = _level(sender, kind)
    term = cn_to_int(round_match["term"]) if round_match else None
    round_number = cn_to_int(round_match["round"]) if round_match else None
    unit = _unit(opening, title)
    inspection_start, inspection_end = _period(opening)
    feedback = _FEEDBACK.search(opening)
    feedback_date = _iso(feedback["y"], feedback["m"], feedback["d"]) if feedback else None
    rate = _COMPLETION_RATE.search(body)
    problems = _problems(lines)

    disclosure = {
        "unit": unit,
        "unit_type": _unit_type(unit, level),
        "level": level,
        "kind": kind,
        "inspection_kind": _inspection_kind(title + "\n" + opening),
        "term": term,
        "round": round_number,
        "round_id": round_id_for(term, round_number) if level == "central" else None,
        "team": team[0] if team else None,
        "inspection_start": inspection_start,
        "inspection_end": inspection_end,
        "feedback_date": feedback_date,
        "published_at": published_at,
        "lag_days": _lag_days(feedback_date, published_at),
        **_counts(problems, body),
        "people_disciplined": _sum_ints(_DISCIPLINED, body),
        "money_recovered_yuan": _money(body),
        "rules_made": _sum_ints(_RULES, body),
        **_contact(body),
        "is_template": bool(_PLACEHOLDER.search(title + "\n" + body)),
        "stated_completion_rate": float(rate[1]) if rate else None,
    }
    return {"disclosure": disclosure, "problems": problems}
