"""What must be equal between two archives built from the same pages."""

import sqlite3
from pathlib import Path

# Columns that describe a visit (when, from which capture), not the document.
VISIT_COLUMNS = {"fetched_at", "first_seen_at", "last_seen_at", "last_changed_at", "warc_file", "warc_record_id"}


def snapshot(db_path: Path) -> dict:
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        documents = {
            row["id"]: {k: row[k] for k in row.keys() if k not in VISIT_COLUMNS}
            for row in conn.execute("select * from documents")
        }
        disclosures = {row["document_id"]: dict(row) for row in conn.execute("select * from disclosures")}
        problems = {row["id"]: dict(row) for row in conn.execute("select * from problems")}
        outcomes = {row["id"]: dict(row) for row in conn.execute("select * from outcomes")}
        versions = sorted((r["document_id"], r["content_sha256"]) for r in conn.execute("select * from versions"))
        return {"documents": documents, "disclosures": disclosures, "problems": problems, "outcomes": outcomes,
                "versions": versions}
    finally:
        conn.close()
