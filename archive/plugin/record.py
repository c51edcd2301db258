"""The record page, ``/-/document/<id>``: everything the archive knows of one document.

Its clean text beside its parsed disclosure, problems and statuses; the
completion rate the report states; the other copies of the text (publisher,
date, editor, link); earlier versions with what changed; a banner when the
page is gone; when it was captured and the WARC record of the raw response
(downloadable at ``/-/document/<id>/warc``); its attachments (name, type, size, the
text read from them, folded; the raw file at ``/-/document/<id>/attachment/<id>``);
a citation line to copy.
Everything scraped is rendered as escaped text.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from urllib.parse import quote, urlencode, urlsplit

from datasette import NotFound, Response
from datasette.utils import derive_named_parameters

from .. import labels
from . import textdiff
from .database import archive_database

ROUTES_ID = r"(?P<document_id>[0-9a-f]{16})"
DISCLOSURE_FACTS = (
    ("unit", "Inspected unit"), ("unit_type", "Unit type"), ("province", "Province"), ("level", "Level"),
    ("kind", "Kind"), ("inspection_kind", "Inspection kind"), ("round_id", "Central round"), ("term", "Term"),
    ("round", "Round"), ("team", "Team"), ("inspection_start", "Inspection start"),
    ("inspection_end", "Inspection end"), ("feedback_date", "Feedback"), ("published_at", "Published"),
    ("lag_days", "Days feedback → publication"), ("problems_stated", "Problems the report states"),
    ("problems_itemised", "Problems listed"), ("problems_total", "Problems"), ("status_source", "Status counts from"),
    ("problems_completed", "Completed"), ("problems_basically_completed", "基本完成"), ("problems_phase_completed", "阶段性完成"),
    ("problems_in_progress", "In progress"), ("problems_unfinished", "未完成"),
    ("problems_long_term_only", "Only 长期坚持"), ("problems_no_status", "No status"),
    ("problems_long_term", "Long-term (…长期坚持)"), ("money_recovered_yuan", "Money recovered (yuan)"),
    ("cases_filed", "Cases filed"), ("people_disciplined", "People disciplined"),
    ("people_organisational", "Organisational handling"), ("people_accountable", "People held accountable"),
    ("clues_transferred", "Clues transferred"), ("rules_made", "Rules made"), ("contact_phone", "Contact phone"),
    ("contact_address", "Contact address"), ("contact_postcode", "Postcode"), ("contact_email", "Contact e-mail"),
)


def display_time(value: str | None) -> str | None:
    """``2021-10-27T18:00:00+08:00`` → ``2021-10-27 18:00 +08:00``; UTC shown as UTC; dates as they are."""
    if not value or "T" not in value:
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = moment.utcoffset()
    zone = "" if offset is None else "UTC" if not offset else moment.isoformat()[-6:]
    return f"{moment:%Y-%m-%d %H:%M} {zone}".strip()


def web_link(url: str | None) -> str | None:
    """``url`` when it is safe to link to (http or https), else None: a scraped 原文链接 may say ``javascript:``."""
    return url if url and urlsplit(url).scheme.lower() in ("http", "https") else None


def _fact(key: str, value):
    if key == "level":
        return f"{labels.label('levels', value)} ({value})"
    if key == "money_recovered_yuan":
        return f"{value:,.0f}"
    if key == "published_at":
        return display_time(value)
    return value


def parsed_completion(disclosure: dict | None) -> int | None:
    """The share of the report's problems its own labels mark completed, in %; None when the
    counts are unknown, or are of the problems a report listed out of a larger stated total
    (``status_source`` ``selection``): 10 listed, all done, are not 24 % of 42."""
    if not disclosure or not disclosure["problems_total"] or disclosure["problems_completed"] is None:
        return None
    if disclosure["status_source"] == "selection":
        return None
    return round(100 * disclosure["problems_completed"] / disclosure["problems_total"])


def citation(document: dict, cited_on: date) -> str:
    """A GB/T 7714 reference to the page, with the archive's record and capture."""
    title = document["title"] or document["url"]
    responsible = document["source"] or document["publisher"]
    published = (document["published_at"] or "")[:10]
    parts = [f"{responsible}. " if responsible else "", f"{title}[EB/OL]. "]
    if document["publisher"] and document["publisher"] != responsible:
        parts.append(f"{document['publisher']}, ")
    parts.append(f"({published})" if published else "")
    # A saved page imported from a file is cited by the address it gives for itself.
    parts.append(f"[{cited_on.isoformat()}]. {document.get('page_url') or document['url']}.")
    archived = f" 整改档案存档 {document['id']}，抓取于 {(document['fetched_at'] or '')[:10]}"
    if document.get("page_url"):
        archived = f" 整改档案存档 {document['id']}，导入于 {(document['fetched_at'] or '')[:10]}"
    if document["gone_at"]:
        archived += f"；原网页自 {document['gone_at'][:10]} 起已删除"
    return "".join(parts) + archived + "."


def _changes(document: dict, versions: list[dict]) -> list[dict]:
    """Each earlier text against the one that replaced it, newest change first."""
    texts = [
        {"title": v["title"], "body_text": v["body_text"], "label": f"seen until {display_time(v['fetched_at'])}"}
        for v in versions
    ] + [{"title": document["title"], "body_text": document["body_text"], "label": "current text"}]
    changes = []
    for number, (old, new) in enumerate(zip(texts, texts[1:]), start=1):
        changes.append({
            "number": number,
            "old": old,
            "new": new,
            "title_changed": old["title"] != new["title"],
            "blocks": textdiff.diff(old["body_text"], new["body_text"]),
        })
    return changes[::-1]


