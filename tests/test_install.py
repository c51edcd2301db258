"""A fresh install, as a new user makes it: a clean clone, a new venv with its
bundled pip (never upgraded), the project built as a wheel and installed
non-editable. Nothing from the checkout is on the path afterwards: every
command runs from an empty folder with the venv's own interpreter.

Slow (a minute or two: the venv installs every dependency); marked ``install``
so a developer may deselect it with ``-m "not install"``. CI runs it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from datasette_server import REPO, served_archive

pytestmark = [pytest.mark.install, pytest.mark.slow]

PACKAGES = ("archive", "captures", "crawler", "pipelines", "sites")


def run(args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


class Installed:
    def __init__(self, root: Path):
        self.root = root
        self.clone = root / "clone"
        self.venv = root / "venv"
        self.elsewhere = root / "elsewhere"  # an empty working folder: nothing importable from the checkout
        self.wheel: Path | None = None

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def run(self, *args, **kwargs) -> subprocess.CompletedProcess:
        return run(args, cwd=self.elsewhere, timeout=kwargs.pop("timeout", 300), **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    if not (REPO / ".git").exists():
        pytest.skip("the install test clones the git checkout")
    it = Installed(tmp_path_factory.mktemp("install"))
    it.elsewhere.mkdir()
    run(["git", "clone", "-q", REPO, it.clone], timeout=120)
    run([shutil.which("python3") or sys.executable, "-m", "venv", it.venv], timeout=120)
    run([it.bin("pip"), "wheel", "-q", "--no-deps", "-w", it.root / "wheels", it.clone], timeout=600)
    (it.wheel,) = (it.root / "wheels").glob("zhenggai_archive-*.whl")
    run([it.bin("pip"), "install", "-q", it.wheel], timeout=1200)
    return it


def test_wheel_holds_every_file_of_the_packages(installed):
    tracked = run(["git", "ls-files", "-z", *PACKAGES], cwd=installed.clone).stdout.split("\0")
    expected = {path for path in tracked if path and "__pycache__" not in path}
    in_wheel = set(zipfile.ZipFile(installed.wheel).namelist())
    assert expected - in_wheel == set()


def test_every_module_imports_from_the_installed_wheel(installed):
    script = f"""
import importlib, pkgutil, sys
site = {str(installed.venv)!r}
names = []
for package in {PACKAGES!r}:
    module = importlib.import_module(package)
    assert module.__file__.startswith(site), module.__file__
    names.append(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if not info.name.endswith("__main__"):  # running the CLI is not importing it
            assert importlib.import_module(info.name).__file__.startswith(site), info.name
            names.append(info.name)
import trafilatura, trafilatura.core, justext
print(len(names))
"""
    imported = installed.run(installed.bin("python"), "-c", script)
    assert int(imported.stdout.strip()) >= 30


def test_commands_run_from_the_wheel(installed):
    for command in ([installed.bin("archive")], [installed.bin("python"), "-m", "archive"]):
        helped = installed.run(*command, "demo", "--help")
        assert "Offline demo" in helped.stdout

    in_checkout = run([sys.executable, "-m", "scrapy", "list"], cwd=REPO).stdout.split()
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    listed = installed.run(installed.bin("scrapy"), "list", env=env).stdout.split()
    assert listed == in_checkout and "ccdi" in listed


def test_demo_archive_built_and_served_from_the_wheel(installed):
    db = installed.root / "demo" / "demo.db"
    installed.run(installed.bin("archive"), "demo", "--no-serve", "--db", db, timeout=600)
    with sqlite3.connect(db) as conn:
        documents = conn.execute("select count(*) from documents").fetchone()[0]
        document_id, title = conn.execute(
            "select id, title from documents where url like 'https://www.ccdi.gov.cn/%' order by url limit 1"
        ).fetchone()
    assert documents >= 20

    with served_archive(db, python=installed.bin("python"), cwd=installed.elsewhere) as base:
        with urllib.request.urlopen(f"{base}/-/document/{document_id}", timeout=30) as page:
            html = page.read().decode("utf-8")
        assert page.status == 200 and title in html
        with urllib.request.urlopen(f"{base}/demo/documents.json?_shape=array&_size=1", timeout=30) as rows:
            assert rows.status == 200
