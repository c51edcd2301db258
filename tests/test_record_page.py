"""The record page's pieces: the diff of two texts, the citation line, times for readers, the completed share."""

from datetime import date

from archive.plugin.record import citation, display_time, parsed_completion, web_link
from archive.plugin.textdiff import ADDED, CHANGED, REMOVED, SAME, SKIPPED, diff

OLD = "\n".join(["一、总体情况", "整改措施126项，已完成120项。", "二、问题", "甲", "乙", "丙", "丁", "三、下一步"])


def kinds(blocks):
    return [b.kind for b in blocks]


def test_an_edited_figure_shows_as_that_figure_with_context():
    new = OLD.replace("126项", "128项")
    blocks = diff(OLD, new)
    assert kinds(blocks) == [SAME, CHANGED, SAME, SKIPPED]
    assert blocks[1].segments == [("equal", "整改措施12"), ("delete", "6"), ("insert", "8"), ("equal", "项，已完成120项。")]
    assert blocks[3].skipped == 5


def test_added_and_removed_paragraphs():
    new = OLD.replace("\n乙", "").replace("\n三、下一步", "\n戊\n三、下一步")
    blocks = diff(OLD, new)
    assert [(b.kind, b.segments) for b in blocks if b.kind in (ADDED, REMOVED)] == [
        (REMOVED, [("delete", "乙")]),
        (ADDED, [("insert", "戊")]),
    ]
    assert kinds(blocks)[0] == SKIPPED


def test_equal_texts_have_no_diff():
    assert diff(OLD, OLD) == []


DOCUMENT = {
    "id": "bf2501901bb110af", "title": "中共河北省委关于十九届中央第六轮巡视整改进展情况的通报",
    "url": "https://finance.sina.com.cn/roll/2021-10-28/doc-iktzscyy2216354.shtml",
    "source": "中央纪委国家监委网站", "publisher": "新浪财经", "published_at": "2021-10-28T08:01:00+08:00",
    "fetched_at": "2021-11-08T00:00:00+00:00", "gone_at": None,
}


def test_citation_is_a_gb_t_7714_reference_with_the_archive_record():
    assert citation(DOCUMENT, date(2024, 5, 1)) == (
        "中央纪委国家监委网站. 中共河北省委关于十九届中央第六轮巡视整改进展情况的通报[EB/OL]. 新浪财经, "
        "(2021-10-28)[2024-05-01]. https://finance.sina.com.cn/roll/2021-10-28/doc-iktzscyy2216354.shtml. "
        "整改档案存档 bf2501901bb110af，抓取于 2021-11-08."
    )
    gone = {**DOCUMENT, "gone_at": "2022-03-01T00:00:00+00:00", "source": None, "published_at": None}
    assert citation(gone, date(2024, 5, 1)) == (
        "新浪财经. 中共河北省委关于十九届中央第六轮巡视整改进展情况的通报[EB/OL]. [2024-05-01]. "
        "https://finance.sina.com.cn/roll/2021-10-28/doc-iktzscyy2216354.shtml. "
        "整改档案存档 bf2501901bb110af，抓取于 2021-11-08；原网页自 2022-03-01 起已删除."
    )


def test_times_for_readers():
    assert display_time("2021-10-27T18:00:00+08:00") == "2021-10-27 18:00 +08:00"
    assert display_time("2021-11-01T00:00:00+00:00") == "2021-11-01 00:00 UTC"
    assert display_time("2021-10-29") == "2021-10-29"
    assert display_time(None) is None
    assert display_time("not a dateTtime") == "not a dateTtime"


def test_only_web_addresses_become_links():
    assert web_link("https://www.ccdi.gov.cn/a.html") == "https://www.ccdi.gov.cn/a.html"
    assert web_link("javascript:alert(1)") is None
    assert web_link("JaVaScRiPt:alert(1)") is None
    assert web_link("file:///tmp/report.txt") is None


def test_the_completed_share_is_never_of_a_selection_of_the_problems():
    counted = {"problems_total": 12, "problems_completed": 9, "status_source": "items"}
    assert parsed_completion(counted) == 75
    assert parsed_completion({**counted, "status_source": "stated"}) == 75
    # 42 problems stated, the 10 listed all completed: the report does not say 10 of 42.
    assert parsed_completion({"problems_total": 42, "problems_completed": 10, "status_source": "selection"}) is None
    assert parsed_completion({**counted, "problems_completed": None}) is None
    assert parsed_completion(None) is None
