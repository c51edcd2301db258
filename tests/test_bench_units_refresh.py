"""The unit-refresh benchmark on the ledger fixtures: the synthetic report rows, a close that
derives, the write lock it holds measured, the changed text linked again."""

from pathlib import Path

import pytest

from archive.db import Archive, connect
from archive.importer import import_paths
from bench import bench_units_refresh

pytestmark = pytest.mark.slow  # starts a child process per round


def test_each_round_changes_a_notice_and_its_close_links_it_again_holding_the_lock_briefly(tmp_path):
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        import_paths([Path(__file__).parent / "fixtures" / "ledger"], archive)
    db = connect(path)
    with db.conn:
        db.execute("delete from disclosures")  # as a bulk archive: no report rows
    reports = db.execute("select count(*) from documents where doc_type = 'rectification_report'").fetchone()[0]
    notice = db.execute("select id from documents where doc_type = 'feedback_notice' order by rowid desc limit 1").fetchone()[0]
    db.conn.close()

    result = bench_units_refresh.main(["--db", str(path), "--rounds", "1", "--peer", str(bench_units_refresh.REPO)])

    assert reports > 0 and result["reports"] == reports  # one synthetic row per report
    for name in ("this", "peer"):
        (run,) = result["runs"][name]
        assert run["transactions"] == 1 and run["lock_s"] < run["close_s"]
        assert 50 <= run["peak_mib"] < 2048  # MiB (ru_maxrss counts KiB): 164 here
    db = connect(path)
    try:
        events = db.execute("select published_at from unit_events where document_id = ?", [notice]).fetchall()
        assert events and {published for (published,) in events} == {result["runs"]["peer"][0]["changed"]}
        units_named = {name for (name,) in db.execute("select name from units where source = 'texts'")}
        assert any(name.startswith("某某县") for name in units_named)  # the synthetic reports' units
    finally:
        db.conn.close()
    (this,), (peer,) = result["runs"]["this"], result["runs"]["peer"]
    assert result["close_ratio_this_to_peer"] == round(this["close_s"] / peer["close_s"], 3)
