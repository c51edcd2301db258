"""Writes ``archive/paired_characters.txt``: the Han characters whose pairs the
auxiliary pair index keeps (``archive.search_index.PAIRS``).

They are the ``COUNT`` most frequent Han characters (folded as a search compares
them) in the real texts of ``bench/real_texts/dev`` (origins in its MANIFEST.csv):
the characters in most documents, whose position lists make a phrase of two of
them the slowest search for the per-character index.  ``COUNT`` was chosen by
measurement (``bench/bench_search.py``: build time and size of the pair index
against the searches it speeds up).

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

COUNT = 300
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
