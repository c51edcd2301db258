"""How many problems the report has and how far each got.

``problems_stated`` is the total the text states ("巡视反馈的4个方面12个问题"),
``problems_itemised`` the problems listed.  The status counts come from the items when
every problem is itemised and labelled; otherwise from the totals the text states
("已完成整改10个，正在推进2个"); otherwise from the items as they are, unlabelled ones
counted as such.  ``status_source`` says which: ``items``, ``stated``, or ``selection``
when the items are a selection of a larger stated total and nothing else is stated.
Totals are read outside the problems' own text (an item may quote an earlier round's
numbers); status counts adding up to more than the stated total count the tasks or measures
the problems were split into, not the problems, and are left out.  ``stated_matches_items`` compares them: the stated total and every stated
status count equal the items' (the items may come from an attachment's 一览表).
"""
from __future__ import annotations

import re

_N = r"(\d{1,6})"
_ASPECTS = r"\d{1,4}个?大?方面"  # 4个方面 / 4个大方面: groups of problems, never the count
_STATED = (
    re.compile(rf"(?:反馈|指出|提出|交办)(?:的|了)?(?:{_ASPECTS})?(?:共|共计)?{_N}[个项条](?:具体)?问题"),
    re.compile(rf"(?:反馈|指出|提出|交办)(?:的|了)?(?:具体)?问题(?:共|共计)?{_N}[个项条](?!大?方面|大?类)"),
    re.compile(rf"(?<![\d.]){_N}个(?:具体)?问题(?:中)?[，,]?(?:已|均已)?(?:全部)?(?:完成整改|整改完成|已完成|整改到位|已整改)"),
    # 6个方面18个突出问题, 4个大方面26个大项的问题, 细化成39个具体问题, 对应34个具体问题清单
    re.compile(rf"(?<!\d){_ASPECTS}(?:的)?{_N}(?:个大项|[个项条])(?:的)?(?:具体|突出)?问题"),
    re.compile(rf"(?:细化|分解|梳理|对应)(?:成|为|出)?(?:了)?{_N}[个项条](?:具体|突出)?问题"),
)
_DIGIT = re.compile(r"\d")
_ALL_DONE = re.compile(r"(?:已|均已)?全部(?:完成整改|整改完成|整改到位|完成|整改)")
_BUCKETS = (  # (count key, patterns) — a number before or after the status words
    ("problems_phase_completed", (rf"阶段性(?:完成整改|整改完成|完成)(?:的)?{_N}[个项条]", rf"{_N}[个项条](?:问题)?阶段性(?:完成|整改完成)")),
    ("problems_basically_completed", (rf"基本完成(?:整改)?{_N}[个项条]", rf"{_N}[个项条](?:问题)?基本完成")),
    ("problems_unfinished", (rf"未完成(?:整改)?{_N}[个项条]", rf"{_N}[个项条](?:问题)?未完成")),
    ("problems_completed", (rf"(?<![基未性])(?:已|均已)?(?:完成整改|整改完成|完成|整改到位|已整改)(?:的)?{_N}[个项条]",
                            rf"{_N}[个项条](?:问题)?(?:已经?|均已)(?:完成整改|整改完成|整改到位|完成)(?!\d|整改)")),
    ("problems_in_progress", (rf"(?:正在(?:持续)?推进|持续推进|正在整改|持续整改|整改中)(?:问题)?{_N}[个项条]",
                              rf"{_N}[个项条](?:问题)?(?:正在(?:持续)?推进|持续推进|正在整改|持续整改|整改中)")),
    ("problems_long_term_only", (rf"长期坚持(?:的)?{_N}[个项条]", rf"{_N}[个项条](?:问题)?(?:需)?长期坚持")),
)
_BUCKETS = tuple((key, tuple(re.compile(p) for p in patterns)) for key, patterns in _BUCKETS)
PARTITION = ("problems_completed", "problems_basically_completed", "problems_phase_completed", "problems_in_progress",
             "problems_unfinished", "problems_long_term_only", "problems_no_status")
COUNT_KEYS = ("problems_stated", "problems_itemised", "problems_total", "status_source", *PARTITION,
              "problems_long_term", "stated_matches_items")


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"[。；;\n]", text) if s]


def stated_total(text: str) -> int | None:
    for pattern in _STATED:
        match = pattern.search(text)
        if match:
            return int(match[1])
    return None


def stated_breakdown(text: str, total: int | None) -> dict | None:
    """Status counts the text states, from the sentence that states them."""
    for sentence in _sentences(text):
        if not _DIGIT.search(sentence):
            continue  # every count, and a stated total, is a figure
        counts: dict = {}
        spans: list[tuple[int, int]] = []
        for key, patterns in _BUCKETS:
            for pattern in patterns:
                for match in pattern.finditer(sentence):
                    if any(s < match.end() and match.start() < e for s, e in spans):
                        continue  # "基本完成3个" is not also "完成3个"
                    spans.append(match.span())
                    counts[key] = counts.get(key, 0) + int(match[1])
        if not counts and total and _ALL_DONE.search(sentence) and stated_total(sentence) == total:
            counts = {"problems_completed": total}
        if counts:
            return counts
    return None


def counts(problems: list[dict], outside_items: str) -> dict:
    stated = stated_total(outside_items)
    itemised = len(problems)
    breakdown = stated_breakdown(outside_items, stated)
    if breakdown and stated is not None and sum(breakdown.values()) > stated:
        breakdown = None  # counts of the tasks the problems were split into (整改任务106个，已完成整改98个)
    result: dict = {key: None for key in COUNT_KEYS}
    result.update(problems_stated=stated, problems_itemised=itemised,
                  problems_total=stated if stated is not None else (itemised or None))
    selection = stated is not None and itemised < stated
    labelled = all(p["status_class"] != "none" for p in problems)
    result["stated_matches_items"] = _agree(stated, breakdown, problems) if itemised else None
    if itemised and not selection and (labelled or not breakdown):
        return {**result, "status_source": "items", **_from_items(problems)}
    if breakdown:
        total = stated if stated is not None else sum(breakdown.values())
        partition = {key: breakdown.get(key) for key in PARTITION}
        if sum(breakdown.values()) == total:  # the stated buckets add up: the rest are none
            partition = {key: value or 0 for key, value in partition.items()}
        return {**result, "status_source": "stated", **partition}
    if itemised:
        return {**result, "status_source": "selection", **_from_items(problems)}
    return result


def _agree(stated: int | None, breakdown: dict | None, problems: list[dict]) -> bool | None:
    """Whether the totals the text states are those of its items (None when it states none)."""
    if stated is None and not breakdown:
        return None
    if stated is not None and stated != len(problems):
        return False
    items = _from_items(problems)
    return all(items[key] == value for key, value in (breakdown or {}).items())


def _from_items(problems: list[dict]) -> dict:
    classes = [p["status_class"] for p in problems]
    return {
        "problems_completed": classes.count("completed") + classes.count("completed_long_term"),
        "problems_basically_completed": classes.count("basically_completed"),
        "problems_phase_completed": classes.count("phase_completed"),
        "problems_in_progress": sum(1 for p in problems
                                    if p["status_class"] == "in_progress" and not p["status"].startswith("未完成")),
        "problems_unfinished": sum(1 for p in problems if (p["status"] or "").startswith("未完成")),
        "problems_long_term_only": classes.count("long_term"),
        "problems_no_status": classes.count("none"),
        "problems_long_term": sum(p["long_term"] for p in problems),
    }
