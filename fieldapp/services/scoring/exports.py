"""The scores area's downloads, built from the same functions as the pages.

kind "scorecard"    one row per assessed secretary (`results`, as on the scores page):
                    the stable secretary id, components, total, grade, caps, status
kind "satisfaction" satisfaction and mass evaluation by secretary, village, town or
                    county: counts and secretary-level values from the same `results`
                    rows; indexes above the secretary pooled over the counted answers
kind "households"   household-level raw answers with their review, ID numbers masked
                    (staff and admins only); as CSV written by the database itself
                    (households_csv.py: COPY on PostgreSQL), the same bytes as these rows

Rows are lazy generators (services/exports.in_own_context): one county at a time, the
smallest unit that can be graded (the 20% cap ranks the whole county).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import String, cast, func, select

from ... import policy
from ...domain.grading import GRADE_LABELS
from ...extensions import db
from ...models import (County, Cycle, Draw, Household, SampleEntry, Town, User, Village,
                       VillageDraw, Visit)
from ...privacy import masked_for_export
from .. import instruments
from ..visits import FLAG_LABELS
from ..exports import Column, StreamedTable, in_own_context
from . import households_csv
from .inputs import check_scope, covered_county_ids
from .mass import pooled_fields
from .results import reasons_text, results, with_answers
from .settings import county_settings

LEVELS = ("secretary", "village", "town", "county")
KINDS = ("scorecard", "satisfaction", "households")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _t(msgid: str) -> str:
    return gettext(msgid)


def _grade_text(code: str | None) -> str:
    return _t(GRADE_LABELS[code]) if code else ""


def status_text(row: dict[str, Any]) -> str:
    return {"graded": _t("graded"), "incomplete": _t("incomplete"),
            "pending": _t("pending decision")}.get(row["status"], row["status"])


def grade_text(row: dict[str, Any]) -> str:
    if row["status"] == "pending":
        return _t("pending decision")  # 待定
    return _grade_text(row["grade"]) if row["status"] == "graded" else _t("incomplete")


def _mass_cell(value) -> Any:
    return value if value is not None else _t("incomplete")


def export_scope(actor, cycle, county_id: int | None) -> list[int]:
    """The counties an export covers: one county (county staff: their own by default), or
    every county of the cycle (those who export city-wide: admins)."""
    policy.authorize(actor, "export_scores")
    county_id = county_id if county_id is not None else actor.county_id
    if county_id is None:
        policy.authorize(actor, "export_scores", policy.CITY)
        policy.authorize(actor, "read_cycles", cycle)
        return covered_county_ids(cycle)
    check_scope(actor, "export_scores", cycle, county_id)
    return [county_id]


def _county_names(ids: list[int]) -> dict[int, str]:
    return dict(db.session.execute(select(County.id, County.name).where(County.id.in_(ids))).all())


def _reload(cycle_id: int, actor) -> tuple[Cycle, Any]:
    """The cycle and the acting user in the generator's own session (the system actor is
    not a row: it stays as it is)."""
    cycle = db.session.get(Cycle, cycle_id)
    return cycle, (actor if policy.is_system(actor) else db.session.get(User, actor.id))


def _preflight(cycle: Cycle, county_ids: list[int]) -> None:
    """Refuse a broken cycle configuration with a proper 422 before streaming starts:
    once the first bytes are sent, an error can only cut the file short."""
    for cid in county_ids:
        county_settings(cycle, cid)


SCORECARD_TITLES = ("County", "Town", "Village code", "Village", "Secretary ID", "First secretary",
                    "Work performance (0-60)", "Mass evaluation (0-20)", "Work discipline (0-10)",
                    "Work evaluation (0-10)", "Total", "Grade", "Capped by the 20% rule",
                    "Limited by spot checks", "Status", "Reasons", "Finalised")


def scorecard_table(actor, cycle, county_ids: list[int]) -> tuple[list[Column], Iterator[list]]:
    widths = {"County": 10, "Town": 12, "Village code": 16, "Village": 14, "Secretary ID": 10,
              "First secretary": 12, "Total": 10, "Grade": 12, "Capped by the 20% rule": 10,
              "Limited by spot checks": 12, "Status": 10, "Reasons": 40, "Finalised": 10}
    number = {"Work performance (0-60)", "Mass evaluation (0-20)", "Work discipline (0-10)",
              "Work evaluation (0-10)", "Total"}
    columns = [Column(_t(t), widths.get(t, 12), "0.00" if t in number else
                      ("0" if t == "Secretary ID" else None)) for t in SCORECARD_TITLES]
    names = _county_names(county_ids)
    _preflight(cycle, county_ids)
    cycle_id, who = cycle.id, actor

    def rows() -> Iterator[list]:
        for cid in county_ids:
            cycle, actor = _reload(cycle_id, who)
            res = results(actor, cycle, cid)
            for r in res["rows"]:
                yield [names.get(cid), r["town"], r["village_code"], r["village_name"],
                       r["secretary_id"], r["secretary_name"], r["work_performance"],
                       _mass_cell(r["mass_evaluation"]), r["work_discipline"],
                       r["work_evaluation"], r["total"], grade_text(r),
                       _t("yes") if r["capped"] else "",
                       _grade_text(r["residency_cap"]) if r["residency_cap"] else "",
                       status_text(r),
                       reasons_text(r["reasons"] + [m for m in r["mass_reasons"] if m not in r["reasons"]]),
                       _t("yes") if res["finalised"] else _t("no (provisional)")]
            del res
            db.session.expunge_all()
    return columns, in_own_context(rows)


def _group_key(level: str, county_name: str, r: dict[str, Any]) -> tuple:
    return {"secretary": (county_name, r["town"], r["village_code"], r["village_name"],
                          r["secretary_id"], r["secretary_name"]),
            "village": (county_name, r["town"], r["village_code"], r["village_name"]),
            "town": (county_name, r["town"]),
            "county": (county_name,)}[level]


def satisfaction_table(actor, cycle, county_ids: list[int], level: str) -> tuple[list[Column], Iterator[list]]:
    key_columns = {
        "secretary": [Column(_t("County"), 10), Column(_t("Town"), 12), Column(_t("Village code"), 16),
                      Column(_t("Village"), 14), Column(_t("Secretary ID"), 10, "0"),
                      Column(_t("First secretary"), 12)],
        "village": [Column(_t("County"), 10), Column(_t("Town"), 12), Column(_t("Village code"), 16),
                    Column(_t("Village"), 14)],
        "town": [Column(_t("County"), 10), Column(_t("Town"), 12)],
        "county": [Column(_t("County"), 10)],
    }[level]
    value_columns = [
        Column(_t("Secretaries"), 10, "0"), Column(_t("Mass evaluation complete"), 10, "0"),
        Column(_t("Mass evaluation (0-20)") if level == "secretary" else _t("Mean mass evaluation (0-20)"), 12, "0.00"),
        Column(_t("Household index (0-100)"), 12, "0.00"), Column(_t("Household satisfaction rate"), 12, "0.0%"),
        Column(_t("Completed visits"), 10, "0"),
        Column(_t("Meeting index (0-100)"), 12, "0.00"), Column(_t("Meeting satisfaction rate"), 12, "0.0%"),
        Column(_t("Ballots"), 10, "0")]
    names = _county_names(county_ids)
    _preflight(cycle, county_ids)
    cycle_id, who = cycle.id, actor

    def rows() -> Iterator[list]:
        for cid in county_ids:
            cycle, actor = _reload(cycle_id, who)
            # the rows the scores page and scorecard show
            res = results(actor, cycle, cid, answers=level != "secretary")
            if level == "secretary":
                for r in res["rows"]:
                    yield [*_group_key(level, names.get(cid), r), 1,
                           int(r["mass_evaluation"] is not None), _mass_cell(r["mass_evaluation"]),
                           r["household_index"], r["household_satisfied_share"], r["n_visits"],
                           r["meeting_index"], r["meeting_satisfied_share"], r["n_ballots"]]
            else:
                loaded, outcome = with_answers(cycle, cid, res)
                by_id = {o.secretary_id: o for o in outcome.secretaries}
                groups: dict[tuple, list[dict]] = {}
                for r in res["rows"]:
                    groups.setdefault(_group_key(level, names.get(cid), r), []).append(r)
                for key, group in groups.items():
                    p = pooled_fields(loaded.input, [by_id[r["secretary_id"]] for r in group
                                                     if r["secretary_id"] in by_id], group)
                    mean = p["mean_mass_evaluation"]
                    yield [*key, p["n_secretaries"], p["n_complete"],
                           mean if mean is not None else _t("incomplete"), p["household_index"],
                           p["household_satisfied_share"], p["n_visits"], p["meeting_index"],
                           p["meeting_satisfied_share"], p["n_ballots"]]
            del res
            db.session.expunge_all()
    return key_columns + value_columns, in_own_context(rows)


def _local_minute_text(dialect: str, column):
    """A UTC timestamp column as 'YYYY-MM-DD HH:MM' in Asia/Shanghai, computed in SQL
    (China has kept UTC+8 without daylight saving since 1991)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM-DD HH24:MI")
    return func.strftime("%Y-%m-%d %H:%M", column, "+8 hours")


