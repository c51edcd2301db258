"""datasette_metadata.json describes every column the archive defines."""

import json
from pathlib import Path

import pytest

from archive import schema
from pipelines import dedupe
from archive.db import Archive

METADATA = json.loads((Path(__file__).resolve().parents[1] / "datasette_metadata.json").read_text(encoding="utf-8"))
TABLES = METADATA["databases"]["archive"]["tables"]


@pytest.mark.parametrize(
    "table, columns",
    [
        ("documents", schema.DOCUMENTS),
        ("disclosures", schema.DISCLOSURES),
        ("problems", schema.PROBLEMS),
        ("outcomes", schema.OUTCOMES),
        ("versions", schema.VERSIONS),
        ("failures", schema.FAILURES),
        ("crawl_runs", schema.CRAWL_RUNS),
        ("rounds", schema.ROUNDS),
        ("minhash", dedupe.TABLES["minhash"]),
        ("minhash_bands", dedupe.TABLES["minhash_bands"]),
    ],
)
def test_every_column_is_described(table, columns):
    described = TABLES[table]["columns"]
    assert set(described) == set(columns)
    assert all(len(text) > 5 for text in described.values())


def test_created_tables_match_the_schema(tmp_path):
    with Archive(tmp_path / "a.db") as archive:
        for table in TABLES:
            assert set(archive.db[table].columns_dict) == set(TABLES[table]["columns"]), table
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
