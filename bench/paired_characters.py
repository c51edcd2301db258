"""Writes ``archive/paired_characters.txt``: the Han characters whose pairs the
auxiliary pair index keeps (``archive.search_index.PAIRS``).

They are the ``COUNT`` most frequent Han characters (folded as a search compares
them) in the real texts of ``bench/real_texts/dev`` (origins in its MANIFEST.csv):
the characters in most documents, whose position lists make a phrase of two of
them the slowest search for the per-character index.  ``COUNT`` was chosen by
measurement (issue 27, 20,000 generated documents' texts, 86 dev texts ranked): the pair
index's build CPU falls with ``COUNT`` (300: 1.0–1.1 s, 200: 0.8 s, 100: 0.6 s, 0: 0.4 s of
reading and scanning the texts), while a rare pair of the characters ranked just above it
is left to the per-character index, whose count of it at 100,000 documents took 8–17 ms
above 300, 20–32 ms above 200 and 33–50 ms above 100 and 150 (改整 there: 80–120 ms;
load average 2–6 from other work).

    .venv/bin/python bench/paired_characters.py
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from archive import search_index  # noqa: E402

COUNT = 200
SOURCE = REPO / "bench" / "real_texts" / "dev"
TARGET = REPO / "archive" / "paired_characters.txt"
_HAN = re.compile(r"[\u4e00-\u9fff]")


def main() -> None:
    counts = collections.Counter()
    for path in sorted(SOURCE.glob("*.txt")):
        counts.update(_HAN.findall(search_index.comparable(path.read_text(encoding="utf-8"))))
    chosen = "".join(character for character, _ in counts.most_common(COUNT))
    TARGET.write_text(f"# The {COUNT} most frequent Han characters of bench/real_texts/dev, folded "
                      f"(bench/paired_characters.py writes this file)\n{chosen}\n", encoding="utf-8")
    print(f"{TARGET}: {len(chosen)} characters from {sum(counts.values()):,} in {SOURCE}")


if __name__ == "__main__":
    main()
