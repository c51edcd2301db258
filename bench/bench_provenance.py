"""Provenance benchmarks: rebuild throughput and deduplication cost as the archive grows.

1. Rebuild: N generated CCDI-template article pages are written to a WARC file
   as a crawl would (response + ``page-kind: article`` metadata), then
   ``archive rebuild`` runs over them (pages processed in one worker process per
   core, stored 64 per transaction).  Reported in documents per second, beside
   ``trafilatura.extract`` (one process) on the same pages, in ``--rounds`` alternating
   pairs, with each pair's ratio and their median.
2. Deduplication: generated texts (one in five a copy of an earlier one) are
   linked into a growing archive; the cost per document is reported at 10k,
   50k and 100k documents.  Near-linear total time means a flat cost per
   document: the ratio of the last window to the first should stay near 1.

    .venv/bin/python bench/bench_provenance.py [--rebuild-docs 10000] [--rounds 5] [--dedupe-docs 100000]   (0: skip)
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import trafilatura  # noqa: E402
from warcio.statusandheaders import StatusAndHeaders  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402

from archive.db import connect  # noqa: E402
from archive.rebuild import rebuild  # noqa: E402
from captures import ARTICLE, PAGE_KIND  # noqa: E402
from archive.schema import create  # noqa: E402
from archive import copy_groups  # noqa: E402

WORDS = (
    "巡视 整改 落实 问题 清单 责任 党组 党委 领导 班子 干部 监督 制度 机制 完善 推进 全面 从严 治党 纪律 作风 "
    "政治 建设 组织 思想 学习 贯彻 部署 要求 工作 专项 检查 资金 项目 管理 规范 审批 程序 基层 群众 反映 线索 "
    "处理 追责 问责 谈话 提醒 处分 清退 追回 挽回 损失 台账 销号 长效 常态 持续 深化 巩固 成果 运用 融入 改革 "
    "发展 质量 效能 服务 民生 环境 安全 生态 保护 教育 医疗 住房 交通 农业 水利 财政 审计 统计 国资 金融 企业"
).split()
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head><body>
<div class="other_Location"><a href="/">首页</a> &gt; 要闻</div>
<div class="flater_tab"><div class="Article_61"><h2 class="tit">{title}</h2>
<h3 class="daty"><div class="daty_con"><em class="e e1">来源：中央纪委国家监委网站</em>
<em class="e e2">发布时间：{date} 08:00</em></div></h3>
<div class="content">{paragraphs}</div></div></div>
<footer class="in_footer">版权所有：中央纪委国家监委网站 京ICP备10023091号-1</footer></body></html>"""


def sentence(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))) + "。"


def text(rng: random.Random, paragraphs: int = 6) -> list[str]:
    return ["".join(sentence(rng) for _ in range(rng.randint(2, 5))) for _ in range(paragraphs)]


def write_warc(path: Path, pages: int, rng: random.Random) -> list[str]:
    bodies = []
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for i in range(pages):
            url = f"https://www.ccdi.gov.cn/yaowenn/2023{1 + i % 12:02d}/t2023{1 + i % 12:02d}{1 + i % 28:02d}_{100000 + i}.html"
            title = f"中共某省委关于二十届中央第{1 + i % 9}轮巡视整改进展情况的通报（{i}）"
            html = PAGE.format(
                title=title,
                date=f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}",
                paragraphs="".join(f"<p>{p}</p>" for p in text(rng)),
            )
            body = html.encode("utf-8")
            bodies.append(html)
            response = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body),
                http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                                          ("Content-Length", str(len(body)))], protocol="HTTP/1.1"),
            )
            writer.write_record(response)
            record_id = response.rec_headers.get_header("WARC-Record-ID")
            writer.write_record(writer.create_warc_record(
                url, "metadata", payload=io.BytesIO(f"{PAGE_KIND}: {ARTICLE}\n".encode()),
                warc_content_type="application/warc-fields", warc_headers_dict={"WARC-Refers-To": record_id},
            ))
    return bodies


def bench_rebuild(pages: int, rounds: int) -> None:
    """``rounds`` pairs of runs, the rebuild then trafilatura over the same pages, each
    pair's ratio reported: load on the shared cores changes between pairs, not within one."""
    rng = random.Random(1)
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        warc_dir = Path(tmp) / "warc"
        warc_dir.mkdir()
        bodies = write_warc(warc_dir / "bench.warc.gz", pages, rng)
        for number in range(1, rounds + 1):
            rebuilt = Path(tmp) / f"rebuilt{number}.db"
            start = time.perf_counter()
            outcomes = rebuild(warc_dir, rebuilt, progress=False).outcomes
            ours = pages / (time.perf_counter() - start)
            start = time.perf_counter()
            for html in bodies:
                trafilatura.extract(html)
            peer = len(bodies) / (time.perf_counter() - start)
            ratios.append(ours / peer)
            if number == 1:
                print(f"rebuild: {pages} pages -> {dict(outcomes)}")
            print(f"  round {number}: rebuild (WARC read + full pipeline + store + dedupe, {os.cpu_count()} worker processes) "
                  f"{ours:7.1f} docs/s; trafilatura.extract alone (one process) {peer:7.1f} docs/s; ratio {ours / peer:.2f}x")
            for leftover in Path(tmp).glob(f"rebuilt{number}.db*"):
                leftover.unlink()
    print(f"  ratio over {rounds} rounds: median {statistics.median(ratios):.2f}x, min {min(ratios):.2f}x, max {max(ratios):.2f}x")


def bench_dedupe(total: int, window: int = 2000) -> None:
    rng = random.Random(2)
    checkpoints = sorted({c for c in (10_000, 50_000, 100_000, total) if c <= total})
    texts: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "dedupe.db")
        create(db)
        timings = {}
        window_time = 0.0
        for n in range(1, total + 1):
            if texts and rng.random() < 0.2:
                body = rng.choice(texts)  # a republished copy
            else:
                body = "\n".join(text(rng, paragraphs=4))
                texts.append(body)
            document = {"id": f"{n:016x}", "url": f"https://example.org/{n}", "body_text": body,
                        "published_at": f"2023-01-01T00:00:{n % 60:02d}+08:00", "first_seen_at": "2023"}
            with db.conn:
                db["documents"].insert(document)
                start = time.perf_counter()
                copy_groups.link(db, document)
                elapsed = time.perf_counter() - start
            if any(c - window < n <= c for c in checkpoints):
                window_time += elapsed
            if n in checkpoints:
                timings[n] = window_time / window * 1000
                window_time = 0.0
                print(f"  dedupe at {n:>7} documents: {timings[n]:.3f} ms per document (last {window})", flush=True)
        groups = db.execute("select count(distinct canonical_id) from documents").fetchone()[0]
        db.conn.close()
    first, last = timings[checkpoints[0]], timings[checkpoints[-1]]
    print(f"  {total} documents in {groups} texts; cost per document at {checkpoints[-1]} / at {checkpoints[0]}: "
          f"{last / first:.2f}x (1.0 = linear total time)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuild-docs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="rebuild/trafilatura pairs")
    parser.add_argument("--dedupe-docs", type=int, default=100_000)
    args = parser.parse_args()
    bench_rebuild(args.rebuild_docs, args.rounds)
    if args.dedupe_docs:
        print("dedupe:")
        bench_dedupe(args.dedupe_docs)


if __name__ == "__main__":
    main()
