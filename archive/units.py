"""Units as entities: every entry notice, feedback notice, report and 回头看 of one unit, by inspection.

``units`` holds each inspected unit once, by its canonical name, with its former
and short names in ``unit_aliases`` (from ``unit_names.csv``, a reference table of
renames with the dates they took effect and a source for each, and from the names
the texts give).  ``unit_events`` links every canonical text — a report
(``disclosures``), an entry or a feedback notice (parsed by
:mod:`pipelines.disclosure.notices`) — to its unit, named as the text names it;
a name that fits more than one unit, or says no place (``县林业局``), is linked to
none and marked ``ambiguous`` with its candidates: never guessed.  ``inspections``
groups a unit's events into one inspection each (entry → feedback → reports; a
回头看 apart), with the deadline for its report where a rule is known
(``report_deadlines.csv``).

Everything here is computed from the stored rows by :func:`refresh` when a writer
closes the archive (import, crawl, rebuild), and written in one transaction: readers
see the previous links or the new ones, never a half.  A writer that changed
nothing refresh reads (:data:`SOURCES`) closes without it; one that did derives from
a snapshot and takes the write lock only to write what changed
(:func:`refresh_if_changed`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from sqlite_utils import Database

from pipelines.disclosure import parties
from pipelines.disclosure.notices import NOTICE_TYPES, parse_notice

from . import labels

UNIT_NAMES_CSV = Path(__file__).with_name("unit_names.csv")
# Units a central round's announcement names, with its source: an inspection is on
# record for them even when the archive holds none of their texts.
ROUND_UNITS_CSV = Path(__file__).with_name("round_units.csv")
_SAME_INSPECTION_DAYS = 400  # an event of no stated round joins an inspection at most this long after its last event
_RECENT_INSPECTIONS = 8
DEADLINES_CSV = Path(__file__).with_name("report_deadlines.csv")

UNITS = {"id": str, "name": str, "unit_type": str, "level": str, "province": str, "parent_id": str, "source": str}
UNIT_ALIASES = {"unit_id": str, "alias": str, "valid_from": str, "valid_until": str, "source": str, "note": str}
UNIT_EVENTS = {
    "id": str, "document_id": str, "unit_id": str, "named_as": str, "link": str, "candidates": str,
    "role": str, "level": str, "kind": str, "inspection_kind": str, "round_id": str, "round_label": str,
    "team": str, "event_date": str, "published_at": str, "inspection_id": str, "site": str,
}
INSPECTIONS = {
    "id": str, "unit_id": str, "named_as": str, "level": str, "round_id": str, "round_label": str,
    "lookback": int, "entry_date": str, "feedback_date": str, "first_report_at": str, "reports": int,
    "deadline_days": int, "due_date": str, "deadline_source": str, "listed_by": str,
}
REPORT_DEADLINES = {"level": str, "kind": str, "days": int, "rule": str, "source": str}
ROLES = ("entry", "feedback", "report")  # the order of an inspection's events on one day
_ROLE_OF = {"entry_notice": "entry", "feedback_notice": "feedback", "rectification_report": "report"}
_BARE_PLACE = ("县", "市", "区", "省", "镇", "乡")  # 县林业局: which county is not said


def unit_id(name: str) -> str:
    """A stable id from the canonical name (lower-case hex)."""
    return hashlib.sha1(name.encode("utf-8")).hexdigest()[:12]


DERIVED = {"units": UNITS, "unit_aliases": UNIT_ALIASES, "unit_events": UNIT_EVENTS, "inspections": INSPECTIONS,
           "report_deadlines": REPORT_DEADLINES}
KEYS = {"units": ("id",), "unit_aliases": ("unit_id", "alias"), "unit_events": ("id",), "inspections": ("id",),
        "report_deadlines": ("level", "kind")}


# What refresh() reads, as a counter that triggers move: a page stored or deleted, a change to what
# a text is (its id, copy group, type, date, site, title, text), a report's row, a round.  Beside it,
# the counter and the code (derivation()) the derived tables were last made from.  A writer that
# moved neither (a scheduled crawl that found nothing new) closes without deriving everything again
# (41-58 s at 1,000,000 reports).  The counter is also what tells a derivation made from a
# snapshot that a writer stored something since (refresh_if_changed).
_TEXT_CHANGED = "begin update units_sources set texts = texts + 1; end;"
SOURCES = f"""
create table if not exists units_sources (texts integer not null, refreshed_texts integer, refreshed_by integer);
insert into units_sources (texts) select 0 where not exists (select 1 from units_sources);
create trigger if not exists units_page_stored after insert on documents {_TEXT_CHANGED}
create trigger if not exists units_page_deleted after delete on documents {_TEXT_CHANGED}
create trigger if not exists units_text_changed
after update of id, canonical_id, doc_type, published_at, site, title, body_text on documents
when old.id is not new.id or old.canonical_id is not new.canonical_id or old.doc_type is not new.doc_type
  or old.published_at is not new.published_at or old.site is not new.site or old.title is not new.title
  or old.body_text is not new.body_text {_TEXT_CHANGED}
