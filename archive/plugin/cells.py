"""Cells as a reader wants them, in every HTML table and query result; JSON and CSV keep the raw values.

* Money in yuan (a column ending in ``_yuan``): ``¥1.71亿`` with the exact figure beside
  it (``171,064,000 元``), not ``171064000.0``.
* Coded columns (``level``, ``status_class``, ``doc_type``) in Chinese with the code
  small beside it, in canned queries too, as the tables show them: one vocabulary.
* A unit's name links to its ledger page when the row carries its ``unit_id``.
"""

from __future__ import annotations

from markupsafe import Markup

from .. import labels

CODED_COLUMNS = {"level": "levels", "status_class": "status_classes", "doc_type": "doc_types"}
UNIT_COLUMNS = ("unit", "unit_name", "named_as")


def yuan(value) -> str | None:
    """``171064000.0`` → ``¥1.71亿``; ``5600000`` → ``¥560万``; under 10,000 yuan as it is."""
    if value is None:
        return None
    amount = float(value)
    for unit, size in (("亿", 1e8), ("万", 1e4)):
        if abs(amount) >= size:
            short = f"{amount / size:.2f}".rstrip("0").rstrip(".")
            return f"¥{short}{unit}"
    return f"¥{amount:,.0f}"


def money_cell(value) -> Markup:
    return Markup('<span class="money" title="{exact} 元">{short}</span> <small class="money-exact">{exact} 元</small>').format(
        short=yuan(value), exact=f"{float(value):,.0f}"
    )


def _plain(value):
    return value["value"] if isinstance(value, dict) else value


def render_cell(value, column, table, row, datasette):
    if column.endswith("_yuan") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return money_cell(value)
    coded = CODED_COLUMNS.get(column)
    # Tables show the label already (a foreign key to the labels table); query results need it here.
    if coded and table is None and isinstance(value, str) and value in labels.LABEL_TABLES[coded][0]:
        return Markup('{} <small class="code">{}</small>').format(labels.label(coded, value), value)
    if column in UNIT_COLUMNS and value and "unit_id" in row.keys() and _plain(row["unit_id"]):
        return Markup('<a href="{}">{}</a>').format(datasette.urls.path(f"/-/unit/{_plain(row['unit_id'])}"), value)
    return None
