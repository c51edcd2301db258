"""Chinese full-text search with a tokenizer built into SQLite.

SQLite's tokenizers keep a run of Han characters as one token, so the index
is built over an *index form* of each text instead of the text itself: the
text folded character by character (:func:`fold`: traditional → simplified
with OpenCC's tables, one case, no accents, full-width and ASCII forms made
one) with a space between every two characters.  Every Han character, letter,
digit and punctuation mark is then a token of its own for FTS5's ``ascii``
tokenizer, tokenised and indexed in C; the index form is computed once per
stored text (:func:`sql_index_form`: UTF-8 to UTF-8 in C, ``archive/_index_form.c``,
or NumPy where that was not compiled) and never stored — the FTS5 tables read
it through the views ``documents_search_text`` and ``problems_search_text``.

A search term becomes the FTS5 *phrase* of its index form (:func:`parse`),
which makes every search an exact substring search for terms of any length:
``"四 风"`` matches 四 followed by 风.  Punctuation marks are tokens, so a
phrase never runs across one (``整，改`` is not ``整改``); whitespace and
control characters are not tokens, so they are ignored on both sides
(``王 伟`` in a byline is found by 王伟).  Letters match regardless of case
and accents, full-width and ASCII forms alike.

Any SQLite — the ``sqlite3`` shell, DB Browser, another language — can search
the archive without this package, by writing the phrase with spaces::

    select id, title from documents
    where rowid in (select rowid from documents_fts where documents_fts match '"巡 视 整 改"');

Only the *contents* of the FTS tables (``snippet()``, ``highlight()``,
selecting their columns) need the ``zh_index_form`` SQL function, which
:func:`register_functions` adds to a connection (the archive and the Datasette
plugin do).  Writing documents needs it too: the triggers that keep the index
in step call it.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
import unicodedata
import zlib
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import opencc

try:  # archive/_index_form.c, built by the install where a C compiler is present
    from archive._index_form import index_form as _compiled_index_form
    from archive._index_form import index_form_utf8 as _compiled_index_form_utf8
    from archive._index_form import pair_form_utf8 as _compiled_pair_form_utf8
    from archive._index_form import comparable as _compiled_comparable
    from archive._index_form import holds_all as _compiled_holds_all
except (ImportError, TypeError):
    # TypeError: the loader setuptools writes into an egg (scrapyd-deploy's) fails
    # with it; a Scrapyd worker only captures pages, the writer indexes them.
    _compiled_index_form = _compiled_index_form_utf8 = _compiled_pair_form_utf8 = _compiled_comparable = None
    _compiled_holds_all = None

logger = logging.getLogger(__name__)

FUNCTION = "zh_index_form"
# The characters whose neighbouring pairs the auxiliary pair index keeps (see :data:`PAIRS`).
PAIRED_CHARACTERS_FILE = Path(__file__).with_name("paired_characters.txt")
# The index form holds only token characters and spaces, so SQLite's simplest
# tokenizer splits it: every ASCII letter and digit, and every other character,
# is a token; spaces separate them.  (It tokenises half as fast again as unicode61.)
TOKENIZE = "ascii"
# FTS5 settings kept in each index's config table.  One token per character makes
# every common character's position list long: pages of 16,000 bytes instead of
# 4,050, and 64 MiB of pending terms before a flush instead of 1 MiB (so a
# rebuild writes a few large segments, not thousands to merge), build the same
# index in ~30% less CPU, and searches read it as fast.  Segments are merged 4 at a
# time (FTS5's ``automerge``): 16 at a time builds a large index faster (it is rewritten
# once, not log4 of its flushes times) but leaves more segments, and every term of a
# search probes each (README, "Benchmarks": rare phrases' counts 1.3–2.6× slower at 100k).
FTS5_SETTINGS = {"pgsz": 16000, "hashsize": 64 * 2**20}

# CJK ideographs (extension A, the main block, extensions B–F): themselves,
# unless OpenCC has a simplified form; everything else is decided one by one.
_IDEOGRAPHS = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0x20000, 0x2FA20))
# CJK radicals and compatibility ideographs, mapped by OpenCC too.
_OPENCC_RANGES = (*_IDEOGRAPHS, (0x2E80, 0x2FE0), (0xF900, 0xFB00))
_TABLE_SIZE = 0x30000
# Blocks of the Basic Multilingual Plane that fold to themselves (ideographs,
# Hangul syllables, private use, surrogates set apart); above it, only the
# ideographs change (OpenCC).  Everything else is folded one character at a time.
_UNCHANGED_BMP = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xAC00, 0xD7A4), (0xD800, 0xF900))
_FULL_WIDTH_OFFSET = 0xFEE0  # ！ (U+FF01) … ～ (U+FF5E) are ! … ~ shifted


def is_token_character(character: str) -> bool:
    """Letters, digits, private-use characters, punctuation and symbols are what a
    search compares; spaces, control and format characters and combining marks are ignored."""
    category = unicodedata.category(character)
    return category[0] in "LNPS" or category == "Co"


def _fold_character(character: str) -> str:
    """One character as the index sees it: one character, or a space when it is ignored."""
    category = unicodedata.category(character)
    if not (category[0] in "LNPS" or category == "Co"):
        return " "
    if category == "Lo" or category[0] != "L" and not character.isascii() and not "\uff01" <= character <= "\uff5e":
        return character  # no case, no accents: most of the table
    if "\uff01" <= character <= "\uff5e":
        character = chr(ord(character) - _FULL_WIDTH_OFFSET)
    if character.isascii():
        if character.isalnum():
            return character.lower()
        # ASCII punctuation becomes its full-width twin: a token for the ascii
        # tokenizer (which would drop it), and the same token as the full-width mark.
        return chr(ord(character) + _FULL_WIDTH_OFFSET)
    decomposed = unicodedata.normalize("NFD", character)
    if len(decomposed) > 1 and all(unicodedata.combining(mark) for mark in decomposed[1:]):
        character = decomposed[0]  # é → e
    lower = character.lower()
    return _fold_character(lower) if len(lower) == 1 and lower != character else character


@cache
def _fold_table() -> np.ndarray:
    """Code point → folded code point, for every code point below U+30000.

    Traditional characters are converted one by one (each on its own line, so
    OpenCC's phrase tables cannot join neighbours): the same text always
    folds to the same length, and a substring of a text folds to a substring
    of the folded text — what makes a folded query find a folded document.
    """
    table = np.arange(_TABLE_SIZE, dtype=np.uint32)
    table[0xD800:0xE000] = ord(" ")  # surrogates
    candidates = np.ones(0x10000, dtype=bool)
    for start, end in _UNCHANGED_BMP:
        candidates[start:end] = False
    for codepoint in np.flatnonzero(candidates).tolist():
        folded = _fold_character(chr(codepoint))
        if folded != chr(codepoint):
            table[codepoint] = ord(folded)
    # Ideographs, each on its own line; lines that stay one character long are the table.
    codepoints = np.concatenate([np.arange(start, end, dtype=np.uint32) for start, end in _OPENCC_RANGES])
    lines = np.full(2 * len(codepoints), ord("\n"), dtype=np.uint32)
    lines[0::2] = codepoints
    converted = opencc.OpenCC("t2s").convert(lines.tobytes().decode("utf-32-le"))
    if len(converted) == len(lines):
        simplified = np.frombuffer(converted.encode("utf-32-le"), dtype=np.uint32)[0::2]
    else:  # some character became two: keep the one-to-one conversions only
        simplified = np.array([ord(c) if len(c) == 1 else cp for cp, c in zip(codepoints.tolist(), converted.split("\n"))],
                              dtype=np.uint32)
    table[codepoints] = simplified
    return table


def _folded_codepoints(text: str) -> np.ndarray:
    codepoints = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    table = _fold_table()
    folded = table[np.minimum(codepoints, _TABLE_SIZE - 1)]
    # Above U+2FFFF: ideographs of the newest extensions stay; tags and
    # variation selectors (plane 14) are ignored.
    high = codepoints >= _TABLE_SIZE
    if high.any():
        folded = np.where(high, np.where((codepoints >> 16) == 14, ord(" "), codepoints), folded)
    return folded.astype(np.uint32)


def fold(text: str) -> str:
    """The text as a search compares it, character by character (same length):
    traditional → simplified, full-width → ASCII letters and digits, lower case,
    accents off, ASCII punctuation → full-width, ignored characters → spaces."""
    return _folded_codepoints(text).tobytes().decode("utf-32-le", "surrogatepass")


def index_form(text: str | None) -> str | None:
    """The text as the index sees it: folded, one space between every two characters."""
    if text is None:
        return None
    if _compiled_index_form is not None:
        return _compiled_index_form(str(text), _fold_table())
    return _numpy_index_form(str(text))


def sql_index_form(value: str | bytes | None) -> str | bytes | None:
    """``zh_index_form`` in SQL.  The index's views pass each text cast to a BLOB,
    and get its index form back as UTF-8 bytes: SQLite's text never becomes a
    Python string on its way to the index (a tenth of an index build).  FTS5
    reads a BLOB's bytes as its text.  Given text, it returns text."""
    if isinstance(value, bytes):
        if _compiled_index_form_utf8 is not None:
            return _compiled_index_form_utf8(value, _fold_table())
        return index_form(value.decode("utf-8", "replace")).encode("utf-8")
    return index_form(value)


@cache
def paired_characters() -> frozenset[str]:
    """The characters whose pairs the pair index keeps: the most frequent Han
    characters (``bench/paired_characters.py`` chose them from real texts)."""
    lines = PAIRED_CHARACTERS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset("".join(line for line in lines if not line.startswith("#")))


# The pair form's SQL name carries a fingerprint of the paired characters: an index built
# with another set is another definition, built again when the archive is next opened for
# writing (:func:`create`) and not read before (the plugin compares definitions).
PAIR_FUNCTION = "zh_pair_form_" + format(zlib.crc32("".join(sorted(paired_characters())).encode("utf-8")), "08x")


@cache
def _pair_codes() -> tuple[bytes, bytes]:
    """What the compiled pair form needs (``pair_form_utf8``): for each code point below
    U+30000, a uint16 code of its folded form (0xFFFF ignored, 0 not paired, else its number
    among the paired characters), and the paired characters' UTF-8 at three bytes each,
    after three unused bytes (number 0)."""
    ordered = sorted(paired_characters())
    if not all("\u0800" <= character <= "\uffff" for character in ordered):
        raise ValueError("a paired character outside U+0800..U+FFFF (three bytes of UTF-8)")
    numbers = np.zeros(_TABLE_SIZE, dtype=np.uint16)
    numbers[[ord(character) for character in ordered]] = np.arange(1, len(ordered) + 1)
    folded = _fold_table()
    codes = np.where(folded == ord(" "), 0xFFFF, numbers[np.minimum(folded, _TABLE_SIZE - 1)])
    codes[folded >= _TABLE_SIZE] = 0
    return codes.astype(np.uint16).tobytes(), b"\0\0\0" + "".join(ordered).encode("utf-8")


def pair_form(text: str) -> str:
    """The text's distinct pairs of neighbouring characters (folded, ignored
    characters skipped, as a phrase skips them) whose two characters are both
    :func:`paired_characters`, in order of first occurrence, spaces between:
    each pair a token of the pair index."""
    compared = comparable(text)
    kept = paired_characters()
    pairs = dict.fromkeys(a + b for a, b in zip(compared, compared[1:]) if a in kept and b in kept)
    return " ".join(pairs)


def sql_pair_form(value: str | bytes | None) -> str | bytes | None:
    """``zh_pair_form_…`` in SQL (:data:`PAIR_FUNCTION`): like :func:`sql_index_form`, BLOB in, UTF-8 bytes out (in C where compiled)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        if _compiled_pair_form_utf8 is not None:
            return _compiled_pair_form_utf8(value, *_pair_codes())
        return pair_form(value.decode("utf-8", "replace")).encode("utf-8")
    return pair_form(str(value))


def _numpy_index_form(text: str) -> str:
    folded = _folded_codepoints(text)
    if len(folded) == 0:
        return ""
    spaced = np.full(2 * len(folded) - 1, ord(" "), dtype=np.uint32)
    spaced[0::2] = folded
    return spaced.tobytes().decode("utf-32-le", "surrogatepass")


def comparable(text: str) -> str:
    """What a search compares: the folded text without the characters the index ignores.

    A term matches a text exactly when ``comparable(term)`` is a substring of
    ``comparable(text)`` (the benchmark's and the tests' oracle).
    """
    if _compiled_comparable is not None:
        return _compiled_comparable(str(text), _fold_table())
    return fold(text).replace(" ", "")


def match_expression(text: str | None) -> str:
    """The FTS5 expression for a search typed by a person; matches nothing when there is nothing to find."""
    return parse(text or "").match or '""'


def register_functions(conn: sqlite3.Connection) -> None:
    """``zh_index_form(text)`` for the index, ``zh_match(search)`` for queries (canned
    queries use it) and ``zh_holds(terms, text, …)`` for walks of a table (:func:`holds`)."""
    conn.create_function(FUNCTION, 1, sql_index_form, deterministic=True)
    conn.create_function(PAIR_FUNCTION, 1, sql_pair_form, deterministic=True)
    conn.create_function("zh_match", 1, match_expression, deterministic=True)
    conn.create_function("zh_holds", -1, holds, deterministic=True)


# --- the index ---------------------------------------------------------------

@dataclass(frozen=True)
class SearchIndex:
    """One searchable table: its FTS5 table, the view it reads and the columns indexed.

    The same texts feed two indexes (:data:`INDEXES`, every character with its
    positions; :data:`PAIRS`, the pairs of common characters each row holds),
    each through its own form (``function``) and FTS5 options."""

    table: str
    columns: tuple[tuple[str, str], ...]  # (FTS column, SQL expression over the table's row)
    # Rows of other tables a column reads: (table, its column naming the row, the column it names),
    # e.g. a document's attachments; a write to them indexes the row they belong to again.
    children: tuple[tuple[str, str, str], ...] = ()
    function: str = FUNCTION  # the SQL function giving a text's form for this index
    name: str = "search"  # in the names of its view, FTS table and triggers
    options: str = ""  # further FTS5 options

    @property
    def fts(self) -> str:
        return f"{self.table}_fts" if self.name == "search" else f"{self.table}_{self.name}"

    @property
    def view(self) -> str:
        return f"{self.table}_{self.name}_text"

    def _values(self, row: str) -> str:
        return ", ".join(f"{self.function}(cast({expression.format(row=row)} as blob))" for _, expression in self.columns)

    def ddl(self) -> list[str]:
        names = ", ".join(name for name, _ in self.columns)
        view_columns = ", ".join(
            f"{self.function}(cast({expression.format(row=self.table + '.')} as blob)) as {name}"
            for name, expression in self.columns
        )
        sources = sorted(set(re.findall(r"\{row\}(\w+)", " ".join(e for _, e in self.columns))))
        changed = " or ".join(f"old.{column} is not new.{column}" for column in sources)
        watched = ", ".join(sources)
        delete = f"insert into {self.fts} ({self.fts}, rowid, {names}) values ('delete', old.rowid, {self._values('old.')});"
        insert = f"insert into {self.fts} (rowid, {names}) values (new.rowid, {self._values('new.')});"
        return [
            f"create view {self.view} as select {self.table}.rowid as source_rowid, {view_columns} from {self.table}",
            f"create virtual table {self.fts} using fts5({names}, content='{self.view}', "
            f"content_rowid='source_rowid', tokenize=\"{TOKENIZE}\"{self.options})",
            f"create trigger {self.table}_{self.name}_insert after insert on {self.table} begin {insert} end",
            f"create trigger {self.table}_{self.name}_delete after delete on {self.table} begin {delete} end",
            # Re-index only when an indexed column changed, not when a visit or
            # a canonical id is recorded: re-crawls and deduplication stay cheap.
            f"create trigger {self.table}_{self.name}_update after update of {watched} on {self.table} "
            f"when {changed} begin {delete} {insert} end",
            *self._child_triggers(),
        ]

    def _child_triggers(self) -> list[str]:
        """Before a child row changes, the indexed row is removed with the values the view gives
        then (those indexed); after it, added with the values it gives now."""
        names = ", ".join(name for name, _ in self.columns)
        statements = []
        for child, key, parent_key in self.children:
            for event, row in (("insert", "new"), ("delete", "old"), ("update", "new")):
                of_row = (f"from {self.view} where source_rowid = (select rowid from {self.table} "
                          f"where {parent_key} = {row}.{key})")
                remove = f"insert into {self.fts} ({self.fts}, rowid, {names}) select 'delete', source_rowid, {names} {of_row};"
                add = f"insert into {self.fts} (rowid, {names}) select source_rowid, {names} {of_row};"
                statements += [
                    f"create trigger {child}_{self.table}_{self.name}_before_{event} before {event} on {child} begin {remove} end",
                    f"create trigger {child}_{self.table}_{self.name}_after_{event} after {event} on {child} begin {add} end",
                ]
        return statements


def _credits(row: str) -> str:
    # The bylines, apart from each other: a phrase never joins two names.
    fields = ("source", "author", "editor", "publisher", "declared_source", "declared_author")
    return " || ' | ' || ".join(f"coalesce({{row}}{name}, '')" for name in fields)


INDEXES = {
    "documents": SearchIndex(
        "documents",
        (("title", "{row}title"), ("body_text", "{row}body_text"), ("credits", _credits("{row}")),
         # The text read from the files the page links (attachments.text), one after the other.
         ("attachments", "(select group_concat(a.text, char(10)) from attachments a where a.document_id = {row}id)")),
        children=(("attachments", "document_id", "id"),),
    ),
    "problems": SearchIndex("problems", (("title", "{row}title"), ("text", "{row}text"))),
}
# The auxiliary pair index of each table: which rows hold each pair of neighbouring
# common characters (:func:`pair_form`), no positions (``detail=none``).  A phrase of two
# such characters is slow in the per-character index (both position lists are long, and
# every row holding both characters is checked) and one doclist here; at 100,000 documents
# it is 18 % of the build's CPU and 40 MiB beside 684 (``bench/bench_search.py``, issue 27).
PAIRS = {
    table: SearchIndex(index.table, index.columns, index.children, function=PAIR_FUNCTION, name="pairs",
                       options=", detail=none, columnsize=0")
    for table, index in INDEXES.items()
}
ALL_INDEXES = (*INDEXES.values(), *PAIRS.values())
# Triggers and shadow tables of the index before this one (the Python zh_char tokenizer).
_LEGACY_TRIGGERS = ("documents_ai", "documents_ad", "documents_au")


def _schema_sql(conn: sqlite3.Connection) -> dict[str, str]:
    return {name: sql for name, sql in conn.execute("select name, sql from sqlite_master where sql is not null")}


def _name_of(statement: str) -> str:
    return re.match(r"create (?:view|virtual table|trigger) (\w+)", statement).group(1)


def _drop_virtual_table(conn: sqlite3.Connection, name: str) -> None:
    """Drop an FTS table even when its tokenizer is not available (a legacy index).

    ``drop table`` needs the table's tokenizer; the schema row is removed
    directly instead (``writable_schema``, the documented way to remove a
    virtual table whose module is missing) and its shadow tables dropped.
    """
    try:
        conn.execute(f"drop table if exists [{name}]")
        return
    except sqlite3.OperationalError as exc:
        if "no such tokenizer" not in str(exc):
            raise
    conn.execute("pragma writable_schema = on")
    conn.execute("delete from sqlite_master where type = 'table' and name = ?", [name])
    conn.execute("pragma writable_schema = off")
    version = conn.execute("pragma schema_version").fetchone()[0]
    conn.execute(f"pragma schema_version = {version + 1}")
    for (shadow,) in conn.execute(
        "select name from sqlite_master where type = 'table' and name in (?, ?, ?, ?, ?)",
        [f"{name}_{suffix}" for suffix in ("data", "idx", "docsize", "config", "content")],
    ).fetchall():
        conn.execute(f"drop table [{shadow}]")


def create(conn: sqlite3.Connection) -> list[str]:
    """Create the search indexes, or re-create one whose definition changed.

    Returns the tables (re)indexed.  An archive made with the earlier
    ``zh_char`` tokenizer is migrated here: its index is dropped and built
    again from the stored texts.
    """
    rebuilt = []
    for index in ALL_INDEXES:
        if not conn.execute("select 1 from sqlite_master where name = ?", [index.table]).fetchone():
            continue
        if definition_matches(conn, index):
            continue
        with conn:
            _drop(conn, index)
            for statement in index.ddl():
                conn.execute(statement)
            configure(conn, index.fts)
            conn.execute(f"insert into {index.fts} ({index.fts}) values ('rebuild')")
        rebuilt.append(index.table)
    return rebuilt


def drop(conn: sqlite3.Connection) -> None:
    """Remove the search indexes (FTS tables, views, triggers); :func:`create` builds them again."""
    with conn:
        for index in ALL_INDEXES:
            _drop(conn, index)


def _drop(conn: sqlite3.Connection, index: SearchIndex) -> None:
    for trigger in _LEGACY_TRIGGERS if index.table == "documents" and index.name == "search" else ():
        conn.execute(f"drop trigger if exists [{trigger}]")
    for statement in index.ddl():
        name = _name_of(statement)
        kind = statement.split()[1]
        if kind == "virtual":
            _drop_virtual_table(conn, name)
        else:
            conn.execute(f"drop {kind} if exists [{name}]")


def definition_matches(conn: sqlite3.Connection, index: SearchIndex) -> bool:
    """The archive's view, FTS table and triggers of ``index`` are this version's."""
    schema = _schema_sql(conn)
    for statement in index.ddl():
        stored = schema.get(_name_of(statement))
        if stored is None or _normalise_sql(stored) != _normalise_sql(statement):
            return False
    return True


def _normalise_sql(sql: str) -> str:
    return re.sub(r"\s+", " ", sql.strip().rstrip(";")).lower().replace("create virtual table if not exists", "create virtual table")


def configure(conn: sqlite3.Connection, fts: str) -> None:
    """Apply :data:`FTS5_SETTINGS` to the FTS5 table ``fts`` (a setting this SQLite lacks is left at its default)."""
    for name, value in FTS5_SETTINGS.items():
        try:
            conn.execute(f"insert into {fts} ({fts}, rank) values (?, ?)", [name, value])
        except sqlite3.OperationalError:
            pass


def rebuild(conn: sqlite3.Connection, table: str) -> None:
    """Build one table's indexes (per character and pairs) again from its stored texts."""
    with conn:
        for fts in (INDEXES[table].fts, PAIRS[table].fts):
            configure(conn, fts)
            conn.execute(f"insert into {fts} ({fts}) values ('rebuild')")


# --- queries -------------------------------------------------------------------

OPERATORS = ("OR", "AND", "NOT")
MAX_QUERY_CHARACTERS = 1000
_WORD = re.compile(r'"([^"]*)"|(\S+)')


@dataclass
class SearchQuery:
    """A user's search, read leniently: every input is a valid query or a plain message."""

    text: str
    match: str | None = None  # FTS5 expression, None when there is nothing to search for
    terms: list[str] = field(default_factory=list)  # the terms to find (and highlight), as typed
    excluded: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    alternatives: bool = False  # some terms are joined by OR (else every term must occur)
    # The same search in the pair index (:data:`PAIRS`): exact when every term is two paired characters.
    pair_match: str | None = None


def pairs_of(term: str) -> list[str]:
    """The pairs of neighbouring characters of ``term`` that the pair index keeps."""
    compared = comparable(term)
    kept = paired_characters()
    return list(dict.fromkeys(a + b for a, b in zip(compared, compared[1:]) if a in kept and b in kept))


def is_pair(term: str) -> bool:
    """The term is two characters of which the pair index keeps every pair: found there exactly."""
    compared = comparable(term)
    return len(compared) == 2 and pairs_of(compared) == [compared]


def phrase(term: str) -> str:
    """The FTS5 phrase that finds ``term`` as a substring."""
    return '"' + index_form(term).replace('"', '""') + '"'


def _strip_punctuation(word: str) -> str:
    start, end = 0, len(word)
    while start < end and unicodedata.category(word[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(word[end - 1]).startswith("P"):
        end -= 1
    return word[start:end]


def parse(text: str) -> SearchQuery:
    """Read a search box input.

    Words separated by spaces must all occur; ``"…"`` keeps a phrase
    together, punctuation included; ``OR`` and ``NOT`` between two words
    combine them.  Punctuation at the ends of an unquoted word is ignored
    (``四风、`` finds 四风), unless the word is nothing but punctuation.
    An operator without a word on each side is ignored, with a note.
    """
    query = SearchQuery(text=text)
    text = text.replace("\x00", " ")  # FTS5 reads its query as a C string
    if len(text) > MAX_QUERY_CHARACTERS:
        text = text[:MAX_QUERY_CHARACTERS]
        query.notes.append(f"only the first {MAX_QUERY_CHARACTERS} characters were searched")
    items: list[tuple[str, str]] = []  # ("term", text) | ("op", OR/AND/NOT)
    for quoted, bare in _WORD.findall(text):
        if bare and bare in OPERATORS:
            items.append(("op", bare))
            continue
        term = quoted if not bare else (_strip_punctuation(bare) or bare)
        if any(is_token_character(c) for c in term):
            items.append(("term", term))
    if not any(kind == "term" for kind, _ in items):
        # Nothing but operators: they are the words being looked for.
        items = [("term", value) for _, value in items]
    parts: list[str] = []  # the expression: operators, and each term (as typed) in its place
    previous = None
    pending_op = None
    for kind, value in items:
        if kind == "op":
            if previous != "term" or pending_op:
                query.notes.append(f"{value} needs a word on each side; ignored")
            else:
                pending_op = value
            continue
        if pending_op:
            parts.append(pending_op)
            query.alternatives = query.alternatives or pending_op == "OR"
            (query.excluded if pending_op == "NOT" else query.terms).append(value)
        else:
            if parts:
                parts.append("AND")
            query.terms.append(value)
        pending_op = None
        parts.append(value)
        previous = "term"
    if pending_op:
        query.notes.append(f"{pending_op} needs a word on each side; ignored")
    if parts:
        # Terms and operators alternate (even places: terms).
        query.match = " ".join(phrase(part) if number % 2 == 0 else part for number, part in enumerate(parts))
        if all(is_pair(term) for term in parts[0::2]):
            # The same expression, each term (two characters) one token of the pair index.
            query.pair_match = " ".join(f'"{comparable(part)}"' if number % 2 == 0 else part
                                        for number, part in enumerate(parts))
    return query


def pair_candidates(query: SearchQuery) -> str | None:
    """An expression of the pair index matching every row the search matches and
    perhaps more (all the pairs its terms hold), or None when it has none or may
    not (OR, NOT).  The rows it matches are verified in the per-character index."""
    if query.alternatives or query.excluded or query.match is None:
        return None
    pairs = list(dict.fromkeys(pair for term in query.terms for pair in pairs_of(term)))
    return " AND ".join(f'"{pair}"' for pair in pairs) or None


# --- answering a search: every match, exact counts, long phrases ---------------

# A single term this long (characters compared) is found through its rarest windows
# (:func:`rarest_windows_rowids`) and verified on the candidates' texts.
LONG_PHRASE = 8
# A term from this long (and shorter than LONG_PHRASE) may be found through its cheapest window
# (:func:`rare_window`) when that window's rows are few.
SHORT_PHRASE = 5
WINDOW = 3  # characters per window asked of the index
WINDOWS = 3  # at most this many windows asked together (AND): their candidates' intersection is verified
FREQUENCY_SAMPLE = 500  # rows read to estimate how common each character and window is
# The cost model of :func:`rarest_windows`, in ms per 100,000 rows (fitted at 100k
# generated documents): to find a phrase, the index goes through the rows holding its
# rarest character; in each, every other character's positions are read (~0.01 µs
# each) or, when its list holds much more than those rows, sought (SEEK_COST: ~2 µs,
# the cost of 200 positions).  Verifying a candidate on its texts costs VERIFY_COST.
SEEK_COST = 200
VERIFY_COST = 15_000  # 0.15 ms a candidate, × 100,000 rows
FREQUENCY_TTL_S = 3600
_SAMPLES: dict[tuple[str, str], tuple[float, "Sample"]] = {}  # (database file, table) → (when, its sample)
_SAMPLING: set[tuple[str, str]] = set()  # (database file, table) being sampled in the background
_SAMPLING_LOCK = threading.Lock()
_WINDOW_BITS = 20  # 3-character windows are counted in 2**20 buckets of their hashes
# A copy (a republished page of a text) → the row of its text: documents map to
# their canonical record, problems of a copy to nothing (counted with the canonical report's).
_COPIES = {
    "documents": "select d.rowid, c.rowid from documents d join documents c on c.id = d.canonical_id where d.is_canonical = 0",
    "problems": "select rowid, null from problems where is_canonical = 0",
}
_NO_TEXT = -1  # a copy's text row when it counts with nothing
_KEPT_COPIES = 16  # (archive, table) pairs whose copies are kept (see :func:`copies_of`)
# (database file, table) → (its copies' version when read, the copies' rows, their texts' rows)
_COPIES_LOCK = threading.Lock()
_COPIES_KEPT: OrderedDict[tuple[str, str], tuple[int, np.ndarray, np.ndarray]] = OrderedDict()


def database_file(conn: sqlite3.Connection) -> str:
    """The file of the connection's main database ('' for one in memory)."""
    (path,) = [row[2] for row in conn.execute("pragma database_list") if row[1] == "main"]
    return path


def copies_version(conn: sqlite3.Connection, table: str) -> int | None:
    """The table's ``copies_version`` (:data:`archive.schema.COPIES_VERSION`); None on an
    archive made before it."""
    try:
        row = conn.execute("select version from copies_version where table_name = ?", [table]).fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def index_state(conn: sqlite3.Connection, table: str, fts: str) -> tuple[bytes, int] | None:
    """What a count in ``fts`` depends on, the same for every connection: the FTS5
    index's structure record (row 10 of ``{fts}_data``: its segments and a counter of
    what was written, rewritten at every change of the index; tests/test_search_page.py
    checks that a write moves it and a visit recorded does not) and the table's copies'
    version.  None when either is missing (nothing is then kept by it)."""
    version = copies_version(conn, table)
    structure = conn.execute(f"select block from {fts}_data where id = 10").fetchone()
    if version is None or structure is None:
        return None
    return structure[0], version


def copies_of(conn: sqlite3.Connection, table: str) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the table's copies (sorted) and, in the same order, the rows of
    their texts (:data:`_NO_TEXT` for none).  Reading them takes ~8 µs a copy (their
    ``canonical_id`` is in the row): 250 ms for 30,000 copies — so they are kept,
    for every connection to the archive, while the table's ``copies_version`` stands
    (:data:`archive.schema.COPIES_VERSION`: triggers move it when a copy is made,
    moved or deleted, not at every write).  An archive without it (made by older
    code and not yet opened by a writer) has them read at every count."""
    path = database_file(conn)
    version = copies_version(conn, table)  # first: copies read after it are never older than it says
    key = (path, table)
    if version is not None and path:
        with _COPIES_LOCK:  # Datasette's connections are used from several threads
            kept = _COPIES_KEPT.get(key)
            if kept is not None and kept[0] == version:
                _COPIES_KEPT.move_to_end(key)
                return kept[1], kept[2]
    pairs = np.array([(copy, _NO_TEXT if text is None else text) for copy, text in conn.execute(_COPIES[table] + " order by 1")],
                     dtype=np.int64).reshape(-1, 2)
    copies, texts = pairs[:, 0].copy(), pairs[:, 1].copy()
    if version is not None and path:
        with _COPIES_LOCK:
            _COPIES_KEPT[key] = (version, copies, texts)
            while len(_COPIES_KEPT) > _KEPT_COPIES:
                _COPIES_KEPT.popitem(last=False)
    return copies, texts


def matching_array(conn: sqlite3.Connection, table: str, match: str, fts: str | None = None) -> np.ndarray:
    """Every row matching the FTS5 expression (in ``fts``, by default the table's
    per-character index), in order: the index's doclists only, no row read.  Passed
    as one string (``group_concat``) and parsed by NumPy: a third of the time of a
    cursor's rows for 10,000 matches and more."""
    fts = fts or INDEXES[table].fts
    try:
        (listed,) = conn.execute(f"select group_concat(rowid) from {fts} where {fts} match ?", [match]).fetchone()
    except sqlite3.DataError:  # longer than the connection's length limit: row by row
        return np.fromiter((rowid for (rowid,) in conn.execute(f"select rowid from {fts} where {fts} match ?", [match])),
                           dtype=np.int64)
    return np.fromstring(listed, dtype=np.int64, sep=",") if listed else np.zeros(0, dtype=np.int64)


def matching_rowids(conn: sqlite3.Connection, table: str, match: str, fts: str | None = None) -> list[int]:
    """:func:`matching_array` as a list."""
    return matching_array(conn, table, match, fts).tolist()


def count_texts(conn: sqlite3.Connection, table: str, rowids) -> int:
    """How many texts the rows are: a text and its republished copies count once.
    Reads only the copies (:func:`copies_of`), never the matching rows."""
    matched = np.asarray(rowids, dtype=np.int64)
    if len(matched) > 1 and not (matched[1:] > matched[:-1]).all():  # the index's lists come in order
        matched = np.unique(matched)
    copies, texts = copies_of(conn, table)
    if not len(copies) or not len(matched):
        return len(matched)
    at = np.minimum(np.searchsorted(copies, matched), len(copies) - 1)
    is_copy = copies[at] == matched
    pages = matched[~is_copy]
    texts_of_copies = np.unique(texts[at[is_copy]])
    texts_of_copies = texts_of_copies[texts_of_copies != _NO_TEXT]
    # A copy's text counts once more when its own page is not among the matches (the copy differs).
    if not len(pages):
        return len(texts_of_copies)
    listed = pages[np.minimum(np.searchsorted(pages, texts_of_copies), len(pages) - 1)] == texts_of_copies
    return len(pages) + int((~listed).sum())


def count_matches(conn: sqlite3.Connection, table: str, match: str, fts: str | None = None) -> tuple[int, int]:
    """(texts, pages) matching the FTS5 expression in ``fts`` (by default the
    per-character index): counted in the index (``count(*)`` reads only doclists
    for one character or pair) when the table has no copies; else the same as
    :func:`count_texts` of every match, read from the index once."""
    fts = fts or INDEXES[table].fts
    if not len(copies_of(conn, table)[0]):
        (pages,) = conn.execute(f"select count(*) from {fts} where {fts} match ?", [match]).fetchone()
        return pages, pages
    matched = matching_array(conn, table, match, fts)
    return count_texts(conn, table, matched), len(matched)


def _window_buckets(text: str) -> np.ndarray:
    """The bucket of each 3-character window of ``text`` (a hash of its code points)."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < 3:
        return np.zeros(0, dtype=np.uint64)
    mixed = (codes[:-2] * np.uint64(0x9E3779B97F4A7C15) + codes[1:-1]) * np.uint64(0xC2B2AE3D27D4EB4F) + codes[2:]
    return (mixed * np.uint64(0x165667B19E3779F9)) >> np.uint64(64 - _WINDOW_BITS)


@dataclass(frozen=True)
class Sample:
    """How common characters and 3-character windows are among ``rows`` rows spread over a table."""

    rows: int
    shares: dict[str, float]  # character → share of the sampled rows holding it
    rates: dict[str, float]  # character → its occurrences per sampled row
    window_rows: np.ndarray  # bucket of a window's hash → sampled rows holding a window of it

    def window_share(self, window: str) -> float:
        """The share of rows holding ``window`` (3 characters), never under half a
        sampled row (the sample cannot tell rarer; a shared bucket may make it more)."""
        return max(float(self.window_rows[_window_buckets(window)[0]]), 0.5) / max(self.rows, 1)

    def window_cost(self, window: str) -> float:
        """What the index takes to find ``window``, or any phrase (ms per 100,000 rows, :data:`SEEK_COST`)."""
        rarest = min(self.shares.get(c, 0) for c in window)
        return sum(min(self.rates.get(c, 0), SEEK_COST * rarest) for c in window)


def sample(conn: sqlite3.Connection, table: str) -> Sample:
    """How common characters and windows are, from ``FREQUENCY_SAMPLE`` rows spread
    over the table.  Kept: once ``FREQUENCY_TTL_S`` old it is still used while a new
    one is taken in the background (:func:`sample_later`; a sample takes ~0.5 s at
    1,000,000 documents, which no search should wait for).

    It only steers which windows of a long phrase the index is asked for (the
    result is verified whatever they are).  The index's own vocabulary
    (``fts5vocab``) reads a character's whole list to count its rows: about
    8 ms per common character at 4,600 documents, growing with the archive —
    more than the search it would steer; and it knows nothing of windows, whose
    characters may all be common while the window is rare (办公区 beside 。佚名)."""
    path = database_file(conn)
    kept = _SAMPLES.get((path, table))
    if kept is not None and time.monotonic() - kept[0] < FREQUENCY_TTL_S:
        return kept[1]
    if kept is not None and path:  # old: it serves while a new one is taken
        sample_later(path, table)
        return kept[1]
    return _take_sample(conn, table)


def sample_later(path: str, table: str) -> None:
    """Take the table's sample (:func:`sample`) in a thread of its own, on a read-only
    connection to the archive file at ``path``; one at a time per table.  The Datasette
    plugin starts it when it starts, so the first long phrase searched does not wait."""
    key = (path, table)
    with _SAMPLING_LOCK:
        if key in _SAMPLING:
            return
        _SAMPLING.add(key)

    def take() -> None:
        try:
            conn = sqlite3.connect(Path(path).as_uri() + "?mode=ro", uri=True)
            try:
                _take_sample(conn, table)
            finally:
                conn.close()
        except sqlite3.Error as exc:  # the kept sample (or none) stays: a search takes one itself
            logger.warning("could not sample %s of %s: %s", table, path, exc)
        finally:
            with _SAMPLING_LOCK:
                _SAMPLING.discard(key)

    threading.Thread(target=take, name=f"sample of {table}", daemon=True).start()


def _take_sample(conn: sqlite3.Connection, table: str) -> Sample:
    index = INDEXES[table]
    first, last = conn.execute(f"select (select min(rowid) from {table}), (select max(rowid) from {table})").fetchone()
    step = max(((last or 0) - (first or 0)) // FREQUENCY_SAMPLE, 1)
    # Columns apart (a space is no character compared), so no window runs across two.
    columns = ", ".join(f"coalesce({expression.format(row='')}, '')" for _, expression in index.columns)
    rows = 0
    counts: dict[str, int] = {}
    occurrences: dict[str, int] = {}
    window_rows = np.zeros(2**_WINDOW_BITS, dtype=np.uint32)
    chosen = list(range(first or 0, (last or 0) + 1, step))[:FREQUENCY_SAMPLE]
    for texts in conn.execute(f"select {columns} from {table} where rowid in (select value from json_each(?))",
                              [json.dumps(chosen)]):
        rows += 1
        compared = [comparable(text) for text in texts]
        for character, times in Counter("".join(compared)).items():
            counts[character] = counts.get(character, 0) + 1
            occurrences[character] = occurrences.get(character, 0) + times
        window_rows[np.unique(np.concatenate([_window_buckets(text) for text in compared]))] += 1
    shares = {character: count / max(rows, 1) for character, count in counts.items()}
    rates = {character: times / max(rows, 1) for character, times in occurrences.items()}
    found = Sample(rows, shares, rates, window_rows)
    _SAMPLES[(database_file(conn), table)] = (time.monotonic(), found)
    return found


def rarest_windows(terms: list[str], found: Sample, width: int = WINDOW, most: int = WINDOWS) -> tuple[list[str], float]:
    """The windows of ``width`` characters, taken from the ``terms`` (compared
    forms) and not overlapping within one, that find the terms' rows soonest: each
    window the index is asked for costs what it reads (:meth:`Sample.window_cost`);
    the rows holding them all are verified (:data:`VERIFY_COST` each, their number
    estimated from the windows' shares as if independent).  Windows are added,
    cheapest total first, while they lower the total, up to ``most``.
    Returns the windows and their estimated total."""
    places = {(number, start): term[start : start + width]
              for number, term in enumerate(terms) for start in range(len(term) - width + 1)}
    costs = {place: (found.window_cost(window), found.window_share(window)) for place, window in places.items()}
    chosen: list[tuple[int, int]] = []
    listed, share = 0.0, 1.0
    while len(chosen) < most:
        options = [(listed + cost + VERIFY_COST * share * window_share, place) for place, (cost, window_share) in costs.items()
                   if all(place[0] != other or abs(place[1] - other_start) >= width for other, other_start in chosen)]
        if not options:
            break
        total, place = min(options)
        if chosen and total >= listed + VERIFY_COST * share:
            break
        chosen.append(place)
        listed += costs[place][0]
        share *= costs[place][1]
    return [places[place] for place in sorted(chosen)], listed + VERIFY_COST * share


def rarest_windows_rowids(conn: sqlite3.Connection, table: str, terms: list[str]) -> list[int]:
    """The rows holding every one of ``terms`` (one of them a long phrase),
    exactly: the index finds the rows holding their rarest windows, and each
    candidate's indexed texts are compared as the index would
    (:func:`comparable`).  The time is bounded by the rarest windows' lists,
    not by the phrases' length.  When the model expects the whole phrases to cost
    less (every window common, so many candidates), the index is asked for them."""
    compared = [comparable(term) for term in terms]
    found = sample(conn, table)
    windows, cost = rarest_windows(compared, found)
    if sum(found.window_cost(term) for term in compared) <= cost:
        return matching_rowids(conn, table, " AND ".join(phrase(term) for term in terms))
    candidates = matching_rowids(conn, table, " AND ".join(phrase(window) for window in windows))
    return verified_on_texts(conn, table, terms, candidates)


def rare_window(conn: sqlite3.Connection, table: str, terms: list[str]) -> str | None:
    """The FTS5 phrase of the cheapest 3-character window of a shorter phrase (``SHORT_PHRASE``
    to ``LONG_PHRASE`` characters) among ``terms``, when the index finds it for less than the
    terms themselves (:meth:`Sample.window_cost`), else None.  In 鑫整改台账欧阳 the index
    seeks 整's and 改's long lists in every row holding 鑫 (77 ms at 1,000,000 documents);
    账欧阳 reads no long list (14 ms, 3 rows).  The rows it finds are candidates, verified on
    their texts (:func:`verified_on_texts`) when they are few."""
    compared = [comparable(term) for term in terms]
    if not any(SHORT_PHRASE <= len(term) < LONG_PHRASE for term in compared):
        return None
    found = sample(conn, table)
    windows = [term[start : start + WINDOW] for term in compared if SHORT_PHRASE <= len(term) < LONG_PHRASE
               for start in range(len(term) - WINDOW + 1)]
    cheapest = min(windows, key=found.window_cost)
    if found.window_cost(cheapest) >= sum(found.window_cost(term) for term in compared):
        return None
    return phrase(cheapest)


@lru_cache(maxsize=256)
def _compared_terms(terms: str) -> tuple[bytes, ...]:
    return tuple(comparable(term).encode("utf-8") for term in json.loads(terms))


def holds_all(wanted: tuple[bytes, ...], values) -> bool:
    """Every one of ``wanted`` (UTF-8 of comparable forms) occurs in one of the texts
    ``values`` (str, UTF-8 bytes or None), compared as the index compares a row's columns
    (:func:`comparable`; no phrase runs across two columns).  In C where compiled: each
    text folded from UTF-8 until every term is found, no Python string made
    (a candidate's texts in ~2 µs beside the ~7 µs SQLite takes to read them)."""
    values = tuple(value if value is None or isinstance(value, (str, bytes)) else str(value) for value in values)
    if _compiled_holds_all is not None:
        return _compiled_holds_all(wanted, _fold_table(), values)
    texts = [comparable(value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
             for value in values if value is not None]
    return all(any(term.decode("utf-8") in text for text in texts) for term in wanted)


def holds(terms: str, *values) -> int:
    """``zh_holds(terms, text, …)`` in SQL: 1 when every one of ``terms`` (a JSON list)
    occurs in one of the texts (:func:`holds_all`).  A page that walks a table in its sort
    order checks each row it reads so, instead of asking the index about it (which seeks
    every character's list again); passing the texts as BLOBs spares SQLite and Python
    a string each."""
    return int(holds_all(_compared_terms(terms), values))


def verified_on_texts(conn: sqlite3.Connection, table: str, terms: list[str], candidates: list[int]) -> list[int]:
    """The ``candidates`` whose indexed texts hold every one of ``terms``, compared
    as the index compares them (:func:`holds_all`).  Reading a few rows' texts is
    cheaper than asking the index about each (every lookup seeks each character's
    list again: 0.2–2 ms a row)."""
    wanted = _compared_terms(json.dumps(terms, ensure_ascii=False))
    return [rowid for rowid, *values in conn.execute(
        f"select rowid, {texts_of(table, table + '.')} from {table} where rowid in (select value from json_each(?)) order by rowid",
        [json.dumps(candidates)],
    ) if holds_all(wanted, values)]


def texts_of(table: str, row: str) -> str:
    """The indexed texts of ``table``'s row (its columns qualified by ``row``, e.g. the
    table's name: a column's subquery, a document's attachments, has an id of its own),
    as BLOBs: what :func:`holds_all` reads."""
    return ", ".join(f"cast({expression.format(row=row)} as blob)" for _, expression in INDEXES[table].columns)
