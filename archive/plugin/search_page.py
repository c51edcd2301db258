"""Search in Datasette: the ``_search`` box of the documents and problems tables, and ``/-/search``.

Datasette's own search would send the typed words to the index as they are;
this plugin reads them with :func:`archive.search_index.parse` (folded like the
index, every input a valid query or a plain message) and plans how to run
them, so a page never waits on work it does not show:

1. A *probe* asks the index for the first ``PROBE_LIMIT + 1`` matching rows
   in index order.  A search matching at most ``PROBE_LIMIT`` rows is then
   known completely: page, count and facets run over that list of rows.
2. A broader search is *dense* when its matches are at least
   ``DENSE_SHARE`` of the rows the probe went through (``WALK_SHARE`` when every
   term must occur), from the first rows and from the last.  Then the page walks the table in its sort order and checks
   each row it reads — its texts against the terms (``zh_holds``), or, for OR and
   NOT, by asking the index about it — so the page is full after a few dozen or
   hundred rows, however many match.  Otherwise (or when facets are asked for)
   the index's whole match list is read once and the search is listed from it:
   the page scans the sort column's index for the first listed rows instead of
   reading and sorting every match (新华社 at 20k: 0.5 ms instead of 10).
3. Every search is counted exactly — texts, with the pages beside them when
   copies make more: a listed search from its list
   (:func:`archive.search_index.count_texts`), a dense one in the index
   (:func:`archive.search_index.count_matches`: ``count(*)`` reads no row).
   A dense count gets ``COUNT_BUDGET_MS``: a phrase of common characters that
   most rows hold (巡视整改: every position of four long lists, ~220 ms at 100k
   documents) is not waited for, nor started when the probe foresees that it cannot
   fit its budget (``PHRASE_MS_PER_MATCH``, ``LIST_MS_PER_MATCH``).  The page is served at once, saying
   ``counting…`` with the address of its count (``/-/count``, counted there
   without the budget), and the page's script (``archive.js``) puts the exact
   count in its place; a JSON reader follows the address.  A dense count once made
   is kept while the index and the copies stand (:data:`_COUNTS`): the search's next
   pages state it at once.
   Facets of a search, on request (``_withfacets=1``), group the list of its
   matches, read once from the index, rather than each running the search again.
4. A term of ``search_index.LONG_PHRASE`` characters or more (a quotation), with
   no OR or NOT beside it, is found through the rarest windows of the terms
   and verified on the candidates' texts
   (:func:`archive.search_index.rarest_windows_rowids`).
5. The pair index (:data:`archive.search_index.PAIRS`) answers a search whose
   every term is two common characters (整改, 改整) by itself: exact, and with no
   position to check.  For other terms holding such pairs it is asked first for
   the rows holding them all; when those are at most ``PAIR_CANDIDATES``, their
   texts are compared with the terms (as for a quotation) and the search is listed from them.
   A shorter phrase (``search_index.SHORT_PHRASE`` characters or more) whose cheapest window
   the index finds for less than the phrase is answered so from the rows holding that window
   (:func:`archive.search_index.rare_window`), when they are at most ``PAIR_CANDIDATES``.

The plan is made once per request by an ASGI wrapper (which also turns off
Datasette's own count and facets when they would be expensive) and read by the
``filters_from_request`` hook, which gives Datasette the WHERE clause.  Result
cells of the text columns show a snippet with the hits highlighted.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import numpy as np
from datasette import NotFound, Response, hookimpl
from datasette.filters import FilterArguments
from datasette.utils import tilde_decode
from markupsafe import Markup, escape

from .. import search_index
from .database import archive_database

# How many rows a search may match and still be listed in full (a tuning knob, and small in tests).
PROBE_LIMIT = int(os.environ.get("ZHENGGAI_SEARCH_PROBE_LIMIT", "1000"))
# How many rows holding a search's pairs are verified on their texts instead of asking the
# per-character index (step 5): reading and comparing 200 texts of ~3,000 characters takes a few ms.
PAIR_CANDIDATES = 200
PROBE_TIME_LIMIT_MS = 2000
# How long a page waits for a dense search's count before it is served with the
# count to follow (step 3), and how long /-/count may take.
COUNT_BUDGET_MS = int(os.environ.get("ZHENGGAI_SEARCH_COUNT_BUDGET_MS", "20"))
COUNT_TIME_LIMIT_MS = 30_000
# The least time a dense count can take, foreseen from the number of matches the probe
# found: a count that cannot fit its budget is not started (the budget would be spent for
# nothing).  A phrase's count reads every match's positions, no less than PHRASE_MS_PER_MATCH
# a match (100,000 documents: 新华社 and 财经APP 0.5 µs, 党组织 0.56, 整改台账 0.83, 巡视整改
# 2.0); a single character's or a pair's reads only the index's lists of rows,
# LIST_MS_PER_MATCH a match (的: 3 ms at 100,000 documents, 37 at 1,000,000).  Counted, not
# timed: the probe's own time is mostly a statement's fixed cost, and noise on a busy server.
PHRASE_MS_PER_MATCH = 0.45e-3
LIST_MS_PER_MATCH = 25e-6
# What a page says in place of a count on its way; archive.js finds it, with the address after it.
COUNTING = "counting… exact count:"
# The least share of matching rows at which a page walks the table in its sort order: checking
# a row's texts takes ~50 µs (a 3,000-character text), asking the index about it 0.1–2 ms.
DENSE_SHARE = 0.25
WALK_SHARE = 0.1
RESULTS_PER_TABLE = 20  # on /-/search
RESULTS_PER_PAGE = 20  # a page of a table's search results (HTML or JSON), unless _size says otherwise
SCOPE_KEY = "zhenggai.search_plan"
# Which column a table's result cells show as a snippet.
SNIPPET_COLUMNS = {"documents": "body_text", "problems": "text"}
# The columns a search results page shows unless the reader chooses (a page of
# every column is slow to render and hard to read); the JSON API keeps them all.
RESULT_COLUMNS = {
    "documents": ("title", "published_at", "publisher", "source", "author", "editor", "doc_type", "body_text"),
    "problems": ("document_id", "number", "title", "status", "text"),
}
_TABLE_PATH = re.compile(r"^/(?P<database>[^/]+)/(?P<table>[^/.]+)(?:\.(?P<format>\w+))?$")
_current_plan: contextvars.ContextVar[SearchPlan | None] = contextvars.ContextVar("zhenggai_search_plan", default=None)


@dataclass
class SearchPlan:
    query: search_index.SearchQuery
    table: str
    fts: str = ""  # the index the page asks: the per-character one, or the pair index (step 5)
    match: str | None = None  # the expression it is asked
    rowids: list[int] | None = None  # every matching row, when there are at most PROBE_LIMIT (or facets are asked for)
    # When most rows match: the rowids between the table's first and last that do not (a shorter list).
    unmatched: list[int] | None = None
    count: int | None = None  # pages (rows) matching: always exact
    texts: int | None = None  # texts matching: a text and its republished copies count once
    counting: bool = False  # the count was not waited for: /-/count gives it (step 3)
    dense: bool = False
    correlated: bool = False  # the page walks the table in its sort order, checking each row (see the docstring)
    message: str | None = None  # why nothing was searched, in plain words
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.rowids is not None

    @property
    def counted_here(self) -> bool:
        """The plan's count is the page's: Datasette would count a broad search again."""
        return self.rowids is None or len(self.rowids) > PROBE_LIMIT

    def where(self, alias: str) -> tuple[str, dict]:
        """The WHERE clause selecting the matching rows of ``alias`` (the table or its alias)."""
        fts = self.fts
        if self.unmatched == []:
            return "1", {}  # every row matches: facets group the table as a whole (half the time of a filter)
        if self.unmatched is not None:
            # A search most rows match (its facets): the few rows that do not are left out.
            return f"+{alias}.rowid not in (select value from json_each(:zh_rowids))", {"zh_rowids": json.dumps(self.unmatched)}
        if self.rowids is not None:
            # A long list (a broad search's facets) is a filter on a scan of the facet
            # column's index (the unary + keeps SQLite from reading each listed row
            # instead: 3.2 s → 0.6 s for five facets of 17,000 matches).
            listed = f"+{alias}.rowid" if len(self.rowids) > PROBE_LIMIT else f"{alias}.rowid"
            return f"{listed} in (select value from json_each(:zh_rowids))", {"zh_rowids": json.dumps(self.rowids)}
        if self.correlated and _all_required(self.query):
            return f"zh_holds(:zh_terms, {search_index.texts_of(self.table, alias + '.')})", {"zh_terms": json.dumps(self.query.terms, ensure_ascii=False)}
        if self.correlated:
            return (
                f"exists (select 1 from {fts} where {fts} match :zh_match and {fts}.rowid = {alias}.rowid)",
                {"zh_match": self.match},
            )
        return f"{alias}.rowid in (select rowid from {fts} where {fts} match :zh_match)", {"zh_match": self.match}

    def counted(self) -> str:
        """The exact count, in words: texts, and pages when copies make them more."""
        said = f"{self.texts:,} {'text' if self.texts == 1 else 'texts'}"
        return said + (f" in {self.count:,} pages" if self.count != self.texts else "")

    def description(self, count_url: str) -> str:
        """What the page says of the search, with its exact count (JSON has no other
        count when Datasette's own is off for a broad search), or where the count is
        when it was not waited for (``count_url``)."""
        said = f'search matches "{self.query.text.strip()}"'
        if self.message:
            return f"{said}: {self.message}"
        extra = [f"{COUNTING} {count_url}" if self.counting else self.counted(), *self.notes]
        return f"{said} ({'; '.join(extra)})"


def _all_required(query: search_index.SearchQuery) -> bool:
    """Every term must occur (no OR, no NOT): a row is checked on its texts alone."""
    return not query.alternatives and not query.excluded


def _reads_positions(plan: SearchPlan) -> bool:
    """The plan asks the per-character index for a phrase (two characters or more): each
    match's positions are read, not only the index's lists of rows."""
    terms = plan.query.terms + plan.query.excluded
    return plan.fts == search_index.INDEXES[plan.table].fts and any(len(search_index.comparable(t)) > 1 for t in terms)


def _long_phrase(query: search_index.SearchQuery) -> bool:
    """Terms that must all occur, one long enough to be found by its rarest windows
    (:func:`archive.search_index.rarest_windows_rowids`)."""
    return _all_required(query) and any(len(search_index.comparable(term)) >= search_index.LONG_PHRASE for term in query.terms)


# (database file, schema version, table) → (its index is ready, its pair index is this version's)
_READY: dict[tuple[str, int, str], tuple[bool, bool]] = {}  # (an in-memory database: its connection)


def indexes_ready(conn: sqlite3.Connection, table: str) -> tuple[bool, bool]:
    """Whether ``table`` has its per-character index, and a pair index of this
    version's characters (an archive indexed by an earlier version has none, or one
    of other characters).  Kept per schema version: comparing the definitions
    takes ~1 ms, a search's whole time when it is rare."""
    path = search_index.database_file(conn)
    key = (path or f"memory {id(conn)}", conn.execute("pragma schema_version").fetchone()[0], table)
    if key not in _READY:
        index = search_index.INDEXES[table]
        names = {row[0] for row in conn.execute("select name from sqlite_master where name in (?, ?)", [index.view, index.fts])}
        _READY[key] = (names == {index.view, index.fts}, search_index.definition_matches(conn, search_index.PAIRS[table]))
    return _READY[key]


