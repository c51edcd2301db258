"""Clean stage: apply the boilerplate rules and split the content into paragraphs.

The rules themselves are data in :mod:`pipelines.boilerplate`; a site
profile's template may add its own ``drop`` selectors.  The stage returns the
paragraphs that remain, the metadata the rules captured (bylines, editor,
original link…) and the names of the rules that fired.

Title handling is structural rather than pattern-based: a text document's
first short line without sentence punctuation is its title
(``leading_title``); a copy of the title at the top of the body is dropped
(``repeated_title``), and short lines above it are the headline
(``headline``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from .boilerplate import DOM_RULES, INLINE_RULES, LINE_RULES
from .classify import normalize
from .extract import Extracted

_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol tr table section article blockquote header footer pre dd dt".split()
)
_SPACES = re.compile(r"[\s\u3000\xa0\u2002\u2003\u2009\u200b\u200c\u200d\ufeff]+")
_SENTENCE_END = re.compile(r"[。！？；!?;]|[:：]$")
_FOLD = re.compile(r"[\W_]+")


@dataclass
class Cleaned:
    paragraphs: list[str]
    meta: dict = field(default_factory=dict)
    rules_fired: list[str] = field(default_factory=list)
    title_line: str | None = None

    def fire(self, name: str, captured: dict | None = None) -> None:
        if name not in self.rules_fired:
            self.rules_fired.append(name)
        for key, value in (captured or {}).items():
            if value and key not in self.meta:
                self.meta[key] = value.strip()


def normalise_space(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _remove_keep_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _tree_to_lines(tree: etree._Element) -> list[str]:
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag == "br":
            el.tail = "\n" + (el.tail or "")
        elif tag in _BLOCK_TAGS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    return "".join(tree.itertext()).split("\n")


def _apply_dom_rules(tree: etree._Element, extracted: Extracted, cleaned: Cleaned) -> None:
    rules = [(r.name, tree.xpath(r.xpath)) for r in DOM_RULES]
    if extracted.template is not None:
        rules += [(f"profile_drop:{name}", tree.cssselect(sel)) for name, sel in extracted.template.drop.items()]
    for name, found in rules:
        for el in found:
            if el is not tree:
                _remove_keep_tail(el)
        if found:
            cleaned.fire(name)


def _drop_by_line_rules(paragraph: str, cleaned: Cleaned) -> bool:
    for rule in LINE_RULES:
        if m := rule.match(paragraph):
            cleaned.fire(rule.name, m.groupdict())
            return True
    return False


def _cut_inline(paragraph: str, twin: str, cleaned: Cleaned) -> tuple[str, str]:
    """Cut inline matches found in ``twin`` (the simplified form) out of ``paragraph``."""
    for rule in INLINE_RULES:
        m = rule.pattern.search(twin)
        if m and m.group(0).strip():
            cleaned.fire(rule.name, m.groupdict())
            if len(twin) == len(paragraph):
                paragraph = normalise_space(paragraph[: m.start()] + paragraph[m.end() :])
            twin = normalise_space(twin[: m.start()] + twin[m.end() :])
            if len(twin) != len(paragraph):
                paragraph = twin
    return paragraph, twin


def _simplified_twins(paragraphs: list[str]) -> list[str]:
    """The paragraphs in simplified characters, for matching the rules.

    Rules are written in simplified Chinese; a traditional-character copy
    (歡迎來到…, 原文鏈接, 版權所有) must meet them too, while its text is kept
    as published.
    """
    joined = "\n".join(paragraphs)
    converted = normalize(joined)
    if converted == joined:
        return paragraphs
    twins = converted.split("\n")
    return twins if len(twins) == len(paragraphs) else paragraphs


def _fold(text: str) -> str:
    return _FOLD.sub("", text)


def _looks_like_title(line: str) -> bool:
    return 4 <= len(line) <= 60 and not _SENTENCE_END.search(line)


def _handle_titles(paragraphs: list[str], known_title: str | None, is_text: bool, cleaned: Cleaned) -> list[str]:
    title = known_title
    if not title and is_text and paragraphs and _looks_like_title(paragraphs[0]):
        title = cleaned.title_line = paragraphs[0]
        paragraphs = paragraphs[1:]
        cleaned.fire("leading_title")
    if not title:
        return paragraphs
    folded_title = _fold(title)
    for i, paragraph in enumerate(paragraphs[:3]):
        if _fold(paragraph) == folded_title:
            headline = paragraphs[:i]
            if all(_looks_like_title(h) for h in headline):
                if headline:
                    cleaned.fire("headline", {"headline": " ".join(headline)})
                cleaned.fire("repeated_title")
                return paragraphs[i + 1 :]
    return paragraphs


def clean(extracted: Extracted) -> Cleaned:
    cleaned = Cleaned(paragraphs=[])
    if extracted.tree is not None:
        _apply_dom_rules(extracted.tree, extracted, cleaned)
        lines = _tree_to_lines(extracted.tree)
    else:
        lines = extracted.lines or []
    found = [p for p in map(normalise_space, lines) if p]
    paragraphs = []
    for paragraph, twin in zip(found, _simplified_twins(found)):
        if _drop_by_line_rules(twin, cleaned):
            continue
        cut, cut_twin = _cut_inline(paragraph, twin, cleaned)
        if cut and (cut_twin == twin or not _drop_by_line_rules(cut_twin, cleaned)):
            paragraphs.append(cut)
    known_title = extracted.meta.get("fm_title") or extracted.meta.get("page_title")
    cleaned.paragraphs = _handle_titles(
        paragraphs,
        normalise_space(str(known_title)) if known_title else None,
        is_text=extracted.tree is None,
        cleaned=cleaned,
    )
    return cleaned
