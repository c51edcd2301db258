"""CSV for Excel: any CSV of the archive, with ``_bom=1``, starts with a UTF-8 byte-order mark.

Excel reads a CSV without a BOM in the machine's code page (GBK in a Chinese
locale), so UTF-8 Chinese text shows as mojibake; with the BOM it reads UTF-8.
Datasette's own CSV (tables, views, canned and ad-hoc queries, streamed or
not) is passed through unchanged apart from the three bytes in front, so the
plain CSV stays as it is for scripts.
"""

from urllib.parse import parse_qs

BOM = "\ufeff".encode("utf-8")


def _wants_bom(scope) -> bool:
    if scope["type"] != "http" or not scope.get("path", "").endswith(".csv"):
        return False
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return query.get("_bom", [""])[0] in ("1", "on", "true")


def with_excel_csv(app):
    async def wrapped(scope, receive, send):
        if not _wants_bom(scope):
            await app(scope, receive, send)
            return
        state = {"csv": False, "started": False}

        async def send_with_bom(message):
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                content_type = dict((k.lower(), v) for k, v in headers).get(b"content-type", b"")
                state["csv"] = message["status"] == 200 and content_type.startswith(b"text/")
                if state["csv"]:
                    headers = [
                        (k, str(int(v) + len(BOM)).encode() if k.lower() == b"content-length" else v)
                        for k, v in headers
                    ]
                    message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and state["csv"] and not state["started"]:
                state["started"] = True
                message = {**message, "body": BOM + message.get("body", b"")}
            await send(message)

        await app(scope, receive, send_with_bom)

    return wrapped