""" + "".join(
    f"create trigger if not exists units_{table}_{done} after {verb} on {table} {_TEXT_CHANGED}\n"
    for table in ("disclosures", "rounds")
    for verb, done in (("insert", "inserted"), ("update", "updated"), ("delete", "deleted")))


def create(db: Database) -> None:
    # Every row here is derived by refresh(): a table of an older shape is made again, not migrated.
    for table, columns in DERIVED.items():
        if table in db.table_names() and set(db[table].columns_dict) != set(columns):
            db[table].drop()
    for table, columns in DERIVED.items():
        keys = KEYS[table]
        db[table].create(columns, pk=keys[0] if len(keys) == 1 else keys, if_not_exists=True)
    for table, columns in (("unit_events", ["unit_id"]), ("unit_events", ["document_id"]),
                           ("unit_events", ["inspection_id"]), ("inspections", ["unit_id"]),
                           ("unit_aliases", ["alias"])):
        db[table].create_index(columns, if_not_exists=True)
    if {"documents", "disclosures", "rounds"} <= set(db.table_names()):  # an archive, not a bare test database
        db.executescript(SOURCES)


@lru_cache(maxsize=1)
def _derivation_code() -> str:
    import inspect
    import sys

    from pipelines.disclosure import notices, rounds

    return "".join(inspect.getsource(module) for module in (sys.modules[__name__], notices, parties, rounds))


def derivation() -> int:
    """A fingerprint of what derives the tables: this code, the parsers it calls and the reference tables."""
    made_by = _derivation_code() + "".join(path.read_text(encoding="utf-8") for path in (UNIT_NAMES_CSV, ROUND_UNITS_CSV, DEADLINES_CSV))
    return zlib.crc32(made_by.encode("utf-8")) & 0x7FFFFFFF


def _reference() -> list[dict]:
    with UNIT_NAMES_CSV.open(encoding="utf-8") as f:
        return [{k: (v or None) for k, v in row.items()} for row in csv.DictReader(f)]


def deadlines() -> list[dict]:
    with DEADLINES_CSV.open(encoding="utf-8") as f:
        return [{**row, "days": int(row["days"])} for row in csv.DictReader(f)]


def _round_label(level, kind, term, round_, round_id, lookback, province=None) -> str:
    """``19届中央第6轮巡视 (19-6)``, ``浙江省 14届省级第3轮巡视``, ``县级巡察（轮次未载明）``: one vocabulary
    for the ledger, the lag query and the dashboard, two provinces' rounds told apart."""
    level_label = labels.label("levels", level) or "?"
    if round_:
        label = f"{f'{term}届' if term else ''}{level_label}第{round_}轮{kind or ''}"
    else:
        label = f"{level_label}{kind or ''}（轮次未载明）"
    if round_id:
        label += f" ({round_id})"
    elif province and level != "central":
        label = f"{province} {label}"
    return label + (" 回头看" if lookback else "")


def _round_key(level, term, round_, round_id, inspection_kind):
    if round_id:
        return round_id + ("/回头看" if inspection_kind == "回头看" else "")
    if round_:
        return f"{level}:{term or '?'}-{round_}" + ("/回头看" if inspection_kind == "回头看" else "")
    return None


