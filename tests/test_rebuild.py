"""`python -m archive rebuild --from-warc`: imported files are captured and rebuild to the same archive."""

import shutil
import subprocess
import sys
from pathlib import Path

from archive_snapshot import snapshot
from warcio.archiveiterator import ArchiveIterator

from archive.db import Archive
from archive.importer import import_paths

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
    assert len(rebuilt["disclosures"]) == 6 and len(rebuilt["problems"]) > 20
    county = next(d for d in rebuilt["documents"].values() if d["url"].endswith("county_xuncha.txt"))
    assert county["version_count"] == 2 and "措施35条" in county["body_text"]


def test_rebuild_replaces_the_archive_only_when_complete(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(FIXTURES / "documents", docs)
    with Archive(tmp_path / "archive.db") as archive:
        import_paths([docs], archive)
    target = tmp_path / "target.db"
    target.write_bytes(b"previous archive")
    (tmp_path / "target.db.rebuilding").write_bytes(b"left over by a killed rebuild")
    from archive.rebuild import rebuild

    outcomes = rebuild(tmp_path / "warc", target, progress=False)
    assert dict(outcomes) == {"new": 4}
    assert not (tmp_path / "target.db.rebuilding").exists()
    with Archive(target) as archive:
        assert archive.count("documents") == 4
