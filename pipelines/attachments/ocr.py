"""Text and table cells from a scanned page (an image, or a PDF page without text).

A scanned 一览表 is a ruled table.  The page is straightened (the angle whose
row profile is sharpest, searched within ±2°: a scanner feeds pages a little
askew), its rules are found (long straight runs of ink), and the OCR engine's text lines, in its
reading order, are put into the cell their centre falls in.  A page without rules gives its lines in reading order.

Engine: RapidOCR (PP-OCR models in ONNX, shipped inside the ``rapidocr_onnxruntime``
wheel — nothing is fetched at run time).  Measured on this project's scans
(``bench/bench_attachments.py``) against Tesseract 5 ``chi_sim``; the figures and
the reason are in the README (*Attachments*).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

MAX_SKEW_DEGREES = 2.0
SKEW_STEP_DEGREES = 0.1
_DARK = 140  # grey level below which a pixel is ink
_RULE_INK = 200  # a table's thin rules print lighter than its glyphs


@dataclass
class Line:
    x: float  # centre
    y: float
    text: str


@dataclass
class OcrPage:
    lines: list[Line]
    rows: list[list[str]] | None  # the table's cells, when the page is ruled

    @property
    def text(self) -> str:
        if self.rows:
            return "\n".join("\t".join(row) for row in self.rows)
        return "\n".join(line.text for line in self.lines)


def skew_angle(gray: np.ndarray) -> float:
    """The page's rotation in degrees: the angle that makes its rows of ink sharpest."""
    small = Image.fromarray(gray)
    small.thumbnail((800, 800))
    ink = Image.fromarray(((np.asarray(small) < _DARK) * 255).astype(np.uint8))
    best, best_score = 0.0, -1.0
    for angle in np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 1e-9, SKEW_STEP_DEGREES):
        profile = np.asarray(ink.rotate(float(angle), resample=Image.NEAREST), dtype=np.float32).sum(axis=1)
        score = float(np.square(np.diff(profile)).sum())
        if score > best_score:
            best, best_score = float(angle), score
    return best


def straighten(gray: np.ndarray) -> np.ndarray:
    angle = skew_angle(gray)
    if abs(angle) < SKEW_STEP_DEGREES / 2:
        return gray
    return np.asarray(Image.fromarray(gray).rotate(angle, resample=Image.BICUBIC, fillcolor=255))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2], edges[1::2]))


def _long_strokes(ink: np.ndarray, axis: int, length: int) -> np.ndarray:
    """Pixels inside a run of ink at least ``length`` long along ``axis`` (rules, not glyphs:
    a glyph's longest stroke is a fraction of that), thickened by one pixel across."""
    thick = ink | np.roll(ink, 1, axis=1 - axis) | np.roll(ink, -1, axis=1 - axis)
    sums = np.cumsum(thick, axis=axis, dtype=np.int32)
    window = np.take(sums, np.arange(length, thick.shape[axis]), axis=axis) - np.take(
        sums, np.arange(0, thick.shape[axis] - length), axis=axis)
    return window >= length


