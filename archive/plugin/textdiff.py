"""What changed between two texts of a page, paragraph by paragraph.

Paragraphs are compared first; a paragraph that was edited (replaced by one
paragraph) is compared character by character, so a changed figure in a long
paragraph shows as that figure, not as the whole paragraph.  Runs of
unchanged paragraphs are cut to a little context around the changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher

SAME, ADDED, REMOVED, CHANGED, SKIPPED = "same", "added", "removed", "changed", "skipped"
EQUAL, INSERT, DELETE = "equal", "insert", "delete"


@dataclass
class Block:
    kind: str
    segments: list[tuple[str, str]] = field(default_factory=list)
    """(operation, text): equal, insert or delete."""
    skipped: int = 0
    """For ``skipped``: how many unchanged paragraphs were left out."""


def _characters(old: str, new: str) -> list[tuple[str, str]]:
    segments = []
    for operation, a1, a2, b1, b2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if operation == "equal":
            segments.append((EQUAL, old[a1:a2]))
            continue
        if a2 > a1:
            segments.append((DELETE, old[a1:a2]))
        if b2 > b1:
            segments.append((INSERT, new[b1:b2]))
    return segments


def diff(old: str, new: str, context: int = 1) -> list[Block]:
    """Blocks describing how ``new`` differs from ``old``; empty when equal."""
    if old == new:
        return []
    old_paragraphs, new_paragraphs = old.split("\n"), new.split("\n")
    blocks: list[Block] = []
    opcodes = SequenceMatcher(None, old_paragraphs, new_paragraphs, autojunk=False).get_opcodes()
    for index, (operation, a1, a2, b1, b2) in enumerate(opcodes):
        if operation == "equal":
            same = [Block(SAME, [(EQUAL, p)]) for p in old_paragraphs[a1:a2]]
            head = same[:context] if index > 0 else []
            tail = same[len(same) - context:] if index < len(opcodes) - 1 and context else []
            if len(head) + len(tail) >= len(same):
                blocks += same
            else:
                blocks += [*head, Block(SKIPPED, skipped=len(same) - len(head) - len(tail)), *tail]
            continue
        removed, added = old_paragraphs[a1:a2], new_paragraphs[b1:b2]
        if operation == "replace" and len(removed) == len(added):
            blocks += [Block(CHANGED, _characters(a, b)) for a, b in zip(removed, added)]
            continue
        blocks += [Block(REMOVED, [(DELETE, p)]) for p in removed]
        blocks += [Block(ADDED, [(INSERT, p)]) for p in added]
    return blocks
