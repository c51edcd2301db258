"""What a file is, from its first bytes (a server's Content-Type and a link's extension lie),
and the checks that refuse a file before any parser opens it.

``sniff`` names the format: ``pdf``, ``docx``, ``xlsx``, ``ofd`` (zip formats, told by
their parts), ``doc``, ``xls`` (OLE compound files, told by their main stream's name;
``wps``/``et`` — Kingsoft's — are OLE too and keep the name the link gave), ``jpeg``,
``png``, ``gif``, ``bmp``, ``tiff``, ``html`` (an error page in place of a file), or None.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from PIL import Image

# Past this nothing is read (the crawl cancels a download there too).
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
# A zip's parts may unpack to at most this, and no part to more than RATIO times its packed size.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_UNPACK_RATIO = 200
MAX_ZIP_PARTS = 5000
# An A3 page at 600 dpi is 70 Mpx; a 20,000 × 20,000 px image (400 Mpx) is refused.
MAX_IMAGE_PIXELS = 80_000_000

IMAGE_KINDS = ("jpeg", "png", "gif", "bmp", "tiff")
OFFICE_CONVERTED = {"doc": "docx", "wps": "docx", "et": "xlsx"}  # read through LibreOffice
EXTENSIONS = {
    ".pdf": "pdf", ".doc": "doc", ".docx": "docx", ".wps": "wps", ".xls": "xls", ".xlsx": "xlsx", ".et": "et",
    ".ofd": "ofd", ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".gif": "gif", ".bmp": "bmp",
    ".tif": "tiff", ".tiff": "tiff",
}
CONTENT_TYPES = {
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/kswps": "wps", "application/vnd.ms-works": "wps", "application/kset": "et",
    "application/ofd": "ofd",
    "image/jpeg": "jpeg", "image/png": "png", "image/gif": "gif", "image/bmp": "bmp", "image/tiff": "tiff",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC = (
    (b"%PDF-", "pdf"), (b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF87a", "gif"),
    (b"GIF89a", "gif"), (b"BM", "bmp"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"),
)


class Refused(Exception):
    """A file no parser should open; ``kind`` is the failure's short code."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def declared_kind(name: str | None, content_type: str | None) -> str | None:
    """The format the link's name or the server's Content-Type claims."""
    by_type = CONTENT_TYPES.get((content_type or "").split(";")[0].strip().lower())
    by_name = EXTENSIONS.get(PurePosixPath((name or "").split("?")[0]).suffix.lower())
    return by_name or by_type


def sniff(body: bytes, declared: str | None = None) -> str | None:
    head = body[:8]
    if body[:1024].lstrip().startswith(b"%PDF-") or b"%PDF-" in body[:1024]:
        return "pdf"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(body)
    if head.startswith(_OLE):
        if declared in ("wps", "et"):
            return declared
        if "WordDocument".encode("utf-16-le") in body:
            return "doc"
        if "Workbook".encode("utf-16-le") in body or "Book".encode("utf-16-le") in body:
            return "xls"
        return None
    start = body[:512].lstrip().lower()
    if start.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in start:
        return "html"
    return None


def _zip_kind(body: bytes) -> str | None:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(body)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "OFD.xml" in names:
        return "ofd"
    return None


def check_zip(body: bytes) -> None:
    """Refuse a zip whose parts would unpack past the limits (a zip bomb), from its directory alone."""
    try:
        parts = zipfile.ZipFile(io.BytesIO(body)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise Refused("malformed", f"not a readable zip: {exc}") from None
    if len(parts) > MAX_ZIP_PARTS:
        raise Refused("zip_bomb", f"{len(parts)} parts (at most {MAX_ZIP_PARTS})")
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_UNPACKED_BYTES:
        raise Refused("zip_bomb", f"parts unpack to {unpacked:,} bytes (at most {MAX_UNPACKED_BYTES:,})")
    for part in parts:
        if part.file_size > 1_000_000 and part.file_size > MAX_UNPACK_RATIO * max(part.compress_size, 1):
            raise Refused("zip_bomb", f"{part.filename} unpacks {part.file_size // max(part.compress_size, 1)}× "
                                      f"(at most {MAX_UNPACK_RATIO}×)")


def check_image(body: bytes) -> None:
    """Refuse an image past :data:`MAX_IMAGE_PIXELS` from its header, before decoding it."""
    try:
        with Image.open(io.BytesIO(body)) as image:
            width, height = image.size
    except Image.DecompressionBombError as exc:
        raise Refused("too_many_pixels", str(exc)) from None
    except (OSError, ValueError) as exc:
        raise Refused("malformed", f"not a readable image: {exc}") from None
    if width * height > MAX_IMAGE_PIXELS:
        raise Refused("too_many_pixels", f"{width} × {height} px (at most {MAX_IMAGE_PIXELS:,} px)")