def _events(db: Database) -> list[dict]:
    """Every canonical report and notice, with the unit it names (not yet resolved)."""
    events = []
    reports = db.execute(
        """select d.document_id, d.unit, d.unit_type, d.province, d.level, d.kind, d.inspection_kind, d.term,
                  d.round, d.round_id, d.team, d.feedback_date, d.inspection_start, doc.published_at, doc.site
           from disclosures d join documents doc on doc.id = d.document_id
           where d.is_canonical and not d.is_template"""
    ).fetchall()
    for (document_id, unit, unit_type, province, level, kind, inspection_kind, term, round_, round_id, team,
         feedback, start, published, site) in reports:
        events.append({
            "document_id": document_id, "named_as": unit, "unit_type": unit_type, "province": province,
            "role": "report", "level": level, "kind": kind, "inspection_kind": inspection_kind, "term": term,
            "round": round_, "round_id": round_id, "team": team, "event_date": (published or "")[:10] or None,
            "published_at": published, "site": site, "stated_feedback": feedback, "stated_entry": start,
        })
    notices = db.execute(
        f"""select id, title, body_text, doc_type, published_at, site from documents
            where doc_type in ({', '.join('?' * len(NOTICE_TYPES))}) and coalesce(canonical_id, id) = id""",
        list(NOTICE_TYPES),
    ).fetchall()
    from pipelines.disclosure.rounds import round_id_for

    for document_id, title, body, doc_type, published, site in notices:
        notice = parse_notice(title or "", body or "", doc_type)
        for name in notice["units"] or [None]:
            events.append({
                "document_id": document_id, "named_as": name, "unit_type": None, "province": None,
                "role": _ROLE_OF[doc_type], "level": notice["level"], "kind": notice["kind"],
                "inspection_kind": notice["inspection_kind"], "term": notice["term"], "round": notice["round"],
                "round_id": round_id_for(notice["term"], notice["round"]) if notice["level"] == "central" else None,
                "team": notice["team"], "event_date": notice["event_date"] or (published or "")[:10] or None,
                "published_at": published, "site": site, "stated_date": notice["event_date"],
            })
    return events


class _Names:
    """Names → units: the reference renames first, then each name a text gives."""

    def __init__(self):
        self.units: dict[str, dict] = {}
        self.aliases: dict[str, list[dict]] = defaultdict(list)
        for row in _reference():
            uid = unit_id(row["unit"])
            self.units.setdefault(uid, {"id": uid, "name": row["unit"], "unit_type": row["unit_type"],
                                        "level": None, "province": None, "parent_id": None, "source": "reference"})
            self.aliases[row["alias"]].append({
                "unit_id": uid, "alias": row["alias"], "valid_from": row["valid_from"],
                "valid_until": row["valid_until"], "source": row["source"], "note": row["note"],
            })

    def resolve(self, event: dict) -> tuple[str | None, str, list[str]]:
        """(unit id, link, candidates): link is linked, ambiguous or unnamed."""
        name = event["named_as"]
        if not name:
            return None, "unnamed", []
        if name.startswith(_BARE_PLACE) and not name.startswith("市辖"):
            return None, "ambiguous", []
        known = self.aliases.get(name)
        if not known:
            uid = unit_id(name)
            self.units.setdefault(uid, {"id": uid, "name": name, "unit_type": None, "level": None, "province": None,
                                        "parent_id": None, "source": "texts"})
            self.aliases[name].append({"unit_id": uid, "alias": name, "valid_from": None, "valid_until": None,
                                       "source": "texts", "note": None})
            known = self.aliases[name]
        candidates = sorted({a["unit_id"] for a in known})
        if len(candidates) > 1:
            on = event["event_date"]  # an undated text cannot be told apart by the names' dates
            fitting = sorted({a["unit_id"] for a in known if on
                              and (not a["valid_from"] or a["valid_from"] <= on) and (not a["valid_until"] or on < a["valid_until"])})
            if len(fitting) != 1:
                return None, "ambiguous", candidates
            candidates = fitting
        return candidates[0], "linked", candidates


