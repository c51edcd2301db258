"""An archive for the promise ledger: five units over four central rounds and a county round.

* 国家电力投资集团有限公司, renamed: its 18-5 feedback notice and report name it
  中国电力投资集团公司 (on time: 52 days after feedback); its 19-3 entry notice,
  feedback notice and report (late: 99 days after feedback, the rule gives 60);
* 青川省, 19-6: entry notice, feedback notice, report (53 days: on time);
* 南屏省, 19-6: a feedback notice and no report (overdue);
* 中国宝武钢铁集团有限公司, 20-1 回头看: entry, feedback, report on its 60th day;
* 县林业局: a county feedback notice whose name says no county (ambiguous: linked to no unit).

Texts are our own, written for the test (tests/fixtures/ledger/*.md, dated by front matter).
"""

from __future__ import annotations

from pathlib import Path

from archive.db import Archive
from archive.importer import import_paths

FIXTURES = Path(__file__).parent / "fixtures" / "ledger"
SPIC = "国家电力投资集团有限公司"
SPIC_FORMER = "中国电力投资集团公司"
QINGCHUAN = "青川省"
NANPING = "南屏省"
BAOWU = "中国宝武钢铁集团有限公司"
AMBIGUOUS = "县林业局"


def build(db_path: Path) -> None:
    with Archive(db_path) as archive:
        import_paths([FIXTURES], archive)
