"""The served archive as a journalist uses it, over HTTP, on an archive with republished copies.

Totals count texts, not pages; levels read in Chinese; the record page proves
where a text was published, how it changed and where its raw capture is; CSV
for Excel; Atom feeds; robots.txt.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sqlite3
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import lxml.html
import pytest
from datasette_server import get_json, served_archive
from journalist_archive import (
    CCPIT_12371, CCPIT_CCDI, EDIT, GONE_AT, HEBEI_CCDI, HEBEI_MONEY_YUAN, HEBEI_PEOPLE, HEBEI_PEOPLE_DISCIPLINED,
    HEBEI_SINA, build,
)
from warcio.archiveiterator import ArchiveIterator

from archive import labels
from archive.db import Archive
from archive.importer import import_paths

pytestmark = pytest.mark.slow

METADATA = json.loads((Path(__file__).resolve().parents[1] / "datasette_metadata.json").read_text(encoding="utf-8"))
CHARTS = METADATA["plugins"]["datasette-dashboards"]["rectification"]["charts"]
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    db_path = tmp_path_factory.mktemp("journalist") / "archive.db"
    ids = build(db_path)
    with served_archive(db_path) as base:
        yield base, ids, db_path


def fetch(url: str) -> tuple[bytes, dict]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), dict(response.headers)


def html(url: str):
    return lxml.html.fromstring(fetch(url)[0].decode("utf-8"))


def sql(base: str, query: str) -> list[dict]:
    return get_json(f"{base}/archive.json?" + urllib.parse.urlencode({"sql": query, "_shape": "array"}))


def hand_count(db_path: Path) -> dict:
    """Totals over canonical records, counted in Python from the rows themselves."""
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    canonical = {r["id"] for r in db.execute("select id, canonical_id from documents") if r["canonical_id"] in (None, r["id"])}
    reports = [
        dict(r) for r in db.execute("select * from disclosures") if r["document_id"] in canonical and not r["is_template"]
    ]
    kept = {r["document_id"] for r in reports}
    statuses = Counter(
        labels.label("status_classes", r["status_class"])
        for r in db.execute("select document_id, status_class from problems") if r["document_id"] in kept
    )
    return {
        "reports": len(reports),
        "money": sum(r["money_recovered_yuan"] or 0 for r in reports),
        "people": sum(r["people_disciplined"] or 0 for r in reports),
        "statuses": dict(statuses),
        "levels": Counter(r["level"] for r in reports),
        "units": len({r["unit"] for r in reports}),
    }


def test_the_archive_holds_one_report_three_times(served):
    base, ids, db_path = served
    rows = sql(base, "select document_id, money_recovered_yuan, people_disciplined, is_canonical from disclosures where unit = '河北省'")
    assert len(rows) == 3
    assert [r["is_canonical"] for r in rows if r["document_id"] == ids[HEBEI_CCDI]] == [1]
    assert {(r["money_recovered_yuan"], r["people_disciplined"]) for r in rows} == {(HEBEI_MONEY_YUAN, HEBEI_PEOPLE_DISCIPLINED)}


def test_money_and_people_by_unit_type_count_each_text_once(served):
    base, _, db_path = served
    expected = hand_count(db_path)
    rows = get_json(f"{base}/archive/money_by_unit_type.json?_shape=array")
    by_type = {r["unit_type"]: r for r in rows}
    assert sum(r["reports"] for r in rows) == expected["reports"]
    assert sum(r["money_recovered_yuan"] or 0 for r in rows) == expected["money"]
    assert sum(r["people_disciplined"] or 0 for r in rows) == expected["people"]
    provinces = sql(base, "select money_recovered_yuan, people_disciplined from disclosures d join documents doc on doc.id = d.document_id "
                          "where d.unit_type = '省区市' and doc.canonical_id = doc.id and not d.is_template")
    assert by_type["省区市"]["money_recovered_yuan"] == sum(r["money_recovered_yuan"] or 0 for r in provinces)
    # 临江省 156,568,000 + 吉林省 47,800,000 + 河北省 once (its three pages would make 574,160,000 and 251 people)
    assert by_type["省区市"]["money_recovered_yuan"] == 156_568_000 + 47_800_000 + HEBEI_MONEY_YUAN == 327_632_000
    assert by_type["省区市"]["people_disciplined"] == 38 + HEBEI_PEOPLE_DISCIPLINED == 109
    lag = get_json(f"{base}/archive/lag_by_round.json?_shape=array")
    assert sum(r["reports"] for r in lag) == len(sql(
        base, "select 1 from disclosures where is_canonical and not is_template and lag_days is not null"))
    completed = [r["unit"] for r in get_json(f"{base}/archive/units_all_completed.json?_shape=array")]
    assert len(completed) == len(set(completed))


def test_dashboard_charts_count_each_text_once(served):
    base, _, db_path = served
    expected = hand_count(db_path)
    by_status = {r["status"]: r["problems"] for r in sql(base, CHARTS["problems-by-status"]["query"])}
    assert by_status == expected["statuses"]
    by_level = {r["level_kind"]: r["reports"] for r in sql(base, CHARTS["reports-by-level"]["query"])}
    assert sum(by_level.values()) == expected["reports"]
    assert by_level["中央 巡视"] == expected["levels"]["central"] == 5  # 河北, 吉林, 贸促会, 临江省, 海事航运部
    lags = sql(base, CHARTS["lag-by-round"]["query"])
    assert [r["unit"] for r in lags].count("河北省") == 1


def test_home_page_counts_a_unit_once_under_all_its_names(tmp_path):
    """国家电投 is 国家电力投资集团有限公司 (archive/unit_names.csv): two reports, one unit."""
    from archive.plugin.home import FIGURES

    opening = "根据中央统一部署，{year}年3月至5月，中央第{n}巡视组对{unit}党组进行了巡视。{year}年7月10日，中央巡视组向{unit}党组反馈了巡视意见。"
    for name, (unit, year, n) in {"a": ("国家电力投资集团有限公司", 2019, "一"), "b": ("国家电投", 2014, "三")}.items():
        (tmp_path / f"{name}.txt").write_text(
            f"中共{unit}党组关于巡视整改情况的通报\n" + opening.format(year=year, n=n, unit=unit), encoding="utf-8")
    with Archive(tmp_path / "archive.db") as archive:
        import_paths([tmp_path / "a.txt", tmp_path / "b.txt"], archive)
    conn = sqlite3.connect(tmp_path / "archive.db")
    assert sorted(row[0] for row in conn.execute("select unit from disclosures")) == ["国家电力投资集团有限公司", "国家电投"]
    reports, units = conn.execute(FIGURES).fetchone()[:2]
    conn.close()
    assert (reports, units) == (2, 1)


def test_home_page_figures_count_texts_not_pages(served):
    base, ids, db_path = served
    expected = hand_count(db_path)
    page = html(f"{base}/")
    figures = {
        div.text_content().replace(strong.text_content(), "").strip(): int(strong.text_content().replace(",", ""))
        for div in page.cssselect(".figures div:not(.money-figure)") for strong in div.cssselect("strong")
    }
    money = page.cssselect(".figures .money-figure strong")[0]
    assert money.get("title") == f"{expected['money']:,.0f} 元"  # the exact figure behind ¥3.29亿
    assert money.text_content() == f"¥{expected['money'] / 1e8:.2f}亿"
    assert figures["people disciplined, as reports state"] == expected["people"]
    assert figures["rectification reports"] == expected["reports"] == 7
    assert figures["units"] == expected["units"]
    assert figures["itemised problems"] == sum(expected["statuses"].values())
    assert figures["republished copies, counted once"] == 4  # Sina, people.com.cn, 12371, the traditional county copy
    bars = {tr.cssselect("td")[0].text_content(): int(tr.cssselect("td")[1].text_content()) for tr in page.cssselect("table.bars tr")}
    assert bars == expected["statuses"]
    latest = [a.get("href") for a in page.cssselect(".latest-disclosures td a")]
    assert f"/-/document/{ids[HEBEI_CCDI]}" in latest
    assert f"/-/document/{ids[HEBEI_SINA]}" not in latest
    assert page.cssselect("form.home-search input[name=q]")
    questions = [a.text_content() for a in page.cssselect(".key-questions li > a")]
    assert "Money recovered and people disciplined, by unit type" in questions and "Problems whose text mentions a phrase" in questions


def test_levels_read_in_chinese_with_the_codes_kept(served):
    base, _, db_path = served
    data = get_json(f"{base}/archive/disclosures.json?_facet=level&is_canonical=1")
    facet = {r["value"]: (r["label"], r["count"]) for r in data["facet_results"]["level"]["results"]}
    expected = hand_count(db_path)["levels"]
    assert facet == {
        "central": ("中央", expected["central"]),
        "provincial": ("省级", expected["provincial"]),
        "county": ("县级", expected["county"] + 1),  # the template copy is a canonical record too
    }
    assert {r["level"] for r in sql(base, "select distinct level from disclosures")} == {"central", "provincial", "county"}
    assert get_json(f"{base}/archive/doc_types/rectification_report.json?_shape=array")[0]["label"] == "整改进展情况通报"


def test_status_facet_counts_unlabelled_problems_in_chinese(served):
    base, _, db_path = served
    data = get_json(f"{base}/archive/problems.json?_facet=status_class&is_canonical=1&_size=0")
    facet = {r["label"]: r["count"] for r in data["facet_results"]["status_class"]["results"]}
    canonical = sql(base, "select p.status_class from problems p where p.is_canonical")
    assert facet == dict(Counter(labels.label("status_classes", r["status_class"]) for r in canonical))
    assert facet["未标注状态"] == 3 and sum(facet.values()) == data["filtered_table_rows_count"]


def test_is_canonical_and_published_month_facets(served):
    base, ids, _ = served
    data = get_json(f"{base}/archive/documents.json?_facet=is_canonical&_facet=published_month&_size=0")
    canonical = {r["value"]: r["count"] for r in data["facet_results"]["is_canonical"]["results"]}
    assert canonical == {1: data["filtered_table_rows_count"] - 4, 0: 4}
    months = {r["value"]: r["count"] for r in data["facet_results"]["published_month"]["results"]}
    # Hebei (CCDI 10-27, Sina and people 10-28), Jilin 10-27, CCPIT 10-22 and 10-23
    assert months["2021-10"] >= 6
    rows = get_json(f"{base}/archive/documents.json?_shape=array&published_month=2021-10&is_canonical=1&_col=url")
    urls = {r["url"] for r in rows}
    assert {HEBEI_CCDI, CCPIT_CCDI} <= urls and not {HEBEI_SINA, HEBEI_PEOPLE, CCPIT_12371} & urls


def test_record_page_shows_copies_versions_capture_and_citation(served):
    base, ids, _ = served
    page = html(f"{base}/-/document/{ids[HEBEI_SINA]}")
    banner = page.cssselect(".banner-copy a")[0]
    assert banner.get("href") == f"/-/document/{ids[HEBEI_CCDI]}"
    copies = [[td.text_content().strip() for td in tr.cssselect("td")] for tr in page.cssselect("table.copies tbody tr")]
    assert [(c[0], c[1], c[2], c[4]) for c in copies] == [
        ("中央纪委国家监委网站", "2021-10-27 18:00 +08:00", "—", HEBEI_CCDI),
        ("新浪财经", "2021-10-28 08:01 +08:00", "梁斌", HEBEI_SINA),
        ("人民网", "2021-10-28 08:18 +08:00", "王珂园、刘军涛", HEBEI_PEOPLE),
    ]
    assert copies[0][5] == "canonical" and copies[2][5] == f"gone {GONE_AT[:10]}"
    changes = page.cssselect("#versions .change")
    assert len(changes) == 1
    # 126项 → 128项: the changed character, within its paragraph, between unchanged ones
    assert [d.text_content() for d in changes[0].cssselect("del")] == ["6"]
    assert [i.text_content() for i in changes[0].cssselect("ins")] == ["8"]
    assert EDIT[1] in changes[0].cssselect("p.diff-changed")[0].text_content().replace("6", "")
    assert "2021-11-01" in changes[0].cssselect("h3")[0].text_content()
    citation = page.cssselect("#citation")[0].text_content()
    title = page.cssselect("h1.doc-title")[0].text_content()
    assert citation.startswith("中央纪委国家监委网站. " + title + "[EB/OL]. 新浪财经, (2021-10-28)")
    assert HEBEI_SINA in citation and ids[HEBEI_SINA] in citation
    capture = {tr[0].text_content(): tr[1].text_content() for tr in page.cssselect("table.capture tr")}
    assert capture["First seen"] == "2021-11-01 00:00 UTC"
    assert capture["This text fetched"] == "2021-11-08 00:00 UTC"
    assert capture["WARC record"].startswith("<urn:uuid:")


def test_record_page_gives_the_stated_and_the_counted_completion(served):
    base, _, _ = served
    [report] = sql(base, "select document_id, problems_completed, problems_total, problems_itemised from disclosures where unit = '临江省'")
    page = html(f"{base}/-/document/{report['document_id']}")
    assert page.cssselect(".stated-rate")[0].text_content() == "60% completed, as the report states"
    share = round(100 * report["problems_completed"] / report["problems_total"])
    assert page.cssselect(".parsed-rate")[0].text_content() == (
        f"{report['problems_completed']} of {report['problems_total']} problems completed, by the report's own labels ({share}%)"
    )
    assert page.cssselect("table.disclosure th")[0].text_content() == "Inspected unit"
    assert len(page.cssselect("ol.problems li")) == report["problems_itemised"] > 0


def test_the_warc_record_of_a_page_downloads(served):
    base, ids, _ = served
    body, headers = fetch(f"{base}/-/document/{ids[HEBEI_SINA]}/warc")
    assert headers["content-type"] == "application/warc"
    assert f'filename="{ids[HEBEI_SINA]}.warc.gz"' in headers["content-disposition"]
    records = [
        (record.rec_headers.get_header("WARC-Target-URI"), record.content_stream().read().decode("utf-8"))
        for record in ArchiveIterator(io.BytesIO(body))
    ]
    assert [url for url, _ in records] == [HEBEI_SINA]
    assert EDIT[1] in records[0][1]  # the capture this text was parsed from


def test_a_gone_page_says_since_when(served):
    base, ids, _ = served
    page = html(f"{base}/-/document/{ids[HEBEI_PEOPLE]}")
    assert page.cssselect(".banner-gone")[0].text_content().startswith(f"Gone since {GONE_AT[:10]}")
    assert "原网页自 2022-03-01 起已删除" in page.cssselect("#citation")[0].text_content()
    assert not html(f"{base}/-/document/{ids[HEBEI_CCDI]}").cssselect(".banner-gone, .banner-copy")


def test_titles_link_to_the_record_page_in_tables_and_canned_queries(served):
    base, ids, _ = served
    for path in ("/archive/latest_reports", "/archive/disclosures?is_canonical=1", "/archive/documents"):
        page = html(base + path)
        links = page.cssselect("td.col-title a")
        assert links and all(a.get("href").startswith("/-/document/") for a in links), path
    latest = html(f"{base}/archive/latest_reports")
    hebei = [a for a in latest.cssselect("td.col-title a") if a.get("href") == f"/-/document/{ids[HEBEI_CCDI]}"]
    assert len(hebei) == 1 and "河北省委" in hebei[0].text_content()
    problems = html(f"{base}/archive/problems_mentioning?phrase=" + urllib.parse.quote("党费"))
    assert [a.text_content() for a in problems.cssselect("td.col-title a[href^='/-/document/']")] == ["党费收缴不规范"]
    table = html(f"{base}/archive/problems?title=" + urllib.parse.quote("党费收缴不规范"))
    assert table.cssselect("td.col-title a")[0].get("href").endswith("#problem-2")


def test_long_text_is_truncated_in_tables(served):
    base, _, _ = served
    page = html(f"{base}/archive/documents")
    cells = [td.text_content() for td in page.cssselect("td.col-body_text")]
    assert cells and max(len(c) for c in cells) <= 101
    assert sum(c.endswith("…") for c in cells) >= len(cells) - 2


def test_csv_for_excel_has_a_bom_and_the_same_rows(served):
    base, _, _ = served
    for path in ("/archive/disclosures.csv?_stream=on&_size=max", "/archive/money_by_unit_type.csv?"):
        plain, plain_headers = fetch(base + path)
        excel, headers = fetch(base + path + "&_bom=1&_dl=1")
        assert not plain.startswith(b"\xef\xbb\xbf")
        assert excel == b"\xef\xbb\xbf" + plain
        assert headers["content-type"].startswith("text/csv") and "attachment" in headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(excel.decode("utf-8-sig"))))
        assert rows[0][0] in ("document_id", "unit_type") and len(rows) > 2


def test_atom_feed_of_new_disclosures_filtered_by_a_query(served):
    base, ids, db_path = served
    feed = ET.fromstring(fetch(f"{base}/archive/new_disclosures.atom")[0])
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == hand_count(db_path)["reports"]
    assert len({e.find(f"{ATOM}id").text for e in entries}) == len(entries)
    hebei = ET.fromstring(fetch(f"{base}/archive/new_disclosures.atom?phrase=" + urllib.parse.quote("河北"))[0])
    [entry] = hebei.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}link").get("href") == f"{base}/-/document/{ids[HEBEI_CCDI]}"
    assert HEBEI_CCDI in entry.find(f"{ATOM}content").text
    assert hebei.find(f"{ATOM}title").text == "New disclosures (Atom feed) — phrase = 河北"
    county = ET.fromstring(fetch(f"{base}/archive/new_disclosures.atom?level=county")[0])
    canonical = sql(base, "select document_id from disclosures where unit = '梅溪县白石镇' and is_canonical")
    assert [e.find(f"{ATOM}id").text for e in county.findall(f"{ATOM}entry")] == [
        f"tag:zhenggai-archive:document:{canonical[0]['document_id']}"  # one of its two copies; the template left out
    ]
    nothing, headers = fetch(f"{base}/archive/new_disclosures.atom?phrase=" + urllib.parse.quote("没有这个词"))
    assert headers["content-type"].startswith("application/atom+xml")
    assert ET.fromstring(nothing).findall(f"{ATOM}entry") == []


def test_robots_are_kept_out_and_pages_keep_their_security_policy(served):
    base, ids, _ = served
    assert fetch(f"{base}/robots.txt")[0].decode() == "User-agent: *\nDisallow: /"
    for path in ("/", f"/-/document/{ids[HEBEI_CCDI]}", "/archive/documents"):
        headers = fetch(base + path)[1]
        assert "object-src 'none'" in headers["content-security-policy"], path
        assert "unsafe-eval" not in headers["content-security-policy"], path


# --- the defects of the journalist's walk (issue 23) ---------------------------------------------


def status_and_body(url: str) -> tuple[int, bytes, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.monotonic() - started


def test_problems_search_with_hits_links_each_problem_to_its_anchor(served):
    base, ids, _ = served
    status, body, _ = status_and_body(f"{base}/archive/problems?_search=" + urllib.parse.quote("八项规定"))
    assert status == 200
    links = [a.get("href") for a in lxml.html.fromstring(body.decode()).cssselect("td.col-title a")]
    # the Hebei problem three times (its three pages) and the ministry's: each opens its record at the problem
    assert sorted(links) == sorted([f"/-/document/{ids[HEBEI_CCDI]}#problem-3", f"/-/document/{ids[HEBEI_SINA]}#problem-3",
                                    f"/-/document/{ids[HEBEI_PEOPLE]}#problem-3",
                                    *[f"/-/document/{r['document_id']}#problem-3" for r in sql(
                                        base, "select document_id from disclosures where unit = '海事航运部'")]])


def test_site_search_counts_texts_and_marks_copies(served):
    base, ids, _ = served
    page = html(f"{base}/-/search?q=" + urllib.parse.quote("河北省委关于十九届"))
    documents = page.cssselect("h2")[0]
    assert documents.cssselect("small.found")[0].text_content().strip() == (
        "— 1 text found (3 pages: republished copies marked, counted once)")
    items = page.cssselect("ul.search-results")[0].cssselect("li")
    copies = [li for li in items if "copy" in (li.get("class") or "")]
    assert len(items) == 3 and len(copies) == 2
    for li in copies:
        mark = li.cssselect(".copy-mark a")[0]
        assert mark.get("href") == f"/-/document/{ids[HEBEI_CCDI]}"


def test_not_leaves_out_texts_and_the_problems_of_reports_that_mention_the_word(served):
    base, _, _ = served
    def counts(q):
        page = html(f"{base}/-/search?q=" + urllib.parse.quote(q))
        return [h.cssselect("small.found")[0].text_content().split()[1] for h in page.cssselect("h2")]
    assert counts("八项规定") == ["2", "2"]  # texts: Hebei (3 pages) and the ministry; problems likewise
    assert counts("八项规定 NOT 河北") == ["1", "1"]
    excluded = html(f"{base}/-/search?q=" + urllib.parse.quote("八项规定 NOT 河北"))
    assert "NOT leaves out only the problems whose own text has the word" in excluded.text_content()
    help_text = html(f"{base}/-/search?q=x").cssselect(".punctuation-help")[0].text_content()
    assert "形式主义 官僚主义" in help_text and "punctuation" in help_text.lower()


def test_an_imported_page_is_cited_by_the_address_it_gives(served):
    base, _, _ = served
    [row] = sql(base, "select id, url, page_url from documents where url like '%saved_page_og_url.html'")
    assert row["url"].startswith("file:") and row["page_url"] == "http://www.meixi.gov.cn/art/2023/9/12/art_1229_88123.html"
    page = html(f"{base}/-/document/{row['id']}")
    assert page.cssselect(".original-link a")[0].get("href") == row["page_url"]
    assert page.cssselect("td.imported-from")[0].text_content() == row["url"]
    citation = page.cssselect("#citation")[0].text_content()
    assert f"]. {row['page_url']}. 整改档案存档 {row['id']}，导入于" in citation and "file:" not in citation


def test_the_whole_database_downloads_as_a_consistent_file_that_sqlite3_searches(served, tmp_path):
    base, _, db_path = served
    home = html(f"{base}/")
    link = home.cssselect("a.database-download")[0]
    assert link.get("href") == "/archive.db"
    assert "MB" in link.getparent().text_content() and "as of" in link.getparent().text_content()
    body, headers = fetch(f"{base}/archive.db")
    assert int(headers["content-length"]) == len(body) and "last-modified" in {k.lower() for k in headers}
    target = tmp_path / "download.db"
    target.write_bytes(body)
    assert not Path(str(target) + "-wal").exists()
    search = "select title from documents where rowid in (select rowid from documents_fts where documents_fts match '\"八 项 规 定\"') and is_canonical order by title"
    shell = subprocess.run(["sqlite3", str(target), "pragma journal_mode;", search], capture_output=True, text=True, check=True)
    lines = shell.stdout.split()
    assert lines[0] == "delete"
    live = sqlite3.connect(db_path)
    assert sorted(lines[1:]) == sorted(r[0] for r in live.execute(search))
    assert len(lines[1:]) == 2


def test_canned_queries_read_in_chinese_with_codes_kept_in_sql(served):
    base, _, _ = served
    page = html(f"{base}/archive/latest_reports")
    levels = {td.text_content().strip() for td in page.cssselect("td.col-level")}
    assert levels == {"中央 central", "省级 provincial", "县级 county"}
    rows = get_json(f"{base}/archive/latest_reports.json?_shape=array")
    assert {r["level"] for r in rows} == {"central", "provincial", "county"}
    unfinished = html(f"{base}/archive/unfinished_problems")
    assert "正在推进或未完成 in_progress" in [td.text_content().strip() for td in unfinished.cssselect("td.col-status_class")]


def test_feeds_take_a_level_as_label_or_code_and_a_province_short_or_full(served):
    base, _, _ = served
    def entries(query):
        feed = ET.fromstring(fetch(f"{base}/archive/new_disclosures.atom?{query}")[0])
        return sorted(e.find(f"{ATOM}id").text for e in feed.findall(f"{ATOM}entry"))
    assert entries("level=county") == entries("level=" + urllib.parse.quote("县级")) and len(entries("level=county")) == 1
    assert entries("province=" + urllib.parse.quote("河北")) == entries("province=" + urllib.parse.quote("河北省"))
    assert len(entries("province=" + urllib.parse.quote("河北"))) == 1
    assert entries("province=" + urllib.parse.quote("河")) == []  # one character names no province


def test_atom_entries_carry_the_publication_date(served):
    base, ids, _ = served
    feed = ET.fromstring(fetch(f"{base}/archive/new_disclosures.atom?phrase=" + urllib.parse.quote("河北"))[0])
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}published").text == "2021-10-27T18:00:00+08:00"
    assert entry.find(f"{ATOM}updated").text.startswith("2021-11-01")  # when the archive found it


def test_money_reads_as_money_on_pages_and_stays_raw_in_json_and_csv(served):
    base, _, _ = served
    page = html(f"{base}/archive/money_by_unit_type")
    cells = {tr.cssselect("td.col-unit_type")[0].text_content().strip(): tr.cssselect("td.col-money_recovered_yuan")[0]
             for tr in page.cssselect("table.rows-and-columns tbody tr")}
    provinces = cells["省区市"]
    assert provinces.cssselect(".money")[0].text_content() == "¥3.28亿"
    assert provinces.cssselect(".money-exact")[0].text_content() == "327,632,000 元"
    rows = get_json(f"{base}/archive/money_by_unit_type.json?_shape=array")
    assert [r["money_recovered_yuan"] for r in rows if r["unit_type"] == "省区市"] == [327_632_000.0]
    assert b"327632000.0" in fetch(f"{base}/archive/money_by_unit_type.csv")[0]
    totals = get_json(f"{base}/archive/money_people_by_province_level_round.json?_shape=array")
    hebei = [r for r in totals if r["province"] == "河北省"]
    assert [(r["level"], r["round"], r["reports"], r["money_recovered_yuan"], r["people_disciplined"]) for r in hebei] == [
        ("central", "19届中央第6轮巡视 (19-6)", 1, HEBEI_MONEY_YUAN, HEBEI_PEOPLE_DISCIPLINED)]


def test_unknown_paths_answer_404_in_the_sites_layout_quickly(served):
    base, ids, _ = served
    for path in ("/a/b/c/d", "/-/x/y/z", f"/-/document/{ids[HEBEI_CCDI].upper()}", f"/-/document/{ids[HEBEI_CCDI]}/json",
                 "/-/unit/000000000000", "/archive/no_such_table"):
        status, body, seconds = status_and_body(base + path)
        assert status == 404, path
        assert seconds < 0.2, (path, seconds)
        page = lxml.html.fromstring(body.decode())
        assert page.cssselect("header nav") and page.cssselect("form.search-form input[name=q]"), path
        assert page.cssselect("h1")[0].text_content() == "Nothing at this address", path


def test_the_lag_query_tells_rounds_apart(served):
    base, _, _ = served
    rounds = {r["round"]: r["reports"] for r in get_json(f"{base}/archive/lag_by_round.json?_shape=array")}
    assert "19届中央第6轮巡视 (19-6)" in rounds
    assert not {"provincial", "central", "county"} & set(rounds)
    labelled = [r["round"] for r in sql(base, CHARTS["lag-by-round"]["query"])]
    assert set(labelled) <= set(rounds)


def test_about_page_gives_sources_coverage_and_licence(served):
    base, _, _ = served
    page = html(f"{base}/-/about")
    sites = {tr.cssselect("td")[0].text_content(): int(tr.cssselect("td")[2].text_content().replace(",", ""))
             for tr in page.cssselect("table.coverage tbody tr")}
    assert sites == {r["site"]: r["pages"] for r in sql(base, "select coalesce(site, '(unknown)') as site, count(*) as pages from documents group by 1")}
    assert "Code: MIT" in page.text_content() and "What counts as a text" in page.text_content()
