"""Search at scale: a generated archive built through the project's ingest, served by Datasette.

    .venv/bin/python bench/bench_search.py [--docs 100000] [--workdir DIR] [--repeat 30]
    .venv/bin/python bench/bench_search.py --docs 400 --exactness-only     (run by the test suite)

1. **Build.**  ``--docs`` documents are generated (``search_corpus``: text cut
   up from the project's fixtures, planted terms at known shares) as CCDI
   article pages and ingested one by one through ``Archive.ingest`` — the
   path of crawl, import and rebuild: pipelines, store, dedupe, search index.
   A ``--workdir`` keeps the archive, so later runs skip this step.
2. **Index build rate**, on the same stored texts (the first ``--peer-docs``
   documents), in one process: our index (``archive.search_index``: folding and the
   index form in C, ``archive/_index_form.c``, tokens in C by FTS5's ``ascii`` tokenizer) against
   FTS5's ``trigram`` (stock, and with our FTS5 settings) and plain ``unicode61`` tokenizers and a bigram index
   over the same columns —
   characters indexed per second of CPU, and index sizes.
3. **Exactness**: every benchmark query against a substring oracle over the
   stored texts (:func:`archive.search_index.comparable`), in SQL and over HTTP
   (the page's rows, their order and the count shown).
4. **Latency**: ``archive serve`` on the archive; each query class (1–4
   characters, common and rare) ``--repeat`` times on the documents table's
   search page, the JSON API and ``/-/search``: p50 / p95 over HTTP.
5. **Load** (``--readers`` concurrent clients × ``--load-requests`` each, on
   loopback): search, table and record pages, p50 / p95 by kind — once with
   readers pausing about ``--pause`` seconds on each page, once saturated
   (no pause: the server's capacity, latency mostly queueing).
4b. **Peers on the whole archive**, in this process, alternating query by query:
   our plan and first page (``search_page.make_plan`` and the page's SQL), Tantivy
   (per-character tokens of the same index form, phrase queries, exact counts;
   ``pip install -e '.[bench]'``, skipped with a note when it is absent) and stock FTS5
   ``trigram`` (MATCH from three characters, its LIKE scan under three) — p50/p95,
   each count compared with the oracle's; build CPU and size of each.
6. **A 10 MB document**, added last: ``snippet()`` and ``highlight()`` in
   Datasette's SQL (under its time limit), and ``/-/search`` finding it.
7. Peak RSS of the benchmark (build) and of the server.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from bulk_archive import bulk_load, raw_page  # noqa: E402
from search_corpus import Corpus  # noqa: E402

from archive import search_index  # noqa: E402
from archive.db import Archive, connect  # noqa: E402
from archive.plugin import search_page  # noqa: E402

CLASSES = [
    ("1 char, common", "的"),
    ("1 char, rare", "鑫"),
    ("2 chars, common", "整改"),
    ("2 chars, rare", "王伟"),
    ("3 chars, common", "党组织"),
    ("3 chars, rare", "钱立军"),
    ("4 chars, common", "巡视整改"),
    ("4 chars, rare", "欧阳志远"),
]
EXTRA = [
    ("4 chars, planted in 30%", "整改台账"),
    ("2 chars, rare, common characters", "改整"),
    ("traditional query", "巡視整改"),
    ("editor (bylines)", "李娜"),
]
# The classes of issue 27 (quotations are cut from a stored text in main()).
ISSUE_CLASSES = [
    ("2-char name, common (editor)", "刘洋"),
    ("3-char name, common (source)", "新华社"),
    ("Latin + Chinese", "财经APP"),
    ("no hits", "鑫整改台账欧阳"),
]
QUOTATIONS = (10, 30, 200)  # characters
FACETED = ("search with facets", "整改")  # its JSON API with &_withfacets=1
BIG_TERM = "翟振华"  # planted once, near the end of the 10 MB document
TEXT_COLUMNS = "title, body_text, source, author, editor, publisher, declared_source, declared_author"


def benchmark_queries(db_path: Path) -> list[tuple[str, str]]:
    """(class, term) of every query; the quotations are cut from the first long stored text."""
    conn = sqlite3.connect(db_path)
    quote_source = conn.execute("select body_text from documents where length(body_text) > 800 order by rowid limit 1").fetchone()[0]
    conn.close()
    quotations = [(f"{length}-char quotation", _quotation(quote_source, length)) for length in QUOTATIONS]
    return CLASSES + EXTRA + ISSUE_CLASSES + quotations + [FACETED]


def _quotation(text: str, length: int, start: int = 300) -> str:
    """The first ``length`` characters from ``start`` on that a search reads as one
    phrase, as typed: no white space in them (it splits a search into words) and no
    punctuation at either end (a search drops it there, the substring oracle would not).
    The corpus is cut from the project's own pages, so a footer's 京ICP备 15039510号。 may
    come where a quotation was cut before."""
    for offset in range(start, len(text) - length + 1):
        window = text[offset : offset + length]
        if search_index.parse(window).terms == [window]:
            return window
    raise ValueError(f"no {length}-character phrase in the text cut for quotations")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def stored_mib(conn: sqlite3.Connection, *prefixes: str) -> float:
    """MiB of the tables and indexes whose names start with one of ``prefixes``, one
    ``dbstat`` lookup by name each (a ``like`` reads every page of the file: 20 GB at 1 M documents)."""
    names = [name for (name,) in conn.execute("select name from sqlite_master where type in ('table', 'index')")
             if name.startswith(prefixes)]
    return sum(conn.execute("select coalesce(sum(pgsize), 0) from dbstat where name = ?", [name]).fetchone()[0]
               for name in names) / 2**20


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- 1. build -------------------------------------------------------------------


def build(db_path: Path, docs: int, load: str = "ingest", prefix: Path | None = None) -> dict:
    """The archive of ``docs`` generated documents, through the ingest or loaded in bulk
    (``bulk_archive``); reused when the workdir holds one made the same way."""
    marker = db_path.with_suffix(".built.json")
    if marker.exists():
        built = json.loads(marker.read_text())
        if built["docs"] == docs and built.get("load", "ingest") == load:
            print(f"reusing {db_path} ({docs} documents, {load})")
            return built
    info = bulk_load(db_path, docs, prefix=prefix) if load == "bulk" else ingest(db_path, docs)
    marker.write_text(json.dumps(info))
    return info


def ingest(db_path: Path, docs: int) -> dict:
    for stale in db_path.parent.glob(db_path.name + "*"):
        stale.unlink()
    cpu = 0.0
    wall_start = time.perf_counter()
    outcomes: dict[str, int] = {}
    with Archive(db_path) as archive:
        for n, document in enumerate(Corpus(seed=7).documents(docs), start=1):
            raw = raw_page(document)
            start = time.process_time()
            outcome, _ = archive.ingest(raw)
            cpu += time.process_time() - start
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if n % 10_000 == 0:
                print(f"  ingested {n:>7} documents, {n / (time.perf_counter() - wall_start):6.1f} docs/s", flush=True)
    wall = time.perf_counter() - wall_start
    print(f"ingest: {outcomes}; {docs / cpu:.1f} docs per CPU second ({wall:.0f} s wall, including generation)")
    return {"docs": docs, "load": "ingest", "outcomes": outcomes, "ingest_cpu_s": cpu, "ingest_wall_s": wall,
            "ingest_docs_per_cpu_s": docs / cpu, "ingest_rss_mib": rss_mib()}


def bring_up_to_date(db_path: Path) -> dict:
    """Open the archive for writing, as the next crawl or import would: an archive built by
    an earlier version gets what this one adds (the pair index, built from the stored texts)."""
    start = time.process_time()
    with Archive(db_path):
        pass
    conn = sqlite3.connect(db_path)
    sizes = {name: stored_mib(conn, name) for name in ("documents_fts", "documents_pairs")}
    conn.close()
    info = {"cpu_s": time.process_time() - start, "archive_mib": db_path.stat().st_size / 2**20,
            **{f"{name}_mib": size for name, size in sizes.items()}}
    print(f"  opened for writing in {info['cpu_s']:.1f} s of CPU; archive {info['archive_mib']:.0f} MiB, per-character index "
          f"{info['documents_fts_mib']:.0f} MiB, pair index {info['documents_pairs_mib']:.0f} MiB", flush=True)
    return info


def plant_big_document(db_path: Path, megabytes: int = 10) -> str:
    corpus = Corpus(seed=11, length=1000)
    paragraphs, size = [], 0
    while size < megabytes * 1_000_000:
        paragraph = "".join(corpus.document(0).paragraphs)
        paragraphs.append(paragraph)
        size += len(paragraph.encode("utf-8")) + 1
    paragraphs.insert(len(paragraphs) - 3, f"经查，{BIG_TERM}同志违规收受礼品。")
    body = "\n".join(paragraphs)
    remove_big_document(db_path)
    db = connect(db_path)
    with db.conn:
        db["documents"].insert({"id": "big0000000000000", "url": "file:///bench/big.txt", "title": "十兆字节的长篇报告",
                                "body_text": body, "published_at": "2019-01-01"})
    db.conn.close()
    print(f"planted a {len(body.encode('utf-8')) / 1e6:.1f} MB document ({len(body):,} characters)")
    return body


def remove_big_document(db_path: Path) -> None:
    db = connect(db_path)
    with db.conn:
        db.execute("delete from documents where id = 'big0000000000000'")
    db.conn.close()


# --- 2. index build rate ----------------------------------------------------------


def bigram_form(text: str | None) -> str | None:
    """Every pair of neighbouring characters a token (the design not taken: no
    position checks for 2-character terms, but many more distinct tokens to index)."""
    if text is None:
        return None
    folded = np.frombuffer(search_index.fold(text).encode("utf-32-le"), dtype=np.uint32)
    pairs = np.full((len(folded), 3), ord(" "), dtype=np.uint32)
    pairs[:, 0] = folded
    pairs[:-1, 1] = folded[1:]
    return pairs.tobytes().decode("utf-32-le")


# "trigram_tuned" is trigram with our FTS5 settings (page size, pending-terms size): the
# ratio to it is what the tokenisation itself gains, the settings aside.
INDEXES_COMPARED = ("ours", "trigram", "trigram_tuned", "unicode61", "bigram", "tantivy")


def _build_tantivy(rows: list, folder: Path) -> dict:
    """Tantivy (one writer thread) over the same texts, the index form computed in this process as ours is."""
    credits = [" | ".join(field or "" for field in row[2:]) for row in rows]  # rows: title, body_text, the bylines
    chars = sum(len(row[0] or "") + len(row[1] or "") + len(credit) for row, credit in zip(rows, credits))
    index_folder = folder / "tantivy"
    shutil.rmtree(index_folder, ignore_errors=True)
    built = tantivy_write(tantivy_index(index_folder),
                          ((number, None, row[0], row[1], credit) for number, (row, credit) in enumerate(zip(rows, credits), 1)))
    size = _folder_mib(index_folder)
    shutil.rmtree(index_folder)
    return {"index": "tantivy", "chars": chars, "cpu_s": built["cpu_s"], "index_mib": size, "text_mib": float("nan")}


def _build_once(name: str, rows: list, folder: Path) -> dict:
    if name == "tantivy":
        return _build_tantivy([row[1:] for row in rows], folder)
    path = folder / f"{name}.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    search_index.register_functions(conn)
    conn.create_function("bigram_form", 1, bigram_form, deterministic=True)
    conn.execute(f"create table documents (id, {TEXT_COLUMNS})")
    conn.execute("create table attachments (document_id, text)")  # read by our index's view; none here
    with conn:
        conn.executemany(f"insert into documents values ({', '.join('?' * 9)})", rows)
    credits = " || ' | ' || ".join(f"coalesce({c}, '')" for c in TEXT_COLUMNS.split(", ")[2:])
    chars = conn.execute(f"select sum(length(title) + length(body_text) + length({credits})) from documents").fetchone()[0]
    start = time.process_time()
    pairs = {}
    if name == "ours":
        # Views, FTS5 tables (per character, and the pair index), triggers, then 'rebuild' from the stored texts.
        search_index.create(conn)
        fts = "documents_fts"
        # The pair index's part: the same rebuild again, alone.
        pairs_fts = search_index.PAIRS["documents"].fts
        pairs_start = time.process_time()
        with conn:
            conn.execute(f"insert into {pairs_fts} ({pairs_fts}) values ('rebuild')")
        pairs = {"pairs_cpu_s": time.process_time() - pairs_start,
                 "pairs_mib": stored_mib(conn, pairs_fts)}
        start += pairs["pairs_cpu_s"]  # not counted twice
    else:
        form = "bigram_form" if name == "bigram" else ""
        tokenizer = {"bigram": search_index.TOKENIZE, "trigram_tuned": "trigram"}.get(name, name)
        conn.execute(f"create view plain_text as select rowid as source_rowid, {form}(title) as title, "
                     f"{form}(body_text) as body_text, {form}({credits}) as credits from documents")
        conn.execute(f"create virtual table {name}_fts using fts5(title, body_text, credits, content='plain_text', "
                     f"content_rowid='source_rowid', tokenize='{tokenizer}')")
        if name == "trigram_tuned":
            search_index.configure(conn, f"{name}_fts")
        with conn:
            conn.execute(f"insert into {name}_fts ({name}_fts) values ('rebuild')")
        fts = f"{name}_fts"
    cpu = time.process_time() - start
    size = stored_mib(conn, fts) + pairs.get("pairs_mib", 0)
    text = conn.execute("select sum(pgsize) from dbstat where name = 'documents'").fetchone()[0] / 2**20
    conn.close()
    path.unlink()
    return {"index": name, "chars": chars, "cpu_s": cpu, "index_mib": size, "text_mib": text, **pairs}


def build_rates(db_path: Path, docs: int, passes: int = 2) -> list[dict]:
    """Our index, trigram (stock and tuned), unicode61 and bigram built over the same stored texts,
    CPU time in this process.  The builds alternate, forwards then backwards,
    ``passes`` times, and each keeps its best pass, so a change of load on the
    shared cores falls on all of them alike."""
    source = sqlite3.connect(db_path)
    rows = source.execute(f"select id, {TEXT_COLUMNS} from documents where id != 'big0000000000000' order by rowid limit ?",
                          [docs]).fetchall()
    source.close()
    best: dict[str, dict] = {}
    try:
        import tantivy  # noqa: F401 - the bench extra
        compared = INDEXES_COMPARED
    except ImportError:
        compared = tuple(name for name in INDEXES_COMPARED if name != "tantivy")
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(passes):
            order = compared if number % 2 == 0 else tuple(reversed(compared))
            for name in order:
                built = _build_once(name, rows, Path(tmp))
                if name not in best or built["cpu_s"] < best[name]["cpu_s"]:
                    best[name] = built
    results = [best[name] for name in compared]
    for row in results:
        row["chars_per_cpu_s"] = row["chars"] / row["cpu_s"]
        print(f"  {row['index']:10} {row['chars_per_cpu_s'] / 1e6:6.2f} M chars/s of CPU   index {row['index_mib']:8.1f} MiB "
              f"(texts {row['text_mib']:.1f} MiB)", flush=True)
    ours = results[0]["chars_per_cpu_s"]
    for peer in results[1:]:
        print(f"  ours / {peer['index']}: {ours / peer['chars_per_cpu_s']:.2f}x")
    print(f"  of ours: the pair index {results[0]['pairs_cpu_s'] / results[0]['cpu_s']:.0%} of the CPU, "
          f"{results[0]['pairs_mib']:.1f} MiB")
    return results


# --- 3. exactness (SQL) -------------------------------------------------------------


class Oracle:
    """Which documents hold each benchmark query: a substring of one of their searchable
    fields, as a search compares them.  One pass over the stored texts finds every
    query's documents at once, keeping only their ids, dates and canonical ids (a
    million documents' texts would take 6 GB)."""

    def __init__(self, db_path: Path, terms):
        wanted = {term: search_index.comparable(term) for term in terms}
        found: dict[str, list[int]] = {term: [] for term in wanted}
        self.ids, self.published, self.text_of = [], [], []
        conn = sqlite3.connect(db_path)
        rows = conn.execute(f"select id, published_at, coalesce(canonical_id, id), {TEXT_COLUMNS} from documents")
        for position, row in enumerate(rows):
            self.ids.append(row[0])
            self.published.append(row[1] or "")
            self.text_of.append(row[2])
            # Fields apart: no query holds the separator, so none matches across two.
            fields = "\0".join(search_index.comparable(field) for field in row[3:] if field)
            for term, comparable in wanted.items():
                if comparable in fields:
                    found[term].append(position)
        conn.close()
        self.size = len(self.ids)
        self.found = {term: np.array(positions, dtype=np.int64) for term, positions in found.items()}

    def count(self, term: str) -> int:
        return len(self.found[term])

    def matches(self, term: str) -> set[str]:
        return {self.ids[position] for position in self.found[term]}

    def texts(self, term: str) -> int:
        """A text and its republished copies are one."""
        return len({self.text_of[position] for position in self.found[term]})

    def newest_dates(self, term: str, count: int) -> list[str]:
        return heapq.nlargest(count, (self.published[position] for position in self.found[term]))


