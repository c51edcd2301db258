"""Selectors compiled once (pipelines.selectors) select what lxml's own calls select."""

import lxml.html
import pytest

from pipelines.selectors import css, xpath


def page(i: int):
    return lxml.html.document_fromstring(
        f"<html><body><div id='a'><p>第{i}段</p><p class='by'>（记者 张三）</p></div><p>其他</p></body></html>"
    )


def test_css_selects_as_cssselect_on_many_documents():
    # A :contains() selector compiled once and reused failed after a few documents
    # (the lower-case function's namespace lost): every document must select alike.
    for i in range(100):
        doc = page(i)
        for selector in ("div#a > p:contains('记者')", "div#a p", "p.by, #a"):
            assert css(doc, selector) == doc.cssselect(selector)
        assert [el.text for el in css(doc, "div#a > p:contains('记者')")] == ["（记者 张三）"]


def test_xpath_compiled_once_selects_as_element_xpath():
    doc = page(1)
    assert xpath("//p[@class='by']/text()")(doc) == ["（记者 张三）"]
    assert xpath("//p[@class='by']/text()") is xpath("//p[@class='by']/text()")
    assert xpath("string(//meta[@property='og:title']/@content)")(doc) == ""


def test_xpath_refuses_prefixed_functions():
    with pytest.raises(ValueError, match="prefix"):
        xpath("//p[re:test(., 'x')]")
