"""Crawl throughput against the local mirror, beside ``scrapy bench`` on the same machine.

    python bench/bench_crawl.py [--articles 600] [--bench-seconds 10]

The mirror's fixture sites hold a few pages each, too few to measure, so the
benchmark grows one TRS site (北京, ``beijing`` spider) to ``--articles``
articles on list pages of 20, cloned from its fixture list and article with
new URLs, titles and bodies (paragraphs drawn from all fixture articles), and crawls it with politeness off (robots.txt obeyed)
through the whole stack: mirror rewrite, WARC capture, anti-bot checks, the
processing pipeline and the SQLite archive.  Pages per second are counted
from the run's own ``crawl_runs`` row (pages fetched between its start and
end), and the whole command's wall time is shown too (start-up included).

``scrapy bench`` (Scrapy's own server and a spider that only follows links,
no pipeline) runs in the same invocation; its ``pages/min`` is the ceiling of
a bare Scrapy on this machine.  Both figures and their ratio are printed.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import lxml.html

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.mirror import SITES_DIR  # noqa: E402
from sites import get_profile  # noqa: E402

SPIDER = "beijing"
HOST = "www.bjsupervision.gov.cn"
COLUMN_DIR = Path(HOST, "zt/shejswxc/xsfk")
ITEMS_PER_PAGE = 20
_PAGER = re.compile(r'createPageHTML\(\s*\d+\s*,\s*\d+\s*,')


def _paragraph_pool(sites_dir: Path) -> list[str]:
    """Paragraphs of the UTF-8 fixture articles, to give every cloned article
    its own body (identical bodies would all land in one near-duplicate group)."""
    pool = []
    for path in sorted(sites_dir.rglob("*.*htm*")):
        try:
            page = lxml.html.fromstring(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        pool += [text for p in page.iter("p") if len(text := p.text_content().strip()) > 20]
    return sorted(set(pool))


def grow_site(sites_dir: Path, articles: int) -> int:
    """Replace the Beijing column with ``articles`` cloned articles; returns the
    number of list pages."""
    profile = get_profile(SPIDER)
    template = profile.templates[0]
    list_selectors = profile.settings["list"]
    column = sites_dir / COLUMN_DIR
    pool = _paragraph_pool(sites_dir)
    template_list = lxml.html.fromstring((column / "index.html").read_bytes())
    template_item = template_list.cssselect(list_selectors["item"])[0]
    template_article = lxml.html.fromstring(next(column.glob("*/t*.html")).read_bytes())
    template_title = template_article.cssselect(template.title)[0].text_content().strip()
    for old in column.glob("*/t*.html"):
        old.unlink()
    pages = -(-articles // ITEMS_PER_PAGE)
    for page in range(pages):
        listing = copy.deepcopy(template_list)
        item_list = listing.cssselect(list_selectors["item"])[0].getparent()
        for node in list(item_list):
            item_list.remove(node)
        for number in range(page * ITEMS_PER_PAGE, min(articles, (page + 1) * ITEMS_PER_PAGE)):
            day = datetime.fromordinal(datetime(2021, 12, 31).toordinal() - number // 5)
            href = f"./{day:%Y%m}/t{day:%Y%m%d}_{900000 - number}.html"
            title = f"{template_title}（第{number + 1}号）"
            item = copy.deepcopy(template_item)
            link = item.cssselect("a")[0]
            link.set("href", href)
            link.set("title", title)
            link.text = title
            item.cssselect(list_selectors["date"])[0].text = f"{day:%Y-%m-%d}"
            item_list.append(item)
            article = column / href
            article.parent.mkdir(parents=True, exist_ok=True)
            article.write_text(_article(template_article, template, title, random.Random(number).sample(pool, 6)), "utf-8")
        html = lxml.html.tostring(listing, encoding="unicode", doctype="<!DOCTYPE html>")
        html = _PAGER.sub(f"createPageHTML({pages}, {page},", html)
        (column / ("index.html" if page == 0 else f"index_{page}.html")).write_text(html, "utf-8")
    return pages


def _article(template_article, template, title: str, paragraphs: list[str]) -> str:
    article = copy.deepcopy(template_article)
    article.find(".//title").text = title
    article.cssselect(template.title)[0].text = title
    old_paragraphs = article.cssselect(template.body)[0].findall(".//p")
    container = old_paragraphs[0].getparent()
    for old in old_paragraphs:
        old.getparent().remove(old)
    for text in paragraphs:
        paragraph = copy.deepcopy(old_paragraphs[0])
        paragraph.text = text
        container.append(paragraph)
    return lxml.html.tostring(article, encoding="unicode", doctype="<!DOCTYPE html>")


def start_mirror_process(sites_dir: Path) -> tuple[subprocess.Popen, dict]:
    """The mirror in its own process, so it does not share the crawler's GIL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "archive", "mirror", "--sites-dir", str(sites_dir), "--no-challenge"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    text = ""
    while True:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the mirror exited before printing its host map")
        text += line
        try:
            return process, json.loads(text)
        except json.JSONDecodeError:
            continue