def _facts(names: _Names, events: list[dict]) -> None:
    """A unit's type, level and province: from the reference, else the most frequent among its reports."""
    seen: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for event in events:
        if event["unit_id"]:
            for key in ("unit_type", "level", "province"):
                if event.get(key):
                    seen[event["unit_id"]][key].append(event[key])
    for uid, unit in names.units.items():
        for key in ("unit_type", "level", "province"):
            values = seen[uid][key]
            if not unit[key] and values:
                unit[key] = "central" if key == "level" and "central" in values else max(set(values), key=values.count)
        if not unit["unit_type"] and unit["level"]:  # a unit only a round's announcement names
            unit["unit_type"] = parties.unit_type(unit["name"], unit["level"])
    places = {u["name"]: uid for uid, u in names.units.items() if u["unit_type"] in ("省区市", "市州", "县区", "乡镇")}
    for unit in names.units.values():  # the longest place name that starts this name
        name = unit["name"]
        unit["parent_id"] = next((places[name[:n]] for n in range(len(name) - 1, 1, -1) if name[:n] in places), None)


@lru_cache(maxsize=4096)
def _day(value: str) -> date:
    """A date as precise as the evidence (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD…``), at its first day."""
    value = value[:10]
    return date.fromisoformat(value + {4: "-01-01", 7: "-01"}.get(len(value), ""))


def _days_between(first: str, then: str) -> int:
    return (_day(then) - _day(first)).days


def _inspections(events: list[dict], rules: dict) -> list[dict]:
    """Group each unit's events into inspections: entry → feedback → reports, 回头看 apart."""
    by_unit = defaultdict(list)
    for event in events:
        # A name linked to no unit groups only with the same name on the same site (a county's 县林业局).
        key = event["unit_id"] or ("?", event["named_as"] or event["document_id"], event["site"])
        by_unit[(key, event["level"])].append(event)
    found = []
    for (key, level), unit_events in by_unit.items():
        open_: list[dict] = []
        by_round: dict[str, dict] = {}
        for event in sorted(unit_events, key=lambda e: (e["event_date"] or "9999", ROLES.index(e["role"]))):
            round_key = _round_key(level, event["term"], event["round"], event["round_id"], event["inspection_kind"])
            lookback = int(event["inspection_kind"] == "回头看")
            stages = {"entry": (), "feedback": ("entry",), "report": ("entry", "feedback", "report")}[event["role"]]
            target = None
            # The latest first (inspections are opened in date order), and only the last few: a unit
            # is inspected a few times a decade, a round's events come within months.
            for inspection in reversed(open_[-_RECENT_INSPECTIONS:]):
                last = inspection["events"][-1]["event_date"]
                if last and event["event_date"] and _days_between(last, event["event_date"]) > _SAME_INSPECTION_DAYS:
                    break
                if (inspection["lookback"] == lookback and inspection["stage"] in stages
                        and (round_key is None or inspection["round_key"] in (None, round_key))):
                    target = inspection
                    break
            if target is None and round_key:
                target = by_round.get(round_key)
            if target is None:
                target = {"events": [], "round_key": None, "lookback": lookback, "stage": None, "level": level,
                          "unit_id": event["unit_id"], "named_as": event["named_as"], "group": key}
                open_.append(target)
            target["events"].append(event)
            target["round_key"] = target["round_key"] or round_key
            if target["round_key"]:
                by_round.setdefault(target["round_key"], target)
            target["stage"] = max(target["stage"] or event["role"], event["role"], key=ROLES.index)
        found.extend(open_)
    rows = []
    for inspection in found:
        events_ = inspection["events"]
        first = events_[0]
        labelled = next((e for e in events_ if e["round"] or e["round_id"]), first)
        # The days the texts state: a notice's publication orders the timeline, but is not the day
        # of the feedback (nor of the entry), and a deadline counted from it would be a guess.
        feedback = next((e["stated_date"] for e in events_ if e["role"] == "feedback" and e.get("stated_date")), None) or next(
            (e.get("stated_feedback") for e in events_ if e.get("stated_feedback")), None)
        entry = next((e["stated_date"] for e in events_ if e["role"] == "entry" and e.get("stated_date")), None) or next(
            (e.get("stated_entry") for e in events_ if e.get("stated_entry")), None)
        reports = [e["event_date"] for e in events_ if e["role"] == "report"]
        dated = sorted(day for day in reports if day)  # an undated report is counted, never taken for the first
        rule = rules.get((inspection["level"], first["kind"]))
        due = None
        if rule and feedback and len(feedback) == 10:
            due = (date.fromisoformat(feedback) + timedelta(days=rule["days"])).isoformat()
        when = inspection["round_key"] or entry or feedback or events_[0]["document_id"]
        identity = f"{inspection['group']}|{inspection['level']}|{when}|{inspection['lookback']}"
        row = {
            "id": hashlib.sha1(identity.encode("utf-8")).hexdigest()[:12],
            "unit_id": inspection["unit_id"], "named_as": inspection["named_as"], "level": inspection["level"],
            "round_id": labelled["round_id"],
            "round_label": _round_label(inspection["level"], labelled["kind"], labelled["term"], labelled["round"],
                                        labelled["round_id"], inspection["lookback"],
                                        next((e["province"] for e in events_ if e.get("province")), None)),
            "lookback": inspection["lookback"], "entry_date": entry, "feedback_date": feedback,
            "first_report_at": dated[0] if dated else None, "reports": len(reports),
            "deadline_days": rule["days"] if rule else None, "due_date": due,
            "deadline_source": rule["source"] if rule else None, "listed_by": None,
        }
        rows.append(row)
        for event in events_:
            event["inspection_id"] = row["id"]
            event["round_label"] = row["round_label"]
    return rows


