"""Bounds that keep the served archive responsive when many people, or scripts, read it.

JSON responses carry long texts cut to :data:`TEXT_LIMIT` characters (ending
in ``…``), so a page of a thousand documents is a few megabytes, not a hundred;
``_full=1`` asks for whole texts.  A response that was cut says so in the
``X-Text-Truncated-At`` header and, when it is a JSON object, in its
``text_truncated_at`` key.  (The rest of the bounds are Datasette settings,
given by ``archive serve``: the SQL time limit, facet time limit, no facet
suggestions, page sizes.)
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

from datasette import hookimpl

TEXT_LIMIT = 1000
TRUNCATED_HEADER = b"x-text-truncated-at"
# JSON of a database: its tables, rows, queries (/-/ pages are the server's own).
_DATABASE_JSON = re.compile(r"^/(?!-/)[^/]+(?:/[^/]+)*\.json$")


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


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
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

    return wrap
