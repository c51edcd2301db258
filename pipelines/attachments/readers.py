"""One reader per format: bytes → text and tables.  Run inside the bounded child
(:mod:`pipelines.attachments.child`), never in the crawler's own process.

A table is a list of rows, a row a list of cell texts; a cell's lines are joined
without a space (a Chinese cell wraps anywhere).  Each reader returns a :class:`Read`.
"""
from __future__ import annotations

import io
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from .formats import OFFICE_CONVERTED, Refused

# A PDF page with fewer characters of text than this is a scan (or a picture of a table).
SCANNED_PAGE_CHARS = 20
MAX_PDF_PAGES = 300
MAX_OCR_PAGES = 20
OCR_DPI = 300
LIBREOFFICE_TIMEOUT_S = 90


@dataclass
class Read:
    text: str
    tables: list[list[list[str]]] = field(default_factory=list)
    method: str = ""
    pages: int | None = None
    warnings: list[str] = field(default_factory=list)


def cell_text(value) -> str:
    """A cell's value as printed: lines joined, 1.0 as 1, a date as 2023年6月30日."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return f"{value.year}年{value.month}月{value.day}日"
    return "".join(str(value).split("\n")).strip()


def table_text(tables: list[list[list[str]]]) -> str:
    return "\n".join("\t".join(row) for table in tables for row in table)


def _rows(rows) -> list[list[str]]:
    table = [[cell_text(value) for value in row] for row in rows]
    return [row for row in table if any(row)]


def read_docx(body: bytes) -> Read:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(body))
    paragraphs, tables = [], []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            if block.text.strip():
                paragraphs.append(block.text.strip())
        elif isinstance(block, Table):
            table = _rows([cell.text for cell in row.cells] for row in block.rows)
            tables.append(table)
            paragraphs.append(table_text([table]))
    return Read("\n".join(paragraphs), tables, "python-docx")


def read_xlsx(body: bytes) -> Read:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    tables = [_rows(sheet.iter_rows(values_only=True)) for sheet in workbook.worksheets]
    workbook.close()
    tables = [table for table in tables if table]
    return Read(table_text(tables), tables, "openpyxl")


def read_xls(body: bytes) -> Read:
    import xlrd

    book = xlrd.open_workbook(file_contents=body)
    tables = []
    for sheet in book.sheets():
        rows = []
        for index in range(sheet.nrows):
            values = []
            for cell in sheet.row(index):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    values.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                else:
                    values.append(cell.value)
            rows.append(values)
        if _rows(rows):
            tables.append(_rows(rows))
    return Read(table_text(tables), tables, "xlrd")


def convert_with_libreoffice(body: bytes, kind: str) -> bytes:
    """.doc/.wps → .docx, .xls/.et → .xlsx, by LibreOffice headless (its own profile per run,
    so runs side by side never share one)."""
    target = OFFICE_CONVERTED[kind]
    with tempfile.TemporaryDirectory(prefix="attachment-") as tmp:
        source = Path(tmp) / f"in.{kind}"
        source.write_bytes(body)
        command = [
            "soffice", f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore",
            "--convert-to", target, "--outdir", tmp, str(source),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=LIBREOFFICE_TIMEOUT_S, check=False,
                           env={**os.environ, "HOME": tmp})
        except FileNotFoundError:
            raise Refused("tool_missing", "LibreOffice (soffice) is not installed") from None
        except subprocess.TimeoutExpired:
            raise Refused("timeout", f"LibreOffice took over {LIBREOFFICE_TIMEOUT_S} s") from None
        converted = Path(tmp) / f"in.{target}"
        if not converted.exists():
            raise Refused("malformed", f"LibreOffice could not read this .{kind} file")
        return converted.read_bytes()


def read_converted(body: bytes, kind: str) -> Read:
    converted = convert_with_libreoffice(body, kind)
    read = read_docx(converted) if OFFICE_CONVERTED[kind] == "docx" else read_xlsx(converted)
    read.method = f"libreoffice+{read.method}"
    return read


def read_pdf(body: bytes, ocr_engine: str = "rapidocr") -> Read:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(body))
        pages = pdf.pages
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise Refused("encrypted", f"the PDF is encrypted: {type(exc).__name__}") from None
    except Exception as exc:  # pdfminer raises many kinds on a damaged file
        if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise Refused("encrypted", f"the PDF is encrypted: {exc}") from None
        raise Refused("malformed", f"not a readable PDF: {type(exc).__name__}: {exc}") from None
    with pdf:
        if len(pages) > MAX_PDF_PAGES:
            raise Refused("too_many_pages", f"{len(pages)} pages (at most {MAX_PDF_PAGES})")
        texts, tables, scanned = [], [], []
        for number, page in enumerate(pages):
            text = page.extract_text() or ""
            if len("".join(text.split())) < SCANNED_PAGE_CHARS:
                scanned.append(number)
                continue
            texts.append(text)
            tables.extend(_rows(table) for table in page.extract_tables())
        if not scanned:
            return Read("\n".join(texts), [t for t in tables if t], "pdfplumber", len(pages))
        read = _ocr_pdf_pages(pdf, scanned, ocr_engine)
        read.pages = len(pages)
        if texts:
            read.text = "\n".join(texts) + "\n" + read.text
            read.tables = [t for t in tables if t] + read.tables
            read.method = f"pdfplumber+{read.method}"
        return read


def _native_dpi(page) -> float:
    """The resolution of the scan a page shows (its largest image), else :data:`OCR_DPI`."""
    images = [image for image in page.images if image.get("srcsize") and image["width"]]
    if not images:
        return OCR_DPI
    image = max(images, key=lambda i: i["width"] * i["height"])
    return image["srcsize"][0] / (image["width"] / 72)


def _ocr_pdf_pages(pdf, numbers: list[int], engine: str) -> Read:
    warnings = []
    if len(numbers) > MAX_OCR_PAGES:
        warnings.append(f"only the first {MAX_OCR_PAGES} of {len(numbers)} scanned pages read")
        numbers = numbers[:MAX_OCR_PAGES]
    images = []
    for number in numbers:
        page = pdf.pages[number]
        dpi = min(_native_dpi(page), OCR_DPI)
        images.append(page.to_image(resolution=dpi).original)
    read = read_images(images, engine)
    read.warnings += warnings
    return read


def read_images(images, engine: str = "rapidocr") -> Read:
    """Scanned pages: a ruled table's rows continue across pages (one table), other text in order."""
    from . import ocr

    texts, rows = [], []
    for image in images:
        page = ocr.read_page(image, engine)
        texts.append(page.text)
        rows.extend(page.rows or [])
    tables = [rows] if rows else []
    return Read("\n".join(t for t in texts if t), tables, engine, len(images))


