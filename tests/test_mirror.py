"""The local mirror over real HTTP: paths, bytes and headers as the real sites
send them, the CCDI cookie challenge (passed by real Chromium), the CAPTCHA,
robots.txt, and a tree tests can change between requests."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import SITES
from crawler.mirror import CHALLENGE_COOKIE, SITES_DIR, challenge_cookie_value
from crawler.mirror.families import SITES_BY_HOST as FAMILY_SITES
from crawler.mirror.server import SiteTree
from crawler.settings import PLAYWRIGHT_LAUNCH_OPTIONS

pytestmark = pytest.mark.mirror

ROOT = Path(__file__).resolve().parents[1]
CCDI_REPORT = "https://www.ccdi.gov.cn/yaowenn/202110/t20211027_253108.html"
CCDI_REPORT_TITLE = "中共河北省委关于十九届中央第六轮巡视整改进展情况的通报"
ZJ_LIST = "http://www.zjsjw.gov.cn/xunshixuncha/index.shtml"
PEOPLE_GBK = "http://politics.people.com.cn/n1/2021/1028/c1001-32266401.html"
PEOPLE_MISLABELLED = "http://politics.people.com.cn/n1/2021/0421/c1001-32083412.html"
BEIJING_LIST = "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/"
BEIJING_ARTICLE = "http://www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202112/t20211210_84512.html"
# Every host a site file's tests visit, but the fault site's (served only with faults).
# The profiled sites' hosts (not the fault site) and the CMS-family test sites of discovery.
SERVED_HOSTS = sorted(
    {urlsplit(url).hostname for profile in SITES.values() for url in profile.tests["start_urls"]}
    - {host for host, rules in SiteTree().hosts.items() if rules.get("faults_only")}
    | set(FAMILY_SITES)
    | {host for host, rules in SiteTree().hosts.items() if rules.get("files_of")}  # a site's file server
)


def fetch(url: str, cookie: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def fixture_bytes(real_path: str) -> bytes:
    return (SITES_DIR / real_path).read_bytes()


@pytest.fixture
def mirror(mirror_factory, sites_dir):
    return mirror_factory(sites_dir)


@pytest.fixture
def passing_cookie(mirror) -> str:
    return f"{CHALLENGE_COOKIE}={mirror.challenge_cookie[CHALLENGE_COOKIE]}"


def test_one_loopback_port_per_real_host(mirror):
    assert sorted(mirror.host_map) == SERVED_HOSTS
    origins = list(mirror.host_map.values())
    assert len(set(origins)) == len(origins)
    assert all(origin.startswith("http://127.0.0.1:") for origin in origins)
    assert mirror.url(CCDI_REPORT) == mirror.host_map["www.ccdi.gov.cn"] + "/yaowenn/202110/t20211027_253108.html"


def test_ccdi_without_cookie_gets_the_challenge_not_the_article(mirror):
    status, headers, body = fetch(mirror.url(CCDI_REPORT))
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert len(body) < 2048
    assert body.startswith(b"<script>") and b'window.open(location.href,"_self")' in body
    # The cookie name and "document"/"cookie" are hidden as \x escapes, as on the real page.
    assert b"C3VK" not in body and b"\\x43\\x33\\x56\\x4b\\x3d" in body
    assert CCDI_REPORT_TITLE.encode() not in body
    assert mirror.challenge_cookie[CHALLENGE_COOKIE].encode() not in body


def test_ccdi_search_is_behind_the_challenge_too(mirror):
    status, _, body = fetch(mirror.url("https://www.ccdi.gov.cn/was5/web/search?channelid=298814&searchword=%E5%B7%A1%E8%A7%86%E6%95%B4%E6%94%B9&page=1"))
    assert status == 200
    assert b"s_0603_list" not in body and b"window.open(location.href" in body


def test_ccdi_with_the_expected_cookie_gets_the_real_page(mirror, passing_cookie):
    status, _, body = fetch(mirror.url(CCDI_REPORT), cookie=f"other=1; {passing_cookie}")
    assert status == 200
    assert body == fixture_bytes("www.ccdi.gov.cn/yaowenn/202110/t20211027_253108.html")


def test_ccdi_with_a_wrong_cookie_still_gets_the_challenge(mirror):
    wrong = challenge_cookie_value(mirror.challenge_seed + "x")
    _, _, body = fetch(mirror.url(CCDI_REPORT), cookie=f"{CHALLENGE_COOKIE}={wrong}")
    assert CCDI_REPORT_TITLE.encode() not in body and b"window.open(" in body


def test_challenge_can_be_switched_off(mirror_factory, sites_dir):
    mirror = mirror_factory(sites_dir, challenge=False)
    _, _, body = fetch(mirror.url(CCDI_REPORT))
    assert CCDI_REPORT_TITLE.encode() in body


def test_other_sites_have_no_challenge(mirror):
    status, _, body = fetch(mirror.url(BEIJING_ARTICLE))
    assert status == 200
    assert body == fixture_bytes("www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202112/t20211210_84512.html")


@pytest.mark.browser
@pytest.mark.slow
def test_real_chromium_passes_the_challenge(mirror):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        # The crawler's own launch options: what passes here passes in a crawl.
        browser = playwright.chromium.launch(**PLAYWRIGHT_LAUNCH_OPTIONS)
        try:
            page = browser.new_page()
            page.goto(mirror.url(CCDI_REPORT))
            page.wait_for_selector("div.Article_61 h2.tit", timeout=30_000)
            title = page.inner_text("div.Article_61 h2.tit")
            cookies = {c["name"]: c["value"] for c in page.context.cookies()}
        finally:
            browser.close()
    assert title == CCDI_REPORT_TITLE
    assert cookies[CHALLENGE_COOKIE] == mirror.challenge_cookie[CHALLENGE_COOKIE]


def test_captcha_on_configured_paths_only(mirror_factory, sites_dir):
    mirror = mirror_factory(sites_dir, challenge=False, captcha_paths={"/yaowenn/"})
    status, headers, body = fetch(mirror.url(CCDI_REPORT))
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    for marker in (b"captchaPage", b"seccaptcha.haplat.net", b"comImageValidate"):
        assert marker in body
    assert CCDI_REPORT_TITLE.encode() not in body
    _, _, other = fetch(mirror.url("https://www.ccdi.gov.cn/xsxcn/"))
    assert b"captchaPage" not in other and b"list_news_dl2" in other
    # The set is live: a test can raise the CAPTCHA between two requests.
    mirror.captcha_paths.add("/xsxcn/")
    _, _, now = fetch(mirror.url("https://www.ccdi.gov.cn/xsxcn/"))
    assert b"captchaPage" in now


def test_gbk_site_sends_gbk_bytes_with_a_bare_header(mirror):
    status, headers, body = fetch(mirror.url(ZJ_LIST))
    assert status == 200
    assert headers["Content-Type"] == "text/html"
    assert b'charset=gbk' in body
    assert "中共杭州市委关于十四届省委第十一轮巡视整改进展情况的通报" in body.decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_people_pages_are_labelled_gb2312_whatever_their_bytes(mirror):
    _, gbk_headers, gbk_body = fetch(mirror.url(PEOPLE_GBK))
    _, utf8_headers, utf8_body = fetch(mirror.url(PEOPLE_MISLABELLED))
    assert gbk_headers["Content-Type"] == utf8_headers["Content-Type"] == "text/html; charset=GB2312"
    assert b"charset=GB2312" in gbk_body and b"charset=GB2312" in utf8_body
    assert CCDI_REPORT_TITLE in gbk_body.decode("gbk")
    # The mislabelled page: its bytes are UTF-8, its labels say GB2312.
    assert "十九届中央第七轮巡视完成反馈" in utf8_body.decode("utf-8")
    assert "十九届中央第七轮巡视完成反馈" not in utf8_body.decode("gb18030", errors="replace")


def test_query_strings_select_their_own_file(mirror, passing_cookie):
    page_2 = "http://jw.tongxi.test/col/col4125/index.html?uid=8841&pageNum=2"
    _, _, body = fetch(mirror.url(page_2))
    assert body == fixture_bytes("jw.tongxi.test/col/col4125/index.html@pageNum=2&uid=8841")
    # Parameter order, empty parameters and unknown ones without a file of their own.
    _, _, reordered = fetch(mirror.url("http://jw.tongxi.test/col/col4125/index.html?pageNum=2&x=&uid=8841"))
    assert reordered == body
    _, _, cache_busted = fetch(mirror.url("http://jw.tongxi.test/col/col4125/index.html?v=3"))
    assert cache_busted == fixture_bytes("jw.tongxi.test/col/col4125/index.html")
    search = "https://www.ccdi.gov.cn/was5/web/search?channelid=298814&searchword=%E5%B7%A1%E5%AF%9F%E6%95%B4%E6%94%B9&page=1"
    status, headers, results = fetch(mirror.url(search), cookie=passing_cookie)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"s_0603_list" in results
    status, _, _ = fetch(mirror.url(search.replace("page=1", "page=9")), cookie=passing_cookie)
    assert status == 404


def test_robots_txt_per_host(mirror):
    status, headers, body = fetch(mirror.host_map["jw.tongxi.test"] + "/robots.txt")
    assert (status, headers["Content-Type"], body) == (200, "text/plain", b"User-agent: *\nDisallow: /jcms/\n")
    # Served before the challenge: robots.txt must stay readable without a browser.
    _, _, ccdi = fetch(mirror.host_map["www.ccdi.gov.cn"] + "/robots.txt")
    assert ccdi == b"User-agent: *\nDisallow: /wcm/\n"


def test_changing_the_tree_between_requests(mirror, sites_dir):
    article = sites_dir / "www.bjsupervision.gov.cn/zt/shejswxc/xsfk/202112/t20211210_84512.html"
    article.write_bytes(article.read_bytes().replace("常规巡视".encode(), "专项巡视".encode()))
    _, _, edited = fetch(mirror.url(BEIJING_ARTICLE))
    assert "专项巡视".encode() in edited and "常规巡视".encode() not in edited

    list_page = sites_dir / "www.bjsupervision.gov.cn/zt/shejswxc/xsfk/index.html"
    new_item = '<li><a href="./202201/t20220105_85001.html" target="_blank">新的通报</a><span>2022-01-05</span></li>\n'
    list_page.write_text(list_page.read_text("utf-8").replace('<ul class="list">\n', '<ul class="list">\n' + new_item), "utf-8")
    _, _, listed = fetch(mirror.url(BEIJING_LIST))
    assert b"t20220105_85001.html" in listed

    article.unlink()
    status, _, _ = fetch(mirror.url(BEIJING_ARTICLE))
    assert status == 404


def test_paths_outside_the_host_directory_are_not_served(mirror):
    status, _, _ = fetch(mirror.host_map["www.12371.cn"] + "/%2e%2e/www.bjsupervision.gov.cn/zt/shejswxc/xsfk/index.html")
    assert status == 404


def test_request_log_records_host_and_path(mirror):
    fetch(mirror.url(ZJ_LIST))
    fetch(mirror.url("http://jw.tongxi.test/col/col4125/index.html?uid=8841&pageNum=2"))
    assert mirror.request_log == [
        ("www.zjsjw.gov.cn", "/xunshixuncha/index.shtml"),
        ("jw.tongxi.test", "/col/col4125/index.html?uid=8841&pageNum=2"),
    ]


def _free_port_run(length: int) -> int:
    """A first port such that ``length`` consecutive ports are free now.

    Looked for below the kernel's ephemeral range: by this point in a suite thousands of
    client connections sit in TIME_WAIT scattered over that range, and no window of 50
    ports in it is clear.  The probe binds as the mirror's servers do (SO_REUSEADDR)."""
    ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for base in range(20000, ephemeral_low - length, 100):
        sockets = []
        try:
            for port in range(base, base + length):
                s = socket.socket()
                sockets.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError(f"no {length} consecutive free ports between 20000 and {ephemeral_low}")