def indexed_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    columns = {"rowid"}
    for index in conn.execute(f"pragma index_list([{table}])").fetchall():
        first = conn.execute(f"pragma index_info([{index[1]}])").fetchone()
        if first:
            columns.add(first[2])
    return columns


def make_plan(conn: sqlite3.Connection, table: str, query: search_index.SearchQuery, facets: bool = False,
              count_budget_ms: int | None = COUNT_BUDGET_MS) -> SearchPlan:
    """Probe the index (see the module's docstring); runs on a Datasette connection.
    A dense search's count gets ``count_budget_ms`` (None: up to ``COUNT_TIME_LIMIT_MS``)."""
    plan = SearchPlan(query=query, table=table, notes=list(query.notes))
    if query.match is None:
        plan.rowids, plan.count, plan.texts = [], 0, 0
        plan.message = "nothing to search for: type a word, a name or a phrase"
        return plan
    index_ready, pairs_ready = indexes_ready(conn, table)
    if not index_ready:
        plan.rowids, plan.count, plan.texts = [], 0, 0
        plan.message = ("this archive's search index was made by an older version; "
                        "run `python -m archive reindex` to search it")
        return plan
    pairs = search_index.PAIRS[table]
    plan.fts, plan.match = search_index.INDEXES[table].fts, query.match
    if pairs_ready and query.pair_match is not None:
        plan.fts, plan.match = pairs.fts, query.pair_match
    fts, match = plan.fts, plan.match
    count_in_index = False
    least_count_ms = 0.0
    try:
        with _time_limit(conn, PROBE_TIME_LIMIT_MS):
            if _long_phrase(query):
                matched = search_index.rarest_windows_rowids(conn, table, query.terms)
                found = matched[: PROBE_LIMIT + 1]
            elif (pairs_ready and fts != pairs.fts and (candidates := _pair_candidates(conn, pairs, query)) is not None
                  or (candidates := _window_candidates(conn, table, query)) is not None):
                matched = found = search_index.verified_on_texts(conn, table, query.terms, candidates)
            else:
                found = matched = [row[0] for row in conn.execute(
                    f"select rowid from {fts} where {fts} match ? limit ?", [match, PROBE_LIMIT + 1]
                )]
                if len(found) > PROBE_LIMIT:
                    # Dense at both ends of the table (the oldest rows and the newest): a term
                    # frequent only in old texts is not walked from the newest page through
                    # thousands of rows that do not hold it.
                    first, last = conn.execute(
                        f"select (select min(rowid) from [{table}]), (select max(rowid) from [{table}])").fetchone()
                    newest = [row[0] for row in conn.execute(
                        f"select rowid from {fts} where {fts} match ? order by rowid desc limit ?", [match, PROBE_LIMIT + 1])]
                    dense_share = WALK_SHARE if _all_required(query) else DENSE_SHARE
                    plan.dense = min(len(found) / max(found[-1] - first + 1, 1),
                                     len(newest) / max(last - newest[-1] + 1, 1)) >= dense_share
                    count_in_index = plan.dense and not facets  # no list of rowids needed
                    probed = len(found) + len(newest)
                    matches = probed / max(found[-1] - first + 1 + last - newest[-1] + 1, 1) * (last - first + 1)
                    least_count_ms = matches * (PHRASE_MS_PER_MATCH if _reads_positions(plan) else LIST_MS_PER_MATCH)
                    if not count_in_index:
                        matched = search_index.matching_array(conn, table, match, fts)
    except sqlite3.OperationalError as exc:
        if "interrupted" not in str(exc):
            raise
        plan.rowids, plan.count, plan.texts = [], 0, 0
        plan.message = "this search takes too long here; add a word or a longer phrase"
        return plan
    if count_in_index:  # dense, no facets: the page walks the table
        return _count_in_index(conn, plan, count_budget_ms, least_count_ms)
    # Listed in full (facets group this list of rows, read once, instead of running the search again each).
    plan.count, plan.texts = len(matched), search_index.count_texts(conn, table, matched)
    plan.rowids = matched.tolist() if isinstance(matched, np.ndarray) else matched
    if len(matched) > PROBE_LIMIT:
        first, last = conn.execute(f"select (select min(rowid) from [{table}]), (select max(rowid) from [{table}])").fetchone()
        if last - first + 1 - len(matched) < len(matched):  # rowids that are no row's do no harm in the list
            plan.unmatched = np.setdiff1d(np.arange(first, last + 1, dtype=np.int64), matched, assume_unique=True).tolist()
    return plan


