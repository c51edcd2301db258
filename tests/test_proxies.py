"""Proxies (crawler/proxies.py): which proxy a request takes, the reachability classes
of a run, and a real crawl through a real local proxy (proxy.py)."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from twisted.python.failure import Failure as TwistedFailure

from crawler.failures import is_transient, lost_page
from crawler.mirror import start_mirror
from crawler.proxies import ProxyMiddleware, reachability

ROOT = Path(__file__).resolve().parents[1]
PROXY = Path(sys.executable).with_name("proxy")


def middleware(**settings) -> ProxyMiddleware:
    return ProxyMiddleware.from_crawler(get_crawler(settings_dict=settings))


def test_proxies_rotate_and_a_host_may_have_its_own():
    proxies = middleware(CRAWL_PROXY=["http://p1:3128", "http://p2:3128"],
                         CRAWL_PROXY_BY_HOST={"www.ccdi.gov.cn": ["http://cn:8080"]})
    chosen = []
    for url in ["http://a.test/1", "http://a.test/2", "https://www.ccdi.gov.cn/x", "http://b.test/3"]:
        request = Request(url)
        proxies.process_request(request)
        chosen.append(request.meta["proxy"])
    assert chosen == ["http://p1:3128", "http://p2:3128", "http://cn:8080", "http://p1:3128"]
    kept = Request("http://a.test/", meta={"proxy": "http://mine:1"})
    proxies.process_request(kept)
    assert kept.meta["proxy"] == "http://mine:1"


def test_no_proxy_setting_means_direct_and_socks_is_refused():
    with pytest.raises(NotConfigured):
        middleware()
    with pytest.raises(ValueError, match="only http:// and https:// proxies"):
        middleware(CRAWL_PROXY=["socks5://127.0.0.1:1080"])


def test_reachability_classes():
    errors = {"connection_refused": 2, "connection_reset": 1, "timeout": 3, "dns_error": 1, "http_403": 4,
              "http_404": 5, "challenge_unsolved": 1, "download_error": 9}
    assert reachability(errors, stopped_at_captcha=True) == {
        "refused/reset": 3, "timeout": 3, "dns": 1, "403": 4, "challenge": 1, "captcha": 1}
    assert reachability({"http_404": 1}, stopped_at_captcha=False) == {}


def _lost(status: int, headers: dict, proxy: str | None):
    request = Request("http://www.reset-host.test/", meta={"proxy": proxy} if proxy else {})
    response = HtmlResponse(request.url, status=status, headers=headers, body=b"Bad Gateway", request=request)
    failure = TwistedFailure(HttpError(response))
    failure.request = request
    return lost_page(failure, max_redirects=5)


def test_a_proxys_own_bad_gateway_is_a_reset_of_the_host_behind_it():
    # proxy.py answers a reset or refused upstream with its own 502 (about 2 runs in 3
    # against the resetting server below); Squid marks its error pages X-Squid-Error.
    own = _lost(502, {"Proxy-agent": "proxy.py v2.4.10"}, proxy="http://127.0.0.1:8899")
    assert own.failure.kind == "proxy_bad_gateway"
    assert own.failure.message == "the proxy http://127.0.0.1:8899 answered 502 Bad Gateway for http://www.reset-host.test/"
    squid = _lost(504, {"X-Squid-Error": "ERR_READ_TIMEOUT 0"}, proxy="http://cn:3128")
    assert squid.failure.kind == "proxy_gateway_timeout"
    # The host's own 502 relayed by the proxy, and a 502 without a proxy, stay http_502.
    assert _lost(502, {"Server": "nginx"}, proxy="http://127.0.0.1:8899").failure.kind == "http_502"
    assert _lost(502, {"Proxy-agent": "proxy.py v2.4.10"}, proxy=None).failure.kind == "http_502"
    assert is_transient("proxy_bad_gateway") and is_transient("proxy_gateway_timeout")
    assert reachability({"proxy_bad_gateway": 2, "proxy_gateway_timeout": 1, "http_502": 4}, stopped_at_captcha=False) == {
        "refused/reset": 2, "timeout": 1}


class ResettingServer:
    """Accepts every connection and resets it at once, as a host refusing a foreign vantage point."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port = self.socket.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()


@pytest.fixture
def local_proxy(tmp_path):
    """proxy.py on a free port, its access log in a file."""
    port_file, log_file = tmp_path / "proxy.port", tmp_path / "proxy.log"
    process = subprocess.Popen([str(PROXY), "--hostname", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
                                "--num-workers", "1", "--log-level", "INFO", "--log-file", str(log_file)])
    deadline = time.monotonic() + 30
    while not (port_file.exists() and port_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port_file.read_text().strip()}", log_file
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.mirror
def test_every_request_goes_through_the_proxy_and_a_resetting_host_is_recorded(tmp_path, local_proxy):
    proxy_url, proxy_log = local_proxy
    resetting = ResettingServer()
    db = tmp_path / "archive.db"
    with start_mirror() as mirror:
        host_map = {**mirror.host_map, "www.reset-host.test": f"http://127.0.0.1:{resetting.port}"}
        done = subprocess.run(
            [sys.executable, "-m", "archive", "crawl", "beijing", "--host", "www.reset-host.test", "--db", str(db),
             "--proxy", proxy_url, "-s", f"MIRROR_HOST_MAP={json.dumps(host_map)}", "-s", "POLITENESS_OFF=True",
             "-s", "RETRY_TIMES=1"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
        beijing_requests = [path for host, path in mirror.request_log if host == "www.bjsupervision.gov.cn"]
    assert done.returncode == 1  # the resetting host failed
    beijing_port = mirror.host_map["www.bjsupervision.gov.cn"].rsplit(":", 1)[1]
    proxied = re.findall(rf"- GET 127\.0\.0\.1:{beijing_port}(\S+) - 200 OK", proxy_log.read_text())
    assert sorted(proxied) == sorted(beijing_requests) and len(proxied) == 6  # robots.txt, 2 list pages, 3 articles
    assert len(re.findall(rf"- GET 127\.0\.0\.1:{resetting.port}/", proxy_log.read_text())) >= 2  # robots.txt, home (retried)
    runs = dict(sqlite3.connect(db).execute("select spider, reachability from crawl_runs"))
    assert runs["beijing"] is None
    assert json.loads(runs["www.reset-host.test"]) == {"refused/reset": 1}
    assert 'reachability: {"refused/reset": 1}' in done.stdout


def test_a_cluster_crawl_refuses_proxies_its_workers_would_not_use():
    from click.testing import CliRunner

    from archive.cli import cli

    result = CliRunner().invoke(cli, ["crawl", "--cluster", "redis://127.0.0.1:9/0", "--proxy", "http://cn:8080"])
    assert result.exit_code == 2
    assert "with --cluster the workers fetch the pages: give them their proxies as settings" in result.output