REVIEW_LABELS = {"pending": "not reviewed", "approved": "approved", "rejected": "rejected"}


def _household_items() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]], dict[str, str]]:
    """The household visit instrument's items (id, label), option labels, titles (zh)."""
    items: list[tuple[str, str]] = []
    option_labels: dict[str, dict[str, str]] = {}
    titles: dict[str, str] = {}
    for ins in instruments.all_instruments():
        if ins.id != "household_visit":
            continue
        titles[ins.id] = ins.title.get("zh") or ins.id
        for i in ins.items:
            if i.id not in dict(items):
                items.append((i.id, i.label.get("zh") or i.id))
            for o in ins.options_of(i):
                option_labels.setdefault(i.id, {})[o.code] = o.label.get("zh") or o.code
    return items, option_labels, titles


@dataclass(frozen=True)
class _HouseholdWords:
    """Everything the households export turns from codes into words, read once in the
    request (its locale)."""
    items: list[tuple[str, str]]
    option_labels: dict[str, dict[str, str]]
    titles: dict[str, str]
    review: dict[str, str]
    role: dict[str, str]
    flag: dict[str, str]


def _household_words() -> _HouseholdWords:
    items, option_labels, titles = _household_items()
    return _HouseholdWords(items, option_labels, titles,
                           review={k: _t(v) for k, v in REVIEW_LABELS.items()},
                           role={"sample": _t("Sample"), "reserve": _t("Reserve")},
                           flag={code: str(label) for code, label in FLAG_LABELS.items()})