# Dense counts made, by (archive file, table, index, expression) → (the index's state when
# counted, (texts, pages)): a broad search paged through or asked again is counted once while
# the index and the copies stand (search_index.index_state), not at every page — at 1 M
# documents a broad phrase's count is seconds of CPU.  (0 keeps none: the search bench
# measures every count as made afresh.)
KEPT_COUNTS = int(os.environ.get("ZHENGGAI_SEARCH_KEPT_COUNTS", "256"))
_COUNTS_LOCK = threading.Lock()
_COUNTS: OrderedDict[tuple[str, str, str, str], tuple[tuple[bytes, int], tuple[int, int]]] = OrderedDict()


@contextlib.contextmanager
def _time_limit(conn: sqlite3.Connection, ms: int):
    """Stop the connection's statements after ``ms`` (the probe's limit and a count's budget).
    (Datasette's ``sqlite_timelimit`` checks the time after every virtual machine step for
    20 ms or less, which makes a count several times slower than its budget.)"""
    deadline = time.perf_counter() + ms / 1000
    conn.set_progress_handler(lambda: time.perf_counter() >= deadline, 1000)
    try:
        yield
    finally:
        conn.set_progress_handler(None, 1000)


def _count_in_index(conn: sqlite3.Connection, plan: SearchPlan, budget_ms: int | None,
                    least_ms: float = 0.0) -> SearchPlan:
    """Count a dense search in the index within ``budget_ms``, or mark it ``counting``:
    at once for a budget of 0 (every dense count follows the page) or when the count
    takes at least ``least_ms`` (foreseen from the probe), more than the budget.
    A count made before, while the index and the copies stand, is stated at once (:data:`_COUNTS`)."""
    key = (search_index.database_file(conn), plan.table, plan.fts, plan.match)
    state = search_index.index_state(conn, plan.table, plan.fts)  # first: a count made after it is never older
    keepable = bool(key[0]) and state is not None  # an archive in memory, or one without copies_version: not kept
    with _COUNTS_LOCK:
        kept = _COUNTS.get(key) if keepable else None
        if kept is not None and kept[0] == state:
            _COUNTS.move_to_end(key)
            plan.texts, plan.count = kept[1]
            return plan
    if budget_ms is not None and (budget_ms <= 0 or least_ms > budget_ms):
        plan.counting = True
        return plan
    try:
        with _time_limit(conn, COUNT_TIME_LIMIT_MS if budget_ms is None else budget_ms):
            plan.texts, plan.count = search_index.count_matches(conn, plan.table, plan.match, plan.fts)
        if keepable:
            with _COUNTS_LOCK:
                _COUNTS[key] = (state, (plan.texts, plan.count))
                while len(_COUNTS) > KEPT_COUNTS:
                    _COUNTS.popitem(last=False)
    except sqlite3.OperationalError as exc:
        if "interrupted" not in str(exc):
            raise
        if budget_ms is not None:
            plan.counting = True
        else:
            plan.message = "this search takes too long to count here; add a word or a longer phrase"
    return plan


