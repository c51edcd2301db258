"""Bounds that keep the served archive responsive when many people, or scripts, read it.

* **Pages are kept while the archive is unchanged.**  A page depends only on
  its URL, the request headers Datasette reads (:data:`KEYED_HEADERS`; Host
  and scheme are those of the base URL, :mod:`.origin`) and the archive's
  contents, so a 200 answer to a GET is kept (up to
  :data:`CACHE_BYTES` in all, :data:`CACHE_ENTRY_BYTES` each, least recently
  used first out) and given again to the next reader of the same URL — until
  a database file changes (its size or modification time, and its WAL's):
  then every kept page is stale and the next reader gets a fresh one.  Pages
  for a signed-in actor, streamed answers and answers setting cookies are
  never kept.  ``X-Archive-Cache: hit`` marks a kept page.
* **Long texts are cut in JSON**: strings longer than :data:`TEXT_LIMIT`
  characters end in ``…``, so a page of a thousand documents is a few
  megabytes, not a hundred; ``_full=1`` asks for whole texts.  A cut response
  says so in the ``X-Text-Truncated-At`` header and, when it is a JSON
  object, in its ``text_truncated_at`` key.

(The other bounds are Datasette settings, given by ``archive serve``: the SQL
and facet time limits, no facet suggestions, page sizes.)
"""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from urllib.parse import parse_qs

from datasette import hookimpl

from .origin import with_configured_origin

TEXT_LIMIT = 1000
TRUNCATED_HEADER = b"x-text-truncated-at"
CACHE_HEADER = b"x-archive-cache"
CACHE_BYTES = 64 * 2**20
CACHE_ENTRY_BYTES = 2 * 2**20
# JSON of a database: its tables, rows, queries (/-/ pages are the server's own).
# Request headers an answer may depend on: absolute URLs (Host), the actor,
# messages and ``_cookie_`` parameters (Cookie), JSON for an Accept header.
KEYED_HEADERS = (b"host", b"cookie", b"accept")
_DATABASE_JSON = re.compile(r"^/(?!-/)[^/]+(?:/[^/]+)*\.json$")


# --- long texts in JSON ----------------------------------------------------------


def _wants_json_bounds(scope: dict) -> bool:
    if scope["type"] != "http" or not _DATABASE_JSON.match(scope.get("path", "")):
        return False
    args = parse_qs(scope.get("query_string", b"").decode("utf-8", "replace"))
    return args.get("_full", ["0"])[-1] in ("", "0")


def _cut(value, cut: list[int]):
    if isinstance(value, str):
        if len(value) > TEXT_LIMIT:
            cut[0] += 1
            return value[:TEXT_LIMIT] + "…"
        return value
    if isinstance(value, list):
        return [_cut(v, cut) for v in value]
    if isinstance(value, dict):
        return {k: _cut(v, cut) for k, v in value.items()}
    return value


def truncate_json(body: bytes) -> bytes | None:
    """``body`` with long strings cut, or None when nothing was long."""
    if len(body) <= TEXT_LIMIT:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    cut = [0]
    data = _cut(data, cut)
    if not cut[0]:
        return None
    if isinstance(data, dict):
        data["text_truncated_at"] = TEXT_LIMIT
    return json.dumps(data).encode("utf-8")


def _with_json_bounds(app):
    async def bounded(scope, receive, send):
        if not _wants_json_bounds(scope):
            await app(scope, receive, send)
            return
        start = None
        chunks: list[bytes] = []

        async def send_bounded(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = list(start.get("headers", []))
            content_type = dict((k.lower(), v) for k, v in headers).get(b"content-type", b"")
            shorter = truncate_json(body) if content_type.startswith(b"application/json") else None
            if shorter is not None:
                body = shorter
                headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                headers += [(b"content-length", str(len(body)).encode()), (TRUNCATED_HEADER, str(TEXT_LIMIT).encode())]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, send_bounded)

    return bounded


# --- pages kept while the archive is unchanged -----------------------------------


class PageCache:
    def __init__(self, max_bytes: int = CACHE_BYTES):
        self.max_bytes = max_bytes
        self.pages: OrderedDict[tuple, tuple[dict, bytes]] = OrderedDict()
        self.size = 0

    def get(self, key: tuple):
        page = self.pages.get(key)
        if page is not None:
            self.pages.move_to_end(key)
        return page

    def put(self, key: tuple, start: dict, body: bytes) -> None:
        if key in self.pages or len(body) > CACHE_ENTRY_BYTES:
            return
        self.pages[key] = (start, body)
        self.size += len(body)
        while self.size > self.max_bytes:
            _, (_, dropped) = self.pages.popitem(last=False)
            self.size -= len(dropped)


def archive_state(datasette) -> tuple:
    """What the served database files are now; a kept page is good while it is unchanged."""
    state = []
    for database in datasette.databases.values():
        if not database.path:
            continue
        for path in (database.path, database.path + "-wal"):
            try:
                stat = os.stat(path)
            except OSError:
                state.append(None)
            else:
                state.append((stat.st_size, stat.st_mtime_ns))
    return tuple(state)


def _cacheable(scope: dict) -> bool:
    if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
        return False
    if b"_trace=1" in scope.get("query_string", b""):
        return False
    for name, value in scope.get("headers", []):
        if name == b"authorization" or (name == b"cookie" and b"ds_actor" in value):
            return False
    return True


def cache_key(scope: dict, datasette) -> tuple:
    """Everything a kept page depends on."""
    headers = tuple(sorted((name, value) for name, value in scope.get("headers", []) if name.lower() in KEYED_HEADERS))
    return (
        scope["method"], scope.get("scheme"), scope["path"], scope.get("query_string", b""), headers,
        archive_state(datasette),
    )


def _with_page_cache(app, datasette):
    cache = PageCache()

    async def cached(scope, receive, send):
        if not _cacheable(scope):
            await app(scope, receive, send)
            return
        key = cache_key(scope, datasette)
        page = cache.get(key)
        if page is not None:
            start, body = page
            await send({**start, "headers": [*start["headers"], (CACHE_HEADER, b"hit")]})
            await send({"type": "http.response.body", "body": body})
            return
        start = None
        chunks: list[bytes] = []
        keep = True

        async def send_and_keep(message):
            nonlocal start, keep
            if message["type"] == "http.response.start":
                start = message
                keep = message.get("status") == 200 and not any(
                    name.lower() == b"set-cookie" or (name.lower() == b"cache-control" and b"no-store" in value)
                    for name, value in message.get("headers", [])
                )
            elif message["type"] == "http.response.body" and keep:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    keep = False  # a streamed answer (a CSV export): not kept
                else:
                    cache.put(key, start, b"".join(chunks))
            await send(message)

        await app(scope, receive, send_and_keep)

    return cached


@hookimpl(trylast=True)
def asgi_wrapper(datasette):
    # Applied last, so outermost: a kept page costs no planning, no SQL, no rendering;
    # and every request, kept or not, is first made one to the base URL.
    return lambda app: with_configured_origin(_with_page_cache(_with_json_bounds(app), datasette), datasette)
