"""Local mirror of the crawled sites, for tests and demos (see README.md)."""

from __future__ import annotations

from pathlib import Path

from crawler.mirror.blockpages import CHALLENGE_COOKIE, challenge_cookie_value
from crawler.mirror.server import SITES_DIR, Mirror, normalised_query

__all__ = [
    "CHALLENGE_COOKIE",
    "SITES_DIR",
    "Mirror",
    "challenge_cookie_value",
    "normalised_query",
    "start_mirror",
]


def start_mirror(sites_dir: Path | None = None, host: str = "127.0.0.1", **options) -> Mirror:
    """Start serving ``sites_dir`` (default: the bundled fixtures); see :class:`Mirror`."""
    return Mirror(sites_dir, host, **options).start()