def count_path(datasette, table: str, text: str) -> str:
    """Where a search's exact count is answered (``/-/count``)."""
    return datasette.urls.path("/-/count?" + urlencode({"table": table, "q": text}))


def _pair_candidates(conn: sqlite3.Connection, pairs: search_index.SearchIndex,
                     query: search_index.SearchQuery) -> list[int] | None:
    """The rows holding every pair of the search's terms, when the pair index has
    such pairs and at most ``PAIR_CANDIDATES`` rows hold them all (else None)."""
    expression = search_index.pair_candidates(query)
    return None if expression is None else _few_rows(conn, pairs.fts, expression)


def _few_rows(conn: sqlite3.Connection, fts: str, expression: str) -> list[int] | None:
    """The rows of ``fts`` matching ``expression``, when at most ``PAIR_CANDIDATES`` (else None)."""
    rows = [row[0] for row in conn.execute(f"select rowid from {fts} where {fts} match ? limit ?", [expression, PAIR_CANDIDATES + 1])]
    return rows if len(rows) <= PAIR_CANDIDATES else None


def _window_candidates(conn: sqlite3.Connection, table: str, query: search_index.SearchQuery) -> list[int] | None:
    """The rows holding the cheapest window of a shorter phrase of the search
    (:func:`archive.search_index.rare_window`), when every term must occur and at most
    ``PAIR_CANDIDATES`` rows hold it (else None: reading so many is bounded by the limit)."""
    window = search_index.rare_window(conn, table, query.terms) if _all_required(query) else None
    return None if window is None else _few_rows(conn, search_index.INDEXES[table].fts, window)


