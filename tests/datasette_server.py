"""Start the archive's Datasette (``python -m archive serve``) on a free loopback port for a test."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


@contextlib.contextmanager
def served_archive(db_path: Path, python: str | Path = sys.executable, cwd: Path = REPO, env: dict[str, str] | None = None):
    """Yield the base URL (``http://127.0.0.1:PORT``) of a running server
    (``python``: the interpreter of the install under test; ``env``: extra variables)."""
    port = free_port()
    server = subprocess.Popen(
        [str(python), "-m", "archive", "serve", "--db", str(db_path), "--port", str(port)],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                get_json(f"{base}/-/versions.json")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    server.kill()
                    raise RuntimeError(server.stdout.read().decode(errors="replace"))
                time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
