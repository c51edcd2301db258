"""What discovery found on hosts without a profile column (``discovered_columns``).

The discovery spiders (``crawler/discovery.py``) record every inspection column
they read a list from, with how they found it; the next run of the host starts
from these columns as well as from its home page, so a column that drops off the
home page is still walked.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines import now_utc

from .db import Archive

TABLE = "discovered_columns"


@dataclass(frozen=True)
class DiscoveredColumn:
    url: str
    host: str
    name: str | None
    found_by: str
    depth: int


def record_column(archive: Archive, column: DiscoveredColumn, articles_listed: int) -> None:
    """Store ``column`` (first sighting) or refresh it (last sighting, the most items one list page held)."""
    now = now_utc()
    with archive.transaction():
        row = archive.db.execute(
            f"select articles_listed from {TABLE} where url = ?", [column.url]
        ).fetchone()
        if row is None:
            archive.db[TABLE].insert({
                "url": column.url, "host": column.host, "name": column.name, "found_by": column.found_by,
                "depth": column.depth, "first_seen": now, "last_seen": now, "articles_listed": articles_listed,
            })
        else:
            archive.db.execute(
                f"update {TABLE} set last_seen = ?, articles_listed = max(coalesce(articles_listed, 0), ?) where url = ?",
                [now, articles_listed, column.url],
            )


def known_columns(archive: Archive, hosts) -> list[DiscoveredColumn]:
    """The columns earlier runs discovered on ``hosts``, oldest sighting first."""
    hosts = list(hosts)
    if not hosts:
        return []
    marks = ", ".join("?" for _ in hosts)
    rows = archive.db.execute(
        f"select url, host, name, found_by, depth from {TABLE} where host in ({marks}) order by first_seen, url", hosts
    ).fetchall()
    return [DiscoveredColumn(*row) for row in rows]
