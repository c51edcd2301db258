"""Names to units (archive/units.py): the reference renames, validity dates, ambiguity never guessed."""

import csv
from pathlib import Path

from archive import units
from archive.db import Archive, connect
from archive.importer import import_paths


def _event(name, on):
    return {"named_as": name, "event_date": on}


def test_every_reference_rename_has_a_source_and_its_unit_a_row_of_its_own_name():
    with units.UNIT_NAMES_CSV.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert all(row["source"].startswith("http") for row in rows)
    assert {row["unit"] for row in rows} == {row["alias"] for row in rows if row["alias"] == row["unit"]}
    renamed = {row["alias"]: row["valid_until"] for row in rows if row["valid_until"]}
    assert renamed["中国电力投资集团公司"] == "2015-07" and renamed["宝钢集团有限公司"] == "2016-12-01"


def test_a_former_name_finds_the_unit_it_became():
    names = units._Names()
    spic = units.unit_id("国家电力投资集团有限公司")
    assert names.resolve(_event("中国电力投资集团公司", "2015-02-06")) == (spic, "linked", [spic])
    assert names.resolve(_event("国家电投", "2019-07-11"))[0] == spic
    assert names.resolve(_event("宝钢", "2014-05-01"))[0] == units.unit_id("中国宝武钢铁集团有限公司")


def test_a_name_two_units_share_is_told_apart_by_its_dates_or_not_at_all():
    names = units._Names()
    first, second = units.unit_id("甲"), units.unit_id("乙")
    names.aliases["某集团"] = [
        {"unit_id": first, "alias": "某集团", "valid_from": None, "valid_until": "2016-01", "source": "x", "note": None},
        {"unit_id": second, "alias": "某集团", "valid_from": "2016-01", "valid_until": None, "source": "x", "note": None},
    ]
    assert names.resolve(_event("某集团", "2015-06-01"))[:2] == (first, "linked")
    assert names.resolve(_event("某集团", "2017-06-01"))[:2] == (second, "linked")
    assert names.resolve(_event("某集团", None)) == (None, "ambiguous", sorted([first, second]))


def test_a_name_that_says_no_place_is_ambiguous_and_makes_no_unit():
    names = units._Names()
    before = set(names.units)
    assert names.resolve(_event("县林业局", "2023-07-31")) == (None, "ambiguous", [])
    assert names.resolve(_event(None, "2023-07-31")) == (None, "unnamed", [])
    assert set(names.units) == before
    uid, link, _ = names.resolve(_event("梅溪县林业局", "2023-07-31"))
    assert link == "linked" and names.units[uid]["source"] == "texts"


def test_round_labels_name_each_round_one_way():
    assert units._round_label("central", "巡视", 19, 6, "19-6", 0) == "19届中央第6轮巡视 (19-6)"
    assert units._round_label("provincial", "巡视", 14, 3, None, 0, "浙江省") == "浙江省 14届省级第3轮巡视"
    assert units._round_label("provincial", "巡视", 14, 3, None, 0, "江苏省") != units._round_label(
        "provincial", "巡视", 14, 3, None, 0, "浙江省")
    assert units._round_label("central", "巡视", 20, 1, "20-1", 1) == "20届中央第1轮巡视 (20-1) 回头看"
    assert units._round_label("county", "巡察", None, None, None, 0) == "县级巡察（轮次未载明）"


def test_a_derived_table_of_an_older_shape_is_made_again(tmp_path):
    from sqlite_utils import Database

    db = Database(tmp_path / "old.db")
    db["inspections"].insert({"id": "x", "unit_id": "y"}, pk="id")  # an earlier version's shape
    units.create(db)
    assert set(db["inspections"].columns_dict) == set(units.INSPECTIONS)
    assert db["inspections"].count == 0  # refresh() fills it again from the texts


def _inspection_event(document_id, role, on, stated=True):
    """A text of 青川省's 19-6 inspection; a notice's date is the day it states, or (``stated``
    False) its publication."""
    return {"document_id": document_id, "unit_id": "u1", "named_as": "青川省", "level": "central", "site": "local",
            "role": role, "event_date": on, "kind": "巡视", "inspection_kind": None, "term": 19, "round": 6,
            "round_id": "19-6", "province": None, **({"stated_date": on if stated else None} if role != "report" else {})}


def test_an_undated_report_is_counted_and_the_first_report_is_the_earliest_dated_one():
    events = [_inspection_event("f", "feedback", "2021-01-28"), _inspection_event("r1", "report", None),
              _inspection_event("r2", "report", "2021-03-22")]
    rules = {("central", "巡视"): {"days": 60, "source": "rule"}}
    [inspection] = units._inspections(events, rules)
    assert (inspection["reports"], inspection["first_report_at"], inspection["due_date"]) == (2, "2021-03-22", "2021-03-29")
    [undated_only] = units._inspections([events[0], _inspection_event("r1", "report", None)], rules)
    assert (undated_only["reports"], undated_only["first_report_at"]) == (1, None)


