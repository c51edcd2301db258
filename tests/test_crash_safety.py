"""SIGKILL at several points of an import, a rebuild and a crawl (real
subprocesses, real SQLite files): the archive is never corrupt and never holds
a half-written document, a killed rebuild leaves the old archive as it was,
and running the command again finishes the work — the archive then equals
the one an uninterrupted run makes (same ids, same texts, same disclosures)."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import archive_snapshot
import pytest

from archive.db import connect
from conftest import MIRROR_ARTICLE_URLS, ROOT, STEADY_CRAWL, crawl_process, document_count, run_crawl_process
from crawler.mirror import start_mirror

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

DOCUMENTS = 300
# Rising, so what an earlier killed run left (documents, a .rebuilding file) never
# already reaches the next kill point.
KILL_AT = (0.2, 0.5, 0.8)
COMMAND_TIMEOUT = 300

PLACES = ["青溪", "白沙", "云岭", "石门", "临湖", "松岗", "桃源", "梅林", "柳河", "枫桥", "竹山", "兰溪", "金川", "银滩", "玉泉"]
PREFIXES = ["", "新", "东", "西", "南", "北", "上", "下", "前", "后", "大", "小", "中", "外", "内", "长", "平", "安", "宁", "永"]
COMMITTEES = [("县", "县委"), ("市", "市委"), ("区", "区委")]
TOPICS = ["基层党组织建设", "项目资金监管", "耕地保护责任落实", "民生实事推进", "招投标管理", "养护资金使用", "生态环境整治", "营商环境优化", "安全生产监管", "国有资产管理"]
STATUSES = ["已完成", "正在推进", "已完成，并将长期坚持"]


def report_text(number: int) -> str:
    """An invented plain-text rectification report; ``number`` picks its unit, round and problems."""
    level, committee = COMMITTEES[number % len(COMMITTEES)]
    unit = PREFIXES[number // len(PLACES) % len(PREFIXES)] + PLACES[number % len(PLACES)] + level
    lines = [
        f"中共{unit}{committee}关于十一届省委第{1 + number % 12}轮巡视整改进展情况的通报",
        f"根据省委统一部署，2021年4月至6月，省委第{'一二三四五六七八九十'[number % 10]}巡视组对{unit}进行了常规巡视，"
        f"并于2021年8月{1 + number % 28}日反馈了巡视意见。现将巡视整改进展情况予以公布。",
        "一、巡视反馈问题整改落实情况",
    ]
    for position in range(3):
        lines += [
            f"{position + 1}.关于“{TOPICS[(number + 3 * position) % len(TOPICS)]}不到位”问题",
            f"整改情况（{STATUSES[(number + position) % len(STATUSES)]}）：{unit}{committee}制定整改措施"
            f"{10 + (number * 7 + position) % 90}项，开展专项检查{3 + (number * 13 + position) % 40}次，"
            f"追回资金{100 + (number * 31 + position * 17) % 900}万元，问责{1 + (number + position) % 9}人。",
        ]
    lines.append(f"欢迎广大干部群众对巡视整改落实情况进行监督。联系电话：0551-{6200000 + number}。")
    return "\n".join(lines) + "\n"


def write_reports(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True)
    for number in range(count):
        (folder / f"report-{number:04d}.txt").write_text(report_text(number), encoding="utf-8")
    return folder


def archive_command(*args) -> list[str]:
    return [sys.executable, "-m", "archive", *map(str, args)]


def run(command: list[str]) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    return done


def kill_when(command: list[str], watched_db: Path, documents: int) -> int:
    """Start ``command``, SIGKILL it once ``watched_db`` holds ``documents``
    documents; how many it held then."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    what = " ".join(command[2:4])
    try:
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while document_count(watched_db) < documents:
            assert process.poll() is None, f"{what} ended before it could be killed"
            assert time.monotonic() < deadline, f"{what} made no progress"
            time.sleep(0.01)
    finally:
        process.kill()
        process.wait()
    return document_count(watched_db)


def assert_sound(db: Path) -> None:
    """Not corrupt, and every document complete: its full-text row, its
    dedupe signature and, for a report, its disclosure with all its problems."""
    archive = connect(db)
    try:
        assert archive.execute("pragma integrity_check").fetchall() == [("ok",)]
        # Raises "database disk image is malformed" when the index and the documents disagree.
        archive.execute("insert into documents_fts (documents_fts, rank) values ('integrity-check', 1)")
        incomplete = archive.execute(
            """select count(*) from documents d
               where d.rowid not in (select id from documents_fts_docsize)
                  or d.id not in (select document_id from minhash)
                  or (d.doc_type = 'rectification_report' and d.id not in (select document_id from disclosures))"""
        ).fetchone()[0]
        assert incomplete == 0
        partial_disclosures = archive.execute(
            """select count(*) from disclosures s
               where s.problems_total != (select count(*) from problems p where p.document_id = s.document_id)"""
        ).fetchone()[0]
        assert partial_disclosures == 0
    finally:
        archive.conn.close()


