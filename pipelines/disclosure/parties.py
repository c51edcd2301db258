"""Who inspected whom: team, level, kind, round, and the inspected unit with its type and place."""
from __future__ import annotations

import re

from .dates import NUM, cn_to_int
from .places import committee_places, division_rank, province_of

# Who sends the team decides the level; 市委 sends 巡视 only in the four
# municipalities, which rank as provinces.
_SENDERS = "自治区党委|兵团党委|区党委|中央|省委|市委|州委|盟委|地委|县委|区委|旗委|党组|党委"
_SENDER_LEVEL = {
    "中央": "central",
    "省委": "provincial", "自治区党委": "provincial", "区党委": "provincial", "兵团党委": "provincial",
    "市委": "city", "州委": "city", "盟委": "city", "地委": "city",
    "县委": "county", "区委": "county", "旗委": "county",
    "党组": "internal", "党委": "internal",
}
_TEAM_NUMBER = rf"(?:{NUM}|X{{1,3}})"
TEAM = re.compile(
    rf"(?P<sender>{_SENDERS})(?:第{_TEAM_NUMBER})?(?:提级|交叉|专项|机动|联动)*(?P<word>巡视|巡察)(?:第?{_TEAM_NUMBER})?组"
)
ROUND = re.compile(
    rf"(?:(?P<term>{NUM})届)?(?P<sender>{_SENDERS})?第(?P<round>{NUM})轮"
    r"(?:常规|专项|机动|提级|交叉|联动|集中)?(?P<word>巡视|巡察)"
)
_INSPECTION_KINDS = (  # first match wins: the qualifier outranks the generic 常规/专项
    ("回头看", re.compile(r"回头看")),
    ("提级", re.compile(r"提级")),
    ("联动", re.compile(r"联动(?:巡视|巡察)|(?:巡视|巡察)联动")),
    ("机动", re.compile(r"机动(?:巡视|巡察)")),
    ("专项", re.compile(r"专项(?:巡视|巡察)")),
    ("常规", re.compile(r"常规(?:巡视|巡察)")),
)
UNIT_CLAUSE = re.compile(
    r"对(?P<unit>[^，。；、,;]{2,40}?)(?:进行了|开展了|进行|开展)"
    r"(?:为期[^，。]{0,10})?[^，。；]{0,16}?(?:巡视|巡察)"
)
# A column label some sites print before the title (【通报】, [公示]) is not the issuer's name.
_TITLE_ISSUER = re.compile(r"^(?:【[^】]{1,8}】|\[[^\]]{1,8}\])?\s*(?P<issuer>[^，。“”【】]{2,40}?)关于")
_UNIT_PREFIX = re.compile(r"^(?:中共|中国共产党)?(?:所属|下属)?")
_UNIT_SUFFIX = re.compile(
    r"(?:党组织|党组|党委|党工委|党总支|党支部|总支部委员会|支部委员会|工作委员会|委员会|领导班子)"
    r"(?:[（(](?:党组|党委)[）)])?$"
)
_REGION_COMMITTEE = re.compile(r"(省|自治区|市|县|区|旗|州|盟)委$")  # XX省委 → XX省
# 委员会 is the party committee of a place or body (中共大同镇委员会, 中共长兴县人民医院委员会)
# but part of an organ's own name (株洲市卫生健康委员会): stripped only after a place or body.
_PLACE_END = re.compile(r"(?:[省市县区旗州盟镇乡村院局司团厅办校所站社馆场队部署行]|自治区|街道|社区|中心|机关)$")
# What a unit's name carries in the text and not in itself: an abbreviation it is given
# (交通运输部党组(以下简称部党组)), a pinyin gloss (省卫(wèi)生健康委).
_UNIT_ASIDES = re.compile(r"[（(]\s*(?:以下简称|下称|简称)[^（）()]*[）)]|[（(][a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü\s]+[）)]")
# An inspected field, not a unit (对全市民生领域外包服务开展专项巡察).
_FIELD = re.compile(r"领域|问题|(?:工作|情况|资金|项目|服务)$")
# "对我村开展了巡察": the unit names itself; its name is in the title.
_SELF_REFERENCE = re.compile(r"^(?:我|本)(?:村|镇|乡|街道|社区|局|委|办|院|校|公司|单位|部门)")
_BARE_LEVEL = re.compile(r"^(省|市|县|区)(?!委$)")  # 县农业农村局: the county is not named

_PLACE_ONLY = re.compile(r"^[^\W\d_]{1,16}?(?:省|自治区|市|县|区|旗|州|盟|地区)$")
_ORGAN_WORDS = re.compile(r"[局厅委办部院署处]|中心|公司|集团")
_UNIT_TYPES_CENTRAL = (  # (unit_type, pattern) for units the centre inspects
    ("中管高校", re.compile(r"大学$|学院$")),
    # Regulators are state organs even though they are inspected with the banks.
    ("中央和国家机关", re.compile(r"人民银行|证监会|银保监会|金融监管|外汇管理局")),
    ("中管金融企业", re.compile(r"银行|保险|证券|信托|资产管理|投资有限责任公司|金融|交易所")),
    ("中管企业", re.compile(r"集团|公司|有限")),
    ("省区市", re.compile(r"(?:省|自治区)$|^(?:北京|天津|上海|重庆)市?$|兵团$")),
    ("市州", re.compile(r"(?:市|州|盟|地区)$")),
    ("中央和国家机关", re.compile(r"[部委局署院办会社]$|^全国|^中央")),
)
_UNIT_TYPES_LOCAL = (  # below the centre; the first match wins
    ("村社区", re.compile(r"(?:村|社区|居委会|村民委员会|居民委员会)$")),
    ("乡镇", re.compile(r"(?:乡|镇|街道)(?:办事处)?$")),
    ("高校", re.compile(r"大学$|学院$")),
    ("国有企业", re.compile(r"银行|保险|证券|集团|公司|有限")),
    ("其他", re.compile(r"医院$|学校$|[小中]学$")),
    ("部门", re.compile(r"[局厅委办部署处室]$|委员会$|中心$|工委$|机关$|法院$|检察院$|政府$")),
)


