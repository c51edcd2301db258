"""Attachments: accuracy per format, and OCR accuracy, throughput and peak memory per page.

On the fixtures LibreOffice and the simulated scanner made from one 42-row 一览表
(``tests/fixtures/attachments``, see its ``make_fixtures.py``):

* every text format (.docx, .xlsx, .xls, .pdf, .doc through LibreOffice): rows and
  statuses exact, seconds (through :func:`pipelines.attachments.extract_attachment`,
  the bounded child included);
* the scans at 300 and 150 dpi, read by RapidOCR (ours) and by Tesseract 5 ``chi_sim``
  (the peer, when installed) through the same page reading (straightening, rules,
  column strips): character accuracy over every cell, statuses exact, seconds per
  page and the peak resident memory of the process that read them.  Each case runs in
  a process of its own (so its peak is its own), the two engines alternating.

Run: ``.venv/bin/python bench/bench_attachments.py [--dpi 300 150] [--engines rapidocr tesseract]``
(the OCR cases take minutes on a busy machine).  Shared with ``tests/test_attachments.py``:
:func:`character_accuracy`.
"""
from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "attachments"
SOURCE = list(csv.reader((FIXTURES / "yilanbiao.csv").open(encoding="utf-8")))
HEADER, ROWS = SOURCE[0], SOURCE[1:]
TEXT_FORMATS = ("yilanbiao.docx", "yilanbiao.xlsx", "yilanbiao.xls", "yilanbiao.pdf", "yilanbiao.doc")


def plain(text: str) -> str:
    """What a reader compares: NFKC (full-width punctuation as ASCII), no whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def edits(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def character_accuracy(rows: list[list[str]], truth: list[list[str]] = ROWS) -> float:
    """1 − edits / characters over every cell of the ``truth`` rows, each row found by its 序号
    (a row not found counts all its characters as errors)."""
    by_number = {plain(row[0]): row for row in rows if row and plain(row[0]).isdigit()}
    characters = errors = 0
    for source in truth:
        found = by_number.get(source[0], [])
        for cell, expected in zip(found + [""] * (len(source) - len(found)), source):
            characters += len(plain(expected))
            errors += min(edits(plain(cell), plain(expected)), len(plain(expected)))
    return 1 - errors / characters


def statuses_exact(tables: list) -> int:
    from pipelines.disclosure import attachment_problems

    problems = {p["number"]: p["status"] for p in attachment_problems([{"id": "bench", "tables": tables}])}
    return sum(problems.get(int(row[0])) == row[5] for row in ROWS)


def text_formats() -> list[dict]:
    from pipelines.attachments import extract_attachment

    results = []
    for name in TEXT_FORMATS:
        body = (FIXTURES / name).read_bytes()
        started = time.perf_counter()
        attachment = extract_attachment(body, name)
        seconds = time.perf_counter() - started
        rows = [row for table in attachment.tables for row in table if row != HEADER]
        results.append({
            "file": name, "method": attachment.method, "rows_exact": sum(r == s for r, s in zip(rows, ROWS)),
            "statuses_exact": statuses_exact(attachment.tables), "seconds": round(seconds, 2),
        })
    return results


def ocr_case(dpi: int, engine: str) -> dict:
    """One scan read in this process (run alone: its peak memory is the case's)."""
    from pipelines.attachments.readers import read_pdf

    body = (FIXTURES / f"scan_{dpi}.pdf").read_bytes()
    started = time.perf_counter()
    read = read_pdf(body, engine)
    seconds = time.perf_counter() - started
    rows = [row for table in read.tables for row in table]
    return {
        "dpi": dpi, "engine": engine, "pages": read.pages, "accuracy": round(character_accuracy(rows), 4),
        "statuses_exact": statuses_exact(read.tables), "seconds_per_page": round(seconds / read.pages, 1),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def run_case(dpi: int, engine: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--case", str(dpi), engine], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dpi", type=int, nargs="*", default=[300, 150])
    parser.add_argument("--engines", nargs="*", default=["rapidocr", "tesseract"])
    parser.add_argument("--case", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.case:
        print(json.dumps(ocr_case(int(args.case[0]), args.case[1])))
        return
    print("text formats (42 rows):")
    for result in text_formats():
        print(f"  {result['file']:16} {result['method']:24} rows exact {result['rows_exact']}/42  "
              f"statuses exact {result['statuses_exact']}/42  {result['seconds']} s")
    engines = [e for e in args.engines if e != "tesseract" or shutil.which("tesseract")]
    print("scans (OCR), each case in its own process, engines alternating:")
    results = []
    for turn, dpi in enumerate(args.dpi):
        for engine in engines if turn % 2 == 0 else engines[::-1]:
            result = run_case(dpi, engine)
            results.append(result)
            print(f"  {dpi} dpi {engine:10} accuracy {result['accuracy']:.2%}  statuses exact "
                  f"{result['statuses_exact']}/42  {result['seconds_per_page']} s/page  peak {result['peak_mb']} MB")
    for dpi in args.dpi:
        by_engine = {r["engine"]: r for r in results if r["dpi"] == dpi}
        if {"rapidocr", "tesseract"} <= set(by_engine):
            ratio = by_engine["tesseract"]["seconds_per_page"] / by_engine["rapidocr"]["seconds_per_page"]
            print(f"  {dpi} dpi: tesseract takes {ratio:.2f}x the time of rapidocr per page")


if __name__ == "__main__":
    main()
