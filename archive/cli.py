"""Command line: ``python -m archive import|serve|crawl|backfill|worker|cluster|demo|mirror|rebuild|reindex``.

The project's one command line.  It is where the archive and the crawler meet:
crawls get the archive's opener here (:class:`.db.Archive`, see ``crawler.port``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from pipelines.text import printable

from .db import DEFAULT_DB, Archive, warc_dir_for


@click.group()
def cli():
    """整改档案 — the rectification-disclosure archive."""


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--db", "db_path", default=str(DEFAULT_DB), show_default=True, help="SQLite archive file")
def import_command(paths, db_path):
    """Import local documents (files or folders) through the pipelines."""
    from .disk import DiskFull, is_disk_full, size_of
    from .importer import import_paths

    _check_memory_budget()

    def report(path, outcome, result):
        failure = result.failure if result is not None else None
        reason = f"  ({failure.stage}/{failure.kind}: {printable(failure.message)})" if failure else ""
        click.echo(f"{outcome:9} {printable(path)}{reason}", err=bool(failure))

    try:
        with Archive(db_path) as archive:
            summary = import_paths(list(paths), archive, on_file=report, progress=True)
            total = archive.count("documents")
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        full = exc if isinstance(exc, DiskFull) else DiskFull(Path(db_path).absolute().parent, size_of(*paths), "the import")
        click.echo(f"import stopped: {full}; the {full.stored} page(s) stored before it are in the archive, whole", err=True)
        sys.exit(1)
    for capture in summary.captures:
        click.echo(capture.summary(), err=bool(capture.errors))
    counts = ", ".join(f"{n} {k}" for k, n in sorted(summary.outcomes.items()))
    if summary.skipped:
        skipped = ", ".join(f"{n} {k}" for k, n in sorted(summary.skipped.items()))
        click.echo(f"skipped, not articles: {skipped}")
    click.echo(
        f"imported: {counts or 'nothing'}; {total} documents in {printable(db_path)} "
        f"({summary.seconds:.1f} s, {summary.docs_per_second:.0f} docs/s)"
    )
    if summary.failures:
        click.echo(f"{len(summary.failures)} file(s) or page(s) failed: listed above and in the failures table", err=True)
        sys.exit(1)


def _check_memory_budget() -> None:
    """ARCHIVE_MEMORY_MB, when set, is a number of megabytes: said now, not after the first pages."""
    from .db import memory_budget

    try:
        memory_budget()
    except ValueError as error:
        raise click.ClickException(str(error)) from error


@cli.command()
@click.option("--db", "db_path", default=str(DEFAULT_DB), show_default=True)
@click.option("--port", default=8001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="interface to bind; loopback unless told otherwise")
@click.option("--base-url", help="the URL readers reach the archive at (behind a proxy); absolute links use it "
                                 "[default: http://HOST:PORT/]")
@click.option("--no-sql", is_flag=True, help="no ad-hoc SQL (tables, canned queries, search and feeds stay)")
def serve(db_path, port, host, base_url, no_sql):
    """Serve the archive in Datasette (read-only; it may be written meanwhile)."""
    from .serve import NoArchive, serve_archive  # here: Datasette is no part of an import's memory

    try:
        code = serve_archive(db_path, port, host, base_url=base_url, allow_sql=not no_sql)
    except (NoArchive, ValueError) as error:
        raise click.ClickException(str(error)) from error
    sys.exit(code)


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
@click.option("--host-map", type=json.loads, help='JSON {"real.host": "http://127.0.0.1:PORT"}: send those hosts elsewhere')
@click.option("--warc-dir", help="where WARC captures go (default: warc/ beside the archive)")
@click.option("--no-politeness", is_flag=True, help="no delays (a local mirror, a benchmark)")
@click.option("--recheck", is_flag=True, help="also re-fetch every archived page: edits become versions, 404/410 marks pages gone")
@click.option("--cluster", "cluster_url", metavar="REDIS_URL",
              help="crawl with workers sharing a Redis frontier (redis://HOST:PORT/DB); this process writes the archive")
@click.option("--workers", default=0, show_default=True, help="with --cluster: worker processes to start on this machine")
@click.option("-s", "--set", "pairs", multiple=True, metavar="NAME=VALUE", help="a Scrapy setting, as scrapy crawl -s")
@click.option("--host", "hosts", multiple=True, metavar="HOST", help="crawl this host by discovery (its profile's spider if it has one)")
@click.option("--hosts", "hosts_file", type=click.Path(exists=True, dir_okay=False),
              help="crawl the hosts of this file (the columns of sites/hosts.csv)")
@click.option("--registry", is_flag=True, help="crawl every host of the registry, sites/hosts.csv")
@click.option("--proxy", "proxies", multiple=True, metavar="URL",
              help="http(s) proxy for every request; several are used in turn")
@click.option("--proxy-for", "host_proxies", multiple=True, metavar="HOST=URL",
              help="a proxy for one host (several for one host are used in turn)")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path),
              help="append all output to this file (its folder is created); on failure, one line on stderr names it")
def crawl(spiders, db_path, cookie_file, jobdir, mirror, host_map, warc_dir, no_politeness, recheck, cluster_url, workers,
          pairs, hosts, hosts_file, registry, proxies, host_proxies, log_file):
    """Crawl the sites (all spiders, or those named); exits non-zero when a site failed.

    With --cluster, the crawl is shared by workers on any number of machines
    (``python -m archive worker --cluster …`` or Scrapyd jobs; see the README,
    "Crawling on several machines"); this process coordinates them and is the
    only one to write the archive.

    With --log-file (for cron, which mails what a job prints), a crawl that
    went well prints nothing and one that failed prints one line."""
    from contextlib import nullcontext

    from crawler.run import run_crawl

    host_spiders = _host_spiders(hosts, hosts_file, registry)
    if host_spiders and host_spiders[1] and cluster_url:
        raise click.UsageError("cluster workers do not run discovery spiders yet: crawl --host/--hosts/--registry without --cluster")
    if (proxies or host_proxies) and cluster_url:
        # The workers fetch the pages, on their own machines: a proxy here would reach none of them.
        raise click.UsageError("with --cluster the workers fetch the pages: give them their proxies as settings "
                               "(`archive worker -s CRAWL_PROXY=http://HOST:PORT`; here, -s passes them to the local workers)")
    if jobdir and cluster_url:
        raise click.UsageError("a cluster crawl keeps its state in Redis, not in a JOBDIR: run the same command "
                               "again to resume it")
    named = (*spiders, *(host_spiders[0] if host_spiders else ()))

    def crawl_sites() -> int:
        extra_settings = {**_settings(pairs), **({"RECHECK_ARCHIVED": True} if recheck else {}),
                          **_proxy_settings(proxies, host_proxies)}
        warc_folder = warc_dir or str(warc_dir_for(db_path))
        with (start_mirror() if mirror else nullcontext()) as running:
            mirror_hosts = running.host_map if running else host_map
            if cluster_url:
                from crawler.cluster.coordinator import run_cluster_crawl

                # Local workers keep their own WARC files beside the archive's copies.
                worker_command = [sys.executable, "-m", "archive", "worker", "--cluster", cluster_url,
                                  "--warc-dir", str(warc_dir_for(db_path).with_name("worker-warc")),
                                  *(["--host-map", json.dumps(mirror_hosts)] if mirror_hosts else []),
                                  *(["--cookie-file", cookie_file] if cookie_file else []),
                                  *(arg for pair in pairs for arg in ("-s", pair))]
                return run_cluster_crawl(cluster_url, list(named) or None, db_path, open_archive=Archive,
                                         warc_dir=warc_folder, workers=workers, worker_command=worker_command,
                                         recheck=recheck,
                                         settings={**_settings(pairs), **({"POLITENESS_OFF": True} if no_politeness else {})})
            code = run_crawl(list(named) or None, db_path, open_archive=Archive, host_map=mirror_hosts,
                             cookie_file=cookie_file, jobdir=jobdir, politeness=not no_politeness, warc_dir=warc_folder,
                             extra_settings=extra_settings or None,
                             spider_classes=tuple(host_spiders[1]) if host_spiders else ())
        if host_spiders:
            _print_discovered(db_path, [cls.name for cls in host_spiders[1]])
        return code

    sys.exit(_logged(log_file, crawl_sites) if log_file else crawl_sites())


def _logged(log_file: Path, run) -> int:
    """``run()`` with this process's output (and its children's) appended to ``log_file``;
    when it fails, one line on the original stderr says so."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    original_stderr = os.fdopen(os.dup(2), "w")
    log = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    code = 1
    try:
        code = run()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        if code:
            print(f"archive crawl failed (exit {code}): see {log_file.resolve()}", file=original_stderr, flush=True)
    return code


