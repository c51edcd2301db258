"""Absolute URLs come from the configured base URL, never from the request.

Datasette makes absolute URLs (a JSON page's ``next_url`` and ``Link``
header, facet toggles, a feed's links) from the request's ``Host`` header and
scheme, so a request with ``Host: evil.example`` got links to
``http://evil.example/…`` — and the page cache gave that page to the next
reader.  Every request is therefore answered as if it had come to the
served base URL (``archive serve --base-url``; by default the address it
binds): its Host and scheme are replaced before Datasette sees them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .database import PLUGIN_NAME


def configured_origin(datasette) -> tuple[bytes, bytes] | None:
    """(scheme, host) of the configured base URL, or None when none is configured."""
    base_url = (datasette.plugin_config(PLUGIN_NAME) or {}).get("base_url")
    if not base_url:
        return None
    parts = urlsplit(base_url)
    return parts.scheme.encode("ascii"), parts.netloc.encode("ascii")


def with_configured_origin(app, datasette):
    origin = configured_origin(datasette)
    if origin is None:
        return app
    scheme, host = origin

    async def from_base_url(scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            headers = [(name, value) for name, value in scope.get("headers", []) if name != b"host"]
            scope = {**scope, "scheme": scheme.decode(), "headers": [(b"host", host), *headers]}
        await app(scope, receive, send)

    return from_base_url
