"""`python -m archive rebuild --from-warc`: imported files are captured and rebuild to the same
archive; an empty source, a truncated file, a corrupt gzip member and a second writer leave the
archive as it was, with a message."""

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from archive_snapshot import snapshot
from conftest import query
from test_crash_safety import report_text, write_reports
from test_foreign_captures import write_pages
from test_import_attachments import import_a_report_and_its_table
from warcio.archiveiterator import ArchiveIterator

from archive import search_index
from archive.db import Archive
from archive.importer import import_paths
from archive.lock import ArchiveLock
from archive.rebuild import RebuildRefused, rebuild
from captures import WarcCapture

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]


def test_rebuild_of_imports_equals_the_imported_archive(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "disclosures", docs / "disclosures")
    shutil.copytree(FIXTURES / "documents", docs / "documents")
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        import_paths([docs], archive)
        # A file edited after its first import: the rebuild must keep both versions.
        report = docs / "disclosures" / "county_xuncha.txt"
        report.write_text(report.read_text(encoding="utf-8").replace("措施32条", "措施35条"), encoding="utf-8")
        import_paths([docs], archive)
        import_paths([docs], archive)  # unchanged files are not captured again
    resources = [
        record.rec_headers.get_header("WARC-Target-URI")
        for path in sorted((tmp_path / "warc").iterdir())
        for record in ArchiveIterator(path.open("rb"))
        if record.rec_type == "resource"
    ]
    assert len(resources) == 11 + 1  # every file once, the edited one twice, nothing for the unchanged re-import

    result = subprocess.run(
        [sys.executable, "-m", "archive", "rebuild", "--from-warc", str(tmp_path / "warc"), "--db", str(tmp_path / "rebuilt.db")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "rebuilt" in result.stdout and "11 new" in result.stdout and "1 updated" in result.stdout

    original, rebuilt = snapshot(db), snapshot(tmp_path / "rebuilt.db")
    assert rebuilt == original
    # The rebuild builds the facet and search indexes once at the end: the same
    # indexes, triggers and views as an archive written page by page, searching alike.
    assert schema_objects(tmp_path / "rebuilt.db") == schema_objects(db)
    for path in (db, tmp_path / "rebuilt.db"):
        conn = sqlite3.connect(path)
        search_index.register_functions(conn)  # the check compares the index with its texts' index form
        for fts in ("documents_fts", "problems_fts"):
            conn.execute(f"insert into {fts} ({fts}, rank) values ('integrity-check', 1)")
        for table, term in (("documents", "整改"), ("problems", "台账")):
            found = conn.execute(f"select count(*) from {table}_fts where {table}_fts match ?", [search_index.phrase(term)]).fetchone()[0]
            assert found == containing(rebuilt[table].values(), term) > 0
        conn.close()
    assert len(rebuilt["disclosures"]) == 6 and len(rebuilt["problems"]) > 20
    county = next(d for d in rebuilt["documents"].values() if d["url"].endswith("county_xuncha.txt"))
    assert county["version_count"] == 2 and "措施35条" in county["body_text"]


def containing(rows, term: str) -> int:
    """Rows with ``term`` in a searched column (the substring oracle)."""
    columns = ("title", "body_text", "text", "source", "author", "editor", "publisher", "declared_source", "declared_author")
    return sum(any(term in search_index.comparable(str(row.get(c) or "")) for c in columns) for row in rows)


def schema_objects(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%' order by type, name").fetchall()
    finally:
        conn.close()


def test_rebuild_replaces_a_file_that_is_no_archive_only_when_forced(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "documents", docs)
    with Archive(tmp_path / "archive.db") as archive:
        import_paths([docs], archive)
    target = tmp_path / "target.db"
    target.write_bytes(b"previous archive")
    (tmp_path / "target.db.rebuilding").write_bytes(b"left over by a killed rebuild")

    with pytest.raises(RebuildRefused, match="is not an archive"):
        rebuild(tmp_path / "warc", target, progress=False)
    assert target.read_bytes() == b"previous archive"

    report = rebuild(tmp_path / "warc", target, progress=False, force=True)
    assert dict(report.outcomes) == {"new": 4} and report.replaced
    assert not (tmp_path / "target.db.rebuilding").exists()
    with Archive(target) as archive:
        assert archive.count("documents") == 4


# ---- faults: each leaves the archive as it was and says why ---------------------------------

def archive_command(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archive", *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """An archive of 12 imported reports with a crawl run and a failure in its history, and its WARC file."""
    base = tmp_path_factory.mktemp("captured")
    docs = write_reports(base / "docs", 12)
    (docs / "empty.txt").write_bytes(b"")
    db = base / "archive.db"
    with Archive(db) as archive:
        import_paths([docs], archive)
        run_id = archive.start_run("ccdi")
        archive.finish_run(run_id, status="ok", message="a crawl of the past")
    (warc,) = (base / "warc").iterdir()
    return {"db": db, "warc": warc}


def fresh_copy(captured, tmp_path) -> tuple[Path, Path]:
    """A private copy of the archive and a folder holding a copy of its WARC file."""
    db, warc_dir = tmp_path / "archive.db", tmp_path / "warc"
    shutil.copy(captured["db"], db)
    warc_dir.mkdir()
    shutil.copy(captured["warc"], warc_dir / captured["warc"].name)
    return db, warc_dir


def gzip_members(path: Path) -> list[int]:
    """Offsets of the WARC file's gzip members (one per record) as warcio reads them."""
    offsets = []
    with path.open("rb") as stream:
        iterator = ArchiveIterator(stream)
        for _ in iterator:
            offsets.append(iterator.get_record_offset())
    return offsets


def test_rebuild_keeps_history_and_refuses_an_empty_source(captured, tmp_path):
    db, warc_dir = fresh_copy(captured, tmp_path)
    before = snapshot(db)

    dry = archive_command("rebuild", "--from-warc", warc_dir, "--db", db, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would rebuild {db} from 13 page(s) in 1 file(s) (12 documents now)" in dry.stdout
    assert snapshot(db) == before

    empty = tmp_path / "empty"
    empty.mkdir()
    result = archive_command("rebuild", "--from-warc", empty, "--db", db)
    assert result.returncode == 1 and "no WARC file" in result.stderr
    info_only = tmp_path / "info-only"
    info_only.mkdir()
    capture = WarcCapture(info_only, "x", 1 << 20, "test")  # a warcinfo and a metadata record: no page
    capture.annotate("about:blank", "<urn:uuid:0>", {"note": "nothing"})
    capture.close()
    result = archive_command("rebuild", "--from-warc", info_only, "--db", db)
    assert result.returncode == 1 and "hold no page: nothing to rebuild from" in result.stderr
    assert snapshot(db) == before

    rebuilt = archive_command("rebuild", "--from-warc", warc_dir, "--db", db)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert snapshot(db) == before
    runs = query(db, "select spider, status, message from crawl_runs order by id")
    assert [(r["spider"], r["status"]) for r in runs] == [("ccdi", "ok"), ("rebuild", "ok")]
    assert runs[0]["message"] == "a crawl of the past"
    failures = query(db, "select url, kind, run_id from failures order by id")
    # The import's failure is history; the rebuild met the file again and says so under its own run.
    assert [(r["url"].rsplit("/", 1)[-1], r["kind"], r["run_id"]) for r in failures] == [
        ("empty.txt", "empty", None), ("empty.txt", "empty", 2)
    ]


def test_rebuild_of_a_truncated_file_reports_it_and_replaces_only_when_forced(captured, tmp_path):
    db, warc_dir = fresh_copy(captured, tmp_path)
    before = snapshot(db)
    (warc,) = warc_dir.iterdir()
    # Inside the resource record of report-0008: empty.txt and report-0000…0007 stay whole.
    cut_at = gzip_members(warc)[-8] + 100
    warc.write_bytes(warc.read_bytes()[:cut_at])

    result = archive_command("rebuild", "--from-warc", warc_dir, "--db", db)
    assert result.returncode == 1
    assert f"{warc.name}: 9 page(s); truncated at offset {cut_at - 100}:" in result.stderr
    assert (f"the rebuilt archive would lose 4 of the 12 documents of {db} (listed above): not replaced "
            "(--keep-missing keeps them, --drop-missing drops them)") in result.stderr
    lost = [line for line in result.stderr.splitlines() if line.startswith("missing ")]
    assert len(lost) == 4 and all(f"(its capture in {warc.name} gave no document)" in line for line in lost)
    assert "missing imported: file://" in lost[0] and lost[0].split(" (")[0].endswith("report-0008.txt")
    assert snapshot(db) == before
    assert not [p for p in tmp_path.iterdir() if ".rebuilding" in p.name]

    forced = archive_command("rebuild", "--from-warc", warc_dir, "--db", db, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "8 new" in forced.stdout and "8 documents (12 before); 4 missing document(s) dropped" in forced.stdout
    assert len(snapshot(db)["documents"]) == 8


def test_rebuild_skips_a_corrupt_gzip_member_and_reads_the_rest(captured, tmp_path):
    db, warc_dir = fresh_copy(captured, tmp_path)
    (warc,) = warc_dir.iterdir()
    members = gzip_members(warc)
    data = bytearray(warc.read_bytes())
    damaged = members[3]  # the response record of the second file
    data[damaged + 20 : damaged + 60] = bytes(40)
    warc.write_bytes(bytes(data))

    result = archive_command("rebuild", "--from-warc", warc_dir, "--db", db, "--dry-run")
    assert result.returncode == 0
    assert f"{warc.name}: 12 page(s); damaged at offsets {damaged}-{members[4]} (" in result.stderr
    assert f"{members[4] - damaged} byte(s) skipped, read on from offset {members[4]}" in result.stderr
    forced = archive_command("rebuild", "--from-warc", warc_dir, "--db", db, "--force")
    assert forced.returncode == 0 and "12 pages" in forced.stdout
    assert "11 new" in forced.stdout  # the damaged record alone is lost


def test_one_rebuild_at_a_time_and_writers_wait_for_it(captured, tmp_path):
    db, warc_dir = fresh_copy(captured, tmp_path)
    before = snapshot(db)
    rebuilding = ArchiveLock(db).acquire(exclusive=True, what="a rebuild")  # as a running rebuild holds it
    try:
        second = archive_command("rebuild", "--from-warc", warc_dir, "--db", db)
        assert second.returncode == 1
        assert f"not rebuilt: {db} is in use by an import, a crawl or another rebuild; try again" in second.stderr
        extra = tmp_path / "extra.txt"
        extra.write_text(report_text(99), encoding="utf-8")
        writer = subprocess.Popen([sys.executable, "-m", "archive", "import", str(extra), "--db", str(db)],
                                  cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        waiting = writer.stderr.readline()  # blocks until the writer meets the lock
        assert f"waiting for a rebuild (pid {os.getpid()}) to finish with {db}" in waiting
        time.sleep(1)
        assert writer.poll() is None and snapshot(db) == before
    finally:
        rebuilding.release()
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert "1 new; 13 documents" in out


def test_rebuild_from_another_sites_capture_refuses_with_the_list_then_keeps_or_drops(captured, tmp_path):
    """The archive's 12 imported reports (one of them marked as crawled, one as stored without a
    capture) are not in a folder holding another site's capture: the rebuild lists what it would
    lose, by origin, and replaces nothing until told to keep or to drop them."""
    db, _ = fresh_copy(captured, tmp_path)
    urls = [row["url"] for row in query(db, "select url from documents order by id")]
    conn = sqlite3.connect(db)
    with conn:
        urls[0] = "https://www.ccdi.gov.cn/xsxc/202401/t20240105_1.html"
        conn.execute("update documents set warc_file = 'ccdi-20260101T000000Z-1-00001.warc.gz', url = ? where id = "
                     "(select min(id) from documents where url like 'file:%')", [urls[0]])
        conn.execute("update documents set warc_file = null where url = ?", [urls[1]])
    conn.close()
    before = snapshot(db)
    other_site = tmp_path / "other-site"
    other_site.mkdir()
    write_pages(other_site / "example.warc.gz", [1, 2, 3], gzip=True)

    refused = archive_command("rebuild", "--from-warc", other_site, "--db", db)
    assert refused.returncode == 1
    assert (f"not rebuilt: the rebuilt archive would lose 11 of the 12 documents of {db} (listed above): not replaced "
            "(--keep-missing keeps them, --drop-missing drops them)") in refused.stderr
    listed = sorted(line for line in refused.stderr.splitlines() if line.startswith("missing "))
    assert listed == sorted(
        [f"missing crawled: {urls[0]} (its capture ccdi-20260101T000000Z-1-00001.warc.gz is not among the sources)",
         f"missing no capture: {urls[1]} (stored without a capture)"]
        + [f"missing imported: {url} (its capture {captured['warc'].name} is not among the sources)" for url in urls[2:]]
    )
    assert snapshot(db) == before and not list(tmp_path.glob("*.rebuilding*"))

    kept_db = tmp_path / "kept.db"
    shutil.copy(db, kept_db)
    kept = archive_command("rebuild", "--from-warc", other_site, "--db", kept_db, "--keep-missing")
    assert kept.returncode == 0, kept.stderr
    assert "3 new; 15 documents (12 before); 12 missing document(s) kept" in kept.stdout
    after = snapshot(kept_db)
    for table in ("documents", "disclosures"):
        assert {k: v for k, v in after[table].items() if k in before[table]} == before[table]
    assert set(before["versions"]) <= set(after["versions"])
    def problems_of_old_documents(state):
        return sorted((p["document_id"], p["text"]) for p in state["problems"].values() if p["document_id"] in before["documents"])

    assert problems_of_old_documents(after) == problems_of_old_documents(before) != []
    found = query(kept_db, "select count(*) n from documents_fts where documents_fts match ?", [search_index.phrase("整改")])[0]["n"]
    assert found == containing(after["documents"].values(), "整改") > 3

    dropped = archive_command("rebuild", "--from-warc", other_site, "--db", db, "--drop-missing")
    assert dropped.returncode == 0, dropped.stderr
    assert "3 new; 3 documents (12 before); 12 missing document(s) dropped" in dropped.stdout
    assert sorted(d["url"] for d in snapshot(db)["documents"].values()) == [f"https://example.org/{n}.html" for n in (1, 2, 3)]


def test_a_document_kept_by_a_rebuild_keeps_its_attachments_and_its_unit(tmp_path):
    db, _ = import_a_report_and_its_table(tmp_path)
    of_the_report = "where document_id = (select id from documents where url like 'file:%report.html') order by 1, 2, 3"
    tables = {
        "attachments": f"select id, document_id, url, name, type, tables from attachments {of_the_report}",
        "attachment_links": f"select * from attachment_links {of_the_report}",
        "unit_events": f"select document_id, unit_id, named_as, role from unit_events {of_the_report}",
        "problems": f"select document_id, title, attachment_id, source_row from problems {of_the_report}",
    }

    def rows(path):
        return {table: [tuple(row) for row in query(path, sql)] for table, sql in tables.items()}

    before = rows(db)
    assert len(before["attachments"]) == 1 and len(before["unit_events"]) == 1 and len(before["problems"]) == 42
    other_site = tmp_path / "other-site"
    other_site.mkdir()
    write_pages(other_site / "example.warc.gz", [1, 2, 3], gzip=True)

    report = rebuild(other_site, db, progress=False, missing="keep")
    assert report.kept == 1
    assert rows(db) == before
