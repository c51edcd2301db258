"""The search benchmark's archive at a million documents: the documents table loaded in bulk.

``Archive.ingest`` (the path of crawl, import and rebuild) stores about 150
generated pages per second of CPU: a million take five hours here.  The search
surfaces read only the ``documents`` table (its texts, bylines, dates, document
type and canonical id) and the search indexes built from it, so this path
writes that table as the ingest would and builds the indexes once at the end:

- the same documents in the same order (``search_corpus.Corpus(seed=7)``), each
  the same CCDI article page, read by the pipeline's own stages (extract, clean,
  normalise, classify: :func:`document_row`) in worker processes;
- the row completed as ``archive.store`` completes a new page (first/last seen,
  one version, its own canonical record: generated texts are all distinct, so
  no copy group joins two), inserted without the index's triggers;
- the search indexes (per character and pairs) built by FTS5 ``rebuild`` from
  the stored texts (:func:`archive.search_index.create`): its CPU is the build.

Left out, and read by no search surface of the documents table: the disclosure
grammar (``disclosures`` and ``problems`` rows, 1.2 % of documents have a
problem row: ``/-/search`` finds no problems in a bulk archive) and the
copy-group signatures (``minhash``).  ``tests/test_bench_search.py`` checks at
5,000 documents that the two archives' documents tables are equal and answer
every benchmark query with the same rows and counts.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import sqlite3
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_corpus import Corpus  # noqa: E402
from sqlite_utils import Database  # noqa: E402

from archive import search_index  # noqa: E402
from archive.db import Archive  # noqa: E402
from archive.store import insert_rows  # noqa: E402
from pipelines import RawDocument, prepare  # noqa: E402

FETCHED_AT = "2025-06-01T00:00:00+00:00"
CHUNK = 10_000  # pages generated, processed and inserted together (one transaction)


def raw_page(document) -> RawDocument:
    """A generated document as the page the benchmark's ingest reads."""
    return RawDocument(url=document.url, body=document.page(), content_type="text/html", fetched_at=FETCHED_AT)


def document_row(raw: RawDocument) -> dict:
    """The documents row ``archive.store`` writes for a new page: ``pipelines.process``'s
    stages before the disclosure grammar, as it calls them, and what ``store`` adds."""
    from pipelines import classify, clean, extract, normalise

    extracted = extract.extract(raw)
    document = normalise.normalise(raw, extracted, clean.clean(extracted))
    document["warnings"] = json.dumps(extracted.warnings, ensure_ascii=False) if extracted.warnings else None
    document["doc_type"], document["doc_type_rule"] = classify.classify_explained(document["title"] or "",
                                                                                  document["body_text"])
    document.update(first_seen_at=raw.fetched_at, last_seen_at=raw.fetched_at, last_changed_at=None, version_count=1,
                    gone_at=None, canonical_id=document["id"])
    return document


def _pages(count: int, skip: int = 0):
    """Chunks of :data:`CHUNK` raw pages, generated in order, from document ``skip + 1`` on
    (the first ``skip`` are generated too, as the generator's state depends on them)."""
    documents = Corpus(seed=7).documents(count)
    for _ in zip(range(skip), documents):
        pass
    while chunk := [raw_page(document) for _, document in zip(range(CHUNK), documents)]:
        yield chunk


def bulk_load(db_path: Path, docs: int, workers: int | None = None, prefix: Path | None = None) -> dict:
    """Write ``docs`` generated documents into a new archive at ``db_path`` (its schema from
    :class:`Archive`), then build its search indexes once.  Returns the CPU of each part.

    ``prefix``: an archive this function made with fewer documents (the same generator,
    so they are this one's first): its rows are copied, not processed again."""
    for stale in db_path.parent.glob(db_path.name + "*"):
        stale.unlink()
    with Archive(db_path):  # the schema, as the server expects it
        pass
    conn = sqlite3.connect(db_path)
    search_index.register_functions(conn)
    # No WAL while loading: the index build writes gigabytes the WAL would hold twice.
    conn.execute("pragma journal_mode = delete")
    conn.execute("pragma synchronous = off")
    conn.execute("pragma cache_size = -262144")
    search_index.drop(conn)  # no per-row index triggers: built once below
    prepare()
    workers = workers or os.cpu_count() or 1
    load_start, wall_start = time.process_time(), time.perf_counter()
    db = Database(conn)
    copied = _copy_prefix(conn, prefix, docs) if prefix else 0
    pool = multiprocessing.Pool(workers)
    try:
        waiting, stored = None, copied
        for chunk in _pages(docs, skip=copied):  # one chunk processed by the workers while the one before is stored
            running = pool.map_async(_rows_of, [chunk[i::workers] for i in range(workers)])
            if waiting is not None:
                stored += _insert(db, waiting)
            waiting = running
            print(f"  loaded {stored:>8} documents, {stored / (time.perf_counter() - wall_start):6.1f} docs/s", flush=True)
        stored += _insert(db, waiting)
    finally:
        pool.close()
        pool.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = children.ru_utime + children.ru_stime
    load_cpu = time.process_time() - load_start
    load_wall = time.perf_counter() - wall_start
    index_start, index_wall_start = time.process_time(), time.perf_counter()
    search_index.create(conn)  # per-character and pair indexes: FTS5 'rebuild' over the stored texts
    index_cpu = time.process_time() - index_start
    conn.execute("pragma journal_mode = wal")
    conn.close()
    info = {"docs": docs, "load": "bulk", "outcomes": {"new": stored}, "copied_from_prefix": copied, "load_parent_cpu_s": load_cpu,
            "pipeline_worker_cpu_s": worker_cpu, "load_wall_s": load_wall, "index_build_cpu_s": index_cpu,
            "index_build_wall_s": time.perf_counter() - index_wall_start}
    print(f"bulk load: {stored} documents in {load_wall:.0f} s wall ({load_cpu:.0f} s CPU here, about {worker_cpu:.0f} s "
          f"in {workers} pipeline workers); search indexes built in {index_cpu:.1f} s of CPU", flush=True)
    return info


def _copy_prefix(conn: sqlite3.Connection, prefix: Path, docs: int) -> int:
    built = json.loads(prefix.with_suffix(".built.json").read_text())
    if built.get("load") != "bulk" or built["docs"] > docs:
        raise ValueError(f"{prefix} is not a bulk-loaded archive of at most {docs} documents")
    conn.execute("attach ? as prefix", [str(prefix)])
    columns = ", ".join(f"[{row[1]}]" for row in conn.execute("pragma main.table_info(documents)"))  # not the generated ones
    with conn:  # its generated documents only (rowid order is the generator's), not the benchmark's 10 MB one
        conn.execute(f"insert into documents (rowid, {columns}) select rowid, {columns} from prefix.documents "
                     "where rowid <= ? order by rowid", [built["docs"]])
    conn.execute("detach prefix")
    print(f"  copied the first {built['docs']} documents from {prefix}", flush=True)
    return built["docs"]


def _rows_of(raws: list[RawDocument]) -> list[dict]:
    return [document_row(raw) for raw in raws]


def _insert(db, running) -> int:
    """The rows of one chunk, in the generator's order (the workers took every ``workers``-th page)."""
    parts = running.get()
    rows = [row for group in zip(*parts) for row in group] + [row for part in parts for row in part[len(parts[-1]):]]
    with db.conn:
        insert_rows(db, "documents", rows)
    return len(rows)
