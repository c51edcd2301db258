"""Selectors compiled once per process, shared by the stages.

``element.cssselect(s)`` translates its CSS selector to XPath with
cssselect's Python parser on every call — most of the time the extract stage
spent; the stages select with a handful of fixed expressions (profile
selectors, boilerplate rules), so each is translated or compiled once.

An expression that calls a prefixed extension function is kept as XPath
text and compiled on each call: with lxml 6.1 and libxml2 2.14 such a
compiled expression (a CSS ``:contains()`` becomes
``__lxml_internal_css:lower-case(…)``) loses the function's namespace after
some evaluations on other documents (``XPathFunctionError: XPath function
'{}lower-case' not found``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from operator import methodcaller

from lxml import etree
from lxml.cssselect import LxmlHTMLTranslator

_TRANSLATOR = LxmlHTMLTranslator()  # what HtmlElement.cssselect uses
_LITERALS = re.compile(r"'[^']*'|\"[^\"]*\"")


def _calls_prefixed_function(expression: str) -> bool:
    return ":" in _LITERALS.sub("", expression).replace("::", "")


@cache
def _css(selector: str) -> Callable[[etree._Element], list]:
    path = _TRANSLATOR.css_to_xpath(selector)
    return methodcaller("xpath", path) if _calls_prefixed_function(path) else xpath(path)


def css(element: etree._Element, selector: str) -> list:
    """``element.cssselect(selector)``, the selector translated (and compiled) once."""
    return _css(selector)(element)


@cache
def xpath(expression: str) -> etree.XPath:
    """``expression`` compiled, for expressions that call no prefixed extension function (see above)."""
    if _calls_prefixed_function(expression):
        raise ValueError(f"{expression!r} names a prefix: evaluate it with element.xpath()")
    return etree.XPath(expression)
