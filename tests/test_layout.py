"""The import graph, read from the code (every import, at module level or inside a
function): pipelines are pure, the crawler reaches the archive only through its
port, and the packages import one way only."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("archive", "captures", "crawler", "pipelines", "sites")
PORT_MODULE = "crawler.port"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, as absolute dotted names."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            found.add(prefix)
            # ``from . import x`` may import a module x: count it as one.
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    return {
        _module_name(path): _imports(path)
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "mirror/sites" not in path.as_posix()
    }


GRAPH = _graph()


def _top(name: str) -> str:
    return name.split(".")[0]


def _importers(package: str, imported: set[str]) -> dict[str, set[str]]:
    return {
        module: {name for name in names if _top(name) in imported}
        for module, names in GRAPH.items()
        if _top(module) == package and any(_top(name) in imported for name in names)
    }


def test_the_graph_is_read():
    # A check on the reader itself: known imports are found, relative ones resolved.
    assert "pipelines" in GRAPH["archive.db"]
    assert "archive.store" in GRAPH["archive.db"]  # from .store import …
    assert "archive.copy_groups" in GRAPH["archive.store"]  # from . import copy_groups
    assert "crawler.run" in GRAPH["archive.cli"]  # a lazy import inside a command
    assert "crawler.port" in GRAPH["crawler.archive_pipeline"]
    assert len([m for m in GRAPH if m.startswith("pipelines.")]) >= 15


def test_pipelines_import_neither_the_archive_nor_the_crawler_nor_sqlite():
    assert _importers("pipelines", {"archive", "crawler", "sqlite3", "sqlite_utils"}) == {}


def test_the_crawler_reaches_the_archive_only_through_its_port():
    importers = _importers("crawler", {"archive"})
    assert set(importers) <= {PORT_MODULE}, importers


_SQL = re.compile(r"\b(select\b.+\bfrom|insert\s+into|update\s+\w+\s+set|delete\s+from)\b", re.I | re.S)


def _reaches_into_a_database(path: Path) -> list[str]:
    """``….db`` attributes (the archive's sqlite-utils Database) and SQL in string literals."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "db":
            found.append(f"line {node.lineno}: .db")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL.search(node.value):
            found.append(f"line {node.lineno}: {node.value[:40]!r}")
    return found


def test_no_sql_in_the_crawler():
    assert _importers("crawler", {"sqlite3", "sqlite_utils"}) == {}
    found = {
        _module_name(path): hits
        for path in sorted((ROOT / "crawler").rglob("*.py"))
        if (hits := _reaches_into_a_database(path))
    }
    assert found == {}


@pytest.mark.parametrize("package", ["captures", "sites"])
def test_shared_packages_import_neither_the_archive_nor_the_crawler(package):
    assert _importers(package, {"archive", "crawler"}) == {}


def test_no_package_cycle():
    edges = {
        package: {_top(name) for module, names in GRAPH.items() if _top(module) == package for name in names}
        & (set(PACKAGES) - {package})
        for package in PACKAGES
    }
    order = []  # a topological order exists only without a cycle
    remaining = dict(edges)
    while remaining:
        leaves = sorted(package for package, needs in remaining.items() if not needs - set(order))
        assert leaves, f"a cycle among {sorted(remaining)}: {remaining}"
        order += leaves
        for package in leaves:
            del remaining[package]
    # The one direction: the archive (its command line) starts crawls and stores what
    # the pipelines make of a page; the crawler hands pages on; the pipelines read profiles.
    assert order.index("sites") < order.index("pipelines") < order.index("crawler") < order.index("archive")


def _protocol_methods(protocol) -> set[str]:
    return {name for name in protocol.__dict__ if not name.startswith("_")} | (
        set().union(*(_protocol_methods(base) for base in protocol.__bases__ if base.__module__ == PORT_MODULE))
    )


def test_the_archive_and_the_cluster_capture_store_implement_the_port(tmp_path):
    from archive.db import Archive
    from crawler.cluster.worker import CapturedArchive
    from crawler.port import CrawlArchive, WritingArchive

    assert {"ingest", "last_run", "pages_on_hosts", "record_failure"} <= _protocol_methods(CrawlArchive)
    with Archive(tmp_path / "archive.db") as archive:
        assert isinstance(archive, WritingArchive)
        assert archive.last_run("ccdi") is None
        run_id = archive.start_run("ccdi")
        assert archive.last_run("ccdi")["id"] == run_id == archive.run(run_id)["id"]
    missing = {name for name in _protocol_methods(CrawlArchive) if not callable(getattr(CapturedArchive, name, None))}
    assert missing == set()


def _distribution(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")


def test_every_third_party_import_of_the_packages_is_a_declared_dependency():
    import importlib.metadata
    import sys
    import tomllib

    declared = {_distribution(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    providers = importlib.metadata.packages_distributions()
    imported = {_top(name) for names in GRAPH.values() for name in names} - set(PACKAGES) - set(sys.stdlib_module_names)
    undeclared = {
        top: providers.get(top) for top in imported
        if not {_distribution(dist) for dist in providers.get(top, [])} & declared
    }
    assert undeclared == {}
