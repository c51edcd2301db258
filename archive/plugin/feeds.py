"""Atom feeds: any query or table whose rows have ``atom_id``, ``atom_title`` and
``atom_updated`` columns is also served as ``.atom``.

The canned query ``new_disclosures`` is the journalist's feed: new reports as
the archive finds them, filtered by a phrase or a level, so a subscription
follows one question.  The columns follow datasette-atom's convention
(optional ``atom_content``, ``atom_published`` — the entry's publication date —, ``atom_link`` — a path such as ``/-/document/<id>``
is made absolute on the served base URL —, ``atom_author_name``), but a feed
with no entry yet is valid here (datasette-atom 0.9 answers 500 to it, and a
subscription to a phrase nobody has published yet is the common case).
Entry content is plain text: scraped text never goes out as HTML.
"""

from datetime import datetime, timezone

from datasette import Response
from feedgen.feed import FeedGenerator


REQUIRED_COLUMNS = {"atom_id", "atom_title", "atom_updated"}
_NOT_FILTERS = ("_", "sql")


def feed_time(value: str) -> str:
    """A publication time for Atom, which needs a zone: a bare day (``2021-10-27``) is midnight in Beijing."""
    return f"{value}T00:00:00+08:00" if len(value) == 10 else value


def can_render(columns) -> bool:
    return REQUIRED_COLUMNS.issubset(columns)


def _title(datasette, request, database, table, query_name) -> str:
    queries = (datasette.metadata(database=database) or {}).get("queries", {})
    title = (queries.get(query_name) or {}).get("title") if query_name else None
    title = title or table or "query"
    filters = [f"{key} = {value}" for key in request.args if (value := request.args.get(key)) and not key.startswith(_NOT_FILTERS)]
    return f"{title} — {', '.join(filters)}" if filters else title


def render(datasette, request, database, table, query_name, columns, rows):
    feed = FeedGenerator()
    feed.id(request.url)
    feed.title(_title(datasette, request, database, table, query_name))
    feed.link(href=request.url, rel="self")
    feed.updated(max((row["atom_updated"] for row in rows), default=None) or datetime.now(timezone.utc))
    for row in rows:
        entry = feed.add_entry(order="append")
        entry.id(str(row["atom_id"]))
        entry.title(str(row["atom_title"]))
        entry.updated(row["atom_updated"])
        if "atom_published" in columns and row["atom_published"]:
            entry.published(feed_time(row["atom_published"]))
        if "atom_content" in columns and row["atom_content"]:
            entry.content(row["atom_content"], type="text")
        if "atom_link" in columns and row["atom_link"]:
            link = row["atom_link"]
            entry.link(href=datasette.absolute_url(request, datasette.urls.path(link)) if link.startswith("/") else link)
        if "atom_author_name" in columns and row["atom_author_name"]:
            entry.author({"name": row["atom_author_name"]})
    return Response(feed.atom_str(pretty=True), content_type="application/atom+xml; charset=utf-8")


RENDERER = {"extension": "atom", "render": render, "can_render": can_render}
