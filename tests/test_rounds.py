import pandas as pd

from pipelines.disclosure.rounds import ROUNDS_CSV, load_rounds, round_id_for

COLUMNS = [
    "round_id", "term", "round", "kind", "inspection_start", "inspection_end",
    "feedback_published", "rectification_published", "units_count", "note", "evidence",
]


def test_columns_and_types():
    rounds = load_rounds()
    assert list(rounds.columns) == COLUMNS
    assert str(rounds["term"].dtype) == "Int64"
    assert str(rounds["round"].dtype) == "Int64"
    assert str(rounds["units_count"].dtype) == "Int64"
    assert str(rounds["kind"].dtype) == "string"


def test_round_ids_are_unique_and_match_term_and_round():
    rounds = load_rounds()
    assert rounds["round_id"].is_unique
    numbered = rounds.dropna(subset=["round"])
    assert (numbered["round_id"] == numbered["term"].astype(str) + "-" + numbered["round"].astype(str)).all()


def test_known_facts():
    rounds = load_rounds().set_index("round_id")
    assert rounds.loc["19-5", "units_count"] == 35
    assert rounds.loc["19-5", "rectification_published"] == "2021-04-20"
    assert rounds.loc["19-2", "feedback_published"] == "2019-01-30"
    assert rounds.loc["19-7", "inspection_start"] == "2021-05"
    assert rounds.loc["18-1", "inspection_start"] == "2013-05-27"
    assert rounds.loc["20-1", "units_count"] == 36


def test_unknown_cells_are_missing_not_zero():
    rounds = load_rounds().set_index("round_id")
    assert pd.isna(rounds.loc["19-4", "units_count"])
    assert pd.isna(rounds.loc["19-4", "kind"])
    assert pd.isna(rounds.loc["19-tpht", "round"])  # the unnumbered 脱贫攻坚 回头看
    assert rounds.loc["19-tpht", "kind"] == "回头看"


def test_dates_are_iso_prefixes():
    rounds = load_rounds()
    for column in ("inspection_start", "inspection_end", "feedback_published", "rectification_published"):
        values = rounds[column].dropna()
        assert values.str.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?").all(), column


def test_load_rounds_accepts_a_path(tmp_path):
    path = tmp_path / "rounds.csv"
    path.write_text(ROUNDS_CSV.read_text(encoding="utf-8").splitlines()[0] + "\n21-1,21,1,常规,,,,,,,\n", encoding="utf-8")
    rounds = load_rounds(path)
    assert rounds["round_id"].tolist() == ["21-1"]
    assert pd.isna(rounds.loc[0, "units_count"])


def test_round_id_for():
    assert round_id_for(19, 6) == "19-6"
    assert round_id_for(20, 2) == "20-2"
    assert round_id_for(20, 99) is None
    assert round_id_for(None, 6) is None
    assert round_id_for(19, None) is None
