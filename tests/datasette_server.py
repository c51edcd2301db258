"""Start the archive's Datasette (``python -m archive serve``) on a free loopback port for a test,
and stop it as an operator does: a signal to ``archive serve``, which stops its Datasette child."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
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


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        return "datasette" in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False


def stop(server: subprocess.Popen, port: int, signum: int = signal.SIGTERM) -> None:
    """Signal ``archive serve``; it must end with its Datasette child and free the port."""
    child_pids = children(server.pid)
    server.send_signal(signum)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        raise AssertionError(f"archive serve did not stop on signal {signum}") from None
    finally:
        survivors = [pid for pid in child_pids if _alive(pid)]
        for pid in survivors:  # a failing test must not leave a server behind
            os.kill(pid, signal.SIGKILL)
    assert not survivors, f"the Datasette child {survivors} outlived archive serve"
    assert not port_open(port), f"port {port} still served after archive serve ended"


@contextlib.contextmanager
def served_archive(
    db_path: Path, python: str | Path = sys.executable, cwd: Path = REPO, env: dict[str, str] | None = None,
    stop_signal: int = signal.SIGTERM, serve_args: tuple[str, ...] = (),
):
    """Yield the base URL (``http://127.0.0.1:PORT``) of a running server
    (``python``: the interpreter of the install under test; ``env``: extra variables;
    ``serve_args``: more options of ``archive serve``), stopped by ``stop_signal``."""
    port = free_port()
    log = tempfile.TemporaryFile()  # a pipe nobody reads would fill with the access log and stall the server
    server = subprocess.Popen(
        [str(python), "-m", "archive", "serve", "--db", str(db_path), "--port", str(port), *serve_args],
        cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
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
                    server.wait()
                    log.seek(0)
                    raise RuntimeError(log.read().decode(errors="replace"))
                time.sleep(0.3)
        yield base
    finally:
        if server.poll() is None:
            stop(server, port, stop_signal)
        log.close()