async def plan_search(database, table: str, text: str, sort: str | None = None, facets: bool = False) -> SearchPlan:
    """Plan a search of ``table`` sorted by ``sort`` (None: the table's default order)."""
    query = search_index.parse(text)

    def planned(conn):
        plan = make_plan(conn, table, query, facets)
        plan.correlated = plan.dense and not facets and (sort is None or sort in indexed_columns(conn, table))
        return plan

    return await database.execute_fn(planned)


@hookimpl
def startup(datasette):
    async def sample_archive():
        """The archive's samples (how common characters and windows are) are taken in the
        background as Datasette starts: the first long phrase searched does not wait for them."""
        try:
            database = await archive_database(datasette)
        except NotFound:
            return
        if database.path is None:
            return
        for table in search_index.INDEXES:
            if await database.table_exists(table):
                search_index.sample_later(str(Path(database.path).resolve()), table)

    return sample_archive


def _sort_column(datasette, database: str, table: str, args: dict) -> str | None:
    metadata = datasette.table_metadata(database, table)
    return args.get("_sort") or args.get("_sort_desc") or metadata.get("sort") or metadata.get("sort_desc")


@hookimpl
def prepare_connection(conn):
    search_index.register_functions(conn)


# --- the table pages ----------------------------------------------------------


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def with_search_plan(scope, receive, send):
            if scope["type"] == "http":
                scope = await _planned(datasette, scope)
            plan = scope.get(SCOPE_KEY)
            token = _current_plan.set(plan)
            try:
                await app(scope, receive, _not_kept(send) if plan is not None and plan.counting else send)
            finally:
                _current_plan.reset(token)

        return with_search_plan

    return wrap


