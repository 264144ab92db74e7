"""Streaming CSV and XLSX downloads that open correctly in Excel, in Chinese.

Generic writers anyone may reuse:
- `csv_response(filename, columns, rows)`: UTF-8 with a BOM (Excel then reads Chinese
  correctly), a generator response, so memory stays flat however many rows;
- `xlsx_response(filename, sheet, columns, rows)`: an openpyxl write-only workbook (rows
  go to a temporary file as they come, not into memory), frozen header, column widths and
  number formats, then streamed from that file in chunks;
- `neutralise(value)`: text cells starting with = + - @ (or a tab / carriage return) get a
  leading apostrophe, so Excel never runs them as formulas (CSV injection). Numbers are
  written as numbers and never touched.

`rows` is any iterable of sequences (a generator over a `yield_per` query is ideal); for
CSV it is consumed after the view returned, inside the request context that
`stream_with_context` keeps alive (same session, same locale). The area-specific tables
(scores, satisfaction, households) are built at the bottom, as lazy generators.
"""
from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterable, Iterator, Sequence
from urllib.parse import quote

from flask import Response, current_app, has_app_context

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Column:
    title: str
    width: float = 14
    number_format: str | None = None  # e.g. "0.00", "0.0%", "0"


def neutralise(value: Any) -> Any:
    """Make a cell safe for spreadsheets: text starting with a formula character is
    prefixed with an apostrophe; other values are returned unchanged."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def in_own_context(make_rows: Callable[[], Iterator[Any]]) -> Iterator[Any]:
    """Run a lazy row generator in an application context of its own (its own database
    session), in the locale of the current request, so it can query chunk by chunk while
    the response streams, after the request context has been torn down.

    The context is pushed when the first row is asked for and popped when the generator
    ends or is closed (a client that disconnects closes it). Between two rows it stays
    the current context of the thread that iterates, which is the WSGI server writing.
    `make_rows` must load what it needs by id: objects of the request's session are
    detached by then."""
    from flask_babel import force_locale, get_locale

    app = current_app._get_current_object()
    locale = str(get_locale() or "zh_Hans") if has_app_context() else "zh_Hans"

    def run() -> Iterator[Any]:
        with app.app_context(), force_locale(locale):
            yield from make_rows()

    return run()


def _csv_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return neutralise(str(value)) if not isinstance(value, int) else value


def csv_chunks(columns: Sequence[Column], rows: Iterable[Sequence[Any]],
               rows_per_chunk: int = 500) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([neutralise(c.title) for c in columns])
    n = 0
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        n += 1
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Response:
    """A generator response. The body is produced after the view returned and its request
    context is gone: `rows` must bring its own context if it queries as it goes (see
    `in_own_context`, used by `scorecard_table` and `satisfaction_table`)."""
    return Response(csv_chunks(columns, rows), mimetype=CSV_MIMETYPE,
                    headers={"Content-Disposition": _disposition(filename),
                             "Cache-Control": "no-store"})


def write_xlsx(fh, sheet_title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title[:31] or "Sheet1")
    ws.freeze_panes = "A2"
    for i, col in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    bold = Font(bold=True)
    header = []
    for col in columns:
        cell = WriteOnlyCell(ws, value=neutralise(col.title))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for row in rows:
        out = []
        for col, value in zip(columns, row):
            if isinstance(value, bool):
                value = int(value)
            cell = WriteOnlyCell(ws, value=neutralise(value))
            if col.number_format and isinstance(value, (int, float)):
                cell.number_format = col.number_format
            out.append(cell)
        ws.append(out)
    wb.save(fh)


def xlsx_response(filename: str, sheet_title: str, columns: Sequence[Column],
                  rows: Iterable[Sequence[Any]]) -> Response:
    """Build the workbook into a temporary file (write-only: flat memory), then stream it."""
    fh = tempfile.TemporaryFile()
    write_xlsx(fh, sheet_title, columns, rows)
    size = fh.tell()
    fh.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while True:
                data = fh.read(CHUNK)
                if not data:
                    break
                yield data
        finally:
            fh.close()

    return Response(chunks(), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": _disposition(filename),
                             "Content-Length": str(size), "Cache-Control": "no-store"})


def table_response(fmt: str, filename_stem: str, sheet_title: str, columns: Sequence[Column],
                   rows: Iterable[Sequence[Any]]) -> Response:
    if fmt == "xlsx":
        return xlsx_response(f"{filename_stem}.xlsx", sheet_title, columns, rows)
    return csv_response(f"{filename_stem}.csv", columns, rows)


# --- the scores area's downloads -------------------------------------------------------------
#
# kind "scorecard"    one row per secretary: components, total, grade, caps (staff, admins)
# kind "satisfaction" aggregated satisfaction and mass evaluation, by level: secretary,
#                     village, town or county
# kind "households"   household-level raw answers, ID numbers masked (staff, admins only)

LEVELS = ("secretary", "village", "town", "county")
KINDS = ("scorecard", "satisfaction", "households")


def _t(msgid: str) -> str:
    from flask_babel import gettext

    return gettext(msgid)


def _grade_text(code: str | None) -> str:
    from ..domain.grading import GRADE_LABELS

    return _t(GRADE_LABELS[code]) if code else ""


def _mass_cell(value: float | None) -> Any:
    return value if value is not None else _t("incomplete")


def export_scope(actor, cycle, county_id: int | None) -> list[int]:
    """The counties an export covers: one county, or (admins) every county of the cycle."""
    from ..errors import AppError
    from ..scoping import require_county, require_cycle, require_role
    from .scorecard import covered_county_ids

    require_role(actor, "admin", "county_staff")
    require_cycle(actor, cycle)
    if county_id is None:
        if actor.role != "admin":
            county_id = actor.county_id
        else:
            return covered_county_ids(cycle)
    require_county(actor, county_id)
    if not cycle.covers_county(county_id):
        raise AppError("not_found")
    return [county_id]


def _county_names(ids: list[int]) -> dict[int, str]:
    from sqlalchemy import select

    from ..extensions import db
    from ..models import County

    return dict(db.session.execute(select(County.id, County.name).where(County.id.in_(ids))).all())


def scorecard_table(actor, cycle, county_ids: list[int]) -> tuple[list[Column], Iterator[list]]:
    from .scorecard import reasons_text, results

    columns = [Column(_t("County"), 10), Column(_t("Town"), 12), Column(_t("Village code"), 16),
               Column(_t("Village"), 14), Column(_t("First secretary"), 12),
               Column(_t("Work performance (0-60)"), 12, "0.00"),
               Column(_t("Mass evaluation (0-20)"), 12, "0.00"),
               Column(_t("Work discipline (0-10)"), 12, "0.00"),
               Column(_t("Work evaluation (0-10)"), 12, "0.00"),
               Column(_t("Total"), 10, "0.00"), Column(_t("Grade"), 12),
               Column(_t("Capped by the 20% rule"), 10), Column(_t("Limited by spot checks"), 12),
               Column(_t("Status"), 10), Column(_t("Reasons"), 40), Column(_t("Finalised"), 10)]
    names = _county_names(county_ids)
    _preflight(cycle)
    cycle_id, actor_id = cycle.id, actor.id if actor is not None else None

    def rows() -> Iterator[list]:
        # One county at a time: the 20% cap ranks a whole county, so a county is the
        # smallest unit that can be graded; memory follows the largest county, not the city.
        for cid in county_ids:
            cycle, actor = _reload(cycle_id, actor_id)
            res = results(actor, cycle, cid)
            for r in res["rows"]:
                yield [names.get(cid), r["town"], r["village_code"], r["village_name"],
                       r["secretary_name"], r["work_performance"], _mass_cell(r["mass_evaluation"]),
                       r["work_discipline"], r["work_evaluation"], r["total"],
                       _grade_text(r["grade"]) if r["status"] == "graded" else _t("incomplete"),
                       _t("yes") if r["capped"] else "",
                       _grade_text(r["residency_cap"]) if r["residency_cap"] else "",
                       _t("graded") if r["status"] == "graded" else _t("incomplete"),
                       reasons_text(r["reasons"] + [m for m in r["mass_reasons"] if m not in r["reasons"]]),
                       _t("yes") if res["finalised"] else _t("no (provisional)")]
            del res
            db_session_expunge_all()
    return columns, in_own_context(rows)


def satisfaction_table(actor, cycle, county_ids: list[int], level: str) -> tuple[list[Column], Iterator[list]]:
    from . import scoring
    from .scorecard import county_secretaries

    names = _county_names(county_ids)
    key_columns = {
        "secretary": [Column(_t("County"), 10), Column(_t("Town"), 12), Column(_t("Village code"), 16),
                      Column(_t("Village"), 14), Column(_t("First secretary"), 12)],
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

    _preflight(cycle)
    cycle_id = cycle.id

    def key_of(cid: int, s) -> tuple:
        v = s.village
        return {"secretary": (names.get(cid), v.town.name, v.code, v.name, s.name),
                "village": (names.get(cid), v.town.name, v.code, v.name),
                "town": (names.get(cid), v.town.name),
                "county": (names.get(cid),)}[level]

    def rows() -> Iterator[list]:
        # Lazy and chunked: the raw answers of one chunk at a time are loaded, scored and
        # written. A chunk never splits a group (county_secretaries sorts by town, village).
        for cid in county_ids:
            cycle, _actor = _reload(cycle_id, None)
            secretaries = county_secretaries(cycle, cid)  # ids and names only: small
            for chunk in _chunks(secretaries, lambda s: key_of(cid, s), level):
                masses = scoring.mass_evaluations(cycle, chunk)
                groups: dict[tuple, list] = {}
                for s in chunk:
                    groups.setdefault(key_of(cid, s), []).append(masses[s.id])
                for key, group in groups.items():
                    p = scoring.pooled(cycle, group)
                    mean = p["mean_mass_evaluation"]
                    mass = (_mass_cell(group[0].score) if level == "secretary"
                            else (mean if mean is not None else _t("incomplete")))
                    yield [*key, p["n_secretaries"], p["n_complete"], mass, p["household_index"],
                           p["household_satisfied_share"], p["n_visits"], p["meeting_index"],
                           p["meeting_satisfied_share"], p["n_ballots"]]
                del masses, groups
            db_session_expunge_all()
    return key_columns + value_columns, in_own_context(rows)


def _reload(cycle_id: int, actor_id: int | None):
    """The cycle and the acting user in the generator's own session."""
    from ..extensions import db
    from ..models import Cycle, User

    return db.session.get(Cycle, cycle_id), (db.session.get(User, actor_id) if actor_id else None)