def _proxy_settings(proxies, host_proxies) -> dict:
    by_host: dict[str, list[str]] = {}
    for pair in host_proxies:
        host, separator, url = pair.partition("=")
        if not separator:
            raise click.BadParameter("a host's proxy is HOST=URL", param_hint="--proxy-for")
        by_host.setdefault(host.lower(), []).append(url)
    return {**({"CRAWL_PROXY": list(proxies)} if proxies else {}), **({"CRAWL_PROXY_BY_HOST": by_host} if by_host else {})}


def _host_spiders(hosts, hosts_file, registry):
    """(profile spider names, discovery spider classes) for --host/--hosts/--registry, or None."""
    if not (hosts or hosts_file or registry):
        return None
    from crawler.registry import HostEntry, RegistryError, crawl_plan, load_hosts

    try:
        entries = [HostEntry(host.lower()) for host in hosts]
        entries += load_hosts(hosts_file) if hosts_file else []
        entries += load_hosts() if registry else []
    except RegistryError as error:
        raise click.ClickException(str(error)) from error
    return crawl_plan(entries)


def _print_discovered(db_path, hosts):
    """Per host crawled by discovery: the columns found, and how."""
    from .discovered import known_columns

    with Archive(db_path) as archive:
        for host in hosts:
            columns = known_columns(archive, [host])
            click.echo(f"\n{host}: {len(columns)} inspection column(s)")
            for column in columns:
                click.echo(f"  {column.url} «{column.name or ''}» ({column.found_by})")