def _not_kept(send):
    """A page whose count is on its way is not kept (by the page cache, by a browser): asked
    again once counted, it states the count (:data:`_COUNTS`)."""
    async def send_not_kept(message):
        if message["type"] == "http.response.start":
            headers = [(name, value) for name, value in message.get("headers", []) if name.lower() != b"cache-control"]
            message = {**message, "headers": [*headers, (b"cache-control", b"no-store")]}
        await send(message)

    return send_not_kept


async def _planned(datasette, scope: dict) -> dict:
    path = _TABLE_PATH.match(scope.get("path", ""))
    if not path or path["table"] not in search_index.INDEXES:
        return scope
    pairs = parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True)
    args = dict(pairs)
    text = args.get("_search")
    if text is None or not text.strip():
        return scope
    try:
        database = datasette.get_database(tilde_decode(path["database"]))
    except KeyError:
        return scope
    table = path["table"]
    if not await database.table_exists(table):
        return scope
    sort = _sort_column(datasette, database.name, table, args)
    plan = await plan_search(database, table, text, sort=sort, facets="_withfacets" in args)
    if path["format"] is None and not {"_col", "_nocol"} & args.keys():
        columns = set(await database.table_columns(table))
        pairs += [("_col", column) for column in RESULT_COLUMNS[table] if column in columns]
    if "_size" not in args:
        pairs.append(("_size", str(RESULTS_PER_PAGE)))
    if plan.counted_here:
        pairs = [(k, v) for k, v in pairs if k != "_nocount"] + [("_nocount", "1")]
    if "_withfacets" not in args and not plan.message:
        # Each facet runs the search again over the whole table: on request only.
        pairs.append(("_nofacet", "1"))
        plan.notes.append("add &_withfacets=1 to count by facet")
    return {**scope, "query_string": urlencode(pairs).encode(), SCOPE_KEY: plan}