async def _record_queries(datasette, database, request, document_id: str) -> list[tuple[str, str]]:
    """(title, URL) of each canned query about one document (it takes a ``document_id``), for this one."""
    found = []
    for name, query in (await datasette.get_canned_queries(database.name, request.actor)).items():
        if "document_id" in await derive_named_parameters(database, query["sql"]):
            url = datasette.urls.query(database.name, name) + "?" + urlencode({"document_id": document_id})
            found.append((query.get("title") or name, url))
    return found


async def _rows(database, sql: str, params) -> list[dict]:
    return [dict(row) for row in (await database.execute(sql, params)).rows]


async def record_page(datasette, request):
    document_id = request.url_vars["document_id"]
    database = await archive_database(datasette)
    found = await _rows(database, "select * from documents where id = ?", [document_id])
    if not found:
        raise NotFound(f"no document {document_id}")
    document = found[0]
    disclosure = next(iter(await _rows(database, "select * from disclosures where document_id = ?", [document_id])), None)
    problems = await _rows(database, "select * from problems where document_id = ? order by position", [document_id])
    copies = await _rows(
        database,
        "select * from copies where canonical_id = ? order by is_canonical desc, published_at, document_id",
        [document["canonical_id"]],
    )
    versions = await _rows(database, "select * from versions where document_id = ? order by fetched_at, id", [document_id])
    attachments = await _rows(
        database,
        "select a.*, (select count(*) from problems p where p.attachment_id = a.id) as problems "
        "from attachments a where a.document_id = ? order by a.url",
        [document_id],
    )
    canonical = next((c for c in copies if c["is_canonical"]), None)
    facts = []
    if disclosure is not None:
        facts = [(label, _fact(key, disclosure[key])) for key, label in DISCLOSURE_FACTS if disclosure.get(key) is not None]
    context = {
        "document": document,
        "display_time": display_time,
        "web_link": web_link,
        "status_label": lambda code: labels.label("status_classes", code),
        "doc_type_label": labels.label("doc_types", document["doc_type"]),
        "paragraphs": document["body_text"].split("\n"),
        "categories": json.loads(document["categories"] or "[]"),
        "rules": json.loads(document["boilerplate_rules"] or "[]"),
        "disclosure": disclosure,
        "facts": facts,
        "parsed_completion": parsed_completion(disclosure),
        "problems": problems,
        "copies": copies,
        "canonical": canonical if canonical and canonical["document_id"] != document_id else None,
        "changes": _changes(document, versions),
        "citation": citation(document, date.today()),
        "record_queries": await _record_queries(datasette, database, request, document_id),
        "has_warc": bool(document["warc_file"] and document["warc_record_id"] and database.path),
        "has_warc_dir": bool(database.path),
        "attachments": attachments,
        "database_name": database.name,
    }
    return Response.html(await datasette.render_template("document.html", context, request=request))


async def warc_record(datasette, request):
    """The raw response the record was parsed from, as a one-record WARC file."""
    from ..db import warc_dir_for
    from captures import record_bytes

    document_id = request.url_vars["document_id"]
    database = await archive_database(datasette)
    row = (await database.execute("select warc_file, warc_record_id from documents where id = ?", [document_id])).first()
    if row is None or not row["warc_file"] or not database.path:
        raise NotFound(f"no WARC record for {document_id}")
    body = await asyncio.to_thread(record_bytes, warc_dir_for(database.path), row["warc_file"], row["warc_record_id"])
    if body is None:
        raise NotFound(f"the WARC record of {document_id} is not in the WARC folder")
    suffix = ".warc.gz" if row["warc_file"].endswith(".gz") else ".warc"
    return Response(
        body,
        content_type="application/warc",
        headers={"content-disposition": f'attachment; filename="{document_id}{suffix}"'},
    )


async def attachment_file(datasette, request):
    """An attachment's raw bytes, as the server sent them, from its WARC record."""
    from ..db import warc_dir_for
    from captures import record_payload

    document_id, attachment_id = request.url_vars["document_id"], request.url_vars["attachment_id"]
    database = await archive_database(datasette)
    row = (await database.execute(
        "select name, url, content_type, warc_file, warc_record_id from attachments where id = ? and document_id = ?",
        [attachment_id, document_id],
    )).first()
    if row is None or not row["warc_file"] or not database.path:
        raise NotFound(f"no stored attachment {attachment_id} of {document_id}")
    body = await asyncio.to_thread(record_payload, warc_dir_for(database.path), row["warc_file"], row["warc_record_id"])
    if body is None:
        raise NotFound(f"the WARC record of attachment {attachment_id} is not in the WARC folder")
    filename = urlsplit(row["url"]).path.rsplit("/", 1)[-1] or attachment_id
    return Response(
        body,
        content_type="application/octet-stream",  # never rendered by the browser: it is scraped
        headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


ROUTES = [
    (rf"^/-/document/{ROUTES_ID}$", record_page),
    (rf"^/-/document/{ROUTES_ID}/warc$", warc_record),
    (rf"^/-/document/{ROUTES_ID}/attachment/(?P<attachment_id>[0-9a-f]{{16}})$", attachment_file),
]
