"""The processing path from raw bytes to an archive record.

Every way into the archive — a crawl, an import of local files, a rebuild from
WARC captures — builds a :class:`RawDocument` and calls :func:`process`, so a
fix to any stage reaches all three.  The stages, one module each:

``extract``    decode the bytes, find the content and the raw metadata
``clean``      remove boilerplate by named rules; move bylines into metadata
``normalise``  title, dates in Beijing time, source/author/editor apart
``classify``   the document type (report, notice, summary, news…)
``disclosure`` the structure of a rectification report
``dedupe``     the text's MinHash signature, by which the archive finds its copies

Every stage is a pure function of the page: nothing here reads or writes the
archive (``archive.store`` stores a result, ``archive.copy_groups`` groups copies).

A stage that cannot do its work raises :class:`StageError`; :func:`process`
turns it into a :class:`Failure` so the caller records it and goes on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

# The largest page any way in accepts: a crawl cancels a download past it, an
# import or a WARC record over it is a ``too_large`` failure.  The largest real
# article page seen is ~200 KB; anything past 10 MB is not a page (a runaway
# script, an attachment).
MAX_PAGE_BYTES = 10 * 1024 * 1024


@dataclass
class RawDocument:
    """What arrived, before any processing.

    ``url`` is the real address (``https://…`` for crawled pages, ``file:…``
    for imports); ``hints`` carries facts seen elsewhere, e.g. the title and
    date a list page gave for this article, or its column.
    """

    url: str
    body: bytes
    content_type: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    fetched_at: str | None = None
    warc_file: str | None = None
    warc_record_id: str | None = None
    hints: dict = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


class StageError(Exception):
    """A stage could not process a document; ``kind`` is a stable short code."""

    def __init__(self, stage: str, kind: str, message: str):
        super().__init__(f"{stage}/{kind}: {message}")
        self.stage = stage
        self.kind = kind
        self.message = message


@dataclass
class Failure:
    stage: str
    kind: str
    message: str


@dataclass
class ProcessResult:
    raw: RawDocument
    document: dict | None = None
    disclosure: dict | None = None
    failure: Failure | None = None
    signature: object = None
    """The text's MinHash signature (``dedupe.signature``) when the worker that processed it computed it."""
    links: list = field(default_factory=list)
    """The page's attachment links (``pipelines.attachments.links.Link``): the store ties files to it by them."""

    @property
    def ok(self) -> bool:
        return self.failure is None


# From this size on, the memory of a page's freed tree is handed back to the system at once.
RETURN_FREED_FROM = 1024 * 1024


def _c_library():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None)
    except OSError:
        return None


_LIBC = _c_library()


def _glibc(function: str):
    """A glibc function, or None where the C library has no such function (not glibc)."""
    return getattr(_LIBC, function, None)


_trim = _glibc("malloc_trim")
# glibc serves a block over 128 KiB from a mapping of its own, handed back when freed; but once
# such a block is freed it raises that threshold to the block's size (up to 32 MiB), and a large
# page's copies of its text (7-15 MB each, a dozen from the extract stage to the store) then
# came from the heap and stayed there, freed but held: 20 MB more at the peak of a 10 MB page.
# A fixed threshold (``mallopt(M_MMAP_THRESHOLD, …)``) turns that adjustment off: at 4 MiB,
# a large page's text copies are mapped and handed back, smaller blocks (the MinHash's 2 MB
# blocks) reused from the heap without a mapping each time.
_M_MMAP_THRESHOLD = -3
if (_mallopt := _glibc("mallopt")) is not None:
    _mallopt(_M_MMAP_THRESHOLD, 4 * 2**20)


def return_freed_memory() -> None:
    """Give the system back what the C heap holds free (glibc's ``malloc_trim``).

    libxml2 allocates a tree node by node; freed, those blocks stay in glibc's heap among
    live ones and the process keeps them (a 10 MB page's tree: 45-55 MB), so every later
    stage's memory came on top of them.  Where the C library has no ``malloc_trim``, nothing."""
    if _trim is not None:
        _trim(0)


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def document_id(url: str) -> str:
    """Stable id of the record for ``url``: the same page always maps to the same row."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def prepare() -> None:
    """Load now what processing a page loads on first use: the stage modules
    (their compiled patterns), the site profiles, OpenCC and the table of
    place names.  Worker processes forked afterwards share them instead of
    each loading them again (0.2 s of CPU per worker)."""
    from sites import load_profiles

    from . import classify, clean, disclosure, extract, normalise  # noqa: F401
    from .disclosure import places

    load_profiles()
    classify.fold_simplified("")
    places.division_chain("")


def process(raw: RawDocument) -> ProcessResult:
    from . import classify, clean, disclosure, extract, normalise
    from .attachments.links import attachment_links

    try:
        extracted = extract.extract(raw)
        links = attachment_links(extracted.tree, raw.url)  # before cleaning prunes the tree
        cleaned = clean.clean(extracted)
        document = normalise.normalise(raw, extracted, cleaned)
        document["warnings"] = json.dumps(extracted.warnings, ensure_ascii=False) if extracted.warnings else None
        # The stages after read the text alone: the page's tree (several times its size) and
        # paragraphs are freed before the disclosure grammar builds its rows.
        del extracted, cleaned
        if len(raw.body) >= RETURN_FREED_FROM:
            return_freed_memory()
        document["doc_type"], document["doc_type_rule"] = classify.classify_explained(
            document["title"] or "", document["body_text"]
        )
        parsed = disclosure.parse_disclosure(
            document["title"] or "", document["body_text"], document["published_at"], document["doc_type"],
            site=document.get("site"),
        )
    except StageError as exc:
        return ProcessResult(raw, failure=Failure(exc.stage, exc.kind, exc.message))
    except Exception as exc:  # a bug in a stage must not lose the page: record it
        return ProcessResult(
            raw, failure=Failure("pipeline", "internal_error", f"{type(exc).__name__}: {exc}")
        )
    return ProcessResult(raw, document=document, disclosure=parsed, links=links)