@hookimpl(trylast=True)
def filters_from_request(request, database, table, datasette):
    plan = request.scope.get(SCOPE_KEY)
    if plan is None or plan.table != table:
        # Show the search box; Datasette finds no FTS table of its own kind here.
        return FilterArguments([], extra_context={"supports_search": True}) if table in search_index.INDEXES else None
    where, params = plan.where(f"[{table}]")
    context = {"supports_search": True, "search": plan.query.text}
    if plan.counted_here:
        # The HTML page's heading (none while the count is on its way); Datasette counted nothing.
        context["filtered_table_rows_count"] = plan.count
    return FilterArguments(
        [where],
        params,
        human_descriptions=[plan.description(count_path(datasette, table, plan.query.text))],
        extra_context=context,
    )


@hookimpl
def render_cell(value, column, table):
    plan = _current_plan.get()
    if plan is None or plan.table != table or SNIPPET_COLUMNS.get(table) != column or not isinstance(value, str):
        return None
    return snippet(value, plan.query.terms) or None


# --- snippets ------------------------------------------------------------------

_IGNORABLE = r"[\s\u00ad\u200b-\u200f\u2060\ufeff]*"
SNIPPET_PIECE = 65536
SNIPPET_OVERLAP = 2 * search_index.MAX_QUERY_CHARACTERS


def _term_pattern(term: str) -> str | None:
    characters = [c for c in search_index.fold(term) if search_index.is_token_character(c)]
    return _IGNORABLE.join(re.escape(c) for c in characters) if characters else None


def _first_hit(pattern: re.Pattern, text: str) -> tuple[int, int] | None:
    """Where the first hit is; the text is folded a piece at a time, so a long
    document is read only up to its first hit."""
    for offset in range(0, len(text), SNIPPET_PIECE):
        base = max(offset - SNIPPET_OVERLAP, 0)  # a hit may start in one piece and end in the next
        hit = pattern.search(search_index.fold(text[base : offset + SNIPPET_PIECE]))
        if hit is not None:
            return base + hit.start(), base + hit.end()
    return None


def snippet(text: str, terms: list[str], before: int = 30, after: int = 90) -> Markup:
    """A window of ``text`` around its first hit, every hit in it marked; empty when nothing is found.

    Found in the folded text (same length as the text, so positions carry
    over) and shown in the text's own characters, escaped.
    """
    patterns = [p for p in map(_term_pattern, terms) if p]
    if not patterns or not text:
        return Markup("")
    pattern = re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    first = _first_hit(pattern, text)
    if first is None:
        return Markup("")
    first_start, first_end = first
    start = max(first_start - before, 0)
    end = min(first_end + after, len(text))
    folded = search_index.fold(text[start:end])
    pieces = [Markup("…") if start else Markup("")]
    position = start
    for hit in pattern.finditer(folded):
        if hit.start() == hit.end():
            continue
        pieces.append(escape(text[position : start + hit.start()]))
        pieces.append(Markup("<mark>{}</mark>").format(text[start + hit.start() : start + hit.end()]))
        position = start + hit.end()
    pieces.append(escape(text[position:end]))
    if end < len(text):
        pieces.append(Markup("…"))
    return Markup("").join(pieces)


def highlight(text: str, terms: list[str]) -> Markup:
    """The whole (short) ``text`` with every hit marked."""
    return snippet(text, terms, before=len(text), after=len(text)) or escape(text)


# --- /-/search: documents and problems at once --------------------------------

SEARCH_ROUTE = r"^/-/search$"
_SECTIONS = {
    "documents": """
        select d.id, d.title, d.published_at, d.publisher, d.source, d.author, d.editor, d.body_text,
               d.is_canonical, coalesce(d.canonical_id, d.id) as text_id, c.title as canonical_title, c.publisher as canonical_publisher
        from documents d left join documents c on c.id = d.canonical_id and d.canonical_id != d.id
        where {where} order by d.published_at desc limit :zh_limit""",
    "problems": """
        select p.id, p.document_id, p.number, p.title, p.status, p.text, p.is_canonical,
               d.title as document_title, d.published_at, d.publisher
        from problems p join documents d on d.id = p.document_id
        where {where} order by d.published_at desc, p.position limit :zh_limit""",
}
# How many problems (a copy's problems are its canonical report's) and pages match, NOT
# applied to their reports too.
_PROBLEM_COUNTS = "select sum(p.is_canonical) as texts, count(*) as pages from problems p join documents d on d.id = p.document_id where {where}"
# A problem is left out by NOT when its report mentions the word: its own text
# seldom names the place or unit a reader excludes (八项规定 NOT 河北).
_PROBLEMS_OF_EXCLUDED_REPORTS = (
    " and p.document_id not in (select x.id from documents x where x.rowid in"
    " (select rowid from documents_fts where documents_fts match :zh_excluded))"
)
_ALIASES = {"documents": "d", "problems": "p"}
_BYLINES = {"documents": ("publisher", "source", "author", "editor")}


