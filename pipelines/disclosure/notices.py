"""Who an entry notice (进驻) or a feedback notice (反馈) is about, in which round, and when.

An entry notice: ``县委第一巡察组进驻梅溪县农业农村局开展巡察的公告`` / ``…于2023年9月4日起对…开展…巡察``;
a feedback notice: ``省委第二巡视组向青崖市委反馈巡视情况`` / ``7月8日，省委第二巡视组向青崖市委领导班子反馈了巡视情况``.
A notice of a whole round (``中央第六轮巡视完成进驻``) names one unit per team; each is returned.
Facts the text does not state are None, as for reports: a feedback day printed
without its year takes the year of the inspection period only when the period states one.
"""
from __future__ import annotations

import re

from pipelines.classify import fold_simplified

from . import parties
from .dates import DATE, PERIOD, feedback_date, inspection_period, iso, year_after

NOTICE_TYPES = ("entry_notice", "feedback_notice")
_NAME = r"(?P<unit>[^，。；、,;：:“”\s]{2,40}?)"
# "…组向<unit>(党委|党组|领导班子)?反馈"; "…组进驻<unit>开展"; "…组(于…)?对<unit>开展/进行…巡视"
_FEEDBACK_UNIT = re.compile(rf"组(?:[^，。；]{{0,20}}?)向{_NAME}(?:主要负责同志|领导班子|及其主要负责人)?(?:分别)?反馈")
_ENTRY_UNIT = re.compile(rf"组(?:[^，。；]{{0,24}}?)(?:进驻|对){_NAME}(?:开展|进行)")
_NO_YEAR_DAY = re.compile(r"(?<![年\d])(?P<m>\d{1,2})月(?P<d>\d{1,2})日")


def _units(pattern: re.Pattern, texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        for match in pattern.finditer(text):
            name = parties.normalize_unit(match["unit"])
            if name and name not in found:
                found.append(name)
    return found


def _feedback_day(opening: str) -> str | None:
    """The day before "反馈" (``2015年2月6日，…向…反馈了专项巡视情况``); a day without its year
    takes the year of the inspection period, if it states one — the next year for a month
    before the period's last (``2020年10月至12月…1月28日…反馈``: 2021-01-28)."""
    inspected_from, inspected_to = inspection_period(opening, parties.UNIT_CLAUSE.search(opening))
    inspected = inspected_to or inspected_from
    stated = feedback_date(opening, inspected)
    if stated:
        return stated
    period = PERIOD.search(opening)
    word = re.search(r"反馈", opening)
    start, end = (period.end() if period else 0), (word.start() if word else len(opening))
    dated = list(DATE.finditer(opening, start, end))
    if dated:
        return iso(dated[-1]["y"], dated[-1]["m"], dated[-1]["d"])
    day = _NO_YEAR_DAY.search(opening, start, end)
    year = year_after(int(day["m"]), inspected) if day and period else None
    return iso(str(year), day["m"], day["d"]) if year else None


def parse_notice(title: str, body: str, doc_type: str) -> dict | None:
    """``{"units": [...], "level", "kind", "team", "term", "round", "inspection_kind", "event_date"}``, or None."""
    if doc_type not in NOTICE_TYPES:
        return None
    title, body = fold_simplified(title), fold_simplified(body)
    lines = [line.strip() for line in body.split("\n") if line.strip()]
    opening = next((line for line in lines if parties.TEAM.search(line)), lines[0] if lines else "")
    team = parties.find_team(title + "\n" + opening, body)
    round_match, term, round_number = parties.round_of(title, opening)
    if round_match is None or term is None:  # "中央第六轮巡视完成进驻": the text says 十九届
        stated = parties.round_of("\n".join(lines[:3]), opening)
        if stated[0] is not None and round_number in (None, stated[2]):
            round_match, term, round_number = stated
    sender = team["sender"] if team else (round_match["sender"] if round_match else None)
    kind = next((m["word"] for m in (team, round_match) if m), None)
    pattern = _FEEDBACK_UNIT if doc_type == "feedback_notice" else _ENTRY_UNIT
    units = _units(pattern, [title]) or _units(pattern, lines[:40])
    if doc_type == "feedback_notice":
        event_date = _feedback_day(opening)
    else:
        clause = parties.UNIT_CLAUSE.search(opening)
        event_date = inspection_period(opening, clause)[0] or _entry_day(opening)
    return {
        "units": units,
        "level": parties.level(sender, kind, opening),
        "kind": kind,
        "team": parties.team_name(team),
        "term": term,
        "round": round_number,
        "inspection_kind": parties.inspection_kind(title + "\n" + opening),
        "event_date": event_date,
    }


def _entry_day(opening: str) -> str | None:
    match = DATE.search(opening)
    return iso(match["y"], match["m"], match["d"]) if match else None


_FINDINGS = re.compile(r"(?:巡视|巡察)(?:组|“回头看”)?(?:指出|认为|发现)[，,：:]?(?P<findings>[^。]{4,400})。")


def findings(body: str) -> str | None:
    """What the team pointed out, as a feedback notice relays it (``巡视组指出，…。``), else None."""
    match = _FINDINGS.search(fold_simplified(body or ""))
    return match["findings"] if match else None
