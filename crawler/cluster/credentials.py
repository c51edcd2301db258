"""The cluster's Redis password: never in a URL, so never in a log, an error or a job.

Scrapy logs its overridden settings, Scrapyd keeps every job's arguments and log,
and error messages quote the URL they could not reach: a password inside
``CLUSTER_REDIS_URL`` ends up in all of them.  So the URL names the server only
(``redis://10.0.0.5:6379/0``) and the password comes from the environment of each
process — ``ZHENGGAI_REDIS_PASSWORD``, or the file ``ZHENGGAI_REDIS_PASSWORD_FILE``
names (one line, readable by the crawl's user only).  A URL that carries a password
is refused, with the URL shown without it.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

PASSWORD_ENV = "ZHENGGAI_REDIS_PASSWORD"
PASSWORD_FILE_ENV = "ZHENGGAI_REDIS_PASSWORD_FILE"


class PasswordInURL(ValueError):
    pass


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def checked_url(url: str) -> str:
    if urlsplit(url).password is not None:
        raise PasswordInURL(
            f"the Redis URL {redacted(url)} carries a password: give the URL without it and the "
            f"password in ${PASSWORD_ENV} or in the file ${PASSWORD_FILE_ENV} names"
        )
    return url


def redis_password() -> str | None:
    """The password from the environment (see the module docstring), or None."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if os.environ.get(PASSWORD_FILE_ENV):
        return Path(os.environ[PASSWORD_FILE_ENV]).read_text().strip() or None
    return None
