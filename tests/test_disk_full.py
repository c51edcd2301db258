"""A full disk under `archive import` and `archive rebuild`, on a real small file system (a tmpfs of
a few MB, mounted for the test; skipped where mounting is not permitted): one line naming the
folder and the space needed, exit 1, the archive whole, no temporary file left behind."""

from __future__ import annotations

import random
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from archive_snapshot import snapshot
from conftest import ROOT
from test_crash_safety import report_text, write_reports

from archive import rebuild as rebuild_module
from archive.disk import DiskFull
from captures import CaptureReader

pytestmark = pytest.mark.slow


def archive_command(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archive", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture
def small_disk(tmp_path):
    """Mount a tmpfs of ``megabytes`` at a new folder; unmounted at the end."""
    mounted = []

    def mount(megabytes: int) -> Path:
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def long_reports(folder: Path, count: int) -> Path:
    """Reports padded with ~100 KB of random Chinese text each (little for gzip or the index to share)."""
    rng = random.Random(6)
    folder.mkdir()
    for number in range(count):
        padding = "\n".join("".join(chr(0x4E00 + rng.randrange(6000)) for _ in range(300)) for _ in range(110))
        (folder / f"long-{number:03d}.txt").write_text(report_text(number) + "\n" + padding, encoding="utf-8")
    return folder


def assert_whole(db: Path) -> None:
    connection = sqlite3.connect(db)
    try:
        assert connection.execute("pragma integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()


def one_line_about_the_full_disk(stderr: str, prefix: str, disk: Path) -> str:
    assert "Traceback" not in stderr, stderr[-3000:]
    (line,) = [line for line in stderr.splitlines() if line.startswith(prefix)]
    assert line.startswith((f"{prefix}the disk holding {disk} has ", f"{prefix}the disk holding {disk}/warc has ")), line
    assert " MB free; " in line and " needs about " in line
    return line


def test_import_onto_a_full_disk_stops_with_one_line_and_leaves_the_archive_whole(small_disk, tmp_path):
    disk = small_disk(3)
    db = disk / "archive.db"
    result = archive_command("import", long_reports(tmp_path / "docs", 40), "--db", db)
    assert result.returncode == 1
    line = one_line_about_the_full_disk(result.stderr, "import stopped: ", disk)
    stored = int(re.search(r"; the (\d+) page\(s\) stored", line)[1])
    assert line.endswith("page(s) stored before it are in the archive, whole")
    assert_whole(db)
    assert len(snapshot(db)["documents"]) == stored
    # Every WARC record written is whole: no part of the one the disk cut stays behind.
    reader = CaptureReader.from_folder(disk / "warc").scan()
    assert [r.errors for r in reader.reports.values()] == [[] for _ in reader.reports]
    assert reader.total >= stored
    assert not [p.name for p in disk.iterdir() if p.name.endswith((".rebuilding", "-journal"))]


def test_rebuild_refused_up_front_when_the_disk_has_not_the_room(small_disk, tmp_path):
    disk = small_disk(8)
    db = disk / "archive.db"
    assert archive_command("import", write_reports(tmp_path / "docs", 6), "--db", db).returncode == 0
    before = snapshot(db)
    # Fill the disk up to less than twice the archive's size.
    (disk / "filler").write_bytes(bytes(max(shutil.disk_usage(disk).free - db.stat().st_size, 0)))
    result = archive_command("rebuild", "--from-warc", disk / "warc", "--db", db)
    assert result.returncode == 1
    line = one_line_about_the_full_disk(result.stderr, "not rebuilt: ", disk)
    assert line.endswith("; the archive is as it was")
    assert snapshot(db) == before
    assert not list(disk.glob("*.rebuilding*"))


def test_rebuild_that_fills_the_disk_removes_what_it_built_and_leaves_the_archive_whole(small_disk, tmp_path, monkeypatch):
    """The check up front is an estimate: when the disk fills anyway, the partial rebuild goes."""
    disk = small_disk(6)
    db = disk / "archive.db"
    assert archive_command("import", write_reports(tmp_path / "docs", 2), "--db", db).returncode == 0
    before = snapshot(db)
    # The captures to rebuild from lie elsewhere and hold far more than the small disk.
    assert archive_command("import", long_reports(tmp_path / "long", 40), "--db", tmp_path / "big.db").returncode == 0
    monkeypatch.setattr(rebuild_module, "_space_needed", lambda *_: 0)  # an estimate that turns out wrong
    with pytest.raises(DiskFull, match=rf"^the disk holding {re.escape(str(disk))} has \d+\.\d MB free; the rebuild needs about "):
        rebuild_module.rebuild(tmp_path / "warc", db, progress=False, missing="keep")
    assert snapshot(db) == before
    assert_whole(db)
    assert sorted(p.name for p in disk.iterdir()) == ["archive.db", "archive.db.lock", "warc"]