def find_team(opening: str, body: str) -> re.Match | None:
    return TEAM.search(opening) or TEAM.search(body)


def team_name(team: re.Match | None) -> str | None:
    return team[0] if team and "X" not in team[0] else None


def level(sender: str | None, word: str | None, opening: str = "", team: re.Match | None = None) -> str | None:
    if sender == "市委" and word == "巡视":
        return "provincial"
    if sender == "市委":  # 建德市委 is the committee of a county-level city
        # the place that names the sender: "上饶市委第二巡察组" (the sender 市委 starts at its 市)
        places = (team and committee_places(opening, before=team.start() + 1)) or committee_places(opening)
        if places and places[0].endswith("市") and division_rank(places[0]) == 2:
            return "county"
    return _SENDER_LEVEL.get(sender) if sender else None


def inspection_kind(text: str) -> str | None:
    for kind, pattern in _INSPECTION_KINDS:
        if pattern.search(text):
            return kind
    return None


def round_of(title: str, opening: str, body: str = "") -> tuple[re.Match | None, int | None, int | None]:
    """The round the title or opening names, else the first the text names (落实八届市委
    第一轮巡察反馈…, stated after the opening)."""
    match = ROUND.search(title) or ROUND.search(opening) or ROUND.search(body)
    if not match:
        return None, None, None
    return match, cn_to_int(match["term"]), cn_to_int(match["round"])


def normalize_unit(raw: str | None) -> str | None:
    if not raw:
        return None
    unit = _UNIT_PREFIX.sub("", _UNIT_ASIDES.sub("", raw).strip())
    suffix = _UNIT_SUFFIX.search(unit)
    if suffix and (suffix[0] != "委员会" or _PLACE_END.search(unit[: suffix.start()])):
        unit = unit[: suffix.start()]
    unit = _REGION_COMMITTEE.sub(r"\1", unit)
    if len(unit) < 2 or "X" in unit:  # redacted names are not facts
        return None
    return unit


def issuer(title: str) -> str | None:
    match = _TITLE_ISSUER.search(title)
    return normalize_unit(match["issuer"]) if match else None


def unit(clause: re.Match | None, title_issuer: str | None, text: str) -> str | None:
    """The inspected unit by its full name: the county or city prefix put back.

    The opening clause names it, often without its place ("对县农业农村局党组"); the
    title's issuer names it in full ("中共梅溪县农业农村局党组"), or the text names the
    committee of its place ("根据梅溪县委统一部署").
    """
    name = normalize_unit(clause["unit"]) if clause else None
    if name is None or _SELF_REFERENCE.match(name) or _FIELD.search(name):
        return title_issuer
    if title_issuer and title_issuer != name:
        prefix = title_issuer[: -len(name)] if title_issuer.endswith(name) else ""
        if prefix and re.search(r"(?:省|自治区|市|县|区|旗|州|盟|镇|乡|街道)$", prefix):
            return title_issuer  # 白沙镇 → 平阳县白沙镇
    bare = _BARE_LEVEL.match(name)
    if bare:
        level_char = bare[1]
        if title_issuer:
            place = re.match(rf"^[^\W\d_]{{1,8}}?{level_char}", title_issuer)
            if place and len(title_issuer) > len(place[0]):
                return title_issuer  # 县城投集团 → 安吉县城市建设投资集团有限公司
        place = next((p for p in committee_places(text) if p.endswith(level_char)), None)
        if place:
            return place + name[1:]
    return name


def unit_type(name: str | None, level_: str | None) -> str | None:
    if name is None:
        return None
    if level_ == "central":
        return next((t for t, pattern in _UNIT_TYPES_CENTRAL if pattern.search(name)), "其他")
    local = next((t for t, pattern in _UNIT_TYPES_LOCAL if pattern.search(name)), None)
    if local in ("村社区", "乡镇"):  # 南门社区 and 城关街道 end like districts do
        return local
    if _PLACE_ONLY.match(name) and not _ORGAN_WORDS.search(name):
        return _place_type(name, level_)
    return local or "其他"


def _place_type(name: str, level_: str | None) -> str:
    if re.search(r"(?:省|自治区)$", name):
        return "省区市"
    if re.search(r"(?:州|盟|地区)$", name):
        return "市州"
    if re.search(r"(?:县|区|旗)$", name):
        return "县区"
    rank = division_rank(name)  # a 市 is a prefecture or a county-level city
    if rank is not None:
        return {0: "省区市", 1: "市州", 2: "县区"}[rank]
    return "市州" if level_ in ("central", "provincial") else "县区"


_NATIONAL_TYPES = {"中央和国家机关", "中管企业", "中管金融企业", "中管高校"}


def province(name: str | None, type_: str | None, title_issuer: str | None, text: str,
             site_province: str | None) -> str | None:
    """Province of the unit: from its name, the title's issuer or the committee the text names,
    else from the site's profile; a national body's comes from its name only."""
    if type_ in _NATIONAL_TYPES:
        return province_of(name)
    for candidate in (name, title_issuer, *committee_places(text)[:3]):
        found = province_of(candidate, site_province)
        if found:
            return found
    return site_province
