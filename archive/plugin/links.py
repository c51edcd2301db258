"""Titles link to the record page everywhere: tables, views and canned-query results.

A result links a ``title`` to the record page when its row says which
document it is (``documents.id``, or a ``document_id`` column — canned
queries select one for this); ``canonical_title`` links to the canonical
record.  A problem's title opens the record at that problem.
"""

from markupsafe import Markup

from .database import document_path

_TITLED_TABLES = ("problems", "versions")  # their document_id cell shows the document's title


def _link(href: str, label) -> Markup:
    return Markup('<a href="{}">{}</a>').format(href, label)


def _plain(cell):
    """A foreign-key cell arrives expanded as {"value": …, "label": …}."""
    return cell["value"] if isinstance(cell, dict) else cell


def _anchor(table, row) -> str:
    if table == "problems":
        # A search result shows a few columns, not position; the id ends in it (<document id>-007).
        position = _plain(row["position"]) if "position" in row.keys() else int(str(_plain(row["id"])).rsplit("-", 1)[1])
        return f"#problem-{position}"
    if table == "versions":
        return "#versions"
    return ""


def render_cell(value, column, table, database, row, datasette):
    keys = row.keys()
    if column == "title" and value:
        if table == "documents":
            document_id = _plain(row["id"])
        elif "document_id" in keys:
            document_id = _plain(row["document_id"])
        else:
            return None
        return _link(document_path(datasette, document_id) + _anchor(table, row), value) if document_id else None
    if column == "canonical_title" and value and "canonical_id" in keys:
        return _link(document_path(datasette, row["canonical_id"]), value)
    if column == "document_id" and value:
        document_id = _plain(value)
        if table not in _TITLED_TABLES:
            return _link(document_path(datasette, document_id), document_id)

        async def titled_link():
            db = datasette.get_database(database)
            found = (await db.execute("select title from documents where id = ?", [document_id])).first()
            return _link(document_path(datasette, document_id), (found and found["title"]) or document_id)

        return titled_link
    return None