def _listed(db: Database, names: _Names, inspections: list[dict]) -> list[dict]:
    """The rounds' announcements (``round_units.csv``): each listed unit's inspection of that round is
    marked with its source, or recorded without texts when the archive holds none of them."""
    rounds = {r[0]: r[1:] for r in db.execute("select round_id, term, round, inspection_start from rounds")}
    with ROUND_UNITS_CSV.open(encoding="utf-8") as f:
        listed = list(csv.DictReader(f))
    added = []
    for row in listed:
        term, round_, start = rounds.get(row["round_id"], (None, None, None))
        uid, link, _ = names.resolve({"named_as": row["unit"], "event_date": start})
        if link != "linked":
            continue
        names.units[uid]["level"] = names.units[uid]["level"] or "central"
        names.units[uid]["source"] = "reference" if names.units[uid]["source"] == "reference" else "texts+reference"
        known = next((i for i in inspections + added if i["unit_id"] == uid and i["round_id"] == row["round_id"]), None)
        if known is None:
            identity = f"{uid}|central|{row['round_id']}|0"
            known = {
                "id": hashlib.sha1(identity.encode("utf-8")).hexdigest()[:12], "unit_id": uid, "named_as": row["unit"],
                "level": "central", "round_id": row["round_id"],
                "round_label": _round_label("central", "巡视", term, round_, row["round_id"], 0),
                "lookback": 0, "entry_date": start, "feedback_date": None, "first_report_at": None, "reports": 0,
                "deadline_days": None, "due_date": None, "deadline_source": None,
            }
            added.append(known)
        known["listed_by"] = row["source"]
    return added


def _digest(values: tuple) -> bytes:
    return hashlib.blake2b(repr(values).encode("utf-8"), digest_size=16).digest()


def _changes(db: Database, table: str, rows) -> tuple[list[tuple], list[tuple]]:
    """What makes ``table`` hold exactly ``rows`` (value tuples in :data:`DERIVED`'s order; the last
    of a key wins): the keys to delete and the rows to write, only those that differ from the rows
    it holds — a crawl changes a few of a million (at 1,000,000 reports a refresh with one text
    changed took 51-54 s rewriting them all, 39-40 s writing the changes).  A held row is kept as a
    128-bit digest, not its values: with the events freed first (derive()), a refresh at 1,000,000
    reports peaks at 2.5 GB instead of 4.2."""
    names, keys = list(DERIVED[table]), KEYS[table]
    at = [names.index(key) for key in keys]
    wanted = {tuple(values[i] for i in at): values for values in rows}
    held = {tuple(values[i] for i in at): _digest(values) for values in db.execute(f"select {', '.join(names)} from [{table}]")}
    return ([key for key in held if key not in wanted],
            [values for key, values in wanted.items() if held.get(key) != _digest(values)])


def _values(table: str, rows) -> list[tuple]:
    """Rows as dicts → value tuples in the table's column order."""
    return [tuple(row.get(name) for name in DERIVED[table]) for row in rows]


