"""Site profiles: they load, their crawler keys are usable, and their article
templates select the right parts of the site's fixture pages."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from parsel import Selector

from crawler.mirror import SITES_DIR
from crawler.mirror.blockpages import CAPTCHA_PAGE, challenge_page
from crawler.mirror.server import HTML_SUFFIXES, SiteTree
from crawler.mixins import CMS_FAMILIES, spider_class
from sites import Profile, Template, load_profiles, profile_for_url

PROFILES = {profile.name: profile for profile in load_profiles()}
# How many fixture pages each site file says its templates detect.
TEMPLATE_PAGES = {name: profile.tests["template_pages"] for name, profile in PROFILES.items() if "template_pages" in profile.tests}
OPTIONAL_SELECTORS = ("published_at", "source", "author", "editor")


def page_selector(file: Path) -> Selector:
    # The fixtures are UTF-8 or GBK; valid UTF-8 wins over the page's label,
    # which is what the mislabelled people.com.cn page needs.
    body = file.read_bytes()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("gb18030")
    return Selector(text=text)


def fixture_pages(profile: Profile) -> dict[str, Selector]:
    """Every fixture page (HTML) on the profile's hosts, by path below SITES_DIR."""
    hosts = [host for host in SiteTree().hosts if profile.matches_host(host)]
    return {
        str(file.relative_to(SITES_DIR)): page_selector(file)
        for host in hosts
        for file in sorted((SITES_DIR / host).rglob("*"))
        if file.is_file() and Path(file.name.partition("@")[0]).suffix in HTML_SUFFIXES  # not an attachment
    }


def detected(page: Selector, profile: Profile) -> list[Template]:
    return [template for template in profile.templates if page.css(template.detect)]


def text_of(page: Selector, selector: str) -> str:
    return " ".join("".join(page.css(selector).xpath("string()").getall()).split())


def article_pages(profile: Profile) -> dict[str, tuple[Selector, Template]]:
    pages = {}
    for path, page in fixture_pages(profile).items():
        templates = detected(page, profile)
        assert len(templates) <= 1, f"{path}: several templates detect it"
        if templates:
            pages[path] = (page, templates[0])
    return pages


def test_every_profile_loads_and_says_what_its_fixtures_hold():
    for profile in PROFILES.values():
        assert profile.publisher and profile.hosts
        assert profile.tests["start_urls"] and "template_pages" in profile.tests


# Keys of a site file that state facts about the real site: each needs a provenance entry.
FACT_KEYS = ("hosts", "publisher", "province", "level", "scheme", "columns", "list", "pagination", "templates", "cms", "search", "render")
PROVENANCE_KINDS = {"saved_page", "public_code", "inferred"}
LEVELS = {"central", "provincial", "city", "county", "news", "party", "test"}
# A public crawler is cited as owner/repo@<40 hex>:path, or by its code-index id.
CODE_SOURCE = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}:\S+|code-index ids? \d+|shared/domain/")


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_fact_of_a_profile_says_where_it_comes_from(name):
    profile = PROFILES[name]
    entries = profile.settings["provenance"]
    assert profile.settings["level"] in LEVELS
    named = set()
    for entry in entries:
        assert entry["kind"] in PROVENANCE_KINDS, entry
        if entry["kind"] == "public_code":
            assert CODE_SOURCE.search(entry["source"]), entry["source"]
        elif entry["kind"] == "saved_page":
            assert entry["source"].startswith(("http", "shared/domain/")), entry["source"]
        named.update(entry["facts"])
    present = {key for key in FACT_KEYS if key in profile.settings or (key in ("hosts", "publisher") or (key == "templates" and profile.templates))}
    assert present <= named, f"facts without provenance: {sorted(present - named)}"
    assert named <= set(FACT_KEYS), f"provenance names keys the file lacks the words for: {sorted(named - set(FACT_KEYS))}"


def test_every_provincial_level_commission_has_a_profile():
    provinces = {profile.settings.get("province") for profile in PROFILES.values() if profile.settings["level"] == "provincial"}
    assert len(provinces) == 32 and "新疆生产建设兵团" in provinces


def test_hosts_are_unique_and_every_mirrored_host_has_its_profile():
    hosts = [host for profile in PROFILES.values() for host in profile.hosts]
    assert len(hosts) == len(set(hosts))
    # The hosts each site file's tests visit are the mirror's hosts, and they resolve to that file.
    visited = {urlsplit(url).hostname: name for name, profile in PROFILES.items() for url in profile.tests["start_urls"]}
    sites = {host for host, rules in SiteTree().hosts.items() if not rules.get("files_of")}
    assert {host: profile_for_url(f"http://{host}/").name for host in sites} == visited
    # A site's file server is no site: nothing of a profile applies to its files.
    file_servers = {host: rules["files_of"] for host, rules in SiteTree().hosts.items() if rules.get("files_of")}
    assert file_servers == {"files.hexi.test": "jw.hexi.test"}
    assert all(profile_for_url(f"http://{host}/") is None and site in visited for host, site in file_servers.items())


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_crawler_keys(name):
    settings = PROFILES[name].settings
    assert settings.get("cms", "trs") in CMS_FAMILIES
    # Columns on the site's own hosts, title filters that exist (resolved by the spider).
    columns = spider_class(PROFILES[name], module=__name__)().columns()
    # A discovering site may name no column: its spider starts from the home page.
    assert columns or settings.get("discover")
    assert all(profile_for_url(column.url).name == name for column in columns)
    if "list" in settings:
        assert settings["list"]["item"] and settings["list"]["link"]


