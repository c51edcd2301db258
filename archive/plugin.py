"""Datasette plugin: register the ``zh_char`` tokenizer on every connection.

Without it Datasette cannot read the full-text index (``no such tokenizer``).
Installed as a ``datasette`` entry point by ``pyproject.toml``, so any
Datasette in the project's environment loads it.
"""

from datasette import hookimpl

from . import tokenizer


@hookimpl
def prepare_connection(conn):
    tokenizer.register(conn)