@dataclass
class Derived:
    """The derived tables' changes, as computed from the archive when its sources stood at ``stamp``
    (``units_sources``: the texts' counter, and the counter and code of the last refresh)."""

    stamp: tuple
    changes: dict[str, tuple[list[tuple], list[tuple]]]
    figures: dict[str, int]


def _stamp(db: Database) -> tuple:
    return tuple(db.execute("select texts, refreshed_texts, refreshed_by from units_sources").fetchone())


def derive(db: Database) -> Derived:
    """Link every canonical text to its unit and inspection again; only reads (a snapshot will do)."""
    stamp = _stamp(db)
    names = _Names()
    events = _events(db)
    for event in events:
        event["unit_id"], event["link"], candidates = names.resolve(event)
        event["candidates"] = json.dumps(candidates, ensure_ascii=False) if event["link"] == "ambiguous" and candidates else None
    rules = {(r["level"], r["kind"]): r for r in deadlines()}
    inspections = _inspections(events, rules)
    inspections += _listed(db, names, inspections)
    _facts(names, events)
    figures = {"units": len(names.units), "events": len(events), "inspections": len(inspections),
               "ambiguous": sum(e["link"] == "ambiguous" for e in events)}
    for event in events:
        event["id"] = f"{event['document_id']}-{unit_id(event['named_as'] or '')[:6]}"
    event_rows = _values("unit_events", events)
    del events  # as many as the texts: gone before the held rows are read
    tables = {
        "units": _values("units", names.units.values()),
        "unit_aliases": _values("unit_aliases", (a for aliases in names.aliases.values() for a in aliases)),
        "unit_events": event_rows,
        "inspections": _values("inspections", inspections),
        "report_deadlines": _values("report_deadlines", deadlines()),
    }
    return Derived(stamp, {table: _changes(db, table, rows) for table, rows in tables.items()}, figures)


def write(db: Database, derived: Derived) -> bool:
    """Write ``derived``'s changes — unless a writer moved the sources or the tables since it was
    derived (False: nothing written).  The caller holds one write transaction."""
    if _stamp(db) != derived.stamp:
        return False
    # Plain statements in the caller's transaction (sqlite-utils' inserts would commit on their own).
    for table, (deleted, rows) in derived.changes.items():
        names, keys = list(DERIVED[table]), KEYS[table]
        match = " and ".join(f"[{key}] = ?" for key in keys)
        db.conn.executemany(f"delete from [{table}] where {match}", deleted)
        db.conn.executemany(f"insert or replace into [{table}] ({', '.join(names)}) values ({', '.join('?' * len(names))})", rows)
    db.execute("update units_sources set refreshed_texts = texts, refreshed_by = ?", [derivation()])
    return True


def refresh(db: Database) -> dict[str, int]:
    """Link every canonical text to its unit and inspection again; the caller holds one write transaction."""
    derived = derive(db)
    write(db, derived)
    return derived.figures


def _current(stamp: tuple) -> bool:
    texts, refreshed_texts, refreshed_by = stamp
    return texts == refreshed_texts and refreshed_by == derivation()


# Tries at deriving from a snapshot, outside the write lock, before deriving under it: a writer storing
# pages all along (a long crawl) would make every snapshot stale by the time it is derived.
_SNAPSHOT_TRIES = 2


def refresh_if_changed(db: Database, transaction) -> dict[str, int] | None:
    """:func:`refresh`, unless the texts and the code are those the tables were last derived from
    (then None).  Derived from a snapshot, without the write lock — at 1,000,000 reports that takes
    41-58 s, and another writer waits at most 120 s; under it the close held the lock 42-108 s — then
    written in ``transaction()`` (one write transaction, under 5 ms for one text changed) if no writer
    moved the sources meanwhile; else derived again."""
    tries = 0 if db.conn.in_transaction else _SNAPSHOT_TRIES  # inside a caller's write: derived in it
    for _ in range(tries):
        db.conn.execute("begin")  # deferred: a read snapshot (WAL), no lock another writer waits on
        try:
            stamp = _stamp(db)
            derived = None if _current(stamp) else derive(db)
        finally:
            db.conn.rollback()
        if derived is None:
            return None
        with transaction():
            if write(db, derived):
                return derived.figures
    with transaction():
        return None if _current(_stamp(db)) else refresh(db)
