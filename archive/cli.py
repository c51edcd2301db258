"""Command line: ``python -m archive import|serve|crawl|worker|demo|rebuild``."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from .db import DEFAULT_DB, warc_dir_for
from .schema import METADATA, METADATA_DB_KEY


@click.group()
def cli():
    """整改档案 — the rectification-disclosure archive."""


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--db", "db_path", default=str(DEFAULT_DB), show_default=True, help="SQLite archive file")
def import_command(paths, db_path):
    """Import local documents (files or folders) through the pipelines."""
    from .db import Archive
    from .importer import import_paths

    def report(path, outcome, result):
        failure = result.failure if result is not None else None
        reason = f"  ({failure.stage}/{failure.kind}: {failure.message})" if failure else ""
        click.echo(f"{outcome:9} {path}{reason}", err=bool(failure))

    with Archive(db_path) as archive:
        summary = import_paths(list(paths), archive, on_file=report)
        total = archive.count("documents")
    counts = ", ".join(f"{n} {k}" for k, n in sorted(summary.outcomes.items()))
    click.echo(f"imported: {counts or 'nothing'}; {total} documents in {db_path}")
    if summary.failures and not (summary.outcomes.keys() - {"failed"}):
        sys.exit(1)


def datasette_command(db_path: str | Path, port: int, host: str, metadata_path: Path) -> list[str]:
    return [
        sys.executable, "-m", "datasette", "serve", "-i", str(db_path),
        "--metadata", str(metadata_path),
        "--host", host, "--port", str(port),
        "--setting", "sql_time_limit_ms", "3000",
        "--setting", "default_page_size", "50",
        "--setting", "facet_time_limit_ms", "500",
        # Suggesting facets runs a query per column of the table: seconds on a large archive.
        "--setting", "suggest_facets", "off",
        "--setting", "truncate_cells_html", "100",
    ]


def metadata_for(db_path: str | Path) -> dict:
    """The project's metadata, keyed by the served database's name (its file stem)."""
    metadata = json.loads(METADATA.read_text(encoding="utf-8"))
    name = Path(db_path).stem
    databases = metadata.get("databases", {})
    if METADATA_DB_KEY in databases:
        databases[name] = databases.pop(METADATA_DB_KEY)
    for dashboard in metadata.get("plugins", {}).get("datasette-dashboards", {}).values():
        for chart in dashboard.get("charts", {}).values():
            if chart.get("db") == METADATA_DB_KEY:
                chart["db"] = name
    return metadata


def serve_archive(db_path: str | Path, port: int = 8001, host: str = "127.0.0.1") -> int:
    """Serve the archive read-only in Datasette until interrupted."""
    from .db import Archive

    Archive(db_path).close()  # creates the schema (and the search index) for a new file
    with tempfile.TemporaryDirectory() as tmp:
        metadata_path = Path(tmp) / "metadata.json"
        metadata_path.write_text(json.dumps(metadata_for(db_path), ensure_ascii=False), encoding="utf-8")
        click.echo(f"serving {db_path} at http://{host}:{port}/")
        try:
            return subprocess.call(datasette_command(db_path, port, host, metadata_path))
        except KeyboardInterrupt:
            return 0


@cli.command()
@click.option("--db", "db_path", default=str(DEFAULT_DB), show_default=True)
@click.option("--port", default=8001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind; loopback unless told otherwise")
def serve(db_path, port, host):
    """Serve the archive in Datasette (read-only)."""
    sys.exit(serve_archive(db_path, port, host))


def _settings(pairs) -> dict:
    try:
        return dict(pair.split("=", 1) for pair in pairs)
    except ValueError:
        raise click.BadParameter("a setting is NAME=VALUE") from None


@cli.command()
@click.argument("spiders", nargs=-1)
@click.option("--db", "db_path", default=str(DEFAULT_DB), show_default=True)
@click.option("--cookie-file", type=click.Path(exists=True), help="cookies exported from a real browser")
@click.option("--jobdir", help="Scrapy JOBDIR, so an interrupted crawl resumes (default data/jobs/<spider>)")
@click.option("--mirror", is_flag=True, help="crawl the local mirror instead of the live sites")
@click.option("--recheck", is_flag=True, help="also re-fetch every archived page: edits become versions, 404/410 marks pages gone")
@click.option("--cluster", "cluster_url", metavar="REDIS_URL",
              help="crawl with workers sharing a Redis frontier (redis://HOST:PORT/DB); this process writes the archive")
@click.option("--workers", default=0, show_default=True, help="with --cluster: worker processes to start on this machine")
@click.option("-s", "--set", "pairs", multiple=True, metavar="NAME=VALUE", help="a Scrapy setting, as scrapy crawl -s")
def crawl(spiders, db_path, cookie_file, jobdir, mirror, recheck, cluster_url, workers, pairs):
    """Crawl the sites (all spiders, or those named); exits non-zero when a site failed.

    With --cluster, the crawl is shared by workers on any number of machines
    (``python -m archive worker --cluster …`` or Scrapyd jobs; see the README,
    "Crawling on several machines"); this process coordinates them and is the
    only one to write the archive."""
    from contextlib import nullcontext

    from crawler.run import run_crawl

    extra_settings = {**_settings(pairs), **({"RECHECK_ARCHIVED": True} if recheck else {})}
    with (start_mirror() if mirror else nullcontext()) as running:
        host_map = running.host_map if running else None
        if cluster_url:
            from crawler.cluster.coordinator import run_cluster_crawl

            # Local workers keep their own WARC files beside the archive's copies.
            worker_args = ["--warc-dir", str(warc_dir_for(db_path).with_name("worker-warc")),
                           *(["--host-map", json.dumps(host_map)] if host_map else []),
                           *(["--cookie-file", cookie_file] if cookie_file else []),
                           *(arg for pair in pairs for arg in ("-s", pair))]
            sys.exit(run_cluster_crawl(cluster_url, list(spiders) or None, db_path, workers=workers,
                                       worker_args=worker_args, recheck=recheck, settings=_settings(pairs)))
        sys.exit(run_crawl(list(spiders) or None, db_path, host_map=host_map, cookie_file=cookie_file, jobdir=jobdir,
                           warc_dir=str(warc_dir_for(db_path)), extra_settings=extra_settings or None))


def start_mirror():
    from crawler.mirror import start_mirror

    return start_mirror()


@cli.command()
@click.argument("spiders", nargs=-1)
@click.option("--cluster", "cluster_url", metavar="REDIS_URL", required=True, help="the Redis database of the crawl")
@click.option("--warc-dir", help="where this worker keeps its own WARC files (default data/worker-warc)")
@click.option("--cookie-file", type=click.Path(exists=True), help="cookies exported from a real browser")
@click.option("--host-map", type=json.loads, help='JSON {"real.host": "http://127.0.0.1:PORT"}: crawl a mirror')
@click.option("-s", "--set", "pairs", multiple=True, metavar="NAME=VALUE", help="a Scrapy setting, as scrapy crawl -s")
def worker(spiders, cluster_url, warc_dir, cookie_file, host_map, pairs):
    """Work on the cluster crawl open in Redis (all its spiders, or those named) until it is over."""
    from crawler.run import run_worker

    sys.exit(run_worker(cluster_url, list(spiders) or None, host_map=host_map, cookie_file=cookie_file,
                        warc_dir=warc_dir, extra_settings=_settings(pairs)))


@cli.command()
@click.option("--db", "db_path", default="data/demo.db", show_default=True)
@click.option("--port", default=8001, show_default=True)
@click.option("--no-serve", is_flag=True, help="build the demo archive and stop")
def demo(db_path, port, no_serve):
    """Offline demo: start the mirror, crawl it with every spider, serve the archive."""
    from crawler.run import run_demo

    sys.exit(run_demo(db_path, port=port, serve=not no_serve))


@cli.command()
@click.option("--db", "db_path", default=str(DEFAULT_DB), show_default=True, type=click.Path(exists=True, dir_okay=False))
def reindex(db_path):
    """Build the search indexes again from the stored texts."""
    from . import search
    from .db import Archive

    with Archive(db_path) as archive:  # opening migrates an index made by an older version
        for table in search.INDEXES:
            if archive.db[table].exists():
                search.rebuild(archive.db.conn, table)
                click.echo(f"reindexed {table}: {archive.count(table)} rows")


@cli.command()
@click.option("--from-warc", "warc_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="folder of WARC files written by crawls and imports")
@click.option("--db", "db_path", default=str(DEFAULT_DB), show_default=True)
def rebuild(warc_dir, db_path):
    """Rebuild the archive from raw WARC captures through the current pipelines."""
    from .rebuild import rebuild as rebuild_archive

    outcomes = rebuild_archive(warc_dir, db_path)
    counts = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))
    click.echo(f"rebuilt {db_path}: {counts or 'nothing captured'}")
