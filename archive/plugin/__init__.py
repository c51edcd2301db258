"""Datasette plugin of the archive.

* registers the search plugin (:mod:`archive.plugin.search`): the ``_search``
  box of the documents and problems tables and ``/-/search``;
* serves ``/-/document/<id>``: a document's clean text beside its parsed
  disclosure and problems.  Everything is rendered as escaped text — scraped
  pages never reach the browser as HTML;
* links titles and document ids in the tables to that page;
* keeps redirects on this site (:func:`on_site`);
* sends a Content-Security-Policy with every response: even if scraped text
  ever reached a page as markup, the browser would load nothing from
  elsewhere, submit no form elsewhere and embed no plugin.  (Datasette's own
  pages use inline scripts, so ``'unsafe-inline'`` stays for scripts; the
  defence against injection is that scraped text is always escaped.)

Installed as a ``datasette`` entry point by ``pyproject.toml``, so any
Datasette in the project's environment loads it.
"""

import json

from datasette import NotFound, Response, hookimpl
from datasette.plugins import pm
from markupsafe import Markup, escape

from . import search, serving

# Each area of the plugin is a module of hooks, registered here as a plugin of its own.
for _module in (search, serving):
    if not pm.is_registered(_module):
        pm.register(_module, name=_module.__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'{eval}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Vega compiles chart expressions with Function(): the dashboards, which show
# aggregates rather than scraped pages, are the only place that may evaluate code.
EVAL_ALLOWED_PATHS = ("/-/dashboards",)


def content_security_policy(path: str) -> str:
    allow_eval = path.startswith(EVAL_ALLOWED_PATHS)
    return CONTENT_SECURITY_POLICY.format(eval=" 'unsafe-eval'" if allow_eval else "")
DOCUMENT_ROUTE = r"^/-/document/(?P<document_id>[0-9a-f]{16})$"
_DISCLOSURE_FACTS = (
    ("unit", "Inspected unit"), ("unit_type", "Unit type"), ("level", "Level"), ("kind", "Kind"),
    ("inspection_kind", "Inspection kind"), ("round_id", "Central round"), ("term", "Term"), ("round", "Round"),
    ("team", "Team"), ("inspection_start", "Inspection start"), ("inspection_end", "Inspection end"),
    ("feedback_date", "Feedback"), ("published_at", "Published"), ("lag_days", "Days feedback → publication"),
    ("problems_total", "Problems"), ("problems_completed", "已完成"), ("problems_basically_completed", "基本完成"),
    ("problems_in_progress", "正在推进 / 持续推进"), ("problems_unfinished", "未完成"),
    ("problems_no_status", "No status"), ("problems_long_term", "Long-term (并将长期坚持)"),
    ("people_disciplined", "People disciplined"), ("money_recovered_yuan", "Money recovered (yuan)"),
    ("rules_made", "Rules made"), ("contact_phone", "Contact phone"), ("contact_address", "Contact address"),
    ("contact_postcode", "Postcode"), ("contact_email", "Contact e-mail"), ("is_template", "Template copy"),
)


async def _archive_database(datasette):
    for name, database in datasette.databases.items():
        if name != "_internal" and await database.table_exists("documents"):
            return database
    raise NotFound("no archive database is served")


async def document_page(datasette, request):
    document_id = request.url_vars["document_id"]
    database = await _archive_database(datasette)
    document = (await database.execute("select * from documents where id = ?", [document_id])).first()
    if document is None:
        raise NotFound(f"no document {document_id}")
    disclosure = (await database.execute("select * from disclosures where document_id = ?", [document_id])).first()
    problems = (
        await database.execute("select * from problems where document_id = ? order by position", [document_id])
    ).rows
    document = dict(document)
    facts = []
    if disclosure is not None:
        facts = [(label, disclosure[key]) for key, label in _DISCLOSURE_FACTS if disclosure[key] is not None]
    context = {
        "document": document,
        "paragraphs": document["body_text"].split("\n"),
        "categories": json.loads(document["categories"] or "[]"),
        "rules": json.loads(document["boilerplate_rules"] or "[]"),
        "facts": facts,
        "problems": [dict(p) for p in problems],
        "database_name": database.name,
    }
    return Response.html(await datasette.render_template("document.html", context, request=request))


@hookimpl
def register_routes():
    return [(DOCUMENT_ROUTE, document_page)]


def _document_link(datasette, document_id: str, label: str) -> Markup:
    href = datasette.urls.path(f"/-/document/{document_id}")
    return Markup('<a href="{}">{}</a>').format(href, label)


def _plain(cell):
    """A foreign-key cell arrives expanded as {"value": …, "label": …}."""
    return cell["value"] if isinstance(cell, dict) else cell


@hookimpl
def render_cell(value, column, table, database, row, datasette):
    if table in ("documents", "disclosures") and column == "title" and value:
        return _document_link(datasette, _plain(row["id"] if table == "documents" else row["document_id"]), value)
    if table in ("disclosures", "problems", "versions") and column == "document_id" and isinstance(value, str):

        async def titled_link():
            db = datasette.get_database(database)
            found = (await db.execute("select title from documents where id = ?", [value])).first()
            return _document_link(datasette, value, (found and found["title"]) or value)

        return titled_link
    return None


def on_site(location: bytes) -> bytes:
    """A redirect stays on this site.  Datasette 0.65 answers ``/\\example.com/``
    with ``Location: /\\example.com`` (it strips the trailing slash), which
    browsers read as ``//example.com``: another site.  Leading slashes and
    backslashes collapse to one slash (browsers drop tabs and newlines in a
    URL, so those go first)."""
    cleaned = location.translate(None, b"\t\r\n").lstrip(b" ")
    if cleaned[:2] in (b"//", b"/\\", b"\\/", b"\\\\"):
        return b"/" + cleaned.lstrip(b"/\\")
    return location


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def with_security_headers(scope, receive, send):
            async def send_with_headers(message):
                if message["type"] == "http.response.start":
                    headers = [
                        (k, on_site(v) if k.lower() == b"location" else v) for k, v in message.get("headers", [])
                        if k.lower() not in (b"content-security-policy", b"x-content-type-options")
                    ]
                    headers += [
                        (b"content-security-policy", content_security_policy(scope.get("path", "")).encode()),
                        (b"x-content-type-options", b"nosniff"),
                    ]
                    message = {**message, "headers": headers}
                await send(message)

            await app(scope, receive, send_with_headers if scope["type"] == "http" else send)

        return with_security_headers

    return wrap