def test_the_feedback_day_and_deadline_come_from_a_stated_date_never_from_a_publication():
    rules = {("central", "巡视"): {"days": 60, "source": "rule"}}
    published_only = [_inspection_event("e", "entry", "2020-10-14", stated=False),
                      _inspection_event("f", "feedback", "2021-01-30", stated=False),
                      _inspection_event("r", "report", "2021-03-31")]
    [inspection] = units._inspections(published_only, rules)
    assert (inspection["entry_date"], inspection["feedback_date"], inspection["due_date"]) == (None, None, None)
    stated = [_inspection_event("f", "feedback", "2021-01-28"), _inspection_event("r", "report", "2021-03-31")]
    [inspection] = units._inspections(stated, rules)
    assert (inspection["feedback_date"], inspection["due_date"]) == ("2021-01-28", "2021-03-29")


def _archive_with_units(tmp_path):
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        import_paths([Path(__file__).parent / "fixtures" / "ledger"], archive)  # reports and notices
    db = connect(path)
    linked = db["unit_events"].count
    with db.conn:
        db.execute("delete from unit_events")  # what a refresh would write again
    db.conn.close()
    return path, linked


def _events_after(path, change=None) -> int:
    with Archive(path) as archive:
        if change:
            with archive.transaction():
                archive.db.execute(change)
    db = connect(path)
    try:
        return db["unit_events"].count
    finally:
        db.conn.close()


def test_a_writer_that_changed_no_text_closes_without_deriving_the_units_again(tmp_path):
    path, linked = _archive_with_units(tmp_path)
    assert linked == 13
    assert _events_after(path) == 0
    assert _events_after(path, "update documents set last_seen_at = '2030-01-01T00:00:00Z'") == 0  # seen again, unchanged
    assert _events_after(path, "update documents set published_at = published_at") == 0  # written, same value
    assert _events_after(path, "update documents set published_at = '2030-01-02' where rowid = 1") == linked


def test_a_report_row_or_the_reference_changed_derives_them_again(tmp_path, monkeypatch):
    path, linked = _archive_with_units(tmp_path)
    assert _events_after(path, "update disclosures set team = coalesce(team, '') || '组' where rowid = 1") == linked
    db = connect(path)
    with db.conn:
        db.execute("delete from unit_events")
    db.conn.close()
    assert _events_after(path) == 0
    renames = tmp_path / "unit_names.csv"
    renames.write_text(units.UNIT_NAMES_CSV.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    monkeypatch.setattr(units, "UNIT_NAMES_CSV", renames)
    assert _events_after(path) == linked


def test_the_tables_written_as_changes_equal_the_tables_made_afresh(tmp_path):
    path, linked = _archive_with_units(tmp_path)
    assert _events_after(path, "update documents set published_at = '2030-01-02' where rowid = 1") == linked
    renamed = "update disclosures set unit = '梅溪县某新单位' where rowid = (select min(rowid) from disclosures)"
    assert _events_after(path, renamed) == linked  # one event's unit changed, none added

    def tables(db):
        return {table: sorted(map(tuple, db.execute(f"select * from [{table}]")), key=repr) for table in units.DERIVED}

    db = connect(path)
    try:
        written = tables(db)
        assert any(row[1] == "梅溪县某新单位" for row in written["units"])
        with db.conn:
            for table in units.DERIVED:
                db.execute(f"delete from [{table}]")
            units.refresh(db)
        assert tables(db) == written
    finally:
        db.conn.close()


def test_a_refresh_derives_without_the_write_lock_and_again_when_a_writer_moved_the_texts_meanwhile(tmp_path, monkeypatch):
    """At a writer's close the units are derived from a snapshot: another writer commits meanwhile
    without waiting (busy timeout 0), and the derivation it made stale is not written but made again."""
    path, linked = _archive_with_units(tmp_path)
    other = connect(path)  # another writer, which never waits for the lock
    other.execute("pragma busy_timeout = 0")
    with other.conn:  # a text changed: the next close derives
        other.execute("update documents set title = title || '。' where rowid = 1")
    document_id = other.execute(
        "select id from documents where doc_type = 'rectification_report' and coalesce(canonical_id, id) = id limit 1").fetchone()[0]
    derive, derived_from = units.derive, []

    def derive_while_another_writer_commits(db):
        derived = derive(db)
        derived_from.append(derived.stamp)
        if len(derived_from) == 1:
            with other.conn:
                other.execute("update documents set published_at = '2030-01-02' where id = ?", [document_id])
        return derived

    monkeypatch.setattr(units, "derive", derive_while_another_writer_commits)
    archive = Archive(path)
    archive.close()
    other.conn.close()
    assert len(derived_from) == 2 and derived_from[0][0] + 1 == derived_from[1][0]  # the texts' counter moved once
    db = connect(path)
    try:
        assert db["unit_events"].count == linked
        assert db.execute("select published_at from unit_events where document_id = ?", [document_id]).fetchone()[0] == "2030-01-02"
        texts, refreshed_texts, _ = db.execute("select * from units_sources").fetchone()
        assert texts == refreshed_texts
    finally:
        db.conn.close()


def test_a_derivation_made_stale_by_another_writer_writes_nothing(tmp_path):
    path, linked = _archive_with_units(tmp_path)
    db = connect(path)
    try:
        derived = units.derive(db)
        with db.conn:
            db.execute("update documents set title = title || '。' where rowid = 1")
        with db.conn:
            assert not units.write(db, derived)
        assert db["unit_events"].count == 0
        with db.conn:
            assert units.write(db, units.derive(db))
        assert db["unit_events"].count == linked
        # Derived again from what it wrote: no row differs from its digest, none is written twice.
        assert all(changes == ([], []) for changes in units.derive(db).changes.values())
    finally:
        db.conn.close()
