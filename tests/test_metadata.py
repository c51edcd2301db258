"""datasette_metadata.json describes every column the archive defines."""

import json
from pathlib import Path

import pytest

from archive import copy_groups, labels, schema
from archive.db import Archive

METADATA = json.loads((Path(__file__).resolve().parents[1] / "datasette_metadata.json").read_text(encoding="utf-8"))
TABLES = METADATA["databases"]["archive"]["tables"]


@pytest.mark.parametrize(
    "table, columns",
    [
        ("documents", {**schema.DOCUMENTS, **schema.GENERATED["documents"]}),
        ("disclosures", {**schema.DISCLOSURES, **schema.GENERATED["disclosures"]}),
        ("problems", schema.PROBLEMS),
        ("outcomes", schema.OUTCOMES),
        ("attachments", schema.ATTACHMENTS),
        ("attachment_links", schema.ATTACHMENT_LINKS),
        ("versions", schema.VERSIONS),
        ("failures", schema.FAILURES),
        ("crawl_runs", schema.CRAWL_RUNS),
        ("rounds", schema.ROUNDS),
        ("minhash", copy_groups.TABLES["minhash"]),
        ("minhash_bands", copy_groups.TABLES["minhash_bands"]),
        *[(name, {"code": str, "label": str}) for name in labels.LABEL_TABLES],
    ],
)
def test_every_column_is_described(table, columns):
    described = TABLES[table]["columns"]
    assert set(described) == set(columns)
    assert all(len(text) > 5 for text in described.values())


def test_created_tables_match_the_schema(tmp_path):
    with Archive(tmp_path / "a.db") as archive:
        for table in TABLES:
            columns = {row[1] for row in archive.db.execute(f"pragma table_xinfo([{table}])")}
            assert columns == set(TABLES[table]["columns"]), table
        assert archive.count("rounds") > 20


def test_metadata_names_title_license_source_and_queries():
    for key in ("title", "description", "license", "source"):
        assert METADATA[key]
    assert {"units_all_completed", "lag_by_round", "money_by_unit_type", "problems_mentioning", "template_copies"} <= set(
        METADATA["databases"]["archive"]["queries"]
    )


def test_an_archive_made_before_the_outcome_columns_opens_and_gains_them(tmp_path):
    from sqlite_utils import Database

    path = tmp_path / "old.db"
    old = Database(path)
    old["disclosures"].create({"document_id": str, "title": str, "unit": str, "money_recovered_yuan": float},
                              pk="document_id")
    old["disclosures"].insert({"document_id": "a", "title": "旧", "unit": "某县", "money_recovered_yuan": 5.0})
    old["problems"].create({"id": str, "document_id": str, "status": str}, pk="id")
    old.conn.close()
    with Archive(path) as archive:
        assert set(archive.db["disclosures"].columns_dict) == set(schema.DISCLOSURES)
        assert set(archive.db["problems"].columns_dict) == set(schema.PROBLEMS)
        assert archive.db["outcomes"].exists()
        row = next(archive.db["disclosures"].rows)
        assert (row["unit"], row["money_recovered_yuan"], row["province"], row["status_source"]) == ("某县", 5.0, None, None)
    with Archive(path) as archive:  # and again: create is idempotent
        assert set(archive.db["disclosures"].columns_dict) == set(schema.DISCLOSURES)


def test_every_coded_value_has_a_chinese_label():
    from pipelines.classify import DOC_TYPES
    from pipelines.disclosure.parties import _SENDER_LEVEL
    from pipelines.disclosure.problems import status_class

    assert set(labels.DOC_TYPES) == set(DOC_TYPES)
    assert set(labels.LEVELS) == set(_SENDER_LEVEL.values())
    printed = [None, "已完成", "已完成，并将长期坚持", "基本完成", "阶段性完成", "正在推进", "持续推进", "未完成", "长期坚持", "整改中"]
    assert {status_class(status) for status in printed} == set(labels.STATUS_CLASSES)
    assert all(
        "\u4e00" <= label[0] <= "\u9fff"
        for table in (labels.LEVELS, labels.DOC_TYPES, labels.STATUS_CLASSES) for label in table.values()
    )
