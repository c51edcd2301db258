"""``/-/about``: where the texts come from, what the archive covers, what counts as a text, the licence."""

from __future__ import annotations

from datasette import Response

from .database import archive_database
from .downloads import last_changed, live_size

SITES = """
select coalesce(site, '(unknown)') as site, group_concat(distinct publisher) as publishers, count(*) as pages,
  sum(is_canonical) as texts, min(substr(published_at, 1, 10)) as first_published,
  max(substr(published_at, 1, 10)) as last_published, max(substr(last_seen_at, 1, 10)) as last_captured
from documents group by 1 order by pages desc
"""


def download_facts(datasette, database) -> dict | None:
    """The whole-database download's address, approximate size and date, for a link."""
    if not database.path:
        return None
    return {
        "url": datasette.urls.path(f"/{database.name}.db"),
        "megabytes": round(live_size(database.path) / 2**20, 1),
        "as_of": f"{last_changed(database.path):%Y-%m-%d %H:%M} UTC",
    }


async def about_page(datasette, request):
    database = await archive_database(datasette)
    sites = [dict(row) for row in (await database.execute(SITES)).rows]
    context = {
        "metadata": datasette.metadata() or {},
        "sites": sites,
        "download": download_facts(datasette, database),
        "database_name": database.name,
    }
    return Response.html(await datasette.render_template("about.html", context, request=request))


ROUTES = [(r"^/-/about$", about_page)]
