"""The served archive's bounds (archive/plugin/bounds.py): pages kept while the archive is unchanged, bounded JSON, facet columns indexed.

Over HTTP against a real server (``archive serve``).
"""

import json
import re
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from datasette_server import served_archive
from journalist_archive import build

from archive import schema
from archive.db import Archive, connect
from archive.importer import import_paths

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
ATOM = "{http://www.w3.org/2005/Atom}"


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


# --- absolute URLs from the base URL, whatever Host a request names ---------------

EVIL = "evil.example"
FEED = "/archive/new_disclosures.atom?phrase=" + urllib.parse.quote("整改")
TABLE_JSON = "/archive/documents.json?_size=2&_col=title"


def fetch_as(url: str, host: str | None = None) -> tuple[bytes, dict]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read(), {k.lower(): v for k, v in response.headers.items()}


@pytest.fixture(scope="module")
def journalist_archive(tmp_path_factory):
    path = tmp_path_factory.mktemp("poison") / "archive.db"
    build(path)
    return path


def _links(body: bytes, headers: dict) -> list[str]:
    """Every absolute URL of an answer: the feed's links and ids, a JSON page's next_url, the Link header."""
    text = body.decode("utf-8")
    if headers["content-type"].startswith("application/atom+xml"):
        feed = ET.fromstring(body)
        links = [link.get("href") for link in feed.iter(f"{ATOM}link")] + [e.text for e in feed.iter(f"{ATOM}id")]
    else:
        links = [json.loads(text)["next_url"]]
    links += re.findall(r"<([^>]+)>", headers.get("link", ""))
    return [link for link in links if "://" in link]


def test_a_poisoned_host_header_never_reaches_an_answer(journalist_archive):
    with served_archive(journalist_archive) as base:
        for path in (FEED, TABLE_JSON):
            body, headers = fetch_as(base + path, host=EVIL)
            links = _links(body, headers)
            assert links and EVIL.encode() not in body and EVIL not in json.dumps(headers), (path, links)
            assert all(link.startswith(base + "/") for link in links), links
            # The next reader of the same URL gets the kept page: the same clean one.
            again, headers = fetch_as(base + path)
            assert headers.get("x-archive-cache") == "hit" and again == body
        entries = ET.fromstring(fetch_as(base + FEED)[0]).findall(f"{ATOM}entry")
        assert len(entries) >= 2  # the feed had record links to check


def test_absolute_urls_come_from_the_configured_base_url(journalist_archive):
    public = "https://archive.example.org"
    with served_archive(journalist_archive, serve_args=("--base-url", public + "/")) as base:
        for path in (FEED, TABLE_JSON):
            for host in (EVIL, None):
                body, headers = fetch_as(base + path, host=host)
                links = _links(body, headers)
                assert links and all(link.startswith(public + "/") for link in links), (host, links)
                assert EVIL.encode() not in body and b"127.0.0.1" not in body
