"""An archive as a journalist meets it: reports with republished copies, a page edited
after publication, a page gone, raw captures in WARC files beside the database.

* the Hebei report of the 19th central 6th round three times: CCDI (the original),
  Sina (editor 梁斌) and people.com.cn — one text, three pages;
* the CCPIT report on CCDI and 12371, the Jilin report on CCDI;
* the test fixtures (county, provincial and ministry reports, one of them also in
  traditional characters; news, a template copy);
* the Sina copy edited after publication (126项 → 128项), the people.com.cn copy gone;
* a saved county-government page imported from a file that names its own address (og:url).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from archive.db import Archive, warc_dir_for
from archive.importer import WARC_MAX_BYTES, import_paths
from captures import ARTICLE, PAGE_KIND, SOFTWARE, Exchange, WarcCapture
from pipelines import RawDocument

ROOT = Path(__file__).resolve().parents[1]
MIRROR = ROOT / "crawler" / "mirror" / "sites"
FIXTURES = Path(__file__).parent / "fixtures"

HEBEI_CCDI = "https://www.ccdi.gov.cn/yaowenn/202110/t20211027_253108.html"
HEBEI_SINA = "https://finance.sina.com.cn/roll/2021-10-28/doc-iktzscyy2216354.shtml"
HEBEI_PEOPLE = "http://politics.people.com.cn/n1/2021/1028/c1001-32266401.html"
JILIN_CCDI = "https://www.ccdi.gov.cn/toutiaon/202110/t20211027_253131.html"
CCPIT_CCDI = "https://www.ccdi.gov.cn/yaowenn/202110/t20211022_252640.html"
CCPIT_12371 = "https://www.12371.cn/2021/10/23/ARTI1634958315436218.shtml"
MIRRORED = (HEBEI_SINA, HEBEI_PEOPLE, HEBEI_CCDI, JILIN_CCDI, CCPIT_12371, CCPIT_CCDI)

CAPTURED_AT = datetime(2021, 11, 1, tzinfo=timezone.utc)
EDITED_AT = datetime(2021, 11, 8, tzinfo=timezone.utc)
GONE_AT = "2022-03-01T00:00:00+00:00"
EDIT = ("措施126项", "措施128项")

HEBEI_MONEY_YUAN = 123_264_000  # 1.23264亿, stated once in the Hebei report
HEBEI_PEOPLE_DISCIPLINED = 71


def _captured(capture: WarcCapture, url: str, body: bytes, at: datetime) -> RawDocument:
    record = capture.write_exchange(
        Exchange(
            url=url, method="GET", request_headers=[], request_body=b"", status=200, reason="OK",
            response_headers=[("Content-Type", "text/html; charset=utf-8")], body=body, fetched_at=at,
        )
    )
    capture.annotate(url, record.record_id, {PAGE_KIND: ARTICLE})
    return RawDocument(
        url=url, body=body, content_type="text/html", fetched_at=at.isoformat(),
        warc_file=record.warc_file, warc_record_id=record.record_id,
    )


def build(db_path: Path) -> dict[str, str]:
    """Build the archive at ``db_path``; returns the document id of each mirrored URL."""
    with Archive(db_path) as archive:
        import_paths([FIXTURES / "disclosures", FIXTURES / "documents", FIXTURES / "saved_pages"], archive)
        capture = WarcCapture(warc_dir_for(db_path), "mirror", WARC_MAX_BYTES, SOFTWARE)
        try:
            for url in MIRRORED:
                body = (MIRROR / url.split("://", 1)[1]).read_bytes()
                archive.ingest(_captured(capture, url, body, CAPTURED_AT))
            edited = (MIRROR / HEBEI_SINA.split("://", 1)[1]).read_bytes().replace(*(s.encode() for s in EDIT))
            assert archive.ingest(_captured(capture, HEBEI_SINA, edited, EDITED_AT))[0] == "updated"
        finally:
            capture.close()
        assert archive.mark_gone(HEBEI_PEOPLE, GONE_AT)
        return {url: archive.document_for_url(url)["id"] for url in MIRRORED}
