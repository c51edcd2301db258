"""Chinese labels of the archive's coded values.

The data keeps short English codes (``level = 'central'``), which SQL and
exports rely on.  Readers see Chinese: each coded column is a foreign key to a
small table of ``code → label`` created here, so Datasette shows the label
beside the code in tables, facets and the record page, and expands it in CSV
with ``_labels=on``.
"""

from __future__ import annotations

from sqlite_utils import Database

# Who sent the inspection team (pipelines/disclosure.py decides the code).
LEVELS = {
    "central": "中央",
    "provincial": "省级",
    "city": "市级",
    "county": "县级",
    "internal": "单位内部",
}

# What a document is (pipelines/classify.py decides the code).
DOC_TYPES = {
    "rectification_report": "整改进展情况通报",
    "feedback_notice": "巡视巡察反馈",
    "entry_notice": "巡视巡察进驻",
    "round_summary": "整改综述",
    "policy_qa": "答记者问",
    "news": "新闻",
    "other": "其他",
}

# The status of a problem, for counting (pipelines/disclosure/problems.py:
# status_class); problems.status keeps the words the report printed.
STATUS_CLASSES = {
    "completed": "已完成",
    "completed_long_term": "已完成并长期坚持",
    "basically_completed": "基本完成",
    "phase_completed": "阶段性完成",
    "in_progress": "正在推进或未完成",
    "long_term": "长期坚持",
    "none": "未标注状态",
}

# table name → (labels, the column of the archive that refers to it)
LABEL_TABLES = {
    "levels": (LEVELS, ("disclosures", "level")),
    "doc_types": (DOC_TYPES, ("documents", "doc_type")),
    "status_classes": (STATUS_CLASSES, ("problems", "status_class")),
}


def foreign_keys(table: str) -> list[tuple[str, str, str]]:
    """The (column, label table, code) foreign keys ``table`` is created with."""
    return [(column, name, "code") for name, (_, (owner, column)) in LABEL_TABLES.items() if owner == table]


def create(db: Database) -> None:
    for name, (labels, _) in LABEL_TABLES.items():
        db[name].create({"code": str, "label": str}, pk="code", if_not_exists=True)
        db[name].upsert_all([{"code": code, "label": label} for code, label in labels.items()], pk="code")


def label(table: str, code: str | None) -> str | None:
    """The Chinese label of ``code`` in ``table`` (``levels``, ``doc_types``, ``status_classes``), else the code."""
    return LABEL_TABLES[table][0].get(code, code) if code is not None else None
