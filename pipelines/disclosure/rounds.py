"""Reference table of central inspection rounds (pipelines/disclosure/rounds.csv).

One row per round, keyed by `round_id` = "<term>-<round>" (e.g. 19-6); the
unnumbered 19th-term 脱贫攻坚 回头看 is `19-tpht`. Dates are ISO and as precise
as the evidence (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`); empty cells are unknown.
`rectification_published` is the first day reports went public.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

ROUNDS_CSV = Path(__file__).with_name("rounds.csv")

_INT_COLUMNS = ("term", "round", "units_count")


def load_rounds(path: str | Path | None = None) -> pd.DataFrame:
    """Load the rounds table: nullable Int64 for counts, pandas strings elsewhere."""
    frame = pd.read_csv(path or ROUNDS_CSV, dtype=str, keep_default_na=False)
    frame = frame.replace("", pd.NA)
    for column in frame.columns:
        dtype = "Int64" if column in _INT_COLUMNS else "string"
        frame[column] = frame[column].astype(dtype)
    return frame


@lru_cache(maxsize=1)
def _known_ids() -> frozenset[tuple[int, int]]:
    frame = load_rounds().dropna(subset=["term", "round"])
    return frozenset(zip(frame["term"].astype(int), frame["round"].astype(int)))


def round_id_for(term: int | None, round: int | None) -> str | None:  # noqa: A002 - the domain's word
    """`"19-6"` for a round listed in the table, else None."""
    if term is None or round is None or (term, round) not in _known_ids():
        return None
    return f"{term}-{round}"