async def _section(database, table: str, text: str) -> dict:
    plan = await plan_search(database, table, text, sort="published_at")
    rows, counts = [], None
    if not plan.message:
        where, params = plan.where(_ALIASES[table])
        if table == "problems" and plan.query.excluded:
            where += _PROBLEMS_OF_EXCLUDED_REPORTS
            params["zh_excluded"] = " OR ".join(search_index.phrase(term) for term in plan.query.excluded)
        result = await database.execute(_SECTIONS[table].format(where=where), {**params, "zh_limit": RESULTS_PER_TABLE})
        counts = None if plan.counting else {"texts": plan.texts, "pages": plan.count}
        if table == "problems" and plan.query.excluded:  # the plan knows nothing of the reports' words
            counts = dict((await database.execute(_PROBLEM_COUNTS.format(where=where), params)).first())
            counts["texts"] = counts["texts"] or 0
        terms = plan.query.terms
        for row in result.rows:
            row = dict(row)
            text_column = SNIPPET_COLUMNS[table]
            row["title_html"] = highlight(row["title"] or "", terms)
            # A name found in a byline is marked where it shows, in the line under the title.
            for byline in _BYLINES.get(table, ()):
                row[f"{byline}_html"] = highlight(row[byline], terms) if row[byline] else None
            row["snippet"] = snippet(row[text_column] or "", terms) or escape((row[text_column] or "")[:120])
            rows.append(row)
    return {"table": table, "plan": plan, "rows": rows, "counts": counts,
            "count_url": count_path(database.ds, table, text) if plan.counting else None}


async def search_page(datasette, request):
    text = request.args.get("q", "")
    try:
        database = await archive_database(datasette)
    except NotFound:
        database = None
    sections = []
    if database is not None and text.strip():
        for table in ("documents", "problems"):
            if await database.table_exists(table):
                sections.append(await _section(database, table, text))
    context = {
        "q": text,
        "sections": sections,
        "database_name": database.name if database is not None else None,
        "notes": search_index.parse(text).notes if text.strip() else [],
    }
    page = Response.html(await datasette.render_template("search.html", context, request=request))
    if any(section["count_url"] for section in sections):  # not kept: see _not_kept
        page.headers["cache-control"] = "no-store"
    return page


# --- /-/count: a search's exact count, when a page did not wait for it ---------

COUNT_ROUTE = r"^/-/count$"


async def count_page(datasette, request):
    """``/-/count?table=documents&q=…``: the exact count of a search of the table, in
    JSON — texts, pages, and ``said``, the words the pages use for it."""
    table = request.args.get("table", "documents")
    text = request.args.get("q", "")
    if table not in search_index.INDEXES:
        return Response.json({"error": f"no search of {table!r}; tables: {', '.join(search_index.INDEXES)}"}, status=400)
    database = await archive_database(datasette)
    if not await database.table_exists(table):
        raise NotFound(f"this archive has no {table} table")
    query = search_index.parse(text)
    plan = await database.execute_fn(lambda conn: make_plan(conn, table, query, count_budget_ms=None))
    answer = {"table": table, "search": text, "texts": plan.texts, "pages": plan.count,
              "said": None if plan.message else plan.counted(), "message": plan.message, "notes": plan.notes}
    return Response.json(answer)


@hookimpl
def register_routes():
    return [(SEARCH_ROUTE, search_page), (COUNT_ROUTE, count_page)]