@cli.command()
@click.argument("prefixes", nargs=-1, required=True)
@click.option("--db", "db_path", default=str(DEFAULT_DB), show_default=True)
@click.option("--wayback", is_flag=True, help="list captures through a Wayback-style CDX API (the default)")
@click.option("--cdx", "cdx_api", default=None, help="the CDX API (default: the Wayback Machine's; pywb: http://HOST/COLL/cdx)")
@click.option("--replay", default=None, help="a capture's original bytes, with {timestamp} and {url} (pywb: http://HOST/COLL/{timestamp}id_/{url})")
@click.option("--delay", default=1.0, show_default=True, help="seconds between fetches from the web archive")
def backfill(prefixes, db_path, wayback, cdx_api, replay, delay):
    """Archive every capture of the URL prefixes from a web archive, under the page's
    original URL with the capture's date; exits non-zero when a capture failed."""
    from .backfill import WAYBACK_CDX, WAYBACK_REPLAY
    from .backfill import backfill as run_backfill

    report = run_backfill(list(prefixes), db_path, cdx_api=cdx_api or WAYBACK_CDX, replay=replay or WAYBACK_REPLAY, delay=delay)
    counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(report.outcomes.items()) if count)
    click.echo(f"backfill: {counts or 'no capture'}")
    for url, what in report.failures:
        click.echo(f"failed: {url} ({what})", err=True)
    sys.exit(1 if report.failures else 0)


def start_mirror(*args, **options):
    from crawler.mirror import start_mirror

    return start_mirror(*args, **options)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to serve on (a private one for cluster workers on other machines)")