def rules(ink: np.ndarray) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(horizontal rules, vertical rules) of a table, each as its pixel span; empty when none."""
    height, width = ink.shape
    horizontal = _runs(_long_strokes(ink, 1, max(width // 25, 8)).any(axis=1))
    if len(horizontal) < 2:
        return [], []
    top, bottom = horizontal[0][0], horizontal[-1][1]
    table = ink[top:bottom + 1]
    vertical = _runs(_long_strokes(table, 0, max(min(height // 40, len(table) - 1), 8)).any(axis=0))
    if len(vertical) < 2:
        return [], []
    return horizontal, vertical


def _cell_index(value: float, spans: list[tuple[int, int]]) -> int | None:
    for index, ((_, end), (start, _)) in enumerate(zip(spans, spans[1:])):
        if end <= value < start:
            return index
    return None


def recognise_rapidocr(gray: np.ndarray) -> list[Line]:
    from rapidocr_onnxruntime import RapidOCR

    result, _ = _rapidocr(RapidOCR)(np.stack([gray] * 3, axis=-1))
    lines = []
    for box, text, _score in result or []:
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        lines.append(Line((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, text))
    return lines


_engines: dict = {}
# The detector scales the longer side down to 1,600 px (its default scales the shorter
# side *up* to 736 px: a column strip 100 px wide became 22,000 px tall, 2.7 GB);
# pages are upright, so no angle classifier; one thread each, as the crawl runs beside.
RAPIDOCR_SETTINGS = {
    "det_limit_type": "max", "det_limit_side_len": 1600, "use_cls": False,
    "det_intra_op_num_threads": 1, "rec_intra_op_num_threads": 1,
}


def _rapidocr(factory):
    # One engine per process: loading its models takes a tenth of a second and 100 MB.
    if "rapidocr" not in _engines:
        _engines["rapidocr"] = factory(**RAPIDOCR_SETTINGS)
    return _engines["rapidocr"]


def recognise_tesseract(gray: np.ndarray, timeout: float = 120) -> list[Line]:
    """Tesseract 5 with ``chi_sim`` (the bench's peer), one word box per line."""
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".png") as image:
        Image.fromarray(gray).save(image.name)
        tsv = subprocess.run(
            ["tesseract", image.name, "-", "-l", "chi_sim", "--psm", "11", "tsv"],
            capture_output=True, timeout=timeout, check=True,
        ).stdout.decode("utf-8", "replace")
    lines = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) == 12 and cells[11].strip() and float(cells[10]) >= 0:
            left, top, width, height = map(int, cells[6:10])
            lines.append(Line(left + width / 2, top + height / 2, cells[11].strip()))
    return lines


ENGINES = {"rapidocr": recognise_rapidocr, "tesseract": recognise_tesseract}


def _has_ink(gray: np.ndarray) -> bool:
    return gray.size > 0 and int((gray < _DARK).sum()) > 50


def _recognise(gray: np.ndarray, engine: str, left: int = 0, top: int = 0) -> list[Line]:
    if not _has_ink(gray):
        return []
    return [Line(line.x + left, line.y + top, line.text) for line in ENGINES[engine](gray)]


NARROW_STRIP_PX = 200


def _padded(strip: np.ndarray) -> tuple[np.ndarray, int]:
    """A narrow column (序号) with white margins: the detector misses a lone "1" in a strip
    a few characters wide.  Returns the strip and how far it moved right."""
    width = strip.shape[1]
    if width >= NARROW_STRIP_PX:
        return strip, 0
    padded = np.full((strip.shape[0], 4 * width), 255, dtype=np.uint8)
    padded[:, 2 * width:3 * width] = strip
    return padded, 2 * width


def read_page(image: Image.Image, engine: str = "rapidocr") -> OcrPage:
    """One scanned page: its text lines and, when it is a ruled table, its cells.

    A ruled table is read a column at a time (each strip between two vertical rules,
    its horizontal rules painted out): an engine reading the whole page joins the
    lines of neighbouring cells that the thin rule between them does not part."""
    gray = straighten(np.asarray(image.convert("L")))
    horizontal, vertical = rules(gray < _RULE_INK)
    if not horizontal:
        return OcrPage(_recognise(gray, engine), None)
    top, bottom = horizontal[0][0], horizontal[-1][1]
    outside = _recognise(gray[:top], engine) + _recognise(gray[bottom:], engine, top=bottom)
    table = gray[top:bottom].copy()
    for start, end in horizontal:
        table[max(start - top - 2, 0):end - top + 2] = 255
    rows: list[list[str]] = [[""] * (len(vertical) - 1) for _ in range(len(horizontal) - 1)]
    for column, ((_, left), (right, _)) in enumerate(zip(vertical, vertical[1:])):
        strip, shift = _padded(table[:, left + 3:max(right - 3, left + 4)])
        for line in _recognise(strip, engine, left + 3 - shift, top):
            row = _cell_index(line.y, horizontal)
            if row is not None:
                rows[row][column] += line.text
    return OcrPage(outside, [row for row in rows if any(row)])
