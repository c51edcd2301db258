"""Pages edited or removed after publication, seen by a re-checking crawl of the mirror."""

import pytest
from conftest import copy_sites, query, run_crawl_process

from crawler.mirror import start_mirror

pytestmark = [pytest.mark.mirror, pytest.mark.slow]

COLUMN = "www.bjsupervision.gov.cn/zt/shejswxc/xsfk"
EDITED = "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202111/t20211122_83977.html"
REMOVED = "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202108/t20210806_81230.html"


def test_recheck_keeps_versions_and_marks_removed_pages_gone(tmp_path):
    sites = copy_sites(tmp_path / "sites")
    db = tmp_path / "archive.db"
    with start_mirror(sites, challenge=False) as mirror:
        first = run_crawl_process(db, mirror.host_map, ("beijing",), warc_dir=tmp_path / "warc")
        assert first.returncode == 0, first.stdout
        before = {r["url"]: dict(r) for r in query(db, "select * from documents")}
        assert EDITED in before and REMOVED in before

        # The site edits one report in place (the list does not change) and deletes another.
        edited_page = sites / EDITED.split("://", 1)[1]
        html = edited_page.read_text("utf-8")
        first_paragraph = before[EDITED]["body_text"].split("\n")[0]
        assert first_paragraph[:12] in html
        edited_page.write_text(html.replace(first_paragraph[:12], "（更正）" + first_paragraph[:12], 1), "utf-8")
        (sites / REMOVED.split("://", 1)[1]).unlink()

        plain = run_crawl_process(db, mirror.host_map, ("beijing",), warc_dir=tmp_path / "warc")
        assert plain.returncode == 0
        assert query(db, "select count(*) from versions")[0][0] == 0  # a list-only crawl cannot see it

        recheck = run_crawl_process(
            db, mirror.host_map, ("beijing",), warc_dir=tmp_path / "warc", settings={"RECHECK_ARCHIVED": "1"}
        )
        assert recheck.returncode == 0, recheck.stdout

    after = {r["url"]: dict(r) for r in query(db, "select * from documents")}
    assert set(after) == set(before)
    edited = after[EDITED]
    assert edited["version_count"] == 2 and edited["last_changed_at"] is not None
    assert edited["body_text"].startswith("（更正）")
    versions = query(db, "select * from versions where document_id = ?", [edited["id"]])
    assert [v["body_text"] for v in versions] == [before[EDITED]["body_text"]]

    removed = after[REMOVED]
    assert removed["gone_at"] is not None
    assert removed["body_text"] == before[REMOVED]["body_text"]  # the text is kept
    unchanged = [url for url in after if url not in (EDITED, REMOVED)]
    assert all(after[url]["version_count"] == 1 and after[url]["gone_at"] is None for url in unchanged)
    assert all(after[url]["last_seen_at"] > before[url]["last_seen_at"] for url in unchanged)

    run = query(db, "select * from crawl_runs order by id desc limit 1")[0]
    assert (run["status"], run["documents_updated"], run["errors"]) == ("ok", 1, "{}")