def crawl_rate(articles: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        sites = Path(shutil.copytree(SITES_DIR, Path(tmp, "sites")))
        list_pages = grow_site(sites, articles)
        mirror, host_map = start_mirror_process(sites)
        try:
            db = Path(tmp, "archive.db")
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "archive", "crawl", SPIDER, "--db", str(db), "--host-map", json.dumps(host_map),
                 "--warc-dir", str(Path(tmp, "warc")), "--no-politeness", "-s", "LOG_LEVEL=WARNING"],
                cwd=ROOT, check=True,
            )
            wall = time.perf_counter() - started
        finally:
            mirror.terminate()
            mirror.wait()
        with sqlite3.connect(db) as connection:
            pages, new, started_at, finished_at = connection.execute(
                "select pages_fetched, documents_new, started_at, finished_at from crawl_runs"
            ).fetchone()
    seconds = (datetime.fromisoformat(finished_at) - datetime.fromisoformat(started_at)).total_seconds()
    return {
        "articles": articles, "list_pages": list_pages, "pages": pages, "documents_new": new,
        "crawl_seconds": seconds, "wall_seconds": wall,
        "pages_per_second": pages / max(seconds, 1e-9), "wall_pages_per_second": pages / wall,
    }


def scrapy_bench_rate(seconds: int) -> float:
    """Scrapy's own benchmark, run outside the project so it uses Scrapy's defaults."""
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    scrapy = Path(sys.executable).with_name("scrapy")
    with tempfile.TemporaryDirectory(prefix="scrapy-bench-") as tmp:
        done = subprocess.run(
            [str(scrapy), "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}"],
            cwd=tmp, env=env, capture_output=True, text=True, check=True,
        )
    rates = [int(r) for r in re.findall(r"\(at (\d+) pages/min\)", done.stderr)]
    if not rates:
        raise RuntimeError("no pages/min in scrapy bench's output:\n" + done.stderr[-2000:])
    # The first line is logged before anything is crawled; the rest are per-interval rates.
    steady = [r for r in rates if r] or rates
    return sum(steady) / len(steady) / 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--bench-seconds", type=int, default=10)
    args = parser.parse_args()
    crawl = crawl_rate(args.articles)
    bench = scrapy_bench_rate(args.bench_seconds)
    print(
        f"crawl of the mirror (politeness off, full pipeline): {crawl['pages']} pages "
        f"({crawl['list_pages']} list + {crawl['documents_new']} articles archived) "
        f"in {crawl['crawl_seconds']:.1f} s = {crawl['pages_per_second']:.1f} pages/s "
        f"({crawl['wall_pages_per_second']:.1f} pages/s over {crawl['wall_seconds']:.1f} s wall, start-up included)"
    )
    print(f"scrapy bench on this machine: {bench:.1f} pages/s (mean of its per-interval rates)")
    print(f"ratio crawl / scrapy bench: {crawl['pages_per_second'] / bench:.2f}")


if __name__ == "__main__":
    main()
