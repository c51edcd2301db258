"""Real redis-server and scrapyd processes for the cluster tests: loopback, a free
port, a temporary folder each, and always stopped (even when a test fails)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until(ready, what: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class RedisServer:
    """redis-server with an append-only file fsynced on every write, as the README
    asks of a cluster's Redis: a restart loses nothing acknowledged."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    password: str | None = None
    """``requirepass``, in a config file (not on the command line, where ``ps`` shows it);
    the URL never carries it (crawler/cluster/credentials.py)."""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, password=self.password)

    def start(self) -> RedisServer:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not installed (README command 1 installs it)")
        log = self.folder / "redis.log"
        config = self.folder / "redis.conf"
        config.write_text(f"requirepass {self.password}\n" if self.password else "")
        config.chmod(0o600)
        self.process = subprocess.Popen(
            [executable, str(config), "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"],
            stdout=log.open("ab"), stderr=subprocess.STDOUT,
        )
        _wait_until(self._answers, "redis-server", self.process, log)
        return self

    def _answers(self) -> bool:
        try:
            return self.client().ping()
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """SIGKILL: no chance to save anything beyond what the append-only file holds."""
        self.process.kill()
        self.process.wait()

    def forget_data(self) -> None:
        """Delete the append-only files: the next start is an empty Redis."""
        for path in self.folder.glob("appendonly*"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    def stop(self) -> None:
        _stop(self.process)


@contextmanager
def redis_server(folder: Path, password: str | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    server = RedisServer(folder, password=password)
    try:
        yield server.start()
    finally:
        server.stop()


@dataclass
class ScrapydServer:
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def api(self, endpoint: str, **data) -> dict:
        """GET ``endpoint`` (POST with ``data``, a value may be a list) and its JSON answer."""
        body = urllib.parse.urlencode(data, doseq=True).encode() if data else None
        with urllib.request.urlopen(self.url + endpoint, data=body, timeout=30) as answer:
            return json.loads(answer.read())

    def start(self) -> ScrapydServer:
        for name in ("eggs", "logs", "items", "dbs"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        (self.folder / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            f"bind_address = 127.0.0.1\nhttp_port = {self.port}\n"
            f"eggs_dir = {self.folder / 'eggs'}\nlogs_dir = {self.folder / 'logs'}\n"
            f"items_dir = {self.folder / 'items'}\ndbs_dir = {self.folder / 'dbs'}\n"
            "max_proc = 2\npoll_interval = 0.5\n"
        )
        log = self.folder / "scrapyd.log"
        scrapyd = Path(sys.executable).with_name("scrapyd")
        # Scrapyd reads ./scrapyd.conf; its jobs run in this folder too.
        self.process = subprocess.Popen([str(scrapyd)], cwd=self.folder, stdout=log.open("ab"), stderr=subprocess.STDOUT)
        _wait_until(self._answers, "scrapyd", self.process, log)
        return self

    def _answers(self) -> bool:
        try:
            return self.api("daemonstatus.json")["status"] == "ok"
        except (urllib.error.URLError, ConnectionError):
            return False

    def stop(self) -> None:
        _stop(self.process)


@contextmanager
def scrapyd_server(folder: Path):
    server = ScrapydServer(folder)
    try:
        yield server.start()
    finally:
        server.stop()
