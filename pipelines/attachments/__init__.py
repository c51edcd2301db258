"""Attachments stage: the text and tables of a file a report links (附件), bounded.

:func:`extract_attachment` is a pure function of the bytes, the name the link gave
and the server's Content-Type.  The format is what the bytes are (``formats.sniff``;
a Content-Type or an extension that says otherwise is noted in ``warnings``).  Checks
that need no parser refuse a file at once — over 50 MB, a zip whose parts unpack past
200 MB or 200× (a zip bomb), an image over 80 Mpx, an HTML page in place of a file.
Everything else is read in a child process (``python -m pipelines.attachments.child``)
under an address-space limit and a timeout that grows with the pages to OCR; an
encrypted or damaged file, a reader that runs out of memory or time, each becomes a
:class:`pipelines.Failure` (stage ``attachment``) with its reason, never an exception.

Readers (``readers.py``): pdfplumber for PDFs with text (tables by their rules),
python-docx, openpyxl, xlrd; LibreOffice headless converts .doc/.wps/.et; a PDF page
without text and an image go to OCR (``ocr.py``: RapidOCR, its models inside the wheel).
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field

from .. import Failure
from .formats import (
    IMAGE_KINDS, MAX_ATTACHMENT_BYTES, Refused, check_image, check_zip, declared_kind, sniff,
)
from .readers import MAX_OCR_PAGES

STAGE = "attachment"
# The child's address space (virtual: ONNX Runtime and LibreOffice map more than they touch).
CHILD_ADDRESS_SPACE = 3 * 1024**3
BASE_TIMEOUT_S = 60
OCR_PAGE_TIMEOUT_S = 180  # a 300-dpi page took 20-70 s on 2 cores shared by a dozen processes


@dataclass
class Attachment:
    """What one file held.  ``kind`` is what its bytes are; ``declared`` what it was said to be."""

    name: str | None
    content_type: str | None
    size: int
    sha256: str
    sha1: str
    kind: str | None = None
    declared: str | None = None
    text: str = ""
    tables: list = field(default_factory=list)
    method: str | None = None
    pages: int | None = None
    warnings: list[str] = field(default_factory=list)
    failure: Failure | None = None


def _timeout(kind: str, body: bytes) -> float:
    if kind in IMAGE_KINDS:
        return BASE_TIMEOUT_S + OCR_PAGE_TIMEOUT_S
    if kind == "pdf":  # a scanned PDF: pages to OCR, at most readers.MAX_OCR_PAGES
        pages = min(body.count(b"/Type /Page") + body.count(b"/Type/Page"), MAX_OCR_PAGES)
        return BASE_TIMEOUT_S + OCR_PAGE_TIMEOUT_S * max(pages, 1)
    return BASE_TIMEOUT_S + 30


def read_in_child(body: bytes, kind: str, timeout: float | None = None) -> dict:
    """Run the reader of ``kind`` in the bounded child; its answer, or a refusal.

    The child limits its own address space (no ``preexec_fn``: the crawl calls this from a
    thread) and leads a process group of its own, so a timeout ends LibreOffice with it."""
    timeout = timeout or _timeout(kind, body)
    child = subprocess.Popen(
        [sys.executable, "-m", "pipelines.attachments.child", kind, str(CHILD_ADDRESS_SPACE)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        stdout, stderr = child.communicate(body, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return {"refused": "timeout", "message": f"not read within {timeout:.0f} s"}
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    if child.returncode != 0 or not stdout:
        error = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {child.returncode}"]
        kind_ = "too_much_memory" if "MemoryError" in error[0] or child.returncode == -9 else "reader_crashed"
        return {"refused": kind_, "message": f"the reader stopped: {error[0][:300]}"}
    return json.loads(stdout)


def extract_attachment(body: bytes, name: str | None = None, content_type: str | None = None) -> Attachment:
    attachment = Attachment(
        name=name, content_type=content_type, size=len(body),
        sha256=hashlib.sha256(body).hexdigest(), sha1=hashlib.sha1(body).hexdigest(),
    )
    attachment.declared = declared_kind(name, content_type)
    try:
        if len(body) > MAX_ATTACHMENT_BYTES:
            raise Refused("too_large", f"{len(body):,} bytes (at most {MAX_ATTACHMENT_BYTES:,})")
        if not body:
            raise Refused("empty", "the file is empty")
        attachment.kind = sniff(body, attachment.declared)
        if attachment.declared and attachment.kind and attachment.declared != attachment.kind:
            attachment.warnings.append(f"declared {attachment.declared}, is {attachment.kind}")
        if attachment.kind == "html":
            raise Refused("not_a_file", "an HTML page where a file was linked (an error or login page)")
        if attachment.kind is None:
            raise Refused("unknown_format", f"not a format read here (declared {attachment.declared or 'nothing'})")
        if attachment.kind in ("docx", "xlsx", "ofd"):
            check_zip(body)
        if attachment.kind in IMAGE_KINDS:
            check_image(body)
        answer = read_in_child(body, attachment.kind)
        if "refused" in answer:
            raise Refused(answer["refused"], answer["message"])
    except Refused as refused:
        attachment.failure = Failure(STAGE, refused.kind, refused.message)
        return attachment
    attachment.text = answer["text"]
    attachment.tables = answer["tables"]
    attachment.method = answer["method"]
    attachment.pages = answer["pages"]
    attachment.warnings += answer["warnings"]
    return attachment


__all__ = ["Attachment", "STAGE", "extract_attachment", "read_in_child"]
