"""Bounds on the SQL the served archive runs, so no request stalls the site.

Datasette stops a statement after ``sql_time_limit_ms`` with a progress
handler, but the handler only runs between steps of SQLite's virtual machine:
one C call that runs long or allocates much is never stopped by it.  So, on
every connection Datasette opens (``prepare_connection``):

* **No string or blob over** :data:`SQL_LENGTH_LIMIT` (``SQLITE_LIMIT_LENGTH``):
  ``zeroblob``, ``randomblob``, ``replace``, ``group_concat``, ``printf``…
  fail at once with "string or blob too big".  ``archive serve`` raises it
  when the archive holds a longer stored value (:func:`length_limit_for`),
  so no real document is ever refused.
* **printf/format widths and precisions** over that limit are refused before
  formatting: SQLite's ``%.*c`` repeats its character ``precision`` times
  even after its result grew too big (``printf('%.*c', 2147483647, 'x')``
  is 4 s of CPU in one call).  Valid ones are formatted by SQLite itself.
* **Functions no reader needs are denied** (:data:`DENIED_FUNCTIONS`, by an
  authorizer): ``fts3_tokenizer`` hands out a C pointer, ``load_extension``.
* **SQLite's heap is capped** at :data:`HEAP_LIMIT_BYTES` for the process
  (``PRAGMA hard_heap_limit``): a statement that needs more fails "out of
  memory" (a 400 answer, :mod:`.errors`) and the server goes on.

And per client, **at most** :data:`AD_HOC_PER_CLIENT` **ad-hoc SQL requests at
once** (``?sql=``, and searches' counts, ``/-/count``), and at most :data:`AD_HOC_TOTAL` from everyone, so one
SQL thread always remains for the pages (``num_sql_threads``,
:data:`SQL_THREADS`); more are answered 429 at once.  The dashboard's own chart
queries are not counted: its page asks for all its charts at once, and their SQL
is the metadata's, not a visitor's (:func:`_published_queries`).  ``archive serve
--no-sql`` turns ad-hoc SQL off (canned queries stay).  An error answer
costs no more than the error: Datasette's rich tracebacks are off
(:mod:`.errors`), and a failed statement's cursors are closed at once
(:func:`_close_cursors`).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import Counter
from contextlib import contextmanager
from urllib.parse import parse_qs

import datasette.database
from datasette import hookimpl
from datasette.utils import sqlite_timelimit

from .database import PLUGIN_NAME



@contextmanager
def _time_limit_closing_cursors(conn: sqlite3.Connection, ms: int):
    """Datasette's time limit, and a failed statement's cursors closed (:func:`_close_cursors`)."""
    with sqlite_timelimit(conn, ms):
        try:
            yield
        except BaseException as error:
            _close_cursors(conn, error.__traceback__)
            raise


def _close_cursors(conn: sqlite3.Connection, traceback) -> None:
    """Close the cursors of ``conn`` that a failed statement's traceback holds, here, in the
    thread that owns ``conn``.  Otherwise the garbage collector frees them later, in whatever
    thread it runs, and a cursor's ``sqlite3_reset`` waits for the connection's mutex while
    its thread runs another statement: the whole process (GIL held) stalled for the rest of
    that statement, up to the 3 s limit."""
    while traceback is not None:
        for value in list(traceback.tb_frame.f_locals.values()):
            if isinstance(value, sqlite3.Cursor) and value.connection is conn:
                value.close()
        traceback = traceback.tb_next


# Database.execute enters this name around every statement Datasette runs.
datasette.database.sqlite_timelimit = _time_limit_closing_cursors

# The largest stored text comes from a page under the 10 MB cap: at most ~15 MB
# of UTF-8 (GBK decodes to 1.5 times its bytes), ~20 MB as search index form.
SQL_LENGTH_LIMIT = 32 * 2**20
HEAP_LIMIT_BYTES = 512 * 2**20
DENIED_FUNCTIONS = frozenset({"fts3_tokenizer", "load_extension"})
SQL_THREADS = 4
AD_HOC_PER_CLIENT = 2
AD_HOC_TOTAL = SQL_THREADS - 1
RETRY_AFTER_S = 2
# A conversion of printf/format: flags, width, precision (digits or * from the arguments), type.
_CONVERSION = re.compile(r"%[-+ #!0,]*(\*|\d+)?(?:\.(\*|\d+))?([a-zA-Z%])?")


def length_limit_for(longest_stored: int) -> int:
    """The SQL length limit for an archive whose longest stored value has this many bytes:
    never below :data:`SQL_LENGTH_LIMIT`, and twice that value's size (its index form) above it."""
    return max(SQL_LENGTH_LIMIT, 2 * longest_stored + 1024)


