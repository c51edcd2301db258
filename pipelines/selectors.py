"""Selectors compiled once per process, shared by the stages.

``element.cssselect(s)`` translates its CSS selector to XPath with
cssselect's Python parser on every call — most of the time the extract stage
spent; the stages select with a handful of fixed expressions (profile
selectors, boilerplate rules), so each is translated or compiled once.

A CSS selector is kept as its XPath text, not as a compiled ``CSSSelector``:
with lxml 6.1 and libxml2 2.14 a compiled expression that calls a prefixed
extension function (``:contains()`` becomes
``__lxml_internal_css:lower-case(…)``) loses the function's namespace after
some evaluations on other documents (``XPathFunctionError: XPath function
'{}lower-case' not found``).  Compiling the XPath text costs little; the
translation was the waste.
"""

from __future__ import annotations

import re
from functools import cache

from lxml import etree
from lxml.cssselect import LxmlHTMLTranslator

_TRANSLATOR = LxmlHTMLTranslator()  # what HtmlElement.cssselect uses
_LITERALS = re.compile(r"'[^']*'|\"[^\"]*\"")


@cache
def _css_as_xpath(selector: str) -> str:
    return _TRANSLATOR.css_to_xpath(selector)


def css(element: etree._Element, selector: str) -> list:
    """``element.cssselect(selector)``, the selector translated once."""
    return element.xpath(_css_as_xpath(selector))


@cache
def xpath(expression: str) -> etree.XPath:
    """``expression`` compiled, for expressions that call no prefixed extension function (see above)."""
    if ":" in _LITERALS.sub("", expression).replace("::", ""):
        raise ValueError(f"{expression!r} names a prefix: evaluate it with element.xpath()")
    return etree.XPath(expression)
