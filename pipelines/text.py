"""Small text helpers shared by the stages."""

from __future__ import annotations

import re

_SPACES = re.compile(r"[\s\u3000\xa0\u2002\u2003\u2009\u200b\u200c\u200d\ufeff]+")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def han_count(text: str) -> int:
    """How many Han characters ``text`` holds, without a list of them (``len(HAN.findall(…))``
    of a 10 MB page's one paragraph built 3 million one-character strings: 220 MB)."""
    return HAN.subn("", text)[1]


def normalise_space(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def join_pieces(pieces) -> str | None:
    """Join text pieces with a space, except between two Chinese characters."""
    text = ""
    for piece in (normalise_space(p) for p in pieces):
        if piece:
            joint = "" if not text or (_CJK.match(text[-1]) and _CJK.match(piece[0])) else " "
            text += joint + piece
    return text or None


def printable(name: str) -> str:
    """A file name or URL as one line that reads as it is: line breaks, other control
    characters and format characters (U+202E would reverse the rest of the line) as
    ``\\n``, ``\\u202e``… escapes."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in name)
