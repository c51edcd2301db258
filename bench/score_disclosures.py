"""Score the disclosure grammar on the evaluation set in bench/disclosure_eval.

Prints field accuracy (every disclosure column and every field of every problem), the
reports whose status counts are exact, money on the reports that state money, and any
value taken from a placeholder in a template.

    .venv/bin/python bench/score_disclosures.py [-v] [DIRECTORY]

DIRECTORY defaults to bench/disclosure_eval; bench/disclosure_holdout holds reports written
after the grammar was tuned, to see how it does on forms it was not written against.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.disclosure import parse_disclosure  # noqa: E402

EVAL = REPO / "bench" / "disclosure_eval"
STATUS_COUNTS = (
    "problems_total", "problems_completed", "problems_basically_completed", "problems_in_progress",
    "problems_unfinished", "problems_long_term_only", "problems_no_status", "problems_long_term",
)
PROBLEM_FIELDS = (
    "number", "section_path", "title", "status", "status_class", "long_term", "deadline", "responsible_unit", "text",
)


@dataclass
class ReportScore:
    name: str
    fields: int = 0
    exact: int = 0
    wrong: list[str] = field(default_factory=list)
    status_counts_exact: bool = False
    money_states: bool = False
    money_exact: bool = False
    placeholder_values: list[str] = field(default_factory=list)


def _same(expected, actual) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        return expected is not None and actual is not None and round(expected, 2) == round(actual, 2)
    return expected == actual


def _problem_field(gold: dict, parsed: dict | None, key: str) -> tuple[bool, object]:
    if parsed is None:
        return False, None
    if key == "text":
        text = parsed.get("text") or ""
        return text.startswith(gold["text_start"]) and text.endswith(gold["text_end"]), text[:12] + "…" + text[-12:]
    return _same(gold[key], parsed.get(key)), parsed.get(key)


def score_report(txt: Path) -> ReportScore:
    gold = json.loads(txt.with_suffix(".json").read_text(encoding="utf-8"))
    title, _, body = txt.read_text(encoding="utf-8").partition("\n")
    parsed = parse_disclosure(title, body, gold["input"]["published_at"], site=gold["input"]["site"]) or {}
    disclosure, problems = parsed.get("disclosure") or {}, parsed.get("problems") or []
    score = ReportScore(txt.stem)
    for key, expected in gold["disclosure"].items():
        score.fields += 1
        if _same(expected, disclosure.get(key)) or (expected is None and disclosure.get(key) is None):
            score.exact += 1
        else:
            score.wrong.append(f"{key}: expected {expected!r}, got {disclosure.get(key)!r}")
    for position, expected in enumerate(gold["problems"], start=1):
        actual = problems[position - 1] if position <= len(problems) else None
        for key in PROBLEM_FIELDS:
            score.fields += 1
            ok, got = _problem_field(expected, actual, key)
            if ok:
                score.exact += 1
            else:
                want = (expected["text_start"] + "…" + expected["text_end"]) if key == "text" else expected[key]
                score.wrong.append(f"problem {position} {key}: expected {want!r}, got {got!r}")
    for position in range(len(gold["problems"]) + 1, len(problems) + 1):  # a problem too many is wrong in every field
        score.fields += len(PROBLEM_FIELDS)
        score.wrong.append(f"problem {position} not in the report: {problems[position - 1].get('title')!r}")
    expected = gold["disclosure"]
    score.status_counts_exact = all(_same(expected[k], disclosure.get(k)) or expected[k] is disclosure.get(k)
                                    for k in STATUS_COUNTS)
    score.money_states = expected["money_recovered_yuan"] is not None
    score.money_exact = _same(expected["money_recovered_yuan"], disclosure.get("money_recovered_yuan"))
    if expected["is_template"]:
        score.placeholder_values = [k for k, v in expected.items() if v is None and disclosure.get(k) is not None]
    return score


def score_all(directory: Path = EVAL) -> dict:
    reports = [score_report(txt) for txt in sorted(directory.glob("*.txt"))]
    fields = sum(r.fields for r in reports)
    exact = sum(r.exact for r in reports)
    money = [r for r in reports if r.money_states]
    return {
        "reports": reports,
        "field_accuracy": exact / fields,
        "fields": fields,
        "fields_exact": exact,
        "status_counts_exact": [r.name for r in reports if r.status_counts_exact],
        "status_counts_share": sum(r.status_counts_exact for r in reports) / len(reports),
        "money_reports": len(money),
        "money_exact": [r.name for r in money if r.money_exact],
        "placeholder_values": {r.name: r.placeholder_values for r in reports if r.placeholder_values},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every wrong field")
    parser.add_argument("directory", nargs="?", type=Path, default=EVAL, help="reports and their gold JSON")
    args = parser.parse_args()
    result = score_all(args.directory)
    for report in result["reports"]:
        marks = "counts ok" if report.status_counts_exact else "COUNTS WRONG"
        money = "" if not report.money_states else ("money ok" if report.money_exact else "MONEY WRONG")
        print(f"{report.name:45s} {report.exact:3d}/{report.fields:3d} fields  {marks:12s} {money}")
        if args.verbose:
            for line in report.wrong:
                print(f"    {line}")
    n = len(result["reports"])
    print()
    print(f"field accuracy       {result['field_accuracy']:.1%} ({result['fields_exact']}/{result['fields']} fields, {n} reports)")
    print(f"status counts exact  {len(result['status_counts_exact'])}/{n} reports ({result['status_counts_share']:.1%})")
    print(f"money exact          {len(result['money_exact'])}/{result['money_reports']} reports that state money")
    print(f"placeholder values   {sum(map(len, result['placeholder_values'].values()))} "
          f"{result['placeholder_values'] or ''}")


if __name__ == "__main__":
    main()
