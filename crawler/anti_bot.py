"""Anti-bot pages: pass the CCDI JS cookie challenge with Chromium, stop at a CAPTCHA.

CCDI (and its WAS5 search) sometimes answers with a ~1 KB page whose only
content is an obfuscated script that sets a short-lived cookie (``C3VK=…;
max-age=300``) and re-opens the same URL.  For sites whose profile says
``render: challenge`` we let a real browser run that script once
(scrapy-playwright, ``meta["playwright"]=True``), copy the browser's cookies
into Scrapy's jar for the real host, and fetch the page again over plain HTTP:
the archive and the WARC files keep the server's bytes, not a rendered DOM, and
the browser is used once per host per cookie lifetime, not per page.

A slider/image CAPTCHA (haplat seccaptcha) cannot be passed by software; the
spider for that site stops with run status ``stopped_captcha`` and a message
telling the operator to export cookies from a real browser (``--cookie-file``,
Netscape cookies.txt or a JSON list of ``{name, value, domain, path}``).

Neither kind of page ever reaches a spider; both stay in the WARC capture with
a ``metadata`` record ``page-kind: challenge|captcha`` (and the browser's
rendering of the challenge with ``page-kind: browser-render``).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import logging
import re
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.http.cookies import CookieJar
from scrapy.utils.defer import deferred_from_coro
from scrapy_playwright.page import PageMethod

from captures import PAGE_KIND
from crawler.capture import capture_for
from sites import profile_for_url

logger = logging.getLogger(__name__)

CHALLENGE = "challenge"
CAPTCHA = "captcha"
BROWSER_RENDER = "browser-render"
STOPPED_CAPTCHA = "stopped_captcha"
"""Close reason of a spider stopped by a CAPTCHA, and the run status it maps to."""

# The challenge page is tiny (the CCDI one is 989 bytes); a real page that
# happens to set a cookie in a script is far larger.
CHALLENGE_MAX_BYTES = 4096
# The script hides its string literals as \xNN escapes ("document", "cookie");
# they are decoded before looking for the markers.
_JS_HEX_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_RELOADS = re.compile(rb"window\.open\s*\(|location\.reload\s*\(|location\.(?:href|replace)\s*[=(]")
CAPTCHA_MARKERS = (b"captchaPage", b"seccaptcha.haplat.net", b"comImageValidate")

_BROWSER_KEY = "anti_bot_browser"
_ATTEMPTS_KEY = "anti_bot_attempts"
_COOKIE_GENERATION_KEY = "anti_bot_cookie_generation"
_PLAYWRIGHT_KEYS = (
    "playwright",
    "playwright_include_page",
    "playwright_page_goto_kwargs",
    "playwright_page_methods",
    "playwright_page",
)
MAX_BROWSER_ATTEMPTS = 2


def page_kind(body: bytes) -> str | None:
    """``"captcha"``, ``"challenge"`` or None for an ordinary page."""
    if any(marker in body for marker in CAPTCHA_MARKERS):
        return CAPTCHA
    if len(body) <= CHALLENGE_MAX_BYTES:
        script = _JS_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), body)
        if b"cookie" in script and _RELOADS.search(script):
            return CHALLENGE
    return None


def load_cookie_file(path: str | Path) -> list[http.cookiejar.Cookie]:
    """Cookies exported from a real browser: Netscape ``cookies.txt`` or a JSON list.

    JSON entries need ``name``, ``value`` and ``domain``; ``path`` (default
    ``/``), ``secure`` and ``expires``/``expirationDate`` (epoch seconds) are
    optional — the shape browser cookie-export extensions write.
    """
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return [
            make_cookie(
                entry["name"],
                entry["value"],
                entry["domain"],
                path=entry.get("path", "/"),
                secure=bool(entry.get("secure", False)),
                expires=entry.get("expires", entry.get("expirationDate")),
            )
            for entry in json.loads(text)
        ]
    jar = http.cookiejar.MozillaCookieJar()
    jar.load(str(path), ignore_discard=True, ignore_expires=True)
    cookies = list(jar)
    for cookie in cookies:
        if cookie.expires == 0:  # how exporters write a session cookie
            cookie.expires, cookie.discard = None, True
    return cookies


def make_cookie(
    name: str, value: str, domain: str, *, path: str = "/", secure: bool = False, expires=None
) -> http.cookiejar.Cookie:
    expires = int(expires) if expires not in (None, -1, "") else None
    return http.cookiejar.Cookie(
        version=0,
        name=name,
        value=value,
        port=None,
        port_specified=False,
        domain=domain,
        domain_specified=domain.startswith("."),
        domain_initial_dot=domain.startswith("."),
        path=path,
        path_specified=True,
        secure=secure,
        expires=expires,
        discard=expires is None,
        comment=None,
        comment_url=None,
        rest={},
    )


async def browser_headers_with_our_user_agent(*, browser_type_name, playwright_request, scrapy_request_data):
    """Headers for the browser's requests: its own (so the cookie the challenge
    script sets goes out with the reload), but our honest User-Agent."""
    headers = await playwright_request.all_headers()
    headers["user-agent"] = scrapy_request_data["headers"].to_unicode_dict()["user-agent"]
    return headers


class AntiBotMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.solve_timeout = crawler.settings.getfloat("ANTI_BOT_SOLVE_TIMEOUT")
        self.cookie_file = crawler.settings.get("COOKIE_FILE")
        # host → browser solve in progress; host → number of cookies obtained so far
        self._solving: dict[str, asyncio.Future] = {}
        self._cookie_generation: dict[str, int] = {}
        self._stopped_hosts: set[str] = set()
        crawler.signals.connect(self._load_cookie_file, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        host = _host(request.url)
        if host in self._stopped_hosts:
            raise IgnoreRequest(f"{host} stopped after a CAPTCHA")
        request.meta[_COOKIE_GENERATION_KEY] = self._cookie_generation.get(host, 0)
        return None

    async def process_response(self, request: Request, response: Response):
        if request.meta.get(_BROWSER_KEY):
            return await self._finish_browser_solve(request, response)
        kind = page_kind(response.body)
        if kind is None:
            return response
        self._mark_in_warc(request, response, kind)
        self.stats.inc_value(f"anti_bot/{kind}_pages")
        if kind == CAPTCHA:
            self._stop_site(response)
            raise IgnoreRequest(f"CAPTCHA page at {response.url}")
        return await self._pass_challenge(request, response)

    async def process_exception(self, request: Request, exception: Exception) -> Request | None:
        if not request.meta.get(_BROWSER_KEY):
            return None
        page = request.meta.pop("playwright_page", None)
        if page is not None:
            await page.close()
        attempts = request.meta[_ATTEMPTS_KEY]
        if attempts < MAX_BROWSER_ATTEMPTS:
            logger.warning("Browser pass at %s failed (%s); trying once more", request.url, exception)
            return request.replace(dont_filter=True, meta={**request.meta, _ATTEMPTS_KEY: attempts + 1})
        self._end_solve(_host(request.url), error=exception)
        return None

    async def _pass_challenge(self, request: Request, response: Response) -> Request:
        host = _host(response.url)
        self.stats.inc_value("anti_bot/challenge")
        profile = profile_for_url(response.url)
        if profile is None or profile.settings.get("render") != CHALLENGE:
            self._give_up(
                f"JS cookie challenge at {response.url}, but the site profile does not "
                "declare `render: challenge`: not sending it to the browser"
            )
        attempts = request.meta.get(_ATTEMPTS_KEY, 0)
        if attempts >= MAX_BROWSER_ATTEMPTS:
            self._give_up(f"still a challenge at {response.url} after {attempts} browser passes")
        if request.meta[_COOKIE_GENERATION_KEY] < self._cookie_generation.get(host, 0):
            # Went out before the browser got the cookie: just ask again with it.
            return _plain_request(request, attempts)
        pending = self._solving.get(host)
        if pending is not None:
            await self._wait_for_solve(pending, response.url)
            return _plain_request(request, attempts)
        self._solving[host] = asyncio.get_running_loop().create_future()
        shared = await self.cookies_solved_elsewhere(host)
        if shared:
            self._take_cookies(request, host, shared, browser_host=None)
            self._end_solve(host)
            logger.info("Challenge at %s: took the %d cookie(s) another worker's browser obtained", response.url, len(shared))
            return _plain_request(request, attempts)
        logger.info("JS cookie challenge at %s: passing it once with Chromium", response.url)
        self.stats.inc_value("anti_bot/browser_solves")
        return request.replace(
            dont_filter=True,
            meta={
                **request.meta,
                _BROWSER_KEY: True,
                _ATTEMPTS_KEY: attempts + 1,
                "playwright": True,
                "playwright_include_page": True,
                # The challenge replaces itself with the real page at once:
                # waiting for the challenge's own "load" would race that
                # navigation, so wait until the network is quiet instead.
                "playwright_page_goto_kwargs": {"wait_until": "commit"},
                "playwright_page_methods": [PageMethod("wait_for_load_state", "networkidle")],
            },
        )

    async def _wait_for_solve(self, pending: asyncio.Future, url: str) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(pending), self.solve_timeout * 2)
        except Exception as exc:
            # The page is lost for this run: counted, like any challenge left unsolved.
            self.stats.inc_value("anti_bot/challenge_unsolved")
            raise IgnoreRequest(f"challenge at {url} not passed: {exc}") from exc

    async def _finish_browser_solve(self, request: Request, response: Response) -> Request:
        host = _host(response.url)
        # What the browser rendered is not the server's bytes: say so in the WARC.
        self._mark_in_warc(request, response, BROWSER_RENDER)
        page = request.meta.pop("playwright_page")
        try:
            html = await self._html_after_challenge(page)
            browser_host = urlsplit(page.url).hostname
            browser_cookies = await page.context.cookies()
        except Exception as exc:
            self._end_solve(host, error=exc)
            raise IgnoreRequest(f"browser could not pass the challenge at {response.url}: {exc}") from exc
        finally:
            await page.close()
        kind = page_kind(html)
        if kind is not None:
            self._end_solve(host, error=RuntimeError(f"browser still sees a {kind} page"))
            if kind == CAPTCHA:
                self._stop_site(response)
            raise IgnoreRequest(f"browser still sees a {kind} page at {response.url}")
        self.cookies_solved(host, self._take_cookies(request, host, browser_cookies, browser_host))
        self._end_solve(host)
        logger.info("Challenge passed for %s: %d cookie(s) now in the jar", host, len(browser_cookies))
        return _plain_request(request, request.meta[_ATTEMPTS_KEY])

    def _take_cookies(self, request: Request, host: str, cookies: list[dict], browser_host: str | None) -> list[dict]:
        """Cookies as Playwright gives them (name, value, domain, path, secure, expires)
        into the jar; returns them as taken (on the real host)."""
        jar = self._cookie_jar(request)
        taken = []
        for cookie in cookies:
            domain = cookie["domain"]
            if browser_host and domain.lstrip(".") == browser_host:
                # The browser went to the mirror: the cookie belongs to the real host.
                domain = host
            taken.append({**cookie, "domain": domain})
            jar.set_cookie(
                make_cookie(
                    cookie["name"],
                    cookie["value"],
                    domain,
                    path=cookie.get("path", "/"),
                    secure=cookie.get("secure", False),
                    expires=cookie.get("expires"),
                )
            )
        self._cookie_generation[host] = self._cookie_generation.get(host, 0) + 1
        return taken

    # -- hooks for crawls on several machines (crawler/cluster/cookies.py) ------------

    async def cookies_solved_elsewhere(self, host: str) -> list[dict] | None:
        """Cookies passing ``host``'s challenge that another crawler obtained, before
        this one starts a browser; None: solve it here."""
        return None

    def cookies_solved(self, host: str, cookies: list[dict]) -> None:
        """This crawler's browser passed ``host``'s challenge with ``cookies``."""

    async def _html_after_challenge(self, page) -> bytes:
        """The page's HTML once it is no longer the challenge (or the timeout passed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.solve_timeout
        while True:
            try:
                await page.wait_for_load_state("load")
                html = (await page.content()).encode("utf-8")
            except Exception:  # the page navigated while we read it: look again
                html = b""
            if (html and page_kind(html) != CHALLENGE) or loop.time() > deadline:
                return html
            await asyncio.sleep(0.2)

    def _give_up(self, message: str):
        logger.error(message)
        self.stats.inc_value("anti_bot/challenge_unsolved")
        raise IgnoreRequest(message)

    def _end_solve(self, host: str, error: Exception | None = None) -> None:
        pending = self._solving.pop(host, None)
        if pending is None or pending.done():
            return
        if error is None:
            pending.set_result(None)
        else:
            pending.set_exception(error)
            pending.exception()  # waiters may be none; don't warn "never retrieved"

    def _stop_site(self, response: Response) -> None:
        host = _host(response.url)
        if host in self._stopped_hosts:
            return
        self._stopped_hosts.add(host)
        message = (
            f"CAPTCHA page at {response.url}: stopped crawling {host}. Pass it in a real "
            "browser, export that browser's cookies and rerun with --cookie-file."
        )
        logger.error(message)
        self.stats.set_value("anti_bot/captcha_url", response.url)
        self.stats.set_value("anti_bot/captcha_message", message)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=STOPPED_CAPTCHA))

    def _mark_in_warc(self, request: Request, response: Response, kind: str) -> None:
        record_id = request.meta.get("warc_record_id")
        if record_id:
            capture_for(self.crawler).annotate(response.url, record_id, {PAGE_KIND: kind})

    def _cookie_jar(self, request: Request | None = None) -> CookieJar:
        for middleware in self.crawler.engine.downloader.middleware.middlewares:
            if isinstance(middleware, CookiesMiddleware):
                return middleware.jars[request.meta.get("cookiejar") if request else None]
        raise RuntimeError("CookiesMiddleware is not enabled: cookies cannot be kept")

    def _load_cookie_file(self) -> None:
        if not self.cookie_file:
            return
        cookies = load_cookie_file(self.cookie_file)
        jar = self._cookie_jar()
        for cookie in cookies:
            jar.set_cookie(cookie)
        logger.info("Loaded %d cookie(s) from %s", len(cookies), self.cookie_file)
        self.stats.set_value("anti_bot/imported_cookies", len(cookies))


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _plain_request(request: Request, attempts: int) -> Request:
    """The original request again, over plain HTTP, with whatever the jar now holds."""
    meta = {k: v for k, v in request.meta.items() if k not in _PLAYWRIGHT_KEYS and k != _BROWSER_KEY}
    meta[_ATTEMPTS_KEY] = attempts
    return request.replace(dont_filter=True, meta=meta)
