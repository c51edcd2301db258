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
from .classify import fold_simplified
from .extract import Extracted
from .selectors import css, xpath
from .text import normalise_space

_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol tr table section article blockquote header footer pre dd dt".split()
)
_SENTENCE_END = re.compile(r"[。！？；!?;]|[:：]$")
_RUNNING_TEXT = re.compile(r"[。！？；!?;]")
# A text dump's metadata line sits within its first lines (header, title).
_HEADER_LINES = 10

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
    rules = [(r.name, xpath(r.xpath)(tree)) for r in DOM_RULES]
    if extracted.template is not None:
        rules += [(f"profile_drop:{name}", css(tree, sel)) for name, sel in extracted.template.drop.items()]
    for name, found in rules:
        for el in found:
            if el is not tree:
                _remove_keep_tail(el)
        if found:
            cleaned.fire(name)


def _captured(match, paragraph: str, twin: str) -> dict[str, str]:
    """A rule's named groups, cut from the paragraph as published when its
    simplified twin has the same length (a traditional copy keeps 雲溪市廉政網)."""
    text = paragraph if len(paragraph) == len(twin) else twin
    if isinstance(match, re.Match):
        return {k: text[match.start(k) : match.end(k)] for k, v in match.groupdict().items() if v is not None}
    return match.captures(text)


def _line_rule(paragraph: str, twin: str, cleaned: Cleaned):
    """The line rule that drops the paragraph (its captures recorded), or None."""
    for rule in LINE_RULES:
        if m := rule.match(twin):
            cleaned.fire(rule.name, _captured(m, paragraph, twin))
            return rule
    return None


def _cut_inline(paragraph: str, twin: str, cleaned: Cleaned) -> tuple[str, str]:
    """Cut inline matches found in ``twin`` (the simplified form) out of ``paragraph``."""
    for rule in INLINE_RULES:
        m = rule.pattern.search(twin)
        if m and m.group(0).strip():
            cleaned.fire(rule.name, _captured(m, paragraph, twin))
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
    converted = fold_simplified(joined)
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


def _split_header(paragraphs: list[str], meta_line_at: int | None, cleaned: Cleaned) -> list[str]:
    """A text dump whose metadata line follows the title: the title is the line
    above it, and what is above the title is the page's header."""
    if not meta_line_at or not _looks_like_title(paragraphs[meta_line_at - 1]):
        return paragraphs
    if meta_line_at > 1:
        cleaned.fire("page_header")
    cleaned.title_line = paragraphs[meta_line_at - 1]
    cleaned.fire("leading_title")
    return paragraphs[meta_line_at:]


def clean(extracted: Extracted) -> Cleaned:
    cleaned = Cleaned(paragraphs=[])
    is_text = extracted.tree is None
    if not is_text:
        _apply_dom_rules(extracted.tree, extracted, cleaned)
        lines = _tree_to_lines(extracted.tree)
    else:
        lines = extracted.lines or []
    found = [p for p in map(normalise_space, lines) if p]
    # ``closed``: a line closing the article (【打印】, 上一篇…) came after running text;
    # the lines after it wait in ``footer`` and are the page's footer unless running
    # text follows (then the closing line was not the end).
    paragraphs, footer, meta_line_at, running, closed = [], [], None, False, False
    for index, (paragraph, twin) in enumerate(zip(found, _simplified_twins(found))):
        if rule := _line_rule(paragraph, twin, cleaned):
            if rule.name == "page_meta_line" and meta_line_at is None and index < _HEADER_LINES:
                meta_line_at = len(paragraphs)
            closed = closed or (rule.ends_article and running)
            continue
        cut, cut_twin = _cut_inline(paragraph, twin, cleaned)
        if not cut or (cut_twin != twin and _line_rule(cut, cut_twin, cleaned)):
            continue
        is_running = bool(_RUNNING_TEXT.search(cut))
        if closed and not is_running:
            footer.append(cut)
            continue
        paragraphs += footer + [cut]
        footer, closed, running = [], False, running or is_running
    if footer:
        cleaned.fire("page_footer")
    known_title = extracted.meta.get("fm_title") or extracted.meta.get("page_title")
    if is_text and not known_title:
        paragraphs = _split_header(paragraphs, meta_line_at, cleaned)
        known_title = cleaned.title_line
    cleaned.paragraphs = _handle_titles(
        paragraphs,
        normalise_space(str(known_title)) if known_title else None,
        is_text=is_text,
        cleaned=cleaned,
    )
    return cleaned
