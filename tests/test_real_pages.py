"""Real saved CCDI pages (../shared/corpus/pages; skipped without it): the 2025 raw
server template, the 中国纪检监察杂志 page, the special-topic layout and the 留言板
copy.  The project's own pages of these structures are in bench/corpus."""

from pathlib import Path

import pytest

from pipelines import RawDocument, process

PAGES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pages" / "ccdi"

pytestmark = pytest.mark.skipif(not PAGES.is_dir(), reason="../shared corpus not present")


def record(name: str, url: str) -> dict:
    result = process(RawDocument(url=url, body=(PAGES / name).read_bytes(), content_type="text/html"))
    assert result.failure is None, result.failure
    return result.document


@pytest.mark.parametrize(
    "name, url",
    [
        ("article-scdcn-zggb-zjsc-t20250906_445826-requests.html", "https://www.ccdi.gov.cn/scdcn/zggb/zjsc/202509/t20250906_445826.html"),
        ("article-toutiaon-t20250909_446409-requests.html", "https://www.ccdi.gov.cn/toutiaon/202509/t20250909_446409.html"),
    ],
)
def test_2025_raw_template_lead_is_the_source_not_text(name, url):
    doc = record(name, url)
    assert doc["source"] == "中央纪委国家监委网站"
    assert "网站讯" not in doc["body_text"] and "HMY_JC" not in doc["body_text"]
    assert doc["body_text"].endswith("目前正接受中央纪委国家监委纪律审查和监察调查。")
    assert doc["published_at"].startswith("2025-09-0")


def test_magazine_page_gets_title_date_author_and_its_own_publisher():
    doc = record(
        "article-zgjjjc-magazine-t20220701_202445-selenium.html",
        "https://zgjjjc.ccdi.gov.cn/bqml/bqxx/202207/t20220701_202445.html",
    )
    assert doc["title"] == "在党和国家工作大局中把握职责使命"
    assert doc["published_at"] == "2022-07-01"
    assert (doc["author"], doc["source"], doc["publisher"]) == ("杨巨帅", "中国纪检监察杂志", "中国纪检监察杂志")
    assert "本刊记者" not in doc["body_text"] and "返回首页" not in doc["body_text"]


def test_special_layout_byline_names_reporter_and_correspondent():
    doc = record(
        "article-yaowenn-special-layout-t20230808_281355-selenium.html",
        "https://www.ccdi.gov.cn/yaowenn/202308/t20230808_281355.html",
    )
    assert (doc["author"], doc["source"]) == ("王生霞、杨生军", "中央纪委国家监委网站")
    assert doc["published_at"] == "2023-08-08T06:00:00+08:00"
    assert "通讯员" not in doc["body_text"]


def test_message_board_copy():
    doc = record("article-lyb-t20230928_297113-selenium.html", "https://www.ccdi.gov.cn/lyb2n/202309/t20230928_297113.html")
    assert doc["title"] == "网言网语丨风清气正过佳节"
    assert doc["published_at"] == "2023-09-28T08:42:00+08:00"
    # The closing （中央纪委国家监委网站 斯凌整理） is a credit, not text.
    assert (doc["source"], doc["author"]) == ("中央纪委国家监委网站", "斯凌")
    assert "整理）" not in doc["body_text"]
