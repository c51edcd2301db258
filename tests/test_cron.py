"""The README's cron line works as written on a fresh clone of this commit.

Run by ``/bin/sh`` with cron's bare environment, in a ``git clone`` of HEAD
(no ``data/``: it is git-ignored) whose ``.venv`` is this environment's;
only the checkout path and ``--mirror zhejiang`` (the local mirror, not the
live sites) are put in.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SITES

pytestmark = [pytest.mark.slow, pytest.mark.mirror]

CHECKOUT = "/srv/zhenggai"
SITE = "zhejiang"  # a production site (cron's bare environment knows no test site)
ON_THE_MIRROR = f"archive crawl --mirror {SITE}"


def readme_cron_line() -> str:
    """The command of the cron line of "Crawling on a schedule" (its five time fields dropped)."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Crawling on a schedule", 1)[1]
    block = re.search(r"```cron\n(.*?)```", section, re.S).group(1)
    (line,) = [line for line in block.splitlines() if re.match(r"\d", line)]
    return line.split(None, 5)[5]


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path_factory.mktemp("cron") / "zhenggai"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", head.stdout.strip()], check=True)
    (clone / ".venv").symlink_to(Path(sys.prefix))
    return clone


def run_as_cron(clone: Path, command: str) -> subprocess.CompletedProcess:
    command = command.replace(CHECKOUT, str(clone)).replace("archive crawl", ON_THE_MIRROR, 1)
    cron_environment = {"PATH": "/usr/bin:/bin", "HOME": str(clone), "SHELL": "/bin/sh", "LANG": "C"}
    return subprocess.run(["/bin/sh", "-c", command], env=cron_environment, capture_output=True, text=True, timeout=300)


def test_the_readme_cron_line_runs_on_a_fresh_clone(fresh_clone):
    command = readme_cron_line()
    assert command.startswith(f"cd {CHECKOUT} && ") and "archive crawl" in command
    assert not (fresh_clone / "data").exists()
    done = run_as_cron(fresh_clone, command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == done.stderr == ""  # cron mails nothing when the crawl went well
    articles = SITES[SITE].tests["articles"]
    log = (fresh_clone / "data" / "crawl.log").read_text(encoding="utf-8")
    assert re.search(rf"^{SITE}\s+ok\s+\d+\s+\d+\s+{len(articles)}\s", log, re.M), log[-2000:]
    with sqlite3.connect(fresh_clone / "data" / "archive.db") as db:
        assert {url for (url,) in db.execute("select url from documents")} == set(articles)


def test_a_failed_crawl_prints_one_line_naming_the_log(fresh_clone):
    command = readme_cron_line().replace("archive crawl", "archive crawl no_such_spider", 1)
    done = run_as_cron(fresh_clone, command)
    assert done.returncode == 2 and done.stdout == ""
    log = fresh_clone / "data" / "crawl.log"
    assert done.stderr == f"archive crawl failed (exit 2): see {log}\n"
    assert "unknown spider(s): no_such_spider" in log.read_text(encoding="utf-8")