@click.option("--port-base", type=int, help="first port; hosts get consecutive ports in name order")
@click.option("--sites-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="serve this tree instead of the bundled fixtures")
@click.option("--no-challenge", is_flag=True, help="serve CCDI pages without the cookie challenge")
@click.option("--faults", is_flag=True, help="also serve the fault site (crawler/mirror/faults.py)")
@click.option("--stall-seconds", type=float, help="how long the fault site's stalling page stalls")
@click.option("--delay", type=float, default=0.0, show_default=True, help="seconds every answer takes (a distant server)")
def mirror(host, port_base, sites_dir, no_challenge, faults, stall_seconds, delay):
    """Serve the local mirror of the sites until interrupted; prints its host map (JSON)."""
    import threading

    from crawler.mirror.faults import Faults

    fault_site = None
    if faults:
        fault_site = Faults() if stall_seconds is None else Faults(stall_seconds=stall_seconds)
    running = start_mirror(sites_dir, host, port_base=port_base, challenge=not no_challenge, faults=fault_site, delay=delay)
    click.echo(json.dumps(running.host_map, indent=2))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()


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


@cli.group()
def cluster():
    """See and control the cluster crawl open in Redis (from any machine that reaches it)."""


def _open_crawl(cluster_url: str):
    from crawler.cluster.credentials import PasswordInURL
    from crawler.cluster.operate import current_crawl

    try:
        crawl = current_crawl(cluster_url)
    except PasswordInURL as exc:
        raise click.ClickException(str(exc)) from None
    if crawl is None:
        click.echo(f"no cluster crawl is open at {cluster_url}", err=True)
        sys.exit(1)
    return crawl


_cluster_url = click.option("--cluster", "cluster_url", metavar="REDIS_URL", required=True,
                            help="the Redis database of the crawl (password from $ZHENGGAI_REDIS_PASSWORD)")


@cluster.command("status")
@_cluster_url
def cluster_status(cluster_url):
    """The crawl, per site (frontier, in flight, workers) and per host."""
    from crawler.cluster.operate import crawl_status, format_status

    click.echo(format_status(crawl_status(_open_crawl(cluster_url))))


@cluster.command("workers")
@_cluster_url
def cluster_workers(cluster_url):
    """Every worker of the crawl: requests held, requests, pages, errors, last seen."""
    from crawler.cluster.operate import crawl_status, format_workers

    click.echo(format_workers(crawl_status(_open_crawl(cluster_url))))


@cluster.command("spiders")
@_cluster_url
def cluster_spiders(cluster_url):
    """The crawl's spiders, one a line: what to start workers (or Scrapyd jobs) for."""
    click.echo("\n".join(_open_crawl(cluster_url).spiders))


@cluster.command("stop")
@_cluster_url
def cluster_stop(cluster_url):
    """Stop the crawl: queued requests are dropped, workers finish what they hold,
    the coordinator ends the runs as stopped and exits."""
    from crawler.cluster.operate import stop

    crawl = _open_crawl(cluster_url)
    stopping = stop(crawl)
    click.echo(f"stopping cluster crawl {crawl.id}: {', '.join(stopping) or 'no site still crawling'}")


@cli.command()
@click.option("--db", "db_path", default="data/demo.db", show_default=True)
@click.option("--port", default=8001, show_default=True)
@click.option("--no-serve", is_flag=True, help="build the demo archive and stop")
def demo(db_path, port, no_serve):
    """Offline demo: start the mirror, crawl it with every spider, serve the archive."""
    from crawler.run import run_crawl

    from .serve import serve_archive

    # Politeness off for the local mirror; robots.txt is still obeyed.
    with start_mirror() as running:
        code = run_crawl(None, db_path, open_archive=Archive, host_map=running.host_map, politeness=False,
                         warc_dir=str(warc_dir_for(db_path)))
    sys.exit(code if no_serve else serve_archive(db_path, port))


@cli.command()
@click.option("--db", "db_path", default=str(DEFAULT_DB), show_default=True, type=click.Path(exists=True, dir_okay=False))
def reindex(db_path):
    """Build the search indexes again from the stored texts."""
    from . import search_index

    with Archive(db_path) as archive:  # opening migrates an index made by an older version
        for table in search_index.INDEXES:
            if archive.db[table].exists():
                search_index.rebuild(archive.db.conn, table)
                click.echo(f"reindexed {table}: {archive.count(table)} rows")


@cli.command()
@click.option("--from-warc", "warc_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="folder of WARC/WACZ files: written by crawls and imports, or anyone's captures")
@click.option("--db", "db_path", default=str(DEFAULT_DB), show_default=True)
@click.option("--keep-missing", "missing", flag_value="keep",
              help="keep the archive's documents the rebuilt one lacks (copied over as they are)")
@click.option("--drop-missing", "missing", flag_value="drop", help="drop the archive's documents the rebuilt one lacks")
@click.option("--force", is_flag=True, help="replace the archive even when it is no archive, or the rebuilt one lacks documents")
@click.option("--dry-run", is_flag=True, help="read the captures and say what would be rebuilt; change nothing")
@click.option("--wait", is_flag=True, help="wait for a crawl, import or rebuild writing to the archive instead of stopping")
def rebuild(warc_dir, db_path, missing, force, dry_run, wait):
    """Rebuild the archive from raw WARC captures through the current pipelines.

    Documents of the archive that the rebuilt one would lack are listed, and the
    archive is not replaced unless --keep-missing or --drop-missing says what to do
    with them."""
    from captures.reader import CaptureChanged

    from .disk import DiskFull
    from .lock import ArchiveBusy
    from .rebuild import RebuildRefused, summary_line
    from .rebuild import rebuild as rebuild_archive

    _check_memory_budget()

    def list_files(report):
        for file_report in report.files if report else ():
            click.echo(file_report.summary(), err=bool(file_report.errors))
        for document in report.missing if report else ():
            click.echo(document.line(), err=True)

    try:
        report = rebuild_archive(warc_dir, db_path, force=force, dry_run=dry_run, wait=wait, missing=missing)
    except ArchiveBusy as exc:
        click.echo(f"not rebuilt: {exc}; try again when it has finished, or pass --wait", err=True)
        sys.exit(1)
    except RebuildRefused as exc:
        list_files(exc.report)
        click.echo(f"not rebuilt: {exc}", err=True)
        sys.exit(1)
    except CaptureChanged as exc:
        click.echo(f"not rebuilt: {exc}; the archive is as it was — run it again once the file is written", err=True)
        sys.exit(1)
    except DiskFull as exc:
        click.echo(f"not rebuilt: {exc}; the archive is as it was", err=True)
        sys.exit(1)
    list_files(report)
    click.echo(summary_line(report, Path(db_path), dry_run))
