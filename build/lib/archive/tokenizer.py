"""The ``zh_char`` FTS5 tokenizer: every Han character is a token.

SQLite's default tokenizer does not segment Chinese (a whole run of Han
characters is one token) and the trigram tokenizer cannot match queries
shorter than three characters — most two-character words and names.  With one
token per character, Datasette's search (which sends the query as an FTS5
phrase) becomes a substring search for queries of any length: ``"四风"``
matches the two tokens 四, 风 side by side.

Punctuation marks are tokens too, so a phrase never matches across them
(``整，改`` is not ``整改``); runs of Latin letters and digits are one
lower-cased token.  Whitespace separates tokens and is ignored.

Every connection that reads or writes the FTS table must register the
tokenizer first: the archive does it for its own connections and the
Datasette plugin (:mod:`archive.plugin`) for Datasette's.
"""

from __future__ import annotations

import atexit
import re
import sqlite3

from sqlitefts import fts5

NAME = "zh_char"

# Over UTF-8 bytes, so match offsets are the byte offsets FTS5 wants: a run of
# ASCII letters/digits, one other printable ASCII character, or one multi-byte
# character.
_TOKEN = re.compile(rb"[A-Za-z0-9]+|[\x21-\x7e]|[\xc0-\xff][\x80-\xbf]*")


class ZhCharTokenizer(fts5.FTS5Tokenizer):
    def tokenize(self, text, flags):
        for m in _TOKEN.finditer(text.encode("utf-8")):
            token = m.group().decode("utf-8", "replace")
            if not token.isspace():
                yield token.lower(), m.start(), m.end()


_TOKENIZER = fts5.make_fts5_tokenizer(ZhCharTokenizer())
_CONNECTIONS: list[sqlite3.Connection] = []


def register(conn: sqlite3.Connection) -> None:
    fts5.register_tokenizer(conn, NAME, _TOKENIZER)
    _CONNECTIONS.append(conn)


@atexit.register
def _close_connections() -> None:
    # A connection still open at interpreter exit would be closed after the
    # tokenizer's cffi callbacks are freed, and SQLite would call into freed
    # memory (a segfault at exit). Closing first keeps the exit clean.
    for conn in _CONNECTIONS:
        try:
            conn.close()
        except sqlite3.Error:
            pass
