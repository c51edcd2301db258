"""Error pages in the site's layout: 404 for any path nothing serves, quickly, with the navigation.

Datasette 0.65's own handler prints the exception with ``rich`` (every local
variable of every frame: ~120 KB of log for one 500, ~0.4 s for a 404) and, for
a path no route matches, fails in doing so (``rich`` must be called inside an
``except`` block), so unknown paths answered 500 in plain text.  This handler
runs first (and Datasette's stops using ``rich``): a 4xx answers with the site's page (navigation, a search box, links
home); a 500 logs a plain traceback and answers with the same page.
"""

from __future__ import annotations

import logging
import traceback

import datasette.handle_exception as datasette_handler
from datasette import Response, hookimpl
from datasette.utils.asgi import Base400
from datasette.views.base import DatasetteError

from .limits import HEAP_LIMIT_BYTES

log = logging.getLogger("zhenggai.errors")
# Datasette awaits every handler, its own too, even when this one answered: without rich
# it no longer dumps every frame's locals nor fails on a 404 (its page is not used).
datasette_handler.rich = None


def _status_and_message(exception) -> tuple[int, str]:
    if isinstance(exception, Base400):
        return exception.status, str(exception.args[0]) if exception.args else "Not found"
    if isinstance(exception, DatasetteError):
        return exception.status, str(exception.message)
    if isinstance(exception, MemoryError):  # SQLite's heap limit (limits.py): the statement's fault
        return 400, f"out of memory: the statement needs more than the {HEAP_LIMIT_BYTES // 2**20} MiB SQLite may use"
    return 500, "The archive could not answer this request; the error is logged."


@hookimpl(tryfirst=True)
def handle_exception(datasette, request, exception):
    async def page():
        status, message = _status_and_message(exception)
        if status >= 500:
            log.error("%s %s\n%s", request.method, request.path,
                      "".join(traceback.format_exception(type(exception), exception, exception.__traceback__)))
        if request.path.endswith(".json"):
            return Response.json({"ok": False, "error": message, "status": status}, status=status)
        context = {"status": status, "message": message, "path": request.path}
        return Response.html(await datasette.render_template("archive_error.html", context, request=request), status=status)

    return page
