"""The store (archive/store.py) on a real SQLite file: one page's outcome — new,
unchanged, updated with or without a version, failed — and what it writes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from archive import store
from pipelines import Failure, ProcessResult, RawDocument, process

REPORT = Path(__file__).parent / "fixtures" / "disclosures" / "central_province.txt"
URL = "https://www.example.gov.cn/xsxc/202110/t20211027_1.html"


def raw(body: bytes, fetched_at: str) -> RawDocument:
    return RawDocument(url=URL, body=body, content_type="text/plain; charset=utf-8", fetched_at=fetched_at)


@pytest.fixture(scope="module")
def report() -> ProcessResult:
    result = process(raw(REPORT.read_bytes(), "2024-01-01T00:00:00+00:00"))
    assert result.ok and result.disclosure is not None
    return result


@pytest.fixture
def db(empty_db):
    return empty_db


def rows(db, sql, params=()):
    return [dict(row) for row in db.query(sql, params)]


def seen_again(result: ProcessResult, fetched_at: str) -> ProcessResult:
    return replace(result, document={**result.document, "fetched_at": fetched_at})


def test_a_new_page_is_stored_with_its_disclosure_problems_and_outcomes(db, report):
    assert store.store(db, report, run_id=7) == store.NEW
    (document,) = rows(db, "select * from documents")
    document_id = report.document["id"]
    assert document["id"] == document_id
    assert document["url"] == URL
    assert document["title"] == report.document["title"]
    assert (document["first_seen_at"], document["last_seen_at"]) == ("2024-01-01T00:00:00+00:00",) * 2
    assert (document["version_count"], document["last_changed_at"], document["gone_at"]) == (1, None, None)
    assert document["canonical_id"] == document_id  # its own copy group
    (disclosure,) = rows(db, "select * from disclosures")
    assert disclosure["document_id"] == document_id and disclosure["title"] == report.document["title"]
    problems = rows(db, "select id, position, document_id from problems order by position")
    assert len(problems) == len(report.disclosure["problems"]) > 0
    assert problems[0] == {"id": f"{document_id}-001", "position": 1, "document_id": document_id}
    assert [p["position"] for p in problems] == list(range(1, len(problems) + 1))
    assert db.execute("select count(*) from outcomes").fetchone()[0] == len(report.disclosure["outcomes"])
    assert db.execute("select count(*) from failures").fetchone()[0] == 0


def test_the_same_page_again_only_moves_last_seen(db, report):
    store.store(db, report)
    assert store.store(db, seen_again(report, "2024-02-01T00:00:00+00:00")) == store.UNCHANGED
    (document,) = rows(db, "select * from documents")
    assert (document["first_seen_at"], document["last_seen_at"]) == ("2024-01-01T00:00:00+00:00", "2024-02-01T00:00:00+00:00")
    assert document["version_count"] == 1
    assert db.execute("select count(*) from versions").fetchone()[0] == 0


def test_a_pipeline_change_rewrites_the_row_without_a_version(db, report):
    store.store(db, report)
    recleaned = replace(report, document={**report.document, "body_text": report.document["body_text"] + "\n补记。",
                                          "content_sha256": "0" * 64, "fetched_at": "2024-02-01T00:00:00+00:00"})
    assert store.store(db, recleaned) == store.UPDATED
    (document,) = rows(db, "select body_text, version_count, last_changed_at from documents")
    assert document == {"body_text": recleaned.document["body_text"], "version_count": 1, "last_changed_at": None}
    assert db.execute("select count(*) from versions").fetchone()[0] == 0


def test_an_edited_page_keeps_its_previous_text_as_a_version(db, report):
    store.store(db, report)
    edited = process(raw(REPORT.read_bytes() + "\n（本文于2021年11月1日更正。）\n".encode(), "2024-03-01T00:00:00+00:00"))
    assert edited.document["raw_sha256"] != report.document["raw_sha256"]
    assert store.store(db, edited) == store.UPDATED
    (document,) = rows(db, "select * from documents")
    assert (document["version_count"], document["last_changed_at"]) == (2, "2024-03-01T00:00:00+00:00")
    assert document["first_seen_at"] == "2024-01-01T00:00:00+00:00"
    assert "更正" in document["body_text"]
    (version,) = rows(db, "select document_id, fetched_at, title, body_text, content_sha256 from versions")
    assert version == {
        "document_id": report.document["id"],
        "fetched_at": "2024-01-01T00:00:00+00:00",
        "title": report.document["title"],
        "body_text": report.document["body_text"],
        "content_sha256": report.document["content_sha256"],
    }


def test_a_page_that_is_no_report_any_more_loses_its_disclosure_rows(db, report):
    store.store(db, report)
    notice = replace(report, disclosure=None)
    store.store(db, notice)
    for table in ("disclosures", "problems", "outcomes"):
        assert db.execute(f"select count(*) from {table}").fetchone()[0] == 0, table
    assert db.execute("select count(*) from documents").fetchone()[0] == 1


def test_a_failed_page_is_a_failure_row_and_no_document(db):
    failed = ProcessResult(
        RawDocument(url=URL, body=b"", warc_file="crawl-1.warc.gz", warc_record_id="<urn:uuid:1>"),
        failure=Failure("extract", "empty_body", "the page has no text"),
    )
    assert store.store(db, failed, run_id=3) == store.FAILED
    (failure,) = rows(db, "select url, stage, kind, message, warc_file, warc_record_id, run_id from failures")
    assert failure == {"url": URL, "stage": "extract", "kind": "empty_body", "message": "the page has no text",
                       "warc_file": "crawl-1.warc.gz", "warc_record_id": "<urn:uuid:1>", "run_id": 3}
    assert db.execute("select count(*) from documents").fetchone()[0] == 0


def test_a_page_is_stored_whole_or_not_at_all(db, report):
    broken = replace(report, disclosure={**report.disclosure, "problems": [{"no_such_column": 1}]})
    with pytest.raises(Exception, match="no_such_column"):
        store.store(db, broken)
    for table in ("documents", "disclosures", "problems", "minhash"):
        assert db.execute(f"select count(*) from {table}").fetchone()[0] == 0, table


def test_insert_rows_writes_lists_and_dicts_as_json_and_a_missing_key_as_null(db):
    with db.conn:
        store.insert_rows(db, "crawl_runs", [
            {"spider": "a", "status": "ok", "errors": {"http_500": 2}},
            {"spider": "b", "message": ["one", "two"]},
        ])
    assert rows(db, "select spider, status, errors, message from crawl_runs order by spider") == [
        {"spider": "a", "status": "ok", "errors": json.dumps({"http_500": 2}), "message": None},
        {"spider": "b", "status": None, "errors": None, "message": json.dumps(["one", "two"])},
    ]