def read_image(body: bytes, engine: str = "rapidocr") -> Read:
    from PIL import Image

    with Image.open(io.BytesIO(body)) as image:
        image.seek(0)  # a GIF or TIFF: its first frame
        return read_images([image.convert("L")], engine)


def read_ofd(body: bytes) -> Read:
    """OFD (China's fixed-layout format): the text of each page's content XML, in order."""
    import re
    import zipfile

    from lxml import etree

    archive = zipfile.ZipFile(io.BytesIO(body))
    pages = sorted((n for n in archive.namelist() if re.search(r"Pages/Page_\d+/Content\.xml$", n)),
                   key=lambda n: int(re.search(r"Page_(\d+)", n)[1]))
    texts = []
    for name in pages:
        root = etree.fromstring(archive.read(name), etree.XMLParser(resolve_entities=False, no_network=True))
        texts.append("".join(t.text or "" for t in root.iter("{*}TextCode")))
    return Read("\n".join(texts), [], "ofd-xml", len(pages))


READERS = {
    "pdf": read_pdf, "docx": read_docx, "xlsx": read_xlsx, "xls": read_xls, "ofd": read_ofd,
    "doc": lambda body: read_converted(body, "doc"), "wps": lambda body: read_converted(body, "wps"),
    "et": lambda body: read_converted(body, "et"),
    **{kind: read_image for kind in ("jpeg", "png", "gif", "bmp", "tiff")},
}
