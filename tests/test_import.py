"""`python -m archive import`: folders walked, re-import updates in place, bad files recorded."""

import shutil
import subprocess
import sys
from pathlib import Path

from archive.db import Archive

FIXTURES = Path(__file__).parent / "fixtures" / "documents"
REPO = Path(__file__).resolve().parents[1]


def run_import(*args):
    return subprocess.run(
        [sys.executable, "-m", "archive", "import", *map(str, args)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )


def test_import_folder_twice_then_edit(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES, docs)
    (docs / "notes.bin").write_bytes(b"\x00\x01")  # not a document suffix: not walked
    db = tmp_path / "a.db"

    first = run_import(docs, "--db", db)
    assert first.returncode == 0, first.stderr
    assert "imported: 4 new; 4 documents" in first.stdout

    second = run_import(docs, "--db", db)
    assert "imported: 4 unchanged; 4 documents" in second.stdout

    report = docs / "template_report.txt"
    report.write_text(report.read_text(encoding="utf-8").replace("补交党费X元", "补交党费1200元"), encoding="utf-8")
    third = run_import(docs, "--db", db)
    assert "1 updated" in third.stdout and "3 unchanged" in third.stdout
    with Archive(db) as archive:
        assert archive.count("documents") == 4
        row = archive.document_for_url(report.resolve().as_uri())
        assert "补交党费1200元" in row["body_text"]
        assert row["version_count"] == 2
        old = list(archive.db["versions"].rows_where("document_id = ?", [row["id"]]))
        assert len(old) == 1 and "补交党费X元" in old[0]["body_text"]


def test_bad_files_are_reported_and_recorded_and_the_rest_goes_on(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(FIXTURES / "aggregator_dump.txt", docs)
    (docs / "empty.txt").write_bytes(b"")
    (docs / "gbk_report.txt").write_bytes("关于巡察整改情况的通报\n县委第一巡察组对县财政局开展了巡察。".encode("gbk"))
    missing = tmp_path / "missing.html"
    db = tmp_path / "a.db"

    result = run_import(docs, missing, "--db", db)
    assert result.returncode == 0
    assert "2 new" in result.stdout and "2 failed" in result.stdout
    assert "extract/empty" in result.stderr and "read/unreadable" in result.stderr
    with Archive(db) as archive:
        failures = {(r["url"].rsplit("/", 1)[-1], r["stage"], r["kind"]) for r in archive.db["failures"].rows}
        assert failures == {("empty.txt", "extract", "empty"), ("missing.html", "read", "unreadable")}
        gbk = archive.document_for_url((docs / "gbk_report.txt").resolve().as_uri())
        assert gbk["title"] == "关于巡察整改情况的通报"
        assert gbk["body_text"] == "县委第一巡察组对县财政局开展了巡察。"
