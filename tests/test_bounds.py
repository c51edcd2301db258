"""The served archive's bounds (archive/plugin/bounds.py): pages kept while the archive is unchanged, bounded JSON, facet columns indexed.

Over HTTP against a real server (``archive serve``).
"""

import urllib.request
from pathlib import Path

import pytest
from datasette_server import served_archive

from archive import schema
from archive.db import Archive, connect
from archive.importer import import_paths

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"


def fetch(url: str) -> tuple[bytes, dict]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), {k.lower(): v for k, v in response.headers.items()}


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("serving") / "archive.db"
    with Archive(path) as archive:
        import_paths([FIXTURES / "documents"], archive)
    return path


def test_a_page_is_kept_until_the_archive_changes(archive_path):
    with served_archive(archive_path) as base:
        url = f"{base}/archive/documents.json?_search=%E5%B7%A1%E5%AF%9F&_shape=array&_col=title"  # 巡察
        first, headers = fetch(url)
        assert "x-archive-cache" not in headers
        again, headers = fetch(url)
        assert headers.get("x-archive-cache") == "hit" and again == first
        # Another URL is another page.
        _, headers = fetch(url + "&_size=1")
        assert "x-archive-cache" not in headers
        # A write changes the file: what was kept is no longer given.
        db = connect(archive_path)
        with db.conn:
            db.execute("update documents set last_seen_at = '2030-01-01T00:00:00Z'")
        db.conn.close()
        _, headers = fetch(url)
        assert "x-archive-cache" not in headers
        _, headers = fetch(url)
        assert headers.get("x-archive-cache") == "hit"


def test_every_facet_column_is_indexed(archive_path):
    db = connect(archive_path)
    try:
        for table, columns in schema.facet_columns().items():
            if table not in db.table_names():
                continue
            indexed = {index.columns[0] for index in db[table].indexes}
            assert set(columns) <= indexed, table
    finally:
        db.conn.close()
