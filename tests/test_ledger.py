"""The promise ledger over HTTP: units as entities, each unit's timeline, the overdue list and its feed.

On tests/ledger_archive.py: five units over four central rounds and a county
inspection — a renamed unit (two names, two rounds), a late report, a missing
report, a 回头看, an ambiguous name.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
import xml.etree.ElementTree as ET

import lxml.html
import pytest
from datasette_server import get_json, served_archive
from ledger_archive import AMBIGUOUS, BAOWU, NANPING, QINGCHUAN, SPIC, SPIC_FORMER, build
from test_datasette_journalist import ATOM, fetch, html

from archive import units

pytestmark = pytest.mark.slow

SPIC_TIMELINE = [
    ("19届中央第3轮巡视 (19-3)", "late", [
        ("2019-03-28", "entry", "中央第八巡视组进驻国家电力投资集团有限公司开展巡视的公告"),
        ("2019-07-11", "feedback", "中央第八巡视组向国家电力投资集团有限公司党组反馈巡视情况"),
        ("2019-10-18", "report", "中共国家电力投资集团有限公司党组关于十九届中央第三轮巡视整改进展情况的通报"),
    ]),
    ("18届中央第5轮巡视 (18-5)", "on_time", [
        ("2015-02-06", "feedback", "中央第五巡视组向中国电力投资集团公司党组反馈专项巡视情况"),
        ("2015-03-30", "report", "中共中国电力投资集团公司党组关于十八届中央第五轮巡视整改情况的通报"),
    ]),
]
TIMELINES = {
    SPIC: SPIC_TIMELINE,
    QINGCHUAN: [("19届中央第6轮巡视 (19-6)", "on_time", [
        ("2020-10-12", "entry", "中央第三巡视组进驻青川省开展巡视的公告"),
        ("2021-01-28", "feedback", "中央第三巡视组向青川省委反馈巡视情况"),
        ("2021-03-22", "report", "中共青川省委关于十九届中央第六轮巡视整改进展情况的通报"),
    ])],
    NANPING: [("19届中央第6轮巡视 (19-6)", "overdue", [
        ("2021-01-29", "feedback", "中央第四巡视组向南屏省委反馈巡视情况"),
    ])],
    BAOWU: [("20届中央第1轮巡视 (20-1) 回头看", "on_time", [
        ("2023-04-14", "entry", "中央第十四巡视组进驻中国宝武钢铁集团有限公司开展巡视“回头看”的公告"),
        ("2023-09-21", "feedback", "中央第十四巡视组向中国宝武钢铁集团有限公司党委反馈巡视“回头看”情况"),
        ("2023-11-20", "report", "中共中国宝武钢铁集团有限公司委员会关于二十届中央第一轮巡视“回头看”整改进展情况的通报"),
    ])],
}


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("ledger") / "archive.db"
    build(db_path)
    with served_archive(db_path) as base:
        yield base, db_path


def unit_ids(base) -> dict[str, str]:
    return {r["unit"]: r["unit_id"] for r in get_json(f"{base}/archive/units_ledger.json?_shape=array")}


def timeline(page) -> list:
    found = []
    for section in page.cssselect("section.inspection"):
        kind = next(c[len("finding-"):] for c in section.get("class").split() if c.startswith("finding-"))
        events = [
            (li.cssselect(".event-date")[0].text_content(), li.get("class").split("event-")[-1], li.cssselect("a")[0].text_content())
            for li in section.cssselect("li.event")
        ]
        found.append((section.cssselect("h3.round")[0].text_content(), kind, events))
    return found


def test_every_unit_page_shows_its_timeline_exactly(ledger):
    base, _ = ledger
    ids = unit_ids(base)
    assert set(TIMELINES) <= set(ids) and AMBIGUOUS not in ids  # the ambiguous name is no unit
    for name, expected in TIMELINES.items():
        page = html(f"{base}/-/unit/{ids[name]}")
        assert page.cssselect("h1.unit-name")[0].text_content() == name
        assert timeline(page) == expected, name
        for link in page.cssselect("li.event a"):
            assert link.get("href").startswith("/-/document/")


def test_a_rename_joins_both_names_texts(ledger):
    base, db_path = ledger
    page = html(f"{base}/-/unit/{unit_ids(base)[SPIC]}")
    named = [span.text_content() for span in page.cssselect("li.event .named-as")]
    assert named == [f"named {SPIC_FORMER}"] * 2  # the 18-5 feedback notice and report
    aliases = {tr.cssselect("td")[0].text_content(): tr.cssselect("td")[1].text_content() for tr in page.cssselect("table.aliases tbody tr")}
    assert aliases[SPIC_FORMER] == "… – 2015-07"
    db = sqlite3.connect(db_path)
    assert db.execute("select count(distinct unit_id) from unit_events where named_as in (?, ?)", [SPIC, SPIC_FORMER]).fetchone() == (1,)


def test_the_report_facts_are_on_the_timeline(ledger):
    base, _ = ledger
    page = html(f"{base}/-/unit/{unit_ids(base)[SPIC]}")
    report = page.cssselect("section.inspection")[0].cssselect("li.event-report")[0]
    facts = " ".join(report.cssselect(".event-facts")[0].text_content().split())
    assert "3 itemised" in facts and "已完成 2 · 基本完成 1" in facts
    assert "¥1.5亿 (150,000,000 元)" in facts and "党纪政务处分 disciplined 7" in facts
    findings = page.cssselect("li.event-feedback .findings")[0].text_content()
    assert findings == "The team pointed out: 国家电力投资集团有限公司党组在落实管党治党责任方面存在差距，重点领域风险防控不够有力"
    late = page.cssselect("section.inspection p.finding")[0].text_content()
    assert late == "first report published 2019-10-18, 99 days after feedback: 39 days after the deadline (2019-09-09, 60 days after feedback)"


def test_every_status_count_of_a_report_is_on_the_timeline(ledger):
    # 青川省's report: one problem 已完成, one 正在推进, one 阶段性完成 (done for this stage, still open).
    base, _ = ledger
    page = html(f"{base}/-/unit/{unit_ids(base)[QINGCHUAN]}")
    statuses = page.cssselect("li.event-report .statuses")[0].text_content()
    assert " ".join(statuses.split()) == "已完成 1 · 阶段性完成 1 · 正在推进 1"


def test_a_report_without_a_date_is_never_said_to_be_missing():
    from datetime import date

    from archive.plugin.ledger import finding

    inspection = {"feedback_date": "2021-01-28", "due_date": "2021-03-29", "first_report_at": None, "reports": 1,
                  "deadline_days": 60}
    assert finding(inspection, date(2024, 1, 1)) == {
        "kind": "unknown", "text": "1 report(s) found in the archive, with no date: whether within the deadline is not known"}
    assert finding({**inspection, "reports": 0}, date(2024, 1, 1))["kind"] == "overdue"


def test_a_feedback_month_without_its_day_is_not_said_to_have_no_rule():
    from datetime import date

    from archive.plugin.ledger import finding

    inspection = {"feedback_date": "2021-01", "due_date": None, "first_report_at": None, "reports": 0, "deadline_days": 60}
    assert finding(inspection, date(2024, 1, 1)) == {"kind": "unknown", "text": (
        "no report found in the archive; feedback 2021-01 (its day not stated), so the deadline (60 days after feedback) is not known")}
    assert finding({**inspection, "deadline_days": None}, date(2024, 1, 1))["text"] == (
        "no report found in the archive; no deadline rule is known for this level")


def test_overdue_lists_exactly_the_units_with_no_report(ledger):
    base, _ = ledger
    rows = get_json(f"{base}/archive/overdue_reports.json?_shape=array")
    assert [(r["unit"], r["round"], r["feedback_date"], r["due_date"], r["finding"]) for r in rows] == [
        (NANPING, "19届中央第6轮巡视 (19-6)", "2021-01-29", "2021-03-30", "no report found in the archive")]
    assert rows[0]["coverage"].startswith("local: 13 pages, last captured ")
    # Another deadline applies to every level: the county feedback has no unit, and is listed by its name.
    longer = get_json(f"{base}/archive/overdue_reports.json?_shape=array&days=30")
    assert sorted(r["unit"] for r in longer) == sorted([NANPING, AMBIGUOUS])
    page = html(f"{base}/archive/overdue_reports")
    assert page.cssselect("td.col-unit a")[0].get("href") == f"/-/unit/{unit_ids(base)[NANPING]}"


def test_the_overdue_feed(ledger):
    base, _ = ledger
    feed = ET.fromstring(fetch(f"{base}/archive/overdue_reports.atom")[0])
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == f"{NANPING}: no report found — 19届中央第6轮巡视 (19-6)"
    assert entry.find(f"{ATOM}link").get("href") == f"{base}/-/unit/{unit_ids(base)[NANPING]}"


def test_a_unit_a_rounds_announcement_names_has_its_inspection_without_texts(ledger):
    base, _ = ledger
    listed = {r["unit"]: r for r in get_json(f"{base}/archive/units_ledger.json?_shape=array")}
    # 18-2 names 国土资源部, since renamed: its row is the current 自然资源部, its old name beside it
    land = listed["自然资源部"]
    assert (land["inspections"], land["reports"], land["other_names"]) == (1, 0, "国土资源部")
    assert listed["新华社"]["unit_type"] == "中央和国家机关" and listed["新华社"]["level"] == "central"
    page = html(f"{base}/-/unit/{land['unit_id']}")
    assert timeline(page) == [("18届中央第2轮巡视 (18-2)", "unknown", [])]
    assert page.cssselect("p.listed-by")[0].text_content() == (
        "Listed in the round's announcement (source); no text of this inspection is in the archive.")
    assert page.cssselect("p.listed-by a")[0].get("href") == "http://fc807.cn/ReadNews.asp?NewsID=9803"


def test_ambiguous_names_are_flagged_not_guessed(ledger):
    base, _ = ledger
    [row] = get_json(f"{base}/archive/ambiguous_unit_links.json?_shape=array")
    assert (row["named_as"], row["role"], row["event_date"]) == (AMBIGUOUS, "feedback", "2023-07-31")
    assert get_json(f"{base}/archive/unit_events.json?_shape=array&link=ambiguous")[0]["unit_id"] is None


def test_the_dashboard_and_home_count_the_overdue(ledger):
    base, _ = ledger
    rows = get_json(f"{base}/archive.json?_shape=array&sql=" + urllib.parse.quote(
        json.loads(fetch(f"{base}/-/metadata.json")[0])["plugins"]["datasette-dashboards"]["rectification"]["charts"]["overdue-by-round"]["query"]))
    assert rows == [{"round": "19届中央第6轮巡视 (19-6)", "inspections": 1}]
    home = lxml.html.fromstring(fetch(f"{base}/")[0].decode())
    overdue = [d for d in home.cssselect(".figures div") if "no report found" in d.text_content()][0]
    assert overdue.cssselect("strong")[0].text_content() == "1"


def test_an_archive_made_twice_links_the_same_way(tmp_path):
    """Links are a function of the texts: a second refresh changes nothing."""
    db_path = tmp_path / "archive.db"
    build(db_path)
    from archive.db import connect

    db = connect(db_path)
    before = [list(db.execute(f"select * from {t} order by 1")) for t in ("units", "unit_aliases", "unit_events", "inspections")]
    with db.conn:
        units.refresh(db)
    after = [list(db.execute(f"select * from {t} order by 1")) for t in ("units", "unit_aliases", "unit_events", "inspections")]
    assert before == after and len(before[2]) == 13  # one event per text


def test_the_download_is_a_snapshot_of_committed_writes_only(ledger, tmp_path):
    """A write committed to the WAL is in the copy; a transaction still open is not."""
    base, db_path = ledger
    writer = sqlite3.connect(db_path, isolation_level=None)
    writer.execute("pragma wal_autocheckpoint = 0")  # the committed row stays in the WAL file
    writer.execute("insert into failures (url, stage, kind, message) values ('wal-only', 'test', 'x', 'committed')")
    pending = sqlite3.connect(db_path, isolation_level=None)
    pending.execute("begin immediate")
    pending.execute("insert into failures (url, stage, kind, message) values ('pending', 'test', 'x', 'not committed')")
    try:
        body = fetch(f"{base}/archive.db")[0]
    finally:
        pending.execute("rollback")
        writer.execute("delete from failures where url = 'wal-only'")
        pending.close()
        writer.close()
    copy = tmp_path / "copy.db"
    copy.write_bytes(body)
    urls = {r[0] for r in sqlite3.connect(copy).execute("select url from failures where stage = 'test'")}
    assert urls == {"wal-only"}
