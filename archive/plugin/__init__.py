"""Datasette plugin of the archive: this module only registers the hooks.

* search (:mod:`.search_page`: the ``_search`` box of the documents and problems
  tables and ``/-/search``), the page cache and bounds of JSON responses
  (:mod:`.bounds`, with absolute URLs from the base URL: :mod:`.origin`) and
  the bounds on SQL (:mod:`.limits`) are modules of hooks, registered here
  as plugins of their own;
* routes: the home page (:mod:`.home`), the record page with its WARC
  record (:mod:`.record`), a unit's ledger (:mod:`.ledger`), the about page
  (:mod:`.about`) and the whole database as a consistent snapshot (:mod:`.downloads`);
* error pages in the site's layout (:mod:`.errors`, a plugin of its own: it runs first);
* ``render_cell``: titles link to the record page everywhere (:mod:`.links`);
  money, coded values and unit names shown for reading (:mod:`.cells`);
* ``.atom``: Atom feeds of queries with ``atom_*`` columns (:mod:`.feeds`);
* ``archive.js`` / ``archive.css`` (``static/``): column descriptions shown
  on demand, a "CSV for Excel" link beside every CSV link, copy buttons;
* ASGI: CSV for Excel (:mod:`.exports`) and the security headers, a
  Content-Security-Policy on every response (:mod:`.security`).
  It also keeps redirects on this site (:func:`.security.on_site`).

Everything scraped is rendered as escaped text.  Installed as a ``datasette``
entry point by ``pyproject.toml``, so any Datasette in the project's
environment loads it.
"""

from datasette import hookimpl
from datasette.plugins import pm

from . import about, bounds, cells, downloads, errors, exports, feeds, home, ledger, limits, links, record, search_page, security
from .database import PLUGIN_NAME

for _module in (search_page, bounds, limits, errors):
    if not pm.is_registered(_module):
        pm.register(_module, name=_module.__name__)


@hookimpl
def register_routes():
    return [*home.ROUTES, *record.ROUTES, *ledger.ROUTES, *about.ROUTES, *downloads.ROUTES]


@hookimpl
def render_cell(value, column, table, database, row, datasette):
    found = links.render_cell(value, column, table, database, row, datasette)
    return found if found is not None else cells.render_cell(value, column, table, row, datasette)


@hookimpl
def register_output_renderer():
    return feeds.RENDERER


@hookimpl
def extra_css_urls(datasette):
    return [datasette.urls.static_plugins(PLUGIN_NAME, "archive.css")]


@hookimpl
def extra_js_urls(datasette):
    return [datasette.urls.static_plugins(PLUGIN_NAME, "archive.js")]


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: security.with_security_headers(exports.with_excel_csv(app))