def _household_joins(stmt, cycle_id: int, county_ids: list[int]):
    return (stmt.join(SampleEntry, Visit.sample_entry_id == SampleEntry.id)
            .join(VillageDraw, SampleEntry.village_draw_id == VillageDraw.id)
            .join(Draw, VillageDraw.draw_id == Draw.id)
            .join(Household, SampleEntry.household_id == Household.id)
            .join(Village, Visit.village_id == Village.id)
            .join(Town, Village.town_id == Town.id)
            .where(Visit.cycle_id == cycle_id, Draw.status == "active",
                   VillageDraw.status == "active", Village.county_id.in_(county_ids)))


def households_table(actor, cycle, county_ids: list[int]) -> tuple[list[Column], StreamedTable]:
    """Household-level answers (staff and admins only): ID numbers always masked.

    Two ways to the same rows: a Python row generator (XLSX, and the reference), and for
    CSV the whole table written by the database (households_csv.py): the same bytes."""
    for county_id in county_ids:
        check_scope(actor, "export_scores", cycle, county_id)
    words = _household_words()
    items = words.items
    columns = [Column(_t("County"), 10), Column(_t("Town"), 12), Column(_t("Village code"), 16),
               Column(_t("Village"), 14), Column(_t("Household number"), 18),
               Column(_t("Head of household"), 10), Column(_t("ID number (masked)"), 20),
               Column(_t("Role in the draw"), 10), Column(_t("Visited at"), 18),
               Column(_t("Instrument"), 18)] + [Column(label, 16) for _id, label in items] + [
               Column(_t("Quality flags"), 20), Column(_t("Review"), 10),
               Column(_t("Visit note"), 30)]
    names = _county_names(county_ids)
    engine = db.engine  # the generator runs after the request: it uses its own connection
    # The database does the per-row work it does fastest: local time as text, each answer
    # as its own column, flags as text ("[]" for most); Python maps labels and masks IDs.
    cols = (_local_minute_text(engine.dialect.name, Visit.started_at), Visit.instrument_id,
            Visit.instrument_version, *[Visit.answers[item_id].as_string() for item_id, _l in items],
            cast(Visit.flags, String), Visit.review_status, Visit.note, Household.household_no,
            Household.head_name, Household.id_number, Village.county_id, Village.code,
            Village.name, Town.name, SampleEntry.role)
    stmt = (_household_joins(select(*cols), cycle.id, county_ids)
            .order_by(Village.county_id, Village.code, Household.household_no, Visit.id))
    labels = [words.option_labels.get(item_id, {}) for item_id, _l in items]
    n_items = len(items)
    role_text, review_text, titles = words.role, words.review, words.titles

    def flags_cell(flags: str | None) -> str:
        if not flags or flags == "[]":
            return ""
        return "、".join(words.flag.get(f.get("code"), f.get("code", "")) for f in json.loads(flags))

    def rows() -> Iterator[list]:
        # A server-side cursor read in chunks: memory stays flat however many visits.
        with engine.connect() as conn:
            result = conn.execution_options(yield_per=5000).execute(stmt)
            for row in result:
                visited, iid, ver = row[0], row[1], row[2]
                answers = row[3:3 + n_items]
                (flags, review, note, household_no, head_name, id_number, county_id, code,
                 vname, town, role) = row[3 + n_items:]
                yield [names.get(county_id), town, code, vname, household_no, head_name,
                       masked_for_export(id_number),  # never full ID numbers
                       role_text.get(role, role), visited, f"{titles.get(iid, iid)} v{ver}",
                       *[lab.get(a, a) if isinstance(a, str) else a
                         for lab, a in zip(labels, answers)],
                       flags_cell(flags), review_text.get(review, review), note]

    csv_sql = households_csv.export_sql(engine, words, _household_joins, cycle.id, county_ids)
    return columns, StreamedTable(rows, lambda: households_csv.csv_body(engine, csv_sql))