def test_only_ccdi_needs_the_browser():
    assert {name for name, profile in PROFILES.items() if profile.settings.get("render")} == {"ccdi"}
    assert PROFILES["ccdi"].settings["render"] == "challenge"


@pytest.mark.parametrize("name", sorted(TEMPLATE_PAGES))
def test_templates_find_title_and_body_on_every_article_page(name):
    pages = article_pages(PROFILES[name])
    assert len(pages) == TEMPLATE_PAGES[name]
    for path, (page, template) in pages.items():
        assert text_of(page, template.title), f"{path}: no title"
        assert len(text_of(page, template.body)) > 80, f"{path}: body too short"


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_declared_selector_matches_a_fixture(name):
    pages = article_pages(PROFILES[name]).values()
    for template in PROFILES[name].templates:
        mine = [page for page, detecting in pages if detecting == template]
        assert mine, f"no fixture page for template {template.name}"
        for field in OPTIONAL_SELECTORS:
            selector = getattr(template, field)
            if selector:
                assert any(text_of(page, selector) for page in mine), f"{template.name}.{field} matches nothing"
        for rule, selector in template.drop.items():
            assert any(page.css(selector) for page in mine), f"{template.name} drop rule {rule} matches nothing"


def test_ccdi_templates_read_the_known_parts():
    pages = article_pages(PROFILES["ccdi"])
    report, standard = pages["www.ccdi.gov.cn/toutiaon/202110/t20211027_253131.html"]
    assert standard.name == "article_61"
    assert text_of(report, standard.title) == "中共吉林省委关于十九届中央第六轮巡视整改进展情况的通报"
    assert text_of(report, standard.published_at) == "发布时间： 2021-10-27 18:30"
    assert text_of(report, standard.source) == "来源：中央纪委国家监委网站"
    # The byline paragraph ("中央纪委国家监委网站 王卓") is left in the body for the
    # pipeline's byline rule, which splits source from author.
    summary, _ = pages["www.ccdi.gov.cn/xsxcn/xsgz/202110/t20211028_253215.html"]
    assert text_of(summary, standard.body).startswith("中央纪委国家监委网站 王卓 10月27日，")
    comment, pinglun = pages["www.ccdi.gov.cn/pln/202110/t20211029_253300.html"]
    assert pinglun.name == "pinglun"
    assert text_of(comment, pinglun.title) == "以巡视整改实效取信于民"
    assert "往期回顾" not in text_of(comment, pinglun.body) and "今日锐评" not in text_of(comment, pinglun.body)
    assert "今日锐评丨整改不能“打折扣”" in text_of(comment, pinglun.drop["wangqi_huigu"])


def test_republisher_templates_read_editor_and_boilerplate():
    sina_page, sina = article_pages(PROFILES["sina"])["finance.sina.com.cn/roll/2021-10-28/doc-iktzscyy2216354.shtml"]
    assert text_of(sina_page, sina.editor) == "责任编辑：梁斌 SF055"
    assert text_of(sina_page, sina.published_at) == "2021年10月28日 08:01"
    assert text_of(sina_page, sina.drop["app_qr_code"]) == "海量资讯、精准解读，尽在新浪财经APP"
    people_page, people = article_pages(PROFILES["people"])["politics.people.com.cn/n1/2021/0421/c1001-32083412.html"]
    assert text_of(people_page, people.editor) == "(责编：汤诗瑶、丁涛)"
    assert text_of(people_page, people.author) == "本报北京4月20日电 （记者张洋）日前，十九届中央第七轮巡视的15个巡视组已完成对教育部和31所中管高校党组织的巡视反馈。"
    assert text_of(people_page, people.published_at) == "2021年04月21日08:18 来源：人民网-人民日报"
    assert text_of(people_page, people.source) == "人民网-人民日报"


def test_the_republished_report_has_the_same_text_everywhere():
    """One CCDI report republished by Sina and people.com.cn (provenance fixtures)."""
    copies = {
        "ccdi": "www.ccdi.gov.cn/yaowenn/202110/t20211027_253108.html",
        "sina": "finance.sina.com.cn/roll/2021-10-28/doc-iktzscyy2216354.shtml",
        "people": "politics.people.com.cn/n1/2021/1028/c1001-32266401.html",
    }
    paragraphs = {}
    for name, path in copies.items():
        page, template = article_pages(PROFILES[name])[path]
        assert text_of(page, template.title) == "中共河北省委关于十九届中央第六轮巡视整改进展情况的通报"
        body = page.css(template.body)
        for selector in template.drop.values():
            for node in body.css(selector):
                node.drop()
        paragraphs[name] = [" ".join(p.split()) for p in body.css("p").xpath("string()").getall() if p.strip()]
    assert paragraphs["ccdi"] == paragraphs["sina"] == paragraphs["people"]
    assert len(paragraphs["ccdi"]) == 20
    assert paragraphs["ccdi"][-1].endswith("电子邮箱：hbswxszg@126.com。")


@pytest.mark.parametrize("name", sorted(TEMPLATE_PAGES))
def test_list_pages_and_block_pages_match_no_template(name):
    profile = PROFILES[name]
    lists = {path for path, page in fixture_pages(profile).items() if not detected(page, profile)}
    assert len(lists) == len(fixture_pages(profile)) - TEMPLATE_PAGES[name]
    for block_page in (challenge_page("0a1b2c3d"), CAPTCHA_PAGE):
        assert detected(Selector(text=block_page.decode("utf-8")), profile) == []
