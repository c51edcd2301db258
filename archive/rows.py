"""Reading rows of the archive's tables as dicts."""

from __future__ import annotations

import sqlite3


def query_rows(conn: sqlite3.Connection, sql: str, params: list) -> list[dict]:
    """The rows of a query as dicts: sqlite-utils' ``Database.query`` without the
    savepoint it opens and releases around every call (two statements more per
    read on the store's path, several reads per page)."""
    cursor = conn.execute(sql, params)
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row)) for row in cursor]