def _length_limit(datasette) -> int:
    return int((datasette.plugin_config(PLUGIN_NAME) or {}).get("sql_length_limit") or SQL_LENGTH_LIMIT)


def _deny_functions(action, arg1, arg2, database, source):
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _as_int(value) -> int:
    """An argument as SQLite reads a width from it (a number, or text starting with one)."""
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return 0


class _Formatter:
    """``printf``/``format`` with every width and precision checked, formatted by SQLite."""

    def __init__(self, limit: int):
        self.limit = limit
        self.local = threading.local()

    def _sqlite(self) -> sqlite3.Connection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = sqlite3.connect(":memory:", check_same_thread=False)
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, self.limit)
        return conn

    def _check(self, fmt, args) -> None:
        if not isinstance(fmt, str):
            return
        position = 0
        for match in _CONVERSION.finditer(fmt):
            for size in match.group(1, 2):
                if size == "*":
                    value = args[position] if position < len(args) else 0
                    position += 1
                    size = _as_int(value)
                if size is not None and abs(int(size)) > self.limit:
                    raise OverflowError  # SQLite answers "string or blob too big", as for any value over the limit
            if match.group(3) and match.group(3) != "%":
                position += 1

    def __call__(self, fmt=None, *args):
        self._check(fmt, args)
        marks = ", ".join("?" * (1 + len(args)))
        return self._sqlite().execute(f"select printf({marks})", [fmt, *args]).fetchone()[0]


@hookimpl
def prepare_connection(conn, datasette):
    limit = _length_limit(datasette)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limit)
    conn.set_authorizer(_deny_functions)
    formatter = _Formatter(limit)
    for name in ("printf", "format"):
        conn.create_function(name, -1, formatter, deterministic=True)
    conn.execute(f"pragma hard_heap_limit = {HEAP_LIMIT_BYTES}")


def _published_queries(datasette) -> frozenset[str]:
    """The SQL of the dashboards' charts (datasette-dashboards fetches each as ``?sql=``
    with the chart's query from the metadata, its filters as named parameters)."""
    dashboards = datasette.plugin_config("datasette-dashboards") or {}
    return frozenset(
        chart["query"] for dashboard in dashboards.values() for chart in dashboard.get("charts", {}).values()
        if "query" in chart
    )


def _ad_hoc_sql(scope) -> str | None:
    """The ``?sql=`` of a request, None when it has none.  A search's count
    (``/-/count``, a whole pass over the index) is bounded as one too."""
    if scope["type"] != "http":
        return None
    if scope.get("path", "").endswith("/-/count"):
        return "/-/count"
    if b"sql=" not in scope.get("query_string", b""):
        return None
    values = parse_qs(scope["query_string"].decode("utf-8", "replace")).get("sql")
    return values[0] if values else None


async def _too_many(send) -> None:
    body = b"Too many SQL queries at once from this address; try again in a moment.\n"
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", str(RETRY_AFTER_S).encode()),
        (b"content-length", str(len(body)).encode()),
    ]})
    await send({"type": "http.response.body", "body": body})


def with_sql_concurrency(app, published: frozenset[str] = frozenset()):
    running: Counter[str] = Counter()

    async def bounded(scope, receive, send):
        sql = _ad_hoc_sql(scope)
        if sql is None or sql in published:
            await app(scope, receive, send)
            return
        client = (scope.get("client") or ("?",))[0]
        if running[client] >= AD_HOC_PER_CLIENT or sum(running.values()) >= AD_HOC_TOTAL:
            await _too_many(send)
            return
        running[client] += 1
        try:
            await app(scope, receive, send)
        finally:
            running[client] -= 1
            if not running[client]:
                del running[client]

    return bounded


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: with_sql_concurrency(app, _published_queries(datasette))
