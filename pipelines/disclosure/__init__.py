"""Structured facts from a rectification report (巡视/巡察整改情况通报).

The report is read in simplified characters (OpenCC folding, ASCII digits, “” quotes),
so a traditional-character copy gives the same disclosure as its original.

- ``parties``: the opening paragraph —
  ``<period>，<team>对<unit>(进行|开展)了<kind>巡视/巡察，并于<date>(向…)反馈了…意见`` —
  gives team, level, kind, round, the inspected unit (full name, its type and province),
  the inspection period and the feedback date (``dates``).
- ``problems``: the itemised problems with their status as printed, status class,
  deadline (as printed and as a date) and responsible unit; ``totals``: stated and
  itemised totals, status counts, and whether the stated ones agree with the items.
- attachments: a page that itemises no problem itself takes them from the 一览表 of
  its attachments (``attachments=[{"id", "tables"}]``), each with its source
  (``attachment_id``, ``source_row``); the page's stated totals are compared with them.
- ``outcomes``: money recovered, cases filed, people disciplined, organisational
  handling, accountability, clues transferred, rules made, each figure with its sentence.
- ``contact``: the closing contact block; X/XX placeholders of redacted templates.

Facts the text does not state are None; nothing is inferred from context.
"""
from __future__ import annotations

import re

from pipelines.classify import classify, fold_simplified

from . import parties
from .contact import contact
from .dates import cn_to_int, feedback_date, inspection_period, lag_days
from .outcomes import outcomes
from .problems import parse_problems, table_problems
from .rounds import round_id_for
from .totals import counts

__all__ = ["cn_to_int", "parse_disclosure"]

_COMPLETION_RATE = re.compile(r"完成率(?:为|达到|达)?\s?(\d{1,3}(?:\.\d{1,4})?)\s?[%％]")
# X standing in for a date, number or name; "X射线"/"X光" are real words.
_PLACEHOLDER = re.compile(r"(?<![A-Za-z])X{1,4}(?![A-Za-z]|射线|光)")


def _site_province(site: str | None) -> str | None:
    if not site:
        return None
    from sites import get_profile

    try:
        return get_profile(site).settings.get("province")
    except KeyError:
        return None


def parse_disclosure(
    title: str, body: str, published_at: str | None = None, doc_type: str | None = None,
    site: str | None = None, attachments: list[dict] | None = None,
) -> dict | None:
    """Parse a rectification report into ``{"disclosure", "problems", "outcomes"}``.

    Returns None when the document is not a rectification report; a caller that has
    classified the document already passes ``doc_type``.  ``site`` names the site
    profile the page was read with (its ``province`` is the fallback for a local unit).
    ``attachments``: the tables of the files the page links, ``{"id", "tables"}`` each.
    """
    if (doc_type or classify(title, body)) != "rectification_report":
        return None
    title, body = fold_simplified(title), fold_simplified(body)
    lines = [line.strip(" \t\r\u3000\xa0") for line in body.split("\n")]
    lines = [line for line in lines if line]
    opening = next((line for line in lines if parties.TEAM.search(line) or parties.UNIT_CLAUSE.search(line)),
                   lines[0] if lines else "")

    team = parties.find_team(opening, body)
    round_match, term, round_number = parties.round_of(title, opening, body)
    sender = team["sender"] if team else (round_match["sender"] if round_match else None)
    kind = next((m["word"] for m in (team, round_match) if m),
                next((w for w in ("巡视", "巡察") if w in title + opening), None))
    context = title + "\n" + opening
    level = parties.level(sender, kind, opening, team if team and team.string == opening else None)
    clause = parties.UNIT_CLAUSE.search(opening)
    issuer = parties.issuer(title)
    unit = parties.unit(clause, issuer, context)
    unit_type = parties.unit_type(unit, level)
    inspection_start, inspection_end = inspection_period(opening, clause)
    feedback = feedback_date(opening, inspection_end or inspection_start, published_at)
    problems, owned = parse_problems(lines)
    for problem in problems:  # in place: a copy of every problem doubled them for a while
        problem.update(attachment_id=None, source_row=None)
    attached = attachment_problems(attachments or [])
    origin = "text" if problems else None
    if attached and not problems:
        problems, origin = attached, "attachment"
    outside_items = "\n".join(line for line, in_problem in zip(lines, owned) if not in_problem)
    outcome_columns, outcome_rows = outcomes(lines, owned)
    rate = _COMPLETION_RATE.search(outside_items)

    disclosure = {
        "unit": unit,
        "unit_type": unit_type,
        "province": parties.province(unit, unit_type, issuer, context, _site_province(site)),
        "level": level,
        "kind": kind,
        "inspection_kind": parties.inspection_kind(context),
        "term": term,
        "round": round_number,
        "round_id": round_id_for(term, round_number) if level == "central" else None,
        "team": parties.team_name(team),
        "inspection_start": inspection_start,
        "inspection_end": inspection_end,
        "feedback_date": feedback,
        "published_at": published_at,
        "lag_days": lag_days(feedback, published_at),
        **counts(problems, outside_items),
        "problems_origin": origin,
        "problems_in_attachments": len(attached) if attachments else None,
        **outcome_columns,
        **contact(body),
        "is_template": bool(_PLACEHOLDER.search(title + "\n" + body)),
        "stated_completion_rate": float(rate[1]) if rate else None,
    }
    return {"disclosure": disclosure, "problems": problems, "outcomes": outcome_rows}


def attachment_problems(attachments: list[dict]) -> list[dict]:
    """The problems of the attachments' tables, each with its attachment and row (in the
    attachment's tables one after the other, header rows counted).

    A page often links one 一览表 in several formats (PDF, Word, Excel): a table whose
    problems are those of one already read (as many, and at least 80 % of their titles
    the same) is a copy and adds none.  Callers list the attachments read from text
    before those read by OCR, so a copy's problems come from its best reading."""
    kept: list[list[dict]] = []
    for attachment in attachments:
        rows = [row for table in attachment.get("tables") or [] for row in table]  # a table runs across pages
        problems = [{**problem, "attachment_id": attachment["id"], "source_row": row}
                    for row, problem in table_problems(rows)]
        if problems and not any(_same_list(problems, other) for other in kept):
            kept.append(problems)
    return [problem for problems in kept for problem in problems]


def _same_list(one: list[dict], other: list[dict]) -> bool:
    if len(one) != len(other):
        return False
    same = sum("".join(a["title"].split()) == "".join(b["title"].split()) for a, b in zip(one, other))
    return same >= 0.8 * len(one)