def sql_ids(conn: sqlite3.Connection, term: str) -> set[str]:
    match = search_index.parse(term).match
    return {row[0] for row in conn.execute(
        "select id from documents where rowid in (select rowid from documents_fts where documents_fts match ?)", [match])}


# --- 4. serving ---------------------------------------------------------------------


class Server:
    """``archive serve`` on the archive, run by ``python`` from ``repo`` (another
    checkout's code for a before/after comparison)."""

    def __init__(self, db_path: Path, env: dict | None = None, python: str = sys.executable, repo: Path = REPO):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [python, "-m", "archive", "serve", "--db", str(db_path), "--port", str(self.port)],
            cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                fetch(f"{self.base}/-/versions.json")
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("the server did not start")
                time.sleep(0.3)
        self.database = f"{self.base}/{db_path.stem}"

    def peak_rss_mib(self) -> float:
        # archive serve runs Datasette as its child; report the largest process of the two.
        peaks = []
        for pid in [self.process.pid, *self._children()]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            peaks += [int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM")]
        return max(peaks, default=0.0)

    def _children(self) -> list[int]:
        try:
            return [int(p) for p in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        for pid in self._children():
            try:
                os.kill(pid, 15)
            except OSError:
                pass
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def fetch(url: str, timeout: float = 60) -> tuple[int, bytes, float, bool]:
    """(status, body, seconds, whether the server gave a page it kept)."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read()
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        body, status, headers = error.read(), error.code, error.headers
    return status, body, time.perf_counter() - start, headers.get("x-archive-cache") == "hit"


def surfaces(server: Server, term: str, faceted: bool = False) -> dict[str, str]:
    quoted = urllib.parse.quote(term)
    if faceted:
        return {"JSON API with facets": f"{server.database}/documents.json?_search={quoted}&_withfacets=1"}
    return {
        "search page (documents table)": f"{server.database}/documents?_search={quoted}",
        "JSON API": f"{server.database}/documents.json?_search={quoted}",
        "/-/search (documents + problems)": f"{server.base}/-/search?q={quoted}",
        # Where a page that did not wait for a count sends its reader (what archive.js fetches).
        "/-/count (the exact count)": f"{server.base}/-/count?table=documents&q={quoted}",
    }


def http_exact(server: Server, oracle: Oracle, term: str, probe_limit: int) -> tuple[bool, str]:
    expected = oracle.matches(term)
    status, body, _, _ = fetch(f"{server.database}/documents.json?_search={urllib.parse.quote(term)}&_col=published_at&_size=100")
    if status != 200:
        return False, f"HTTP {status}"
    page = json.loads(body)
    ids = [row[0] for row in page["rows"]]
    dates = [row[1] or "" for row in page["rows"]]
    if not set(ids) <= expected:
        return False, f"{len(set(ids) - expected)} rows the oracle does not have"
    if dates != oracle.newest_dates(term, len(dates)) or len(ids) != min(100, len(expected)):
        return False, "not the newest matching rows"
    # Every search states its count: "(N texts" and " in M pages" when copies make more,
    # or the address it follows from when the page did not wait for it.
    description = page["human_description_en"]
    streamed = re.search(re.escape(search_page.COUNTING) + r" (\S+?);", description)
    if streamed:
        status, body, _, _ = fetch(f"{server.base}{streamed.group(1)}")
        description = f"({json.loads(body)['said']}" if status == 200 else ""
    counted = re.search(r"\(([\d,]+) texts?(?: in ([\d,]+) pages)?", description)
    if not counted:
        return False, "no count stated"
    texts = int(counted.group(1).replace(",", ""))
    pages = int((counted.group(2) or counted.group(1)).replace(",", ""))
    if (texts, pages) != (oracle.texts(term), len(expected)):
        return False, f"count {texts} texts in {pages} pages, oracle {oracle.texts(term)} in {len(expected)}"
    return True, f"{texts} texts in {pages} pages, {'streamed after the page' if streamed else 'stated'}"


def latencies(servers: dict[str, Server], queries: list[tuple[str, str]], repeat: int) -> list[dict]:
    """p50/p95 of each query on each surface, by server; with two servers their
    requests alternate (which goes first alternates too), so load falls on both alike."""
    results = []
    for label, term in queries:
        urls_by_server = {name: surfaces(server, term, faceted=(label, term) == FACETED) for name, server in servers.items()}
        for surface in urls_by_server[next(iter(servers))]:
            for name in servers:  # warm-up; every request a new URL, so none is a kept page
                for number in range(2):
                    fetch(f"{urls_by_server[name][surface]}&_bench=w{number}")
            times: dict[str, list[float]] = {name: [] for name in servers}
            statuses: dict[str, set] = {name: set() for name in servers}
            for number in range(repeat):
                order = list(servers) if number % 2 == 0 else list(reversed(servers))
                for name in order:
                    status, _, elapsed, kept = fetch(f"{urls_by_server[name][surface]}&_bench={number}")
                    assert not kept
                    statuses[name].add(status)
                    times[name].append(elapsed * 1000)
            for name in servers:
                results.append({"class": label, "term": term if len(term) <= 8 else term[:8] + "…", "surface": surface,
                                "server": name, "p50_ms": percentile(times[name], 0.5),
                                "p95_ms": percentile(times[name], 0.95), "statuses": sorted(statuses[name])})
    return results


# --- 4b. peers on the whole archive ----------------------------------------------------------


def _published(value: str | None) -> int:
    return int((value or "0")[:10].replace("-", "") or 0)


class OursInProcess:
    """Our plan and first page, as the search page runs them, without HTTP."""

    name = "ours (in process)"

    def __init__(self, db_path: Path):
        self.conn = connect(db_path).conn

    def search(self, term: str) -> tuple[int, list[int]]:
        # Counted in full, as the peers count: the page's own budget would send a broad count to /-/count.
        plan = search_page.make_plan(self.conn, "documents", search_index.parse(term), count_budget_ms=None)
        # As plan_search does for the page (sorted by published_at, an indexed column): a dense
        # broad search walks the table in that order.
        plan.correlated = plan.dense
        where, params = plan.where("documents")
        rows = self.conn.execute(f"select rowid from documents where {where} order by published_at desc limit 20", params)
        return plan.count, [row[0] for row in rows]


TANTIVY_FIELDS = ("title", "body_text", "credits")


def tantivy_index(folder: Path):
    """A Tantivy index in ``folder`` (opened, or made empty): each field the index form of
    a text (our fold, one token per character for the whitespace tokenizer), positions kept."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    for field in TANTIVY_FIELDS:
        builder.add_text_field(field, tokenizer_name="whitespace", index_option="position")
    builder.add_integer_field("published", fast=True)
    builder.add_integer_field("rowid", stored=True, fast=True)
    folder.mkdir(parents=True, exist_ok=True)
    return tantivy.Index(builder.build(), path=str(folder))


def tantivy_write(index, rows) -> dict:
    """Index ``rows`` of (rowid, published_at, title, body_text, credits) with one writer
    thread; CPU of the whole process (the writer's threads count too) and the index's size."""
    import tantivy

    start = time.process_time()
    writer = index.writer(heap_size=256 * 2**20, num_threads=1)
    for rowid, published, *texts in rows:
        fields = {field: search_index.index_form(text) for field, text in zip(TANTIVY_FIELDS, texts) if text}
        writer.add_document(tantivy.Document(rowid=rowid, published=_published(published), **fields))
    writer.commit()
    writer.wait_merging_threads()
    return {"cpu_s": time.process_time() - start}


def _folder_mib(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file()) / 2**20


class TantivyPeer:
    """Tantivy over the same texts (:func:`tantivy_index`); a term is a phrase query
    (a term query for one character) in any field; the count is Tantivy's exact count."""

    name = "tantivy"

    def __init__(self, db_path: Path, folder: Path):
        import tantivy

        self.tantivy = tantivy
        marker = folder / "built.json"
        self.index = tantivy_index(folder)
        self.schema = self.index.schema
        if not marker.exists():
            source = sqlite3.connect(db_path)
            credits = " || ' | ' || ".join(f"coalesce({c}, '')" for c in TEXT_COLUMNS.split(", ")[2:])
            built = tantivy_write(self.index, source.execute(
                f"select rowid, published_at, title, body_text, {credits} from documents where id != 'big0000000000000'"))
            source.close()
            marker.write_text(json.dumps({**built, "index_mib": _folder_mib(folder)}))
        self.build_info = json.loads(marker.read_text())
        self.index.reload()
        self.searcher = self.index.searcher()

    def search(self, term: str) -> tuple[int, list[int]]:
        query_class = self.tantivy.Query
        characters = list(search_index.comparable(term))
        parts = [query_class.term_query(self.schema, field, characters[0]) if len(characters) == 1
                 else query_class.phrase_query(self.schema, field, characters) for field in TANTIVY_FIELDS]
        query = query_class.boolean_query([(self.tantivy.Occur.Should, part) for part in parts])
        result = self.searcher.search(query, limit=20, count=True, order_by_field="published")
        return result.count, [self.searcher.doc(address)["rowid"][0] for _, address in result.hits]


class TrigramPeer:
    """Stock FTS5 trigram over a copy of the same texts (no folding: the text as stored).
    A term of three characters or more is a MATCH phrase; a shorter one can only be a
    LIKE, which FTS5's trigram answers by reading every row."""

    name = "trigram"

    def __init__(self, db_path: Path, path: Path):
        marker = path.with_suffix(".built.json")
        if not marker.exists():
            path.unlink(missing_ok=True)
            conn = sqlite3.connect(path)
            credits = " || ' | ' || ".join(f"coalesce({c}, '')" for c in TEXT_COLUMNS.split(", ")[2:])
            conn.execute("attach ? as archive", [str(db_path)])
            conn.execute("create table docs (title, body_text, credits, published_at)")
            with conn:
                conn.execute(f"insert into docs (rowid, title, body_text, credits, published_at) select rowid, title, body_text, "
                             f"{credits}, published_at from archive.documents where id != 'big0000000000000'")
            conn.execute("detach archive")
            conn.execute("create index docs_published on docs (published_at)")
            conn.execute("create virtual table tri using fts5(title, body_text, credits, content='docs', tokenize='trigram')")
            start = time.process_time()
            with conn:
                conn.execute("insert into tri (tri) values ('rebuild')")
            cpu = time.process_time() - start
            size = stored_mib(conn, "tri")
            conn.close()
            marker.write_text(json.dumps({"cpu_s": cpu, "index_mib": size}))
        self.build_info = json.loads(marker.read_text())
        self.conn = sqlite3.connect(path)

    def search(self, term: str) -> tuple[int, list[int]]:
        if len(term) >= 3:
            where, params = "rowid in (select rowid from tri where tri match ?)", ['"' + term.replace('"', '""') + '"']
        else:
            pattern = "%" + term + "%"
            where = "rowid in (select rowid from tri where title like ? or body_text like ? or credits like ?)"
            params = [pattern] * 3
        (count,) = self.conn.execute(f"select count(*) from docs where {where}", params).fetchone()
        rows = self.conn.execute(f"select rowid from docs where {where} order by published_at desc limit 20", params)
        return count, [row[0] for row in rows]


def make_peers(db_path: Path, workdir: Path, trigram: bool = True) -> list:
    peers = [OursInProcess(db_path)]
    try:
        import tantivy  # noqa: F401 - a bench-only dependency: pip install -e '.[bench]'
    except ImportError:
        print("  tantivy is not installed (pip install -e '.[bench]'): Tantivy is left out", flush=True)
    else:
        print("  Tantivy index (built once per --workdir)", flush=True)
        peers.append(TantivyPeer(db_path, workdir / "tantivy"))
    if trigram:
        print("  FTS5 trigram index (built once per --workdir)", flush=True)
        peers.append(TrigramPeer(db_path, workdir / "trigram.db"))
    for peer in peers[1:]:
        print(f"  {peer.name:8} build {peer.build_info['cpu_s']:7.1f} s of CPU, index {peer.build_info['index_mib']:8.1f} MiB",
              flush=True)
    return peers


SLOW_PEER_S = 1.0  # a peer this slow on a query (trigram's LIKE scans) is timed SLOW_REPEAT times only
SLOW_REPEAT = 3


def peer_latencies(peers: list, oracle: Oracle, queries: list[tuple[str, str]], repeat: int) -> list[dict]:
    """p50/p95 of each query's count and first page on each peer, the peers taking
    turns request by request (the first of each round rotating); each count is
    compared with the oracle's."""
    results = []
    for label, term in queries:
        expected = oracle.count(term)
        times: dict[str, list[float]] = {peer.name: [] for peer in peers}
        counts: dict[str, int] = {}
        slow: set[str] = set()
        for number in range(repeat + 1):  # the first round warms up
            for peer in peers[number % len(peers):] + peers[: number % len(peers)]:
                if peer.name in slow and len(times[peer.name]) >= SLOW_REPEAT:
                    continue
                start = time.perf_counter()
                counts[peer.name], _ = peer.search(term)
                elapsed = time.perf_counter() - start
                if number:
                    times[peer.name].append(elapsed * 1000)
                elif elapsed > SLOW_PEER_S:
                    slow.add(peer.name)
        for peer in peers:
            results.append({"class": label, "term": term if len(term) <= 8 else term[:8] + "…", "peer": peer.name,
                            "p50_ms": percentile(times[peer.name], 0.5), "p95_ms": percentile(times[peer.name], 0.95),
                            "count": counts[peer.name], "oracle": expected, "exact": counts[peer.name] == expected})
    return results


# --- 5. the 10 MB document --------------------------------------------------------------


def big_document(server: Server) -> list[dict]:
    phrase = search_index.phrase(BIG_TERM).replace("'", "''")
    results = []
    for name, expression in (
        ("snippet()", "snippet(documents_fts, 1, '[', ']', '…', 24)"),
        ("highlight()", "length(highlight(documents_fts, 1, '[', ']'))"),
    ):
        sql = f"select {expression} as value from documents_fts where documents_fts match '{phrase}'"
        status, body, elapsed, _ = fetch(f"{server.database}.json?" + urllib.parse.urlencode({"sql": sql, "_full": "1"}))
        data = json.loads(body) if status == 200 else {}
        results.append({"function": name, "status": status, "http_ms": elapsed * 1000,
                        "query_ms": data.get("query_ms"), "value": str(data.get("rows", [[None]])[0][0])[:80]})
    status, body, elapsed, _ = fetch(f"{server.base}/-/search?q={urllib.parse.quote(BIG_TERM)}")
    results.append({"function": "/-/search snippet", "status": status, "http_ms": elapsed * 1000,
                    "query_ms": None, "value": "marked" if f"<mark>{BIG_TERM}</mark>".encode() in body else "missing"})
    return results


# --- 6. load ------------------------------------------------------------------------------


def load_urls(server: Server, db_path: Path, rng: random.Random) -> dict[str, list[str]]:
    """What readers ask for: searches for terms drawn from the stored texts (1–4
    characters from a random document, so most are distinct), table pages with
    and without a facet filter, and record pages of random documents."""
    conn = sqlite3.connect(db_path)
    ids = [row[0] for row in conn.execute("select id from documents where id != 'big0000000000000'")]
    (last,) = conn.execute("select max(rowid) from documents").fetchone()
    texts = [row[0] for row in conn.execute(  # random rows by rowid (an 'order by random()' reads every text)
        f"select body_text from documents where rowid in ({', '.join('?' * min(300, last))})", rng.sample(range(1, last + 1), min(300, last)))]
    filters = [f"{server.database}/{table}?{column}={urllib.parse.quote(str(value))}"
               for table, column in (("documents", "doc_type"), ("disclosures", "level"), ("problems", "status"))
               for (value,) in conn.execute(f"select distinct {column} from {table} where {column} is not null limit 5")]
    conn.close()
    terms = []
    for text in texts:
        length = rng.randint(1, 4)
        start = rng.randrange(max(len(text) - length, 1))
        term = text[start : start + length].strip()
        if term:
            terms.append(term)
    terms += [term for _, term in CLASSES]
    searches = []
    for term in terms:
        quoted = urllib.parse.quote(term)
        searches += [f"{server.database}/documents?_search={quoted}", f"{server.database}/documents.json?_search={quoted}",
                     f"{server.base}/-/search?q={quoted}"]
    tables = [f"{server.database}/{table}" for table in ("documents", "disclosures", "problems")] + filters
    records = [url for document_id in rng.sample(ids, min(len(ids), 2000))
               for url in (f"{server.base}/-/document/{document_id}", f"{server.database}/documents/{document_id}")]
    return {"search": searches, "table": tables, "record": records}


def load(server: Server, readers: int, per_reader: int, urls: dict[str, list[str]], rng: random.Random,
         pause: float = 0.0) -> dict:
    """``readers`` clients at once, each asking for ``per_reader`` pages; between
    two pages a reader pauses 0.5–1.5 × ``pause`` seconds (reading), or not at
    all when ``pause`` is 0 (the server saturated: latency is then mostly queueing)."""
    plans = [[(kind, rng.choice(urls[kind]), pause * rng.uniform(0.5, 1.5))
              for kind in rng.choices(list(urls), k=per_reader)] for _ in range(readers)]
    timings: dict[str, list[float]] = {"search": [], "table": [], "record": []}
    errors: list[str] = []
    kept = [0]
    lock = threading.Lock()

    def reader(plan):
        for kind, url, wait in plan:
            time.sleep(wait)
            try:
                status, _, elapsed, was_kept = fetch(url, timeout=30)
            except OSError as exc:
                with lock:
                    errors.append(f"{url}: {exc}")
                continue
            with lock:
                timings[kind].append(elapsed * 1000)
                kept[0] += was_kept
                if status != 200:
                    errors.append(f"{url}: HTTP {status}")

    start = time.perf_counter()
    threads = [threading.Thread(target=reader, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {
        "readers": readers, "pause_s": pause, "requests": readers * per_reader, "wall_s": wall,
        "requests_per_s": readers * per_reader / wall, "kept_pages": kept[0],
        "errors": errors[:10], "error_count": len(errors),
        "by_kind": {kind: {"n": len(t), "p50_ms": percentile(t, 0.5), "p95_ms": percentile(t, 0.95)}
                    for kind, t in timings.items() if t},
    }


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, help="keep the built archive here (reused when it has --docs documents)")
    parser.add_argument("--load", choices=("ingest", "bulk"), default="ingest",
                        help="build through Archive.ingest, or write the documents table in bulk and index it once "
                        "(bench/bulk_archive.py: for 300,000 documents and more)")
    parser.add_argument("--prefix-from", type=Path, help="with --load bulk: an archive.db loaded in bulk with fewer "
                        "documents, whose rows are copied (they are this one's first)")
    parser.add_argument("--build-only", action="store_true", help="build the archive (step 1) and stop")
    parser.add_argument("--repeat", type=int, default=30, help="requests per query and page, for p50/p95")
    parser.add_argument("--peer-docs", type=int, default=20_000, help="documents indexed by each tokenizer for the build rate")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--load-requests", type=int, default=50, help="requests per reader")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds a reader spends on a page (the saturated run has none)")
    parser.add_argument("--exactness-only", action="store_true", help="build and check exactness (SQL and HTTP), no timings")
    parser.add_argument("--no-build-rates", action="store_true", help="leave out step 2 (a second run on a kept --workdir)")
    parser.add_argument("--no-peers", action="store_true", help="leave out step 4b (Tantivy and trigram on the whole archive)")
    parser.add_argument("--no-trigram", action="store_true", help="step 4b without trigram (its copy of the texts and "
                        "index take 25 GB and half an hour of CPU at 1 M documents)")
    parser.add_argument("--before", type=Path, help="another checkout (with its .venv): its server answers every "
                        "query too, alternating with ours (before/after); index build rates, load and the 10 MB document are skipped")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        db_path = workdir / "archive.db"
        report: dict = {"docs": args.docs}
        print(f"1. build: {args.docs} generated documents, " + ("loaded in bulk" if args.load == "bulk" else "through Archive.ingest"),
              flush=True)
        report["build"] = build(db_path, args.docs, args.load, args.prefix_from)
        report["brought_up_to_date"] = bring_up_to_date(db_path)
        if args.build_only:
            return 0
        queries = benchmark_queries(db_path)
        if not args.exactness_only and not args.before and not args.no_build_rates:
            print(f"2. index build rate over the first {min(args.peer_docs, args.docs)} documents' stored texts", flush=True)
            report["build_rates"] = build_rates(db_path, args.peer_docs)

        print("3. exactness against a substring oracle over the stored texts", flush=True)
        oracle = Oracle(db_path, [term for _, term in queries])
        conn = connect(db_path).conn
        exact = []
        for label, term in queries:
            expected, found = oracle.matches(term), sql_ids(conn, term)
            exact.append({"class": label, "matches": len(expected), "share": len(expected) / oracle.size,
                          "sql_exact": found == expected})
        conn.close()
        probe_limit = max(5, args.docs // 50) if args.exactness_only else 1000
        # No count kept from an earlier request (search_page.KEPT_COUNTS): every request counts afresh.
        server_env = {"ZHENGGAI_SEARCH_PROBE_LIMIT": str(probe_limit), "ZHENGGAI_SEARCH_KEPT_COUNTS": "0"}
        server = Server(db_path, env=server_env)
        try:
            for row, (_, term) in zip(exact, queries):
                row["http_exact"], row["http_detail"] = http_exact(server, oracle, term, probe_limit)
                print(f"  {row['class']:34} {row['matches']:>7} docs ({row['share']:6.1%})  "
                      f"SQL {'exact' if row['sql_exact'] else 'WRONG'}  HTTP {'exact' if row['http_exact'] else 'WRONG'}"
                      f"  {row['http_detail']}", flush=True)
            report["exactness"] = exact
            all_exact = all(r["sql_exact"] and r["http_exact"] for r in exact)
            print(f"  exact: {sum(r['sql_exact'] and r['http_exact'] for r in exact)}/{len(exact)} queries")
            if args.exactness_only:
                return 0 if all_exact else 1

            print(f"4. latency over HTTP, {args.repeat} requests each (after 2 warm-up requests)", flush=True)
            servers = {"after": server}
            if args.before:
                servers["before"] = Server(db_path, env=server_env,
                                           python=str(args.before / ".venv" / "bin" / "python"), repo=args.before)
            try:
                report["latency"] = latencies(servers, queries, args.repeat)
            finally:
                if args.before:
                    servers["before"].stop()
            for row in report["latency"]:
                print(f"  {row['class']:30} {row['surface']:34} {row['server']:6} p50 {row['p50_ms']:7.1f} ms  "
                      f"p95 {row['p95_ms']:7.1f} ms  {row['statuses']}", flush=True)
            if args.before:
                (workdir / "bench_search.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
                return 0 if all_exact else 1
            if not args.no_peers:
                print(f"4b. peers on the whole archive, {args.repeat} searches each (count and first page), taking turns", flush=True)
                peers = make_peers(db_path, workdir, trigram=not args.no_trigram)
                report["peer_builds"] = {peer.name: peer.build_info for peer in peers[1:]}
                report["peer_latency"] = peer_latencies(peers, oracle, [q for q in queries if q != FACETED], args.repeat)
                for row in report["peer_latency"]:
                    print(f"  {row['class']:34} {row['peer']:18} p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  "
                          f"count {row['count']:>7} {'exact' if row['exact'] else 'oracle ' + str(row['oracle'])}", flush=True)
            rng = random.Random(3)
            urls = load_urls(server, db_path, rng)
            report["load"] = []
            for pause in (args.pause, 0.0):
                print(f"5. load: {args.readers} readers × {args.load_requests} requests, "
                      + (f"pausing ~{pause:g} s between pages" if pause else "no pause (saturated)"), flush=True)
                result = load(server, args.readers, args.load_requests, urls, rng, pause)
                report["load"].append(result)
                for kind, row in result["by_kind"].items():
                    print(f"  {kind:8} n={row['n']:5}  p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms")
                print(f"  {result['error_count']} errors, {result['requests_per_s']:.1f} requests/s, "
                      f"{result['kept_pages']} of {result['requests']} answered from kept pages, {result['wall_s']:.1f} s wall")
            report["server_peak_rss_mib"] = server.peak_rss_mib()
        finally:
            server.stop()
        print("6. a 10 MB document (added now, so it is in no result above)", flush=True)
        report["big_document_chars"] = len(plant_big_document(db_path))
        server = Server(db_path)
        try:
            report["big_document"] = big_document(server)
        finally:
            server.stop()
        for row in report["big_document"]:
            print(f"  {row['function']:20} HTTP {row['status']}  {row['http_ms']:8.1f} ms  SQL {row['query_ms']} ms  {row['value']}")
        conn = sqlite3.connect(db_path)
        report["archive_mib"] = db_path.stat().st_size / 2**20
        report["search_index_mib"] = stored_mib(conn, "documents_fts", "problems_fts")
        conn.close()
        remove_big_document(db_path)  # a kept --workdir answers the next run as built (the peers never held it)
        report["bench_peak_rss_mib"] = rss_mib()
        print(f"7. archive {report['archive_mib']:.0f} MiB, of which search indexes {report['search_index_mib']:.0f} MiB; "
              f"peak RSS: benchmark {report['bench_peak_rss_mib']:.0f} MiB, server {report['server_peak_rss_mib']:.0f} MiB")
        (workdir / "bench_search.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
        return 0 if all_exact else 1


if __name__ == "__main__":
    sys.exit(main())
