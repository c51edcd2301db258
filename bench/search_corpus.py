"""Generated archives for the search benchmark: realistic text, planted terms.

Text is cut up from the project's own fixture documents and mirror pages —
clauses (runs between punctuation marks) drawn at random and rejoined with
their punctuation — so the frequencies of characters and of the domain's
words (整改, 巡视, 党组织…) are those of real disclosures.  One clause in
four has a span replaced by characters drawn from GB2312's first level
(the 3,755 common characters, weighted towards the front), which gives the
long tail of names and places a real archive has.

Planted terms are inserted into a known share of the documents (the
:data:`PLANTED` table).  What a search must find is decided by a substring
oracle over the generated text, not by the plan, since the cut-up text can
produce a planted term by chance.
"""

from __future__ import annotations

import html
import itertools
import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import lxml.html

REPO = Path(__file__).resolve().parents[1]
SOURCES = (REPO / "tests" / "fixtures", REPO / "crawler" / "mirror" / "sites")
_CLAUSE = re.compile(r"([^，。；：、！？,.;:!?\n]+)([，。；：、！？]?)")
_HAN = re.compile(r"[\u4e00-\u9fff]")

# term → share of documents it is planted in (0.5 = every other document).
PLANTED = {
    "鑫": 0.005,
    "王伟": 0.02,
    "钱立军": 0.002,
    "欧阳志远": 0.001,
    "整改台账": 0.3,
}
EDITORS = ("李娜", "张敏", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰")
SOURCES_NAMED = ("中央纪委国家监委网站", "新华社", "人民日报", "中国纪检监察报", "北京日报")


PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head><body>
<div class="other_Location"><a href="/">首页</a> &gt; 要闻</div>
<div class="flater_tab"><div class="Article_61"><h2 class="tit">{title}</h2>
<h3 class="daty"><div class="daty_con"><em class="e e1">来源：{source}</em>
<em class="e e2">发布时间：{published} 08:00</em></div></h3>
<div class="content">{paragraphs}<p>（责任编辑：{editor}）</p></div></div></div>
<footer class="in_footer">版权所有：中央纪委国家监委网站 京ICP备10023091号-1</footer></body></html>"""


@dataclass
class GeneratedDocument:
    number: int
    title: str
    paragraphs: list[str]
    source: str
    editor: str
    published: str

    @property
    def text(self) -> str:
        """Everything a search looks at: title, text and bylines."""
        return "\n".join([self.title, *self.paragraphs, self.source, self.editor])

    @property
    def url(self) -> str:
        month = self.published[:7].replace("-", "")
        return f"https://www.ccdi.gov.cn/yaowenn/{month}/t{self.published.replace('-', '')}_{self.number}.html"

    def page(self) -> bytes:
        """The document as a CCDI article page (the site profile's ``article_61`` template)."""
        return PAGE.format(
            title=html.escape(self.title),
            source=self.source,
            published=self.published,
            paragraphs="".join(f"<p>{html.escape(p)}</p>" for p in self.paragraphs),
            editor=self.editor,
        ).encode("utf-8")


@cache
def _clauses() -> tuple[tuple[str, ...], tuple[str, ...]]:
    texts = []
    for root in SOURCES:
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".txt", ".md", ".html", ".shtml", ".htm") or not path.is_file():
                continue
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("gb18030", "replace")
            if path.suffix in (".html", ".shtml", ".htm"):
                try:
                    text = lxml.html.fromstring(text.encode("utf-8")).text_content()
                except Exception:  # noqa: BLE001 - an unparsable page is simply not a source
                    continue
            texts.append(text)
    clauses, marks = [], []
    for text in texts:
        for clause, mark in _CLAUSE.findall(text):
            clause = clause.strip()
            if len(_HAN.findall(clause)) >= 3 and len(clause) <= 80 and ">" not in clause:
                clauses.append(clause)
                marks.append(mark or "。")
    return tuple(clauses), tuple(marks)


@cache
def _tail_characters() -> str:
    """GB2312 level 1 in code order, roughly by frequency of use."""
    chars = []
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                chars.append(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return "".join(chars)


class Corpus:
    def __init__(self, seed: int = 1, length: int = 3000):
        self.rng = random.Random(seed)
        self.length = length
        self.clauses, self.marks = _clauses()
        tail = _tail_characters()
        self.tail = tail
        weights = [1 / (i + 10) for i in range(len(tail))]
        self.tail_cumulative = list(itertools.accumulate(weights))

    def _clause(self) -> str:
        rng = self.rng
        i = rng.randrange(len(self.clauses))
        clause = self.clauses[i]
        if rng.random() < 0.25 and len(clause) > 4:
            start = rng.randrange(len(clause) - 2)
            span = "".join(rng.choices(self.tail, cum_weights=self.tail_cumulative, k=rng.randint(1, 3)))
            clause = clause[:start] + span + clause[start + len(span):]
        return clause + self.marks[i]

    def _paragraph(self, size: int) -> str:
        parts, n = [], 0
        while n < size:
            part = self._clause()
            parts.append(part)
            n += len(part)
        return "".join(parts)

    def document(self, number: int) -> GeneratedDocument:
        rng = self.rng
        paragraphs, total = [], 0
        while total < self.length:
            paragraph = self._paragraph(rng.randint(80, 400))
            paragraphs.append(paragraph)
            total += len(paragraph)
        for term, share in PLANTED.items():
            if rng.random() < share:
                k = rng.randrange(len(paragraphs))
                cut = rng.randrange(len(paragraphs[k]) + 1)
                paragraphs[k] = paragraphs[k][:cut] + term + paragraphs[k][cut:]
        title = self._clause().rstrip("，。；：、！？") + f"（第{number}号）"
        return GeneratedDocument(
            number=number,
            title=title,
            paragraphs=paragraphs,
            source=rng.choice(SOURCES_NAMED),
            editor=rng.choice(EDITORS),
            published=f"20{rng.randint(18, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        )

    def documents(self, count: int):
        for number in range(1, count + 1):
            yield self.document(number)
