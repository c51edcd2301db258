"""Copy groups: one canonical record per text across republishers.

The same CCDI report appears on ccdi.gov.cn, Sina, people.com.cn, 12371 and
aggregators, sometimes in traditional characters.  Each document's clean text
is folded (traditional → simplified with OpenCC, punctuation, whitespace and
letter case removed), cut into character 5-grams and summarised by a MinHash
signature (datasketch; :func:`pipelines.dedupe.signature`).  Locality-sensitive
hashing finds candidates: the signature is split into bands and every band's hash is a row of
``minhash_bands``, so a new document is compared only with documents sharing a
band — an indexed lookup, which keeps the cost per document flat as the
archive grows.  Candidates whose estimated Jaccard similarity reaches
:data:`THRESHOLD` are copies — and, when either text is shorter than
:data:`SHORT_TEXT_CHARS`, only under the same title (folded alike): a short
text is mostly the words every page of its kind shares (``现将巡察整改情况予以公布。
详见附件。``, the report itself in the attachment), and two units' reports are
not one text.

Copies share ``documents.canonical_id``.  The canonical copy is the earliest
copy from the originating outlet — the outlet a copy's byline or 原文链接
names — else the earliest copy, in a total order that depends on the copies
alone (:func:`canonical_order`), so two imports of the same inputs choose alike.  Two reports of the same round share opening
and closing formulas but not their problems, and stay apart.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import numpy as np
from sqlite_utils import Database

from pipelines.dedupe import BANDS, NUM_PERM, ROWS, THRESHOLD, fold, signature

from .rows import query_rows

SHORT_TEXT_CHARS = 300
TABLES = {
    "minhash": {"document_id": str, "signature": bytes},
    "minhash_bands": {"band": int, "bucket": str, "document_id": str},
}


def _buckets(values: np.ndarray) -> list[tuple[int, str]]:
    return [
        (band, hashlib.blake2b(values[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8).hexdigest())
        for band in range(BANDS)
    ]


def create_tables(db: Database) -> None:
    db["minhash"].create(TABLES["minhash"], pk="document_id", if_not_exists=True)
    db["minhash_bands"].create(TABLES["minhash_bands"], if_not_exists=True)
    db["minhash_bands"].create_index(["band", "bucket"], if_not_exists=True)
    db["minhash_bands"].create_index(["document_id"], if_not_exists=True)


def _similar(db: Database, document: dict, values: np.ndarray) -> list[str]:
    document_id = document["id"]
    buckets = _buckets(values)
    clauses = " or ".join("(band = ? and bucket = ?)" for _ in buckets)
    params = [x for pair in buckets for x in pair]
    candidates = {
        row[0]
        for row in db.execute(f"select distinct document_id from minhash_bands where {clauses}", params)
        if row[0] != document_id
    }
    similar = []
    short = len(document.get("body_text") or "") < SHORT_TEXT_CHARS
    for candidate in candidates:
        row = db.execute(
            "select m.signature, d.title, length(d.body_text) from minhash m left join documents d on d.id = m.document_id "
            "where m.document_id = ?", [candidate],
        ).fetchone()
        other = np.frombuffer(row[0], dtype=np.uint64)
        if np.count_nonzero(other == values) / NUM_PERM < THRESHOLD:
            continue
        if (short or (row[2] or 0) < SHORT_TEXT_CHARS) and fold(document.get("title") or "") != fold(row[1] or ""):
            continue
        similar.append(candidate)
    return similar


def _host(url: str | None) -> str | None:
    return (urlsplit(url).hostname or "").removeprefix("www.") if url else None


def choose_canonical(members: list[dict]) -> str:
    """The earliest copy from the outlet the copies name as the origin, else the earliest."""
    named_outlets = {m["source"] for m in members if m["source"]} | {
        m["declared_source"] for m in members if m["declared_source"]
    }
    named_hosts = {_host(m["original_url"]) for m in members if m["original_url"]}
    originals = [m for m in members if m["publisher"] in named_outlets or _host(m["url"]) in named_hosts]

    return min(originals or members, key=canonical_order)["id"]


def canonical_order(member: dict) -> tuple[str, str, str]:
    """A total order of copies, from their inputs only: publication time, then when a web
    capture was fetched (a crawl's or a WARC record's time; a file's import time says nothing
    of the text and would make the choice depend on the order of the import), then the id."""
    captured = member["first_seen_at"] if (member["url"] or "").startswith(("http://", "https://")) else None
    return (member["published_at"] or "9999", captured or "9999", member["id"])


def link(db: Database, document: dict, values: np.ndarray | None = None) -> str:
    """Index ``document`` (already stored) and set ``canonical_id`` on its group; returns it.

    ``values``: its signature, when already computed."""
    document_id = document["id"]
    if values is None:
        values = signature(document["body_text"])
    # Plain SQL, not sqlite-utils' table methods: they look the table up in
    # sqlite_master on every call, which cost more than the writes themselves.
    db.conn.execute("delete from minhash_bands where document_id = ?", [document_id])
    db.conn.execute(
        "insert into minhash (document_id, signature) values (?, ?) "
        "on conflict (document_id) do update set signature = excluded.signature",
        [document_id, values.tobytes()],
    )
    db.conn.executemany(
        "insert into minhash_bands (band, bucket, document_id) values (?, ?, ?)",
        [(band, bucket, document_id) for band, bucket in _buckets(values)],
    )
    similar = _similar(db, document, values)
    groups = {document_id}
    if similar:
        marks = ",".join("?" * len(similar))
        groups |= {row[0] for row in db.execute(f"select canonical_id from documents where id in ({marks})", similar)}
    marks = ",".join("?" * len(groups))
    members = query_rows(
        db.conn,
        f"select id, url, publisher, source, declared_source, original_url, published_at, first_seen_at, canonical_id "
        f"from documents where id = ? or canonical_id in ({marks})",
        [document_id, *groups],
    )
    canonical = choose_canonical(members)
    moved = [m["id"] for m in members if m["canonical_id"] != canonical]
    if moved:
        db.execute(f"update documents set canonical_id = ? where id in ({','.join('?' * len(moved))})", [canonical, *moved])
    return canonical
