"""The registry of hosts (``sites/hosts.csv``) and what a crawl of hosts runs.

One row per publisher's host: ``host, name, province, level, kind, source`` —
``source`` says where the row comes from (a public crawler at repo@commit:path, a
code-index id, a saved page, a site file).  Users add rows; ``archive crawl
--registry`` crawls every row, ``--hosts FILE`` the rows of another file of the same
columns, ``--host HOST`` single hosts.  A host with a site file is crawled by its
profile's spider; any other host by a discovery spider of its own
(``crawler/discovery.py``), named after the host, with the row's name as publisher.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from crawler.discovery import RENDER_LISTS, discovery_spider_class, host_profile
from sites import profile_for_url

REGISTRY = files("sites") / "hosts.csv"
COLUMNS = ("host", "name", "province", "level", "kind", "source")


class RegistryError(ValueError):
    """A hosts file is malformed."""


@dataclass(frozen=True)
class HostEntry:
    host: str
    name: str | None = None
    province: str | None = None
    level: str | None = None
    kind: str | None = None
    source: str | None = None


def load_hosts(path: str | Path | None = None) -> list[HostEntry]:
    """The rows of a hosts file (default: the registry), each host once."""
    text = (Path(path).read_text(encoding="utf-8") if path else REGISTRY.read_text(encoding="utf-8"))
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise RegistryError(f"{path or 'sites/hosts.csv'}: the header must be {','.join(COLUMNS)}, not {reader.fieldnames}")
    entries, seen = [], set()
    for line, row in enumerate(reader, start=2):
        host = (row["host"] or "").strip().lower()
        if not host or "/" in host:
            raise RegistryError(f"{path or 'sites/hosts.csv'}:{line}: {row['host']!r} is not a host name")
        if not (row["source"] or "").strip():
            raise RegistryError(f"{path or 'sites/hosts.csv'}:{line}: {host} has no source")
        if host not in seen:
            seen.add(host)
            entries.append(HostEntry(host, **{k: (row[k] or "").strip() or None for k in COLUMNS[1:]}))
    return entries


def crawl_plan(entries: list[HostEntry]) -> tuple[list[str], list[type]]:
    """(names of profile spiders, discovery spider classes) that crawl ``entries``."""
    profiled, discovering = [], []
    for entry in entries:
        profile = profile_for_url(f"http://{entry.host}/")
        if profile is not None and entry.host in profile.hosts:
            if profile.name not in profiled:
                profiled.append(profile.name)
            continue
        settings = {"discover": True, "render": RENDER_LISTS, "province": entry.province, "level": entry.level}
        discovering.append(discovery_spider_class(
            host_profile(entry.host, entry.name, **{k: v for k, v in settings.items() if v}),
            module="crawler.spiders",
        ))
    return profiled, discovering
