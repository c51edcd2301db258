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
