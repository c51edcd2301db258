"""The promise ledger: ``/-/unit/<id>``, everything the archive holds of one unit, inspection by inspection.

For each inspection (a round, a 回头看 apart): the entry notice, the feedback notice
(its date and what the team pointed out), each report (date, problems stated and
itemised, statuses, money, people), later edits and removals of those pages, with
a link to every record — and whether a report was found within the deadline the
rule for that level gives (``archive/report_deadlines.csv``).  A missing report is
said as what it is: no report found in the archive, with the archive's coverage of
the sites where this unit's texts were found.
"""

from __future__ import annotations

from datetime import date

from datasette import NotFound, Response

from pipelines.disclosure.notices import findings

from .. import labels
from .cells import yuan
from .database import archive_database
from .record import display_time

ROUTE_ID = r"(?P<unit_id>[0-9a-f]{12})"
ROLE_LABELS = {"entry": "巡视巡察进驻 Entry", "feedback": "反馈 Feedback", "report": "整改报告 Report"}
EVENTS = """
select e.*, doc.title, doc.url, doc.page_url, doc.body_text, doc.version_count, doc.last_changed_at, doc.gone_at,
  (select count(*) - 1 from documents c where c.canonical_id = doc.id) as copies,
  d.problems_stated, d.problems_itemised, d.problems_total, d.status_source, d.problems_completed,
  d.problems_basically_completed, d.problems_phase_completed, d.problems_in_progress, d.problems_unfinished, d.problems_long_term_only,
  d.problems_no_status, d.stated_completion_rate, d.money_recovered_yuan, d.cases_filed, d.people_disciplined,
  d.people_organisational, d.people_accountable
from unit_events e join documents doc on doc.id = e.document_id left join disclosures d on d.document_id = e.document_id
where e.unit_id = ?
order by coalesce(e.event_date, '9999'), case e.role when 'entry' then 0 when 'feedback' then 1 else 2 end
"""
COVERAGE = """
select doc.site, count(*) as pages, min(substr(doc.published_at, 1, 10)) as first_published,
  max(substr(doc.published_at, 1, 10)) as last_published, max(substr(doc.last_seen_at, 1, 10)) as last_captured
from documents doc where doc.site in (select e.site from unit_events e where e.unit_id = ?)
group by doc.site order by pages desc
"""
STATUS_COUNTS = (
    ("problems_completed", "已完成"), ("problems_basically_completed", "基本完成"),
    ("problems_phase_completed", "阶段性完成"), ("problems_in_progress", "正在推进"), ("problems_unfinished", "未完成"),
    ("problems_long_term_only", "长期坚持"), ("problems_no_status", "未标注状态"),
)
PEOPLE = (
    ("cases_filed", "立案 cases filed"), ("people_disciplined", "党纪政务处分 disciplined"),
    ("people_organisational", "组织处理 organisational handling"), ("people_accountable", "问责 held accountable"),
)


def _days(start: str | None, end: str | None) -> int | None:
    if not start or not end or len(start) < 10 or len(end) < 10:
        return None
    return (date.fromisoformat(end[:10]) - date.fromisoformat(start[:10])).days


def finding(inspection: dict, today: date) -> dict:
    """Whether a report was found, and when against the deadline: ``kind`` is on_time, late, overdue, not_due, unknown."""
    feedback, due, first = inspection["feedback_date"], inspection["due_date"], inspection["first_report_at"]
    rule = f"{inspection['deadline_days']} days after feedback" if inspection["deadline_days"] else None
    if first:
        after = _days(feedback, first)
        late = _days(due, first)
        said = f"first report published {first}" + (f", {after} days after feedback" if after is not None else "")
        if late is not None and late > 0:
            return {"kind": "late", "text": f"{said}: {late} days after the deadline ({due}, {rule})"}
        if late is not None:
            return {"kind": "on_time", "text": f"{said}: within the deadline ({due}, {rule})"}
        return {"kind": "unknown", "text": said}
    if inspection["reports"]:
        return {"kind": "unknown", "text": f"{inspection['reports']} report(s) found in the archive, with no date: "
                                           "whether within the deadline is not known"}
    if not feedback:
        return {"kind": "unknown", "text": "no feedback or report found in the archive"}
    if due and due < today.isoformat():
        overdue = _days(due, today.isoformat())
        return {"kind": "overdue", "text": f"no report found in the archive: due {due} ({rule}), {overdue} days ago"}
    if due:
        return {"kind": "not_due", "text": f"no report found in the archive yet; due {due} ({rule})"}
    if rule:  # a rule, but a feedback date without its day (2021-01): no deadline to count
        return {"kind": "unknown", "text": f"no report found in the archive; feedback {feedback} (its day not stated), "
                                           f"so the deadline ({rule}) is not known"}
    return {"kind": "unknown", "text": "no report found in the archive; no deadline rule is known for this level"}


def _event(row: dict, datasette) -> dict:
    row = dict(row)
    row["role_label"] = ROLE_LABELS[row["role"]]
    row["href"] = datasette.urls.path(f"/-/document/{row['document_id']}")
    row["findings"] = findings(row["body_text"]) if row["role"] == "feedback" else None
    row["statuses"] = [(label, row[key]) for key, label in STATUS_COUNTS if row.get(key)]
    row["people"] = [(label, row[key]) for key, label in PEOPLE if row.get(key) is not None]
    row["money"] = (yuan(row["money_recovered_yuan"]), f"{row['money_recovered_yuan']:,.0f}") if row.get("money_recovered_yuan") is not None else None
    row["published"] = display_time(row["published_at"])
    del row["body_text"]
    return row


async def unit_page(datasette, request):
    unit_id = request.url_vars["unit_id"]
    database = await archive_database(datasette)
    unit = (await database.execute("select * from units where id = ?", [unit_id])).first()
    if unit is None:
        raise NotFound(f"no unit {unit_id}")
    unit = dict(unit)
    parent = (await database.execute("select id, name from units where id = ?", [unit["parent_id"]])).first()
    aliases = [dict(r) for r in (await database.execute(
        "select * from unit_aliases where unit_id = ? order by coalesce(valid_until, '9999') desc, alias", [unit_id])).rows]
    inspections = [dict(r) for r in (await database.execute(
        "select * from inspections where unit_id = ? order by coalesce(entry_date, feedback_date, first_report_at) desc, round_id desc",
        [unit_id])).rows]
    events = [_event(r, datasette) for r in (await database.execute(EVENTS, [unit_id])).rows]
    today = date.today()
    for inspection in inspections:
        inspection["events"] = [e for e in events if e["inspection_id"] == inspection["id"]]
        inspection["finding"] = finding(inspection, today)
        inspection["level_label"] = labels.label("levels", inspection["level"])
    coverage = [dict(r) for r in (await database.execute(COVERAGE, [unit_id])).rows]
    context = {
        "unit": unit,
        "level_label": labels.label("levels", unit["level"]),
        "parent": dict(parent) if parent else None,
        "aliases": aliases,
        "inspections": inspections,
        "coverage": coverage,
        "database_name": database.name,
        "feed_url": datasette.urls.query(database.name, "overdue_reports") + ".atom",
    }
    return Response.html(await datasette.render_template("unit.html", context, request=request))


ROUTES = [(rf"^/-/unit/{ROUTE_ID}$", unit_page)]