def db_session_expunge_all() -> None:
    """Forget the ORM objects of the chunk just written (the identity map would otherwise
    keep every secretary, village and meeting of the city until the download ends)."""
    from ..extensions import db

    db.session.expunge_all()


SECRETARIES_PER_CHUNK = 100


def _chunks(secretaries: list, key, level: str, size: int = SECRETARIES_PER_CHUNK) -> Iterator[list]:
    """Consecutive secretaries in chunks of about `size`, never splitting a group of the
    level (a town or the county is one chunk: its pooled indexes need all its answers)."""
    if level == "county":
        if secretaries:
            yield secretaries
        return
    chunk: list = []
    for s in secretaries:
        if chunk and len(chunk) >= size and key(s) != key(chunk[-1]):
            yield chunk
            chunk = []
        chunk.append(s)
    if chunk:
        yield chunk


def _preflight(cycle) -> None:
    """Refuse a broken cycle configuration with a proper 422 before streaming starts:
    once the first bytes are sent, an error can only cut the file short."""
    from . import scoring
    from .scorecard import _thresholds

    scoring.scoring_config(cycle)
    _thresholds(cycle)


def households_table(actor, cycle, county_ids: list[int]) -> tuple[list[Column], Iterator[list]]:
    """Household-level answers (staff and admins only): ID numbers always masked."""
    from sqlalchemy import select

    from ..errors import AppError
    from ..extensions import db
    from ..models import Draw, Household, SampleEntry, Town, Village, VillageDraw, Visit
    from ..privacy import masked_for_export
    from . import instruments

    if actor.role not in ("admin", "county_staff"):
        raise AppError("forbidden")
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    items: list[tuple[str, str]] = []
    option_labels: dict[str, dict[str, str]] = {}
    for ins in instruments.all_instruments():
        if ins.id != "household_visit":
            continue
        for i in ins.items:
            if i.id not in dict(items):
                items.append((i.id, i.label.get("zh") or i.id))
            for o in ins.options_of(i):
                option_labels.setdefault(i.id, {})[o.code] = o.label.get("zh") or o.code
    columns = [Column(_t("County"), 10), Column(_t("Town"), 12), Column(_t("Village code"), 16),
               Column(_t("Village"), 14), Column(_t("Household number"), 18),
               Column(_t("Head of household"), 10), Column(_t("ID number (masked)"), 20),
               Column(_t("Role in the draw"), 10), Column(_t("Visited at"), 18),
               Column(_t("Instrument"), 18)] + [Column(label, 16) for _id, label in items] + [
               Column(_t("Quality flags"), 20), Column(_t("Visit note"), 30)]
    names = _county_names(county_ids)
    cols = (Visit.started_at, Visit.instrument_id, Visit.instrument_version, Visit.answers,
            Visit.flags, Visit.note, Household.household_no, Household.head_name,
            Household.id_number, Village.county_id, Village.code, Village.name, Town.name,
            SampleEntry.role)
    stmt = (select(*cols)
            .join(SampleEntry, Visit.sample_entry_id == SampleEntry.id)
            .join(VillageDraw, SampleEntry.village_draw_id == VillageDraw.id)
            .join(Draw, VillageDraw.draw_id == Draw.id)
            .join(Household, SampleEntry.household_id == Household.id)
            .join(Village, Visit.village_id == Village.id)
            .join(Town, Village.town_id == Town.id)
            .where(Visit.cycle_id == cycle.id, Draw.status == "active",
                   VillageDraw.status == "active",
                   Village.county_id.in_(county_ids))
            .order_by(Village.county_id, Village.code, Household.household_no, Visit.id))
    engine = db.engine  # the generator runs after the request: it uses its own connection
    started_type = Visit.__table__.c.started_at.type

    def rows() -> Iterator[list]:
        with engine.connect() as conn:
            result = conn.execution_options(yield_per=1000).execute(stmt)
            for (started, iid, ver, answers, flags, note, household_no, head_name, id_number,
                 county_id, code, vname, town, role) in result:
                answers = answers or {}
                if started is not None and started.tzinfo is None:  # SQLite: stored as UTC
                    started = started_type.process_result_value(started, engine.dialect)
                # Exports never carry full ID numbers, whoever downloads them.
                masked = masked_for_export(id_number)
                yield [names.get(county_id), town, code, vname, household_no, head_name, masked, role,
                       started.astimezone(shanghai).strftime("%Y-%m-%d %H:%M") if started else None,
                       f"{iid} v{ver}",
                       *[option_labels.get(item_id, {}).get(answers.get(item_id), answers.get(item_id))
                         if isinstance(answers.get(item_id), str) else answers.get(item_id)
                         for item_id, _l in items],
                       ", ".join(f.get("code", "") for f in (flags or [])), note]
    return columns, rows()
