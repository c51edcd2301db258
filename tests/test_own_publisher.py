"""A page's publisher comes from a profile of its own host or from the page
itself — never from another host's profile whose template it resembles.

Every article page of every profiled site in the mirror is processed as a page
of another host (and as a saved file without a host), with the site's name
replaced by another commission's: no record may carry any profile's publisher.
"""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from crawler.mirror import SITES_DIR
from crawler.mirror.server import HTML_SUFFIXES
from pipelines import RawDocument, process
from sites import load_profiles

OTHER_SITE = "东川市纪委监委网站"
PUBLISHERS = {profile.publisher for profile in load_profiles()}


def _decoded(file: Path) -> str:
    body = file.read_bytes()
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("gb18030")


def _is_html(file: Path) -> bool:
    """A page, not an attachment the mirror serves beside it (a mirror name keeps its query after '@')."""
    return Path(file.name.partition("@")[0]).suffix in HTML_SUFFIXES


def article_pages() -> list[tuple[str, Path]]:
    pages = []
    for profile in load_profiles():
        for host_dir in sorted(p for p in SITES_DIR.iterdir() if p.is_dir() and profile.matches_host(p.name)):
            for file in sorted(f for f in host_dir.rglob("*") if f.is_file() and _is_html(f)):
                page = lxml.html.document_fromstring(_decoded(file))
                if any(page.cssselect(template.detect) for template in profile.templates):
                    pages.append((profile.name, file))
    return pages


def disguised(file: Path, publisher: str) -> bytes:
    """The page as another commission's copy: its own name, no canonical link to its host."""
    text = _decoded(file).replace(publisher, OTHER_SITE)
    page = lxml.html.document_fromstring(text)
    for link in page.xpath("//link[@rel='canonical'] | //meta[@property='og:url'] | //meta[@name='SiteDomain']"):
        link.drop_tree()
    return lxml.html.tostring(page, encoding="utf-8")


PAGES = article_pages()


def test_every_profile_has_article_pages_here():
    assert {name for name, _ in PAGES} == {profile.name for profile in load_profiles() if profile.templates}


@pytest.mark.parametrize("name, file", PAGES, ids=[str(f.relative_to(SITES_DIR)) for _, f in PAGES])
def test_a_lookalike_page_of_another_host_never_gets_a_profiled_publisher(name, file):
    profile = next(p for p in load_profiles() if p.name == name)
    body = disguised(file, profile.publisher)
    for url in ("https://www.dongchuan-jw.gov.cn/xsxc/202301/t20230105_1001.html", file.with_suffix(".saved.html").as_uri()):
        result = process(RawDocument(url=url, body=body, content_type="text/html"))
        assert result.failure is None, result.failure
        publisher = result.document["publisher"]
        assert publisher not in PUBLISHERS, url
        # What the page calls itself (SiteName, og:site_name, its <title>), or nothing.
        assert publisher is None or publisher in body.decode("utf-8"), url
        assert result.document["site"] != name


@pytest.mark.parametrize("name, file", PAGES[:1] + PAGES[-1:], ids=["first", "last"])
def test_a_saved_page_that_declares_its_host_gets_that_hosts_profile(name, file):
    profile = next(p for p in load_profiles() if p.name == name)
    page = lxml.html.document_fromstring(_decoded(file))
    head = page.find("head")
    head.append(lxml.html.fromstring(f'<link rel="canonical" href="http://{profile.hosts[0]}/a/t20230105_1.html">'))
    saved = file.with_suffix(".saved.html").as_uri()
    result = process(RawDocument(url=saved, body=lxml.html.tostring(page, encoding="utf-8"), content_type="text/html"))
    assert result.failure is None, result.failure
    assert (result.document["publisher"], result.document["site"]) == (profile.publisher, name)


def test_a_profile_without_templates_reads_its_pages_generically(monkeypatch):
    """A profile may give only host, publisher and columns: its articles are read
    by the generic extractor and carry its publisher."""
    from pipelines import extract
    from sites import Profile

    mirror_only = Profile(name="dongchuan", publisher=OTHER_SITE, hosts=("www.dongchuan-jw.gov.cn",), templates=())
    monkeypatch.setattr(extract, "profile_for_url", lambda url: mirror_only if "dongchuan" in url else None)
    name, file = PAGES[0]
    body = disguised(file, next(p for p in load_profiles() if p.name == name).publisher)
    result = process(RawDocument(url="https://www.dongchuan-jw.gov.cn/xsxc/t20230105_1001.html", body=body))
    assert result.failure is None, result.failure
    assert (result.document["publisher"], result.document["site"]) == (OTHER_SITE, "dongchuan")
    assert not result.document["extractor"].startswith("profile:")