def copy_archive(source: Path, destination: Path) -> None:
    """The database file and its WAL, as a machine that died left them."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{destination}{suffix}")


def snapshot(db: Path, timing_dependent: tuple[str, ...] = ()) -> dict:
    """What an archive holds (``archive_snapshot``), with copies compared as
    groups: which copy of undated texts is canonical depends on when each was
    first seen, to the second, which a killed and resumed run cannot repeat
    (and so does ``is_canonical``, on documents, disclosures and problems).
    ``timing_dependent``: document columns left out as well."""
    state = archive_snapshot.snapshot(db)
    groups: dict[str, list[str]] = {}
    for document_id, document in sorted(state["documents"].items()):
        groups.setdefault(document.pop("canonical_id"), []).append(document_id)
        for column in ("is_canonical", *timing_dependent):
            document.pop(column)
    for row in (*state["disclosures"].values(), *state["problems"].values()):
        row.pop("is_canonical")
    return {**state, "copy groups": sorted(groups.values())}


@pytest.fixture(scope="module")
def imports(tmp_path_factory):
    """An uninterrupted import of generated reports, and one killed at each of
    KILL_AT and then run again; the killed one's archive as it was right after
    its first kill (WAL and all) is kept as an "old archive" for the rebuild."""
    base = tmp_path_factory.mktemp("imports")
    docs = write_reports(base / "docs", DOCUMENTS)
    reference = base / "reference" / "archive.db"
    run(archive_command("import", docs, "--db", reference))
    killed, old_archive = base / "killed" / "archive.db", base / "old" / "archive.db"
    killed_at = []
    for share in KILL_AT:
        killed_at.append(kill_when(archive_command("import", docs, "--db", killed), killed, math.ceil(share * DOCUMENTS)))
        if len(killed_at) == 1:
            copy_archive(killed, old_archive)
        assert_sound(killed)
    rerun = run(archive_command("import", docs, "--db", killed))
    return {
        "reference": reference, "killed": killed, "killed_at": killed_at, "rerun": rerun.stdout,
        "old_archive": old_archive, "warc": killed.parent / "warc",
    }


def test_import_killed_at_several_points_then_run_again_equals_an_uninterrupted_import(imports):
    killed_at = imports["killed_at"]
    assert killed_at == sorted(killed_at) and killed_at[-1] < DOCUMENTS
    assert [count >= math.ceil(share * DOCUMENTS) for count, share in zip(killed_at, KILL_AT)] == [True] * len(KILL_AT)
    assert re.search(rf"imported: \d+ new, \d+ unchanged; {DOCUMENTS} documents", imports["rerun"])
    assert_sound(imports["killed"])
    expected = snapshot(imports["reference"])
    assert len(expected["documents"]) == DOCUMENTS and len(expected["problems"]) == 3 * DOCUMENTS
    assert snapshot(imports["killed"]) == expected


def test_killed_rebuilds_leave_the_old_archive_and_the_next_one_completes(imports, tmp_path):
    # The captures of the killed imports: records cut short by SIGKILL, files captured twice.
    warc = imports["warc"]
    reference = tmp_path / "reference" / "archive.db"
    run(archive_command("rebuild", "--from-warc", warc, "--db", reference))
    assert_sound(reference)
    assert len(snapshot(reference)["documents"]) == DOCUMENTS

    # The old archive: a killed import's, with commits still in its WAL.
    target, view = tmp_path / "target" / "archive.db", tmp_path / "view" / "archive.db"
    copy_archive(imports["old_archive"], target)
    assert Path(f"{target}-wal").stat().st_size > 0
    copy_archive(imports["old_archive"], view)  # reading checkpoints the WAL: read a copy
    old = snapshot(view)
    assert 0 < len(old["documents"]) < DOCUMENTS
    building = target.with_name(target.name + ".rebuilding")
    for share in KILL_AT:
        rebuilt_when_killed = kill_when(
            archive_command("rebuild", "--from-warc", warc, "--db", target), building, math.ceil(share * DOCUMENTS)
        )
        assert rebuilt_when_killed < DOCUMENTS
        assert building.exists()
        assert_sound(target)
        assert snapshot(target) == old

    copy_archive(imports["old_archive"], target)
    run(archive_command("rebuild", "--from-warc", warc, "--db", target))
    assert not [path.name for path in target.parent.iterdir() if ".rebuilding" in path.name]
    assert_sound(target)
    assert snapshot(target) == snapshot(reference)


def test_crawl_killed_at_several_points_then_run_again_equals_an_uninterrupted_crawl(tmp_path):
    from archive.rebuild import rebuild

    articles = len(MIRROR_ARTICLE_URLS)
    reference, db = tmp_path / "reference" / "archive.db", tmp_path / "archive.db"
    warc, jobs = tmp_path / "warc", tmp_path / "jobs"
    with start_mirror(challenge=False) as mirror:
        uninterrupted = run_crawl_process(reference, mirror.host_map, warc_dir=tmp_path / "reference" / "warc")
        assert uninterrupted.returncode == 0, uninterrupted.stdout
        command = crawl_process(db, mirror.host_map, warc_dir=warc, jobdir=jobs, politeness=True, settings=STEADY_CRAWL)
        for share in KILL_AT:
            assert kill_when(command, db, math.ceil(share * articles)) < articles
            assert_sound(db)
        rerun = run_crawl_process(db, mirror.host_map, warc_dir=warc, jobdir=jobs)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr[-3000:]
    assert_sound(db)
    # A page two listings link (a column and the site search) keeps the hints of
    # the one whose request came first, which a slower crawl may change.
    listing_order = ("hints", "categories")
    expected = snapshot(reference, listing_order)
    assert {document["url"] for document in expected["documents"].values()} == MIRROR_ARTICLE_URLS
    assert snapshot(db, listing_order) == expected
    # The captures of the killed runs (their last records cut short) rebuild the same archive.
    rebuild(warc, tmp_path / "rebuilt.db", progress=False)
    assert snapshot(tmp_path / "rebuilt.db") == snapshot(db)
