"""Security headers sent with every response of the served archive, and
redirects kept on this site (:func:`on_site`).

A Content-Security-Policy: even if scraped text ever reached a page as markup,
the browser would load nothing from elsewhere, submit no form elsewhere and
embed no plugin.  (Datasette's own pages use inline scripts, so
``'unsafe-inline'`` stays for scripts; the defence against injection is that
scraped text is always escaped.)
"""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'{eval}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Vega compiles chart expressions with Function(): the dashboards, which show
# aggregates rather than scraped pages, are the only place that may evaluate code.
EVAL_ALLOWED_PATHS = ("/-/dashboards",)
_REPLACED = (b"content-security-policy", b"x-content-type-options")


def content_security_policy(path: str) -> str:
    allow_eval = path.startswith(EVAL_ALLOWED_PATHS)
    return CONTENT_SECURITY_POLICY.format(eval=" 'unsafe-eval'" if allow_eval else "")


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


def with_security_headers(app):
    async def wrapped(scope, receive, send):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [
                    (k, on_site(v) if k.lower() == b"location" else v)
                    for k, v in message.get("headers", []) if k.lower() not in _REPLACED
                ]
                headers += [
                    (b"content-security-policy", content_security_policy(scope.get("path", "")).encode()),
                    (b"x-content-type-options", b"nosniff"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers if scope["type"] == "http" else send)

    return wrapped
