"""Site profiles: everything we know about one site, as data.

Each ``<name>.yaml`` file in this folder describes one site: which hosts it
serves, who publishes it, the article templates it uses (CSS selectors for the
title, date, source, editor and body, and named blocks to drop), and, for the
crawler, its columns, list selectors and pagination.  The processing pipelines
read the ``templates`` part; the spiders read the rest, and the tests read
``tests``.  Adding a site is a new YAML file here and its fixture pages under
``crawler/mirror/sites/<host>/`` — no code change, no test to write: a spider is
built from every profile (``crawler/spiders``) and the tests are driven by the
``tests`` part of every file.  A profile may be as small as ``name``,
``publisher``, ``hosts`` and ``columns`` (``tests/fixtures/sites/tongxi.yaml``): its lists are
then read generically (``crawler/listing.py``) and its pages by the generic
extractor, with its publisher.

Template keys (all CSS selectors, all optional except ``detect`` and ``body``;
a profile without templates leaves its pages to the generic extractor):

``detect``        the page uses this template when the selector matches
``title``         headline element
``published_at``  element whose text holds the publication date
``source``        element whose text holds ``来源：…``
``author``        element whose text holds ``作者：…`` / ``记者 …``
``editor``        element whose text holds ``责任编辑：…`` / ``(责编：…)``
``body``          the article container
``drop``          mapping of rule name → selector removed from the body; each
                  name is recorded as a fired boilerplate rule

Beside the templates and the crawler's keys (``crawler/mixins.py``):

``error_page``    selector of the page the site answers with status 200 for a missing
                  page; the extract stage records such a page as ``site_error_page``
                  instead of archiving it
``test_site``     true for a site that exists only in the test mirror: crawled only
                  when named, never by a crawl of every site.  Test sites live in
                  ``tests/fixtures/sites/``, read only where :data:`EXTRA_DIRS_ENV`
                  names that folder (the tests set it), so they are no spiders of
                  the production ``scrapy list``
``province``      the province-level division a provincial or municipal site reports on
                  (浙江省, 重庆市): the province of a local unit whose report names no
                  place.  National outlets (CCDI, people.com.cn, Sina, 12371) have none.

``level``         who publishes: ``central`` (CCDI), ``provincial`` (the 31 commissions and
                  兵团), ``city``, ``county``, ``news`` (republishers), ``party`` (12371),
                  ``test`` (a site of the test mirror only)
``discover``      true: the site's inspection columns (all, or those ``columns`` does not
                  name) are found from its home page (``crawler/discovery.py``)
``provenance``    where the file's facts come from, so a user knows what to trust: a list
                  of ``{facts: [<keys of this file>], kind, source, note}``; ``kind`` is
                  ``saved_page`` (a real page someone saved: its URL or file),
                  ``public_code`` (a public crawler: ``owner/repo@commit:path``, or the
                  code index's id where the repository is not known) or ``inferred``
                  (no source: a convention, a guess, an invented test site).  Every fact
                  key the file has is named by some entry (tests/test_profiles.py).

``tests`` says what the tests expect of the site's fixture pages; every key is
optional and each one the file gives is checked:

``start_urls``    the spider's first requests, in order (tests/test_spiders.py)
``recrawl_requests`` requests of a recrawl that finds nothing new, when not one per start
                  URL (an index of columns is read again with its columns' first pages)
``articles``      every article URL a walk of the fixture site reaches from them;
                  for a site crawled by default, what a crawl of the mirror archives
``lists``         list pages, each ``{url, column: <column name> | search: <keyword>,
                  items: [{url, title, published_at}], next: <url> | null}``: the
                  exact article requests (and hints) the page yields and its next page
``template_pages`` how many fixture pages an article template detects (tests/test_profiles.py)
``archived``      pages as a crawl of the mirror archives them (tests/test_crawl.py):
                  ``{url, title, published_at, source, editor, opening, absent}``, the
                  body starting with ``opening`` and without the boilerplate ``absent``
                  (one string or a list)
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import urlsplit

import yaml

# Read as package resources: Scrapyd runs cluster workers from a zipped egg.
PROFILE_DIR = files(__name__)
# More folders of profiles, os.pathsep-separated: the tests' sites (tests/conftest.py).
EXTRA_DIRS_ENV = "ZHENGGAI_SITE_DIRS"


@dataclass(frozen=True)
class Template:
    name: str
    detect: str
    body: str
    title: str | None = None
    published_at: str | None = None
    source: str | None = None
    author: str | None = None
    editor: str | None = None
    drop: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    name: str
    publisher: str
    hosts: tuple[str, ...]
    templates: tuple[Template, ...]
    settings: dict = field(default_factory=dict, hash=False, compare=False)
    """Everything else in the YAML file (columns, list selectors, pagination,
    rendering, encoding): the crawler's part of the profile."""
    tests: dict = field(default_factory=dict, hash=False, compare=False)
    """What the tests expect of the site's fixture pages."""

    def matches_host(self, host: str) -> bool:
        host = host.lower()
        return any(host == h or host.endswith("." + h) for h in self.hosts)


# libyaml when available: the same data, 10x faster (every process that reads a page loads the profiles).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ProfileError(ValueError):
    """A profile file is malformed."""


def _load(path: Traversable) -> Profile:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
    try:
        templates = tuple(
            Template(**{k: v for k, v in t.items()}) for t in data.pop("templates", [])
        )
        return Profile(
            name=data.pop("name"),
            publisher=data.pop("publisher"),
            hosts=tuple(h.lower() for h in data.pop("hosts")),
            templates=templates,
            tests=data.pop("tests", None) or {},
            settings=data,
        )
    except (KeyError, TypeError) as exc:
        raise ProfileError(f"{path.name}: {exc}") from exc


@functools.cache
def load_profiles(directory: Traversable = PROFILE_DIR) -> tuple[Profile, ...]:
    """The profiles in ``directory`` (by default this folder and those of :data:`EXTRA_DIRS_ENV`)."""
    directories = [directory]
    if directory is PROFILE_DIR:
        directories += [Path(extra) for extra in os.environ.get(EXTRA_DIRS_ENV, "").split(os.pathsep) if extra]
    return tuple(
        _load(p)
        for folder in directories
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".yaml")
    )


def get_profile(name: str) -> Profile:
    for profile in load_profiles():
        if profile.name == name:
            return profile
    raise KeyError(f"no site profile named {name!r}")


def profile_for_url(url: str) -> Profile | None:
    host = urlsplit(url).hostname or ""
    if not host:
        return None
    matches = [p for p in load_profiles() if p.matches_host(host)]
    # The most specific host wins (a provincial sub-site over its parent domain).
    return max(matches, key=lambda p: max(len(h) for h in p.hosts), default=None)