@pytest.mark.slow
def test_command_line_prints_the_host_map_and_serves(tmp_path):
    base = _free_port_run(len(SERVED_HOSTS))
    process = subprocess.Popen(
        [sys.executable, "-m", "archive", "mirror", "--port-base", str(base)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        while not lines or lines[-1] != "}\n":
            lines.append(process.stdout.readline())
        host_map = json.loads("".join(lines))
        # Consecutive ports, in the order of the host names.
        assert host_map == {host: f"http://127.0.0.1:{base + index}" for index, host in enumerate(SERVED_HOSTS)}
        status, _, body = fetch(host_map["www.zjsjw.gov.cn"] + "/xunshixuncha/index.shtml")
        assert status == 200 and body == fixture_bytes("www.zjsjw.gov.cn/xunshixuncha/index.shtml")
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_stand_in_site_answers_its_start_page_and_nothing_else(mirror):
    status, headers, body = fetch(mirror.host_map["www.tjjw.gov.cn"] + "/")
    assert status == 200 and "<title>天津市纪委监委网站</title>" in body.decode("utf-8")
    assert "<a " not in body.decode("utf-8")
    assert fetch(mirror.host_map["www.tjjw.gov.cn"] + "/xsxc/")[0] == 404


def test_family_sites_redirect_by_scheme_refuse_non_browsers_and_take_postbacks(mirror):
    host, port = mirror.host_map["www.redirect-city.test"].removeprefix("http://").split(":")
    for scheme, status, location in (("http", 301, "https://www.redirect-city.test/"),
                                     ("https", 302, "https://www.redirect-city.test/portal/")):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/", headers={"X-Forwarded-Proto": scheme})
        answer = connection.getresponse()
        assert (answer.status, answer.getheader("Location")) == (status, location)
        connection.close()
    refused = mirror.host_map["www.refuse-agents.test"]
    assert fetch(refused + "/")[0] == 403
    assert fetch(refused + "/robots.txt")[0] == 200
    request = urllib.request.Request(mirror.host_map["www.aspnet-county.test"] + "/News/List.aspx?cid=10",
                                     data=b"__VIEWSTATE=x&__EVENTTARGET=ctl00%24Main%24Pager&__EVENTARGUMENT=3", method="POST")
    with urllib.request.urlopen(request) as answer:
        assert "第3页" in answer.read().decode("utf-8")
