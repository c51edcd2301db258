"""The home page, ``/``: one search box, the key questions, the dashboard at a glance, the latest disclosures.

Every figure counts texts, not pages: a report and its republished copies are
one record (``is_canonical``), and template copies are not disclosures.
"""

from __future__ import annotations

from datasette import Response
from datasette.utils import derive_named_parameters

from .. import labels
from .about import download_facts
from .cells import yuan
from .record import display_time
from .database import archive_database

SEARCH_PATH = "/-/search"
DASHBOARD = "rectification"
FEED_QUERY = "new_disclosures"
# Canned queries for maintainers are listed apart; those about one document
# (a document_id parameter) belong to its record page, not the home page.
MAINTENANCE_QUERIES = ("crawl_health", "failures_by_kind")
LATEST = 10

_REPORTED = "d.is_canonical and not d.is_template"
REPORTS = f"from disclosures d join documents doc on doc.id = d.document_id where {_REPORTED}"
# A unit is counted once under all its names (国家电投 and 国家电力投资集团有限公司): by the unit
# its report's name was linked to (archive.units), by the name as stated when it was not linked.
REPORTS_BY_UNIT = (f"from disclosures d left join unit_events e on e.document_id = d.document_id and e.role = 'report' "
                   f"where {_REPORTED}")
FIGURES = f"""
select
  (select count(*) {REPORTS}) as reports,
  (select count(distinct coalesce(e.unit_id, 'named ' || d.unit)) {REPORTS_BY_UNIT}) as units,
  (select count(*) from problems p join disclosures d on d.document_id = p.document_id
     where {_REPORTED}) as problems,
  (select count(*) from documents where is_canonical) as texts,
  (select sum(d.money_recovered_yuan) {REPORTS}) as money_recovered_yuan,
  (select sum(d.people_disciplined) {REPORTS}) as people_disciplined,
  (select count(*) from inspections i where i.reports = 0 and i.due_date < date('now')) as overdue,
  (select count(*) from documents where not is_canonical) as copies
"""
PROBLEMS_BY_STATUS = """
select coalesce(s.label, p.status_class) as status, count(*) as problems
from problems p join disclosures d on d.document_id = p.document_id left join status_classes s on s.code = p.status_class
where p.is_canonical and not d.is_template
group by 1 order by problems desc
"""
LATEST_REPORTS = f"""
select doc.id, doc.title, doc.published_at, doc.publisher, d.level, d.unit, d.problems_total,
  (select count(*) - 1 from documents c where c.canonical_id = doc.id) as copies
{REPORTS}
order by doc.published_at desc limit {LATEST}
"""


async def _questions(datasette, database, request):
    queries = await datasette.get_canned_queries(database.name, request.actor)
    questions, maintenance = [], []
    for name, query in queries.items():
        named = await derive_named_parameters(database, query["sql"])
        parameters = [p for p in dict.fromkeys(named) if not p.startswith("_")]
        if name == FEED_QUERY or "document_id" in parameters:
            continue
        entry = {
            "name": name,
            "title": query.get("title") or name,
            "description": query.get("description"),
            "parameters": parameters,
            "url": datasette.urls.query(database.name, name),
        }
        (maintenance if name in MAINTENANCE_QUERIES else questions).append(entry)
    return questions, maintenance


async def home_page(datasette, request):
    database = await archive_database(datasette)
    figures = dict((await database.execute(FIGURES)).first())
    statuses = [dict(row) for row in (await database.execute(PROBLEMS_BY_STATUS)).rows]
    most = max((s["problems"] for s in statuses), default=0)
    latest = [dict(row) for row in (await database.execute(LATEST_REPORTS)).rows]
    for report in latest:
        report["level_label"] = labels.label("levels", report["level"])
        report["published"] = display_time(report["published_at"])
    questions, maintenance = await _questions(datasette, database, request)
    metadata = datasette.metadata() or {}
    tables = datasette.urls.database(database.name)
    context = {
        "metadata": metadata,
        "database_name": database.name,
        "search_url": datasette.urls.path(SEARCH_PATH),
        "query": request.args.get("q", ""),
        "figures": figures,
        "money": yuan(figures["money_recovered_yuan"]) if figures["money_recovered_yuan"] is not None else None,
        "money_exact": f"{figures['money_recovered_yuan'] or 0:,.0f}",
        "download": download_facts(datasette, database),
        "about_url": datasette.urls.path("/-/about"),
        "overdue_url": datasette.urls.query(database.name, "overdue_reports"),
        "units_url": datasette.urls.query(database.name, "units_ledger"),
        "statuses": [{**s, "width": round(100 * s["problems"] / most) if most else 0} for s in statuses],
        "latest": latest,
        "questions": questions,
        "maintenance": maintenance,
        "dashboard_url": datasette.urls.path(f"/-/dashboards/{DASHBOARD}"),
        "feed_url": datasette.urls.query(database.name, FEED_QUERY) + ".atom",
        "feed_form_url": datasette.urls.query(database.name, FEED_QUERY),
        "browse": [
            ("Rectification reports", f"{tables}/disclosures?is_canonical=1", "one row per report; copies hidden"),
            ("Problems", f"{tables}/problems?is_canonical=1", "every itemised problem and its status"),
            ("Documents", f"{tables}/documents?is_canonical=1", "every archived text; copies hidden"),
            ("Copies", f"{tables}/copies", "texts published more than once, and by whom"),
            ("Units", datasette.urls.query(database.name, "units_ledger"), "every inspected unit, with its ledger page"),
            ("All tables", tables, "and SQL"),
        ],
    }
    return Response.html(await datasette.render_template("home.html", context, request=request))


ROUTES = [(r"^/$", home_page)]
