"""The copy groups (archive/copy_groups.py) on a real SQLite file, without the pipelines:
which copy is canonical, and how ``link`` indexes a text and moves its group."""

from __future__ import annotations

import pytest

from archive import copy_groups
from pipelines.dedupe import BANDS

REPORT = "\n".join(
    f"中共某某省委关于巡视整改进展情况的通报第{n}条：针对问题{n}，已经完成整改，建立长效机制，追回资金{n * 7}万元。"
    for n in range(1, 40)
)
OTHER_REPORT = "\n".join(
    f"中共另一市委关于巡察整改情况的通报第{n}项：落实责任{n}，清退款项{n * 3}万元，问责干部{n}人。" for n in range(1, 40)
)


def member(id, publisher, url, published_at, source=None, declared_source=None, original_url=None, first_seen_at="2023"):
    return {"id": id, "publisher": publisher, "url": url, "published_at": published_at, "source": source,
            "declared_source": declared_source, "original_url": original_url, "first_seen_at": first_seen_at}


def test_the_earliest_copy_of_the_outlet_the_copies_name_is_canonical():
    members = [
        member("sina", "新浪财经", "https://finance.sina.com.cn/a", "2021-10-28", source="中央纪委国家监委网站"),
        member("ccdi-late", "中央纪委国家监委网站", "https://www.ccdi.gov.cn/b", "2021-10-29"),
        member("ccdi", "中央纪委国家监委网站", "https://www.ccdi.gov.cn/a", "2021-10-27T18:00:00+08:00"),
        member("people", "人民网", "https://politics.people.com.cn/a", "2021-10-26"),
    ]
    # 人民网 printed it first, but the copies name CCDI as the origin.
    assert copy_groups.choose_canonical(members) == "ccdi"


def test_a_link_to_the_original_names_its_host():
    members = [
        member("aggregator", "某资讯网", "https://news.example.com/1", "2021-10-28", original_url="https://www.12371.cn/x"),
        member("dangyuan", "共产党员网", "https://www.12371.cn/2021/10/23/x.shtml", "2021-10-29"),
    ]
    assert copy_groups.choose_canonical(members) == "dangyuan"


def test_without_a_named_origin_the_earliest_copy_then_the_first_seen_then_the_id():
    assert copy_groups.choose_canonical([
        member("b", "甲网", "https://a.example/1", "2021-10-28"),
        member("a", "乙网", "https://b.example/1", "2021-10-27"),
    ]) == "a"
    undated = [
        member("z", "甲网", "https://a.example/1", None, first_seen_at="2024-01-02"),
        member("y", "乙网", "https://b.example/1", None, first_seen_at="2024-01-01"),
    ]
    assert copy_groups.choose_canonical(undated) == "y"
    tied = [member("q", "甲网", "https://a.example/1", "2021"), member("p", "乙网", "https://b.example/1", "2021")]
    assert copy_groups.choose_canonical(tied) == "p"


@pytest.fixture
def db(empty_db):
    return empty_db


def add(db, id, url, body, published_at, publisher=None, source=None, title=None) -> str:
    document = {"id": id, "url": url, "title": title, "body_text": body, "published_at": published_at,
                "publisher": publisher, "source": source, "first_seen_at": "2024-01-01"}
    with db.conn:
        db["documents"].insert(document)
        return copy_groups.link(db, document)


def canonical_ids(db) -> dict[str, str]:
    return dict(db.execute("select id, canonical_id from documents order by id").fetchall())


def test_link_indexes_the_signature_and_one_row_per_band(db):
    assert add(db, "a", "https://one.example/a", REPORT, "2021-10-28") == "a"
    assert db.execute("select count(*) from minhash where document_id = 'a'").fetchone()[0] == 1
    assert db.execute("select count(*) from minhash_bands where document_id = 'a'").fetchone()[0] == BANDS
    assert canonical_ids(db) == {"a": "a"}


def test_a_copy_joins_the_group_and_the_origin_arriving_later_becomes_canonical(db):
    add(db, "copy1", "https://finance.sina.com.cn/1", REPORT, "2021-10-28", publisher="新浪财经", source="中央纪委国家监委网站")
    add(db, "other", "https://finance.sina.com.cn/2", OTHER_REPORT, "2021-10-28", publisher="新浪财经")
    # A traditional-character copy with different punctuation is still a copy.
    traditional = REPORT.replace("进展", "進展").replace("资金", "資金").replace("，", ",")
    add(db, "copy2", "https://news.example.com/3", traditional, "2021-10-29", publisher="某资讯网")
    assert canonical_ids(db) == {"copy1": "copy1", "copy2": "copy1", "other": "other"}
    assert add(db, "origin", "https://www.ccdi.gov.cn/4", REPORT, "2021-10-27", publisher="中央纪委国家监委网站") == "origin"
    assert canonical_ids(db) == {"copy1": "origin", "copy2": "origin", "origin": "origin", "other": "other"}


def test_linking_again_replaces_the_index_rows_of_the_document(db):
    add(db, "a", "https://one.example/a", REPORT, "2021-10-28")
    add(db, "b", "https://two.example/b", REPORT, "2021-10-29")
    assert canonical_ids(db) == {"a": "a", "b": "a"}
    # b's text is edited into another report: re-linked, it leaves a's group.
    db.execute("update documents set body_text = ? where id = 'b'", [OTHER_REPORT])
    with db.conn:
        assert copy_groups.link(db, {"id": "b", "body_text": OTHER_REPORT}) == "b"
    assert db.execute("select count(*) from minhash_bands where document_id = 'b'").fetchone()[0] == BANDS
    assert canonical_ids(db) == {"a": "a", "b": "b"}


SEE_THE_ATTACHMENT = "根据县委统一部署，现将巡察整改情况予以公布。详见附件。"


def test_short_texts_are_copies_only_under_the_same_title(db):
    # Three units' reports whose page only points to the attachment: three texts, not one.
    for unit in ("水利局", "财政局", "教育局"):
        add(db, unit, f"https://jw.example.gov.cn/{unit}", SEE_THE_ATTACHMENT, "2023-09-01",
            title=f"中共河西县{unit}党组关于县委第四轮巡察整改情况的通报")
    assert canonical_ids(db) == {"水利局": "水利局", "财政局": "财政局", "教育局": "教育局"}
    # The same page republished (traditional characters, the same title) is still a copy.
    add(db, "copy", "https://news.example.com/1", SEE_THE_ATTACHMENT.replace("统一", "統一"), "2023-09-02",
        title="中共河西縣水利局黨組關於縣委第四輪巡察整改情況的通報")
    assert canonical_ids(db)["copy"] == "水利局"
    # A long text is a copy whatever its title.
    add(db, "long", "https://one.example/a", REPORT, "2021-10-28", title="某某省委巡视整改通报")
    add(db, "long-copy", "https://two.example/b", REPORT, "2021-10-29", title="转载：某某省委关于巡视整改进展情况的通报")
    assert canonical_ids(db)["long-copy"] == "long"
