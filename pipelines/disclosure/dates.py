"""Numbers and dates as a report prints them.

Dates are ISO days, or ``YYYY-MM`` where only the month is printed (``2023年3月下旬``);
a redacted date (``2019年X月X日``) is no date.
"""
from __future__ import annotations

import datetime as dt
import re

CN_DIGITS = "一二三四五六七八九十"
NUM = rf"(?:[{CN_DIGITS}]{{1,3}}|\d{{1,3}})"
_CN_VALUE = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}
_CN_INT = re.compile(rf"([{CN_DIGITS[:-1]}])?(十)?([{CN_DIGITS[:-1]}])?")

_Y, _M, _D = r"\d{4}|X{1,4}", r"\d{1,2}|X{1,2}", r"\d{1,2}|X{1,2}"
# Part of a month: 上旬, 中旬, 下旬, 初, 底, 末 — the month is all a reader can date.
_PART = r"(?:[上中下]旬|初|底|末)"
DATE = re.compile(rf"(?P<y>{_Y})年(?P<m>{_M})月(?:(?P<d>{_D})日|{_PART})?")
PERIOD = re.compile(
    rf"(?P<y1>{_Y})年(?P<m1>{_M})月(?:(?P<d1>{_D})日|{_PART})?\s*(?:至|到|—|－|-|~|～)\s*"
    rf"(?:(?P<y2>{_Y})年)?(?P<m2>{_M})月(?:(?P<d2>{_D})日|{_PART})?"
)


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


def iso(year: str | None, month: str | None, day: str | None) -> str | None:
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


_NUMERIC_DATE = re.compile(r"(?P<y>\d{4})[.\-/](?P<m>\d{1,2})(?:[.\-/](?P<d>\d{1,2}))?(?!\d)")
_YEAR_END = re.compile(r"(?P<y>\d{4})年(?:底|末|年底)")


def deadline_date(deadline: str | None) -> str | None:
    """A deadline as printed (``2023年6月30日``, ``2023年6月底前``, ``2023.6.30``, ``2023年底``) as an
    ISO day or ``YYYY-MM``; None for 立行立改, 长期坚持 and other deadlines without a date."""
    if not deadline:
        return None
    match = DATE.search(deadline) or _NUMERIC_DATE.search(deadline)
    if match:
        return iso(match["y"], match["m"], match["d"])
    year_end = _YEAR_END.search(deadline)
    return iso(year_end["y"], "12", None) if year_end else None


def _before(text: str, end: int) -> re.Match | None:
    """The last date in ``text[:end]`` of the sentence that ``end`` lies in."""
    start = max(text.rfind("。", 0, end), text.rfind("；", 0, end)) + 1
    matches = list(DATE.finditer(text, start, end))
    return matches[-1] if matches else None


def inspection_period(opening: str, unit_clause: re.Match | None) -> tuple[str | None, str | None]:
    """Start and end of the inspection: a period, or a single month before the unit clause."""
    match = PERIOD.search(opening)
    if match:
        y1, m1, y2, m2 = match["y1"], match["m1"], match["y2"], match["m2"]
        if y2 is None and y1.isdigit() and m1.isdigit() and m2.isdigit():
            # "2020年11月至1月": the end year is left out and may roll over.
            y2 = str(int(y1) + 1) if int(m2) < int(m1) else y1
        return iso(y1, m1, match["d1"]), iso(y2, m2, match["d2"])
    if unit_clause:  # "2024年4月，市委第五巡察组对…开展了提级巡察", "…巡察组于2024年5月对…"
        start = _before(opening, unit_clause.start())
        if start:
            return iso(start["y"], start["m"], start["d"]), None
    return None, None


_FEEDBACK_WORD = re.compile(r"反馈了?(?:巡视|巡察|意见|情况|“|\")|(?:进行|作)了?反馈")
# A day printed without its year (9月11日，市委第四巡察组…反馈了巡察意见).
_MONTH_DAY = re.compile(r"(?<![年\dX])(?P<m>\d{1,2})月(?P<d>\d{1,2})日")


def feedback_date(opening: str, inspected: str | None = None, published_at: str | None = None) -> str | None:
    """The date printed last before "反馈" in its sentence, the inspection period excluded.

    A day printed without its year takes the year of the inspection (``inspected``, its
    last known date: feedback follows it, so a month before the inspection's is the next
    year), else of the publication (a month after the publication's is the year before)."""
    word = _FEEDBACK_WORD.search(opening)
    if not word:
        return None
    period = PERIOD.search(opening)
    text = opening
    if period and period.end() <= word.start():
        text = opening[:period.start()] + "#" * (period.end() - period.start()) + opening[period.end():]
    match = _before(text, word.start())
    if match and word.start() - match.end() <= 40:
        return iso(match["y"], match["m"], match["d"])
    start = max(text.rfind("。", 0, word.start()), text.rfind("；", 0, word.start())) + 1
    days = [m for m in _MONTH_DAY.finditer(text, start, word.start()) if word.start() - m.end() <= 40]
    if not days:
        return None
    month, day = int(days[-1]["m"]), days[-1]["d"]
    year = _year_of(month, inspected, published_at)
    return iso(str(year), str(month), day) if year else None


def year_after(month: int, inspected: str | None) -> int | None:
    """The year of a month printed without its year, after an inspection whose last known date
    is ``inspected`` (``YYYY``, ``YYYY-MM``…): the next year for a month before the inspection's."""
    if not (inspected and inspected[:4].isdigit()):
        return None
    year = int(inspected[:4])
    return year + 1 if len(inspected) >= 7 and month < int(inspected[5:7]) else year


def _year_of(month: int, inspected: str | None, published_at: str | None) -> int | None:
    if inspected and inspected[:4].isdigit():
        return year_after(month, inspected)
    if isinstance(published_at, str) and published_at[:4].isdigit():
        year = int(published_at[:4])
        return year - 1 if len(published_at) >= 7 and month > int(published_at[5:7]) else year
    return None


def lag_days(feedback: str | None, published_at: str | None) -> int | None:
    if not feedback or len(feedback) != 10 or not isinstance(published_at, str):
        return None
    try:
        published = dt.date.fromisoformat(published_at[:10])
    except ValueError:
        return None
    return (published - dt.date.fromisoformat(feedback)).days
