"""The access matrix: every route of `app.url_map` x method x persona, on county A's objects
("own": county A, village a1, the secretary's own) and on county B's ("foreign").

Each row of MATRIX writes down who may: on the own object, and on the foreign one (an
objectless route has one list). `test_every_route_has_an_expectation` fails for a route
without a row, so a new route cannot escape the matrix.

Allowed: an answer that is not 401, 403 or 404, nor a redirect to the login page, and
never a 5xx. Refused: 401 (pages: the login page) for the anonymous, 403 or 404 for the
others, never 422 or 2xx: writes send a body that is invalid apart from the object they
name, so an answer decided after the arguments would show as 422. A refused write changes
nothing in the database.

Every answer's body is scanned: no phone number the persona may not see (staff their
county's; an evaluator their own and those of the households they must find, as the
house finder gives them; others their own), no full ID number but for the admin, and no
word (village code or name, household number or head, secretary name) outside the
persona's reach (public pages excepted for words).
"""
from __future__ import annotations

import hashlib
import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from sqlalchemy import select, text

from fieldapp.domain.idcard import check_char
from fieldapp.extensions import db
from fieldapp.models import EvaluatorAssignment

from .. import personas as P
from ..conftest import _empty_tables
from . import policy_world
from .policy_world import PERSONAS

# --- who may ------------------------------------------------------------------------------

ALL = " ".join(PERSONAS)  # every logged-in persona
STAFF = "admin staff_a staff_b"
A = "admin staff_a"  # on county A's object
B = "admin staff_b"  # on county B's object
ADMIN = "admin"
EVALUATORS = "evaluator_a evaluator_x"
SECRETARIES = "secretary_a secretary_a2"
NOBODY = ""
PUBLIC = "public"  # anyone, the anonymous included


@dataclass(frozen=True)
class Row:
    """`own`: who may on county A's object (an objectless route: who may at all);
    `foreign`: who may on county B's, None for an objectless route. `path` maps URL
    variables to keys of the world's sides (default: the variable's name without `_id`).
    `json`, `form`, `query`: what to send, given a side's ids. `fresh`: a target made anew
    for each allowed attempt (the allowed write consumes it)."""
    own: str
    foreign: str | None = None
    path: dict[str, str] | None = None
    json: Callable[[dict], Any] | None = None
    form: Callable[[dict], dict] | None = None
    query: Callable[[dict], dict] | None = None
    fresh: str | None = None
    throwaway: bool = False  # ends the session (logout): a client logged in just for it


def county(s: dict) -> dict:
    return {"county_id": s["county"]}


def scores(s: dict) -> dict:
    return {"cycle_id": s["cycle"], "county_id": s["county"]}


MATRIX: dict[tuple[str, str], Row] = {
    # public: the phone app's files, login, the public draw record and ballots
    ("pwa.index", "GET"): Row(PUBLIC), ("pwa.service_worker", "GET"): Row(PUBLIC),
    ("pwa.manifest", "GET"): Row(PUBLIC), ("pwa.asset", "GET"): Row(PUBLIC),
    ("pwa.favicon", "GET"): Row(PUBLIC), ("static", "GET"): Row(PUBLIC),
    ("api-docs.openapi_json", "GET"): Row(PUBLIC), ("web.set_language", "GET"): Row(PUBLIC),
    ("web.login", "GET"): Row(PUBLIC), ("web.login", "POST"): Row(PUBLIC, form=lambda s: {}),
    ("auth.Csrf", "GET"): Row(PUBLIC), ("auth.Login", "POST"): Row(PUBLIC, json=lambda s: {}),
    ("auth.Logout", "POST"): Row(PUBLIC, throwaway=True),
    ("web.logout", "POST"): Row(PUBLIC, throwaway=True),
    ("roster.RosterTemplate", "GET"): Row(PUBLIC),
    ("meetings_web.ballot_page", "GET"): Row(PUBLIC),
    ("ballots.BallotItem", "GET"): Row(PUBLIC),
    ("ballots.BallotItem", "POST"): Row(PUBLIC, json=lambda s: {}),
    ("sampling.public_draw", "GET"): Row(PUBLIC),
    ("sampling.public_record", "GET"): Row(PUBLIC),
    # oneself
    ("auth.Me", "GET"): Row(ALL),
    ("auth.Password", "POST"): Row(ALL, json=lambda s: {"current_password": "x"}),
    ("web.change_password", "GET"): Row(ALL),
    ("web.change_password", "POST"): Row(ALL, form=lambda s: {}),
    ("instruments.Instruments", "GET"): Row(ALL),
    ("instruments.InstrumentItem", "GET"): Row(ALL),
    ("sync.Sync", "POST"): Row(ALL, json=lambda s: {"records": []}),
    # places (lists are scoped to the reader's reach)
    ("geography.Counties", "GET"): Row(ALL), ("geography.Villages", "GET"): Row(ALL),
    ("geography.VillageItem", "GET"): Row("admin staff_a evaluator_a secretary_a", B),
    ("geography.VillageItem", "PATCH"): Row(A, B, json=lambda s: {"radius_m": 5}),
    ("villages_web.village_list", "GET"): Row(A, B, query=county),
    ("villages_web.centre_page", "GET"): Row(A, B),
    ("villages_web.centre_page", "POST"): Row(A, B, form=lambda s: {"lat": "x"}),
    # roster and accounts
    ("roster.RosterImport", "POST"): Row(STAFF),
    ("roster.Households", "GET"): Row(f"{STAFF} {EVALUATORS}"),
    ("roster.Secretaries", "GET"): Row(f"{STAFF} {SECRETARIES}"),
    ("web.roster_import_page", "GET"): Row(STAFF),
    ("users.Users", "GET"): Row(STAFF),
    ("users.Users", "POST"): Row(A, B, json=lambda s: {**county(s), "phone": "1", "name": "x",
                                                         "password": "short"}),
    ("users.UserItem", "PATCH"): Row(A, B, json=lambda s: {"name": ""}),
    ("users.UserPasswordReset", "POST"): Row(A, B),
    ("users_web.user_list", "GET"): Row(STAFF),
    ("users_web.user_list", "POST"): Row(A, B, form=lambda s: {**county(s), "phone": "1"}),
    ("users_web.set_active", "POST"): Row(A, B, form=lambda s: {"active": "1"}),
    ("users_web.reset_password", "POST"): Row(A, B),
    ("users_web.create_secretaries", "POST"): Row(A, B, form=county),
    # cycles and assignments
    ("cycles.Cycles", "GET"): Row(STAFF),
    ("cycles.Cycles", "POST"): Row(A, B, json=lambda s: {**county(s), "year": "x"}),
    ("cycles.CycleItem", "GET"): Row(A, B, path={"cycle_id": "own_cycle"}),
    ("cycles.CycleItem", "PATCH"): Row(A, B, path={"cycle_id": "own_cycle"},
                                       json=lambda s: {"settings": {"sample_size": 0}}),
    ("cycles.Assignments", "GET"): Row(A, B, path={"cycle_id": "own_cycle"}),
    ("cycles.Assignments", "POST"): Row(A, B, json=lambda s: {
        "user_id": s["user"], "village_id": s["village2"], "unknown_field": 1}),
    ("cycles.AssignmentItem", "DELETE"): Row(A, B, fresh="assignment"),
    ("sampling.index", "GET"): Row(STAFF),
    ("sampling.create_cycle", "POST"): Row(A, B, form=lambda s: {**county(s), "year": "x"}),
    ("sampling.cycle_page", "GET"): Row(A, B, path={"cycle_id": "own_cycle"}),
    ("sampling.assign", "POST"): Row(A, B, form=lambda s: {"user_id": s["user"],
                                                           "village_ids": s["village2"]}),
    ("sampling.unassign", "POST"): Row(A, B, fresh="assignment"),
    # draws and samples
    ("samples.CycleDraws", "POST"): Row(A, B, json=lambda s: {**county(s), "seed": ""}),
    ("samples.CycleVillageDraws", "POST"): Row(A, B, json=lambda s: {"village_id": s["village2"],
                                                                      "seed": ""}),
    ("samples.Draws", "GET"): Row(STAFF),
    ("samples.DrawItem", "GET"): Row(A, B),
    ("samples.DrawVoid", "POST"): Row(ADMIN, ADMIN, json=lambda s: {"reason": ""}),
    ("samples.VillageSample", "GET"): Row("admin staff_a evaluator_a", B, path={"village_draw_id": "vd"}),
    ("samples.VillageRecord", "GET"): Row("admin staff_a evaluator_a", B, path={"village_draw_id": "vd"}),
    ("samples.VillageDrawVoid", "POST"): Row(ADMIN, ADMIN, path={"village_draw_id": "vd"},
                                             json=lambda s: {"reason": ""}),
    ("samples.VillageCurrentSample", "GET"): Row("admin staff_a evaluator_a", B),
    ("samples.Replacements", "GET"): Row(STAFF),
    ("sampling.run_draw", "POST"): Row(A, B, form=county),
    ("sampling.run_village_draw", "POST"): Row(A, B, form=lambda s: {"village_id": s["village2"]}),
    ("sampling.draw_page", "GET"): Row(A, B),
    ("sampling.void_draw", "GET"): Row(ADMIN, ADMIN),
    ("sampling.void_draw", "POST"): Row(ADMIN, ADMIN, form=lambda s: {}),
    ("sampling.void_village_draw", "GET"): Row(ADMIN, ADMIN, path={"village_draw_id": "vd"}),
    ("sampling.void_village_draw", "POST"): Row(ADMIN, ADMIN, path={"village_draw_id": "vd"},
                                                form=lambda s: {}),
    ("sampling.field_sheet", "GET"): Row("admin staff_a evaluator_a", B,
                                         path={"village_draw_id": "vd"}),
    # field work
    ("tasks.Tasks", "GET"): Row(EVALUATORS),
    ("visits.Visits", "GET"): Row(f"{STAFF} {EVALUATORS}"),
    ("visits.VisitItem", "GET"): Row("admin staff_a evaluator_a", B),
    ("visits.VisitReview", "POST"): Row(A, B, json=lambda s: {"decision": "maybe"}),
    ("visits.VisitBulkReview", "POST"): Row(A, B, json=lambda s: {"visit_ids": [s["visit"]],
                                                                   "unknown_field": 1}),
    ("visits_web.visit_list", "GET"): Row(STAFF),
    ("visits_web.visit_detail", "GET"): Row(A, B),
    ("visits_web.review", "POST"): Row(A, B, form=lambda s: {"decision": "maybe"}),
    ("visits_web.bulk_review", "POST"): Row(A, B, form=lambda s: {"visit_id": s["visit"]}),
    # residency
    ("checkins.MyMonth", "GET"): Row(SECRETARIES),
    ("checkins.CheckIns", "GET"): Row(f"{STAFF} {SECRETARIES}"),
    ("checkins.Leave", "GET"): Row(f"{STAFF} {SECRETARIES}"),
    ("checkins.Leave", "POST"): Row(SECRETARIES, json=lambda s: {"start": "x"}),
    ("checkins.LeaveDecision", "POST"): Row(A, B, json=lambda s: {"decision": "maybe"}),
    ("checkins.SpotChecks", "GET"): Row(STAFF),
    ("checkins.SpotChecks", "POST"): Row(A, B, json=lambda s: {
        "secretary_id": s["secretary"], "day": "x", "present": True}),
    ("checkins.Report", "GET"): Row(A, B, query=county),
    ("checkins.ReportCsv", "GET"): Row(A, B, query=county),
    ("checkins.ReportXlsx", "GET"): Row(A, B, query=county),
    ("checkins.SecretaryMonth", "GET"): Row("admin staff_a secretary_a", B),
    ("checkins.CheckinToken", "GET"): Row(A, B),
    ("checkins.RotateToken", "POST"): Row(A, B),
    ("checkins.DisciplineOverview", "GET"): Row(A, B, query=county),
    ("checkins.Discipline", "GET"): Row(A, B),
    ("checkins.Discipline", "POST"): Row(A, B, json=lambda s: {"year": "x"}),
    ("residency.report", "GET"): Row(A, B, query=county),
    ("residency.secretary_calendar", "GET"): Row(A, B),
    ("residency.leave_list", "GET"): Row(STAFF),
    ("residency.leave_decision", "POST"): Row(A, B, form=lambda s: {"decision": "maybe"}),
    ("residency.spot_checks", "GET"): Row(STAFF),
    ("residency.spot_checks", "POST"): Row(A, B, form=lambda s: {"secretary_id": s["secretary"]}),
    ("residency.villages", "GET"): Row(STAFF),
    ("residency.poster", "GET"): Row(A, B), ("residency.poster_svg", "GET"): Row(A, B),
    ("residency.poster_png", "GET"): Row(A, B), ("residency.rotate", "POST"): Row(A, B),
    ("residency.discipline", "GET"): Row(A, B, query=county),
    ("residency.discipline_confirm", "POST"): Row(A, B, form=lambda s: {"year": "x"}),
    # meetings
    ("meetings.Meetings", "GET"): Row(A, B, query=scores),
    ("meetings.Meetings", "POST"): Row(A, B, json=lambda s: {
        "cycle_id": s["cycle"], "secretary_id": s["secretary"], "held_on": "x"}),
    ("meetings.MeetingItem", "GET"): Row(A, B),
    ("meetings.MeetingItem", "PATCH"): Row(A, B, json=lambda s: {"place": ""}),
    ("meetings.MeetingTallies", "PUT"): Row(A, B, json=lambda s: {"tallies": "x"}),
    ("meetings.MeetingSlips", "GET"): Row(A, B),
    ("meetings.MeetingClose", "POST"): Row(A, B),
    ("meetings_web.meeting_list", "GET"): Row(STAFF),
    ("meetings_web.meeting_list", "POST"): Row(A, B, form=lambda s: {"secretary_id": s["secretary"]}),
    ("meetings_web.meeting_detail", "GET"): Row(A, B),
    ("meetings_web.meeting_detail", "POST"): Row(A, B, form=lambda s: {"action": "x"}),
    ("meetings_web.meeting_slips", "GET"): Row(A, B),
    # scores
    ("scores.Scores", "GET"): Row(A, B, query=scores),
    ("scores.ScoreEntry", "GET"): Row(A, B, query=lambda s: {"cycle_id": s["cycle"]}),
    ("scores.ScoreEntry", "PUT"): Row(A, B, json=lambda s: {"cycle_id": s["cycle"],
                                                            "work_performance": "abc"}),
    ("scores.ScoreImport", "POST"): Row(A, B, query=scores),
    ("scores.ScoreTemplate", "GET"): Row(A, B, query=scores),
    ("scores.ScoreExport", "GET"): Row(A, B, query=lambda s: {**scores(s), "kind": "households"}),
    ("scores.ScoreFinalise", "POST"): Row(A, B, json=lambda s: {**scores(s),
                                                                "accept_incomplete": "x"}),
    ("scores.ScoreTies", "POST"): Row(A, B, json=lambda s: {**scores(s), "chosen": "x"}),
    ("scores.ScorePersons", "POST"): Row(A, B, json=lambda s: {**scores(s), "secretary_id": "x"}),
    ("scores.ScoreUnlock", "POST"): Row(ADMIN, ADMIN, json=lambda s: {**scores(s), "reason": ""}),
    ("scores.MyScores", "GET"): Row(SECRETARIES),
    ("scores_web.score_list", "GET"): Row(STAFF),
    ("scores_web.score_list", "POST"): Row(STAFF, form=lambda s: {"action": "x"}),
    ("scores_web.score_entry", "GET"): Row(A, B),
    ("scores_web.score_entry", "POST"): Row(A, B, form=lambda s: {"work_performance": "abc"}),
    # staff pages and the audit log
    ("web.staff_home", "GET"): Row(STAFF), ("dashboard.dashboard", "GET"): Row(STAFF),
    ("audit.AuditLog", "GET"): Row(STAFF), ("audit_web.audit_page", "GET"): Row(STAFF),
}

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PATH_KEYS = {"village_id": "village", "cycle_id": "cycle", "draw_id": "draw",
             "village_draw_id": "vd", "visit_id": "visit", "leave_id": "leave",
             "meeting_id": "meeting", "secretary_id": "secretary", "user_id": "user",
             "assignment_id": "assignment"}

# --- the scan -----------------------------------------------------------------------------

PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def body_text(response) -> str:
    data = response.get_data()
    kind = response.mimetype or ""
    if kind == XLSX:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist()
                           if n.endswith(".xml"))
    if kind.startswith("image/png"):
        return ""
    return data.decode("utf-8", "replace")


def full_ids(text_: str) -> list[str]:
    return [m for m in ID_NUMBER.findall(text_) if check_char(m[:17]) == m[17]]


# --- running it ---------------------------------------------------------------------------


@dataclass
class Matrix:
    app: Any
    world: policy_world.World
    clients: dict[str, Any]
    hidden: dict[str, re.Pattern | None]


@pytest.fixture(scope="module")
def matrix(app):
    """One world for the whole module (building it takes a few seconds)."""
    with app.app_context():
        _empty_tables()
        world = policy_world.build(app)
        clients = {name: world.personas.client_for(name) for name in PERSONAS}
        anonymous = world.personas.anonymous()
        clients["anonymous"] = P.ApiClient(anonymous, P.csrf_token(anonymous), None)
        hidden = {name: (re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))
                         if words else None) for name, words in world.hidden.items()}
        yield Matrix(app, world, clients, hidden)
        _empty_tables()


def _rules(app) -> dict[tuple[str, str], Any]:
    out = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods & set(METHODS):
            out.setdefault((rule.endpoint, method), rule)
    return out


def test_every_route_has_an_expectation(app):
    routes = set(_rules(app))
    missing = sorted(routes - set(MATRIX))
    assert not missing, f"routes without a row in MATRIX: {missing}"
    assert not sorted(set(MATRIX) - routes), "rows for routes that no longer exist"


def _url(m: Matrix, rule, row: Row, ids: dict) -> str:
    values = {}
    for name in rule.arguments:
        if name in m.world.public:
            values[name] = m.world.public[name]
        else:
            values[name] = ids[(row.path or {}).get(name, PATH_KEYS.get(name, name))]
    if rule.endpoint == "static":
        values["filename"] = "staff.css"
    return m.app.url_map.bind("localhost").build(rule.endpoint, values, force_external=False)


def _target(m: Matrix, row: Row, side: str) -> dict:
    """The side's ids; with `fresh`, the target is there before each attempt (a refused
    attempt must leave it, an allowed one consumes it): an assignment of the side's
    target account to its second village."""
    ids = dict(m.world.sides[side])
    if row.fresh == "assignment":
        found = db.session.scalar(select(EvaluatorAssignment).where(
            EvaluatorAssignment.cycle_id == ids["cycle"],
            EvaluatorAssignment.user_id == ids["user"],
            EvaluatorAssignment.village_id == ids["village2"]))
        if found is None:
            found = EvaluatorAssignment(cycle_id=ids["cycle"], user_id=ids["user"],
                                        village_id=ids["village2"])
            db.session.add(found)
            db.session.commit()
        ids["assignment"] = found.id
    return ids


def _request(m: Matrix, who: str, method: str, url: str, row: Row, ids: dict):
    client = m.clients[who]
    if row.throwaway and who != "anonymous":
        client = P.ApiClient(m.app.test_client(), "", None)
        response = P.login(client.client, m.world.personas.users[who].phone)
        client.csrf_token = response.get_json()["csrf_token"]
    kwargs: dict[str, Any] = {}
    if row.query:
        kwargs["query_string"] = row.query(ids)
    if row.json:
        kwargs["json"] = row.json(ids)
    if row.form:
        kwargs["data"] = row.form(ids)
    if method == "GET":
        return client.get(url, **kwargs)
    return client._write(method.lower(), url, **kwargs)


def _refused(response, who: str) -> bool:
    if who == "anonymous":
        return response.status_code == 401 or (
            response.status_code == 302 and "/login" in response.headers.get("Location", ""))
    return response.status_code in (403, 404)


def _fingerprint() -> str:
    """Every row of every table but the login sessions (touched by every request)."""
    digest = hashlib.sha256()
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in ("login_session", "login_throttle"):
                continue
            order = ", ".join(c.name for c in table.primary_key.columns) or "1"
            for row in conn.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}')):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _scan(m: Matrix, who: str, endpoint: str, url: str, response, public: bool) -> list[str]:
    body = body_text(response)
    problems = []
    # Numbers that belong to nobody in the database (the roster template's example rows)
    # are not personal data; every phone and ID number stored is in the world.
    for phone in (set(PHONE.findall(body)) & m.world.all_phones) - m.world.phones[who]:
        problems.append(f"{who} {url}: phone {phone}")
    if who != "admin":
        for number in set(full_ids(body)) & m.world.id_numbers:
            problems.append(f"{who} {url}: ID number {number}")
    pattern = m.hidden[who]
    if not public and pattern is not None:
        found = pattern.search(body)
        if found:
            problems.append(f"{who} {url}: {found.group(0)!r} is outside their reach")
    return problems


def _who(spec: str | None) -> set[str]:
    return set((spec or "").split())


def _refused_attempts(m: Matrix, rule, row: Row, method: str, side: str, who_all: list[str]
                      ) -> list[str]:
    """Everyone the row does not name, on a standing target: refused (before the body is
    read), and for a write nothing in the database changes."""
    ids = _target(m, row, side)
    before = _fingerprint() if method != "GET" else None
    url = _url(m, rule, row, ids)
    problems = []
    for who in who_all:
        response = _request(m, who, method, url, row, ids)
        if not _refused(response, who):
            problems.append(f"{who} {method} {url} ({side}): {response.status_code}, "
                            "expected refused")
        problems += _scan(m, who, rule.endpoint, url, response, False)
    if before is not None and _fingerprint() != before:
        problems.append(f"{method} {url} ({side}): a refused write changed the database")
    return problems


def _allowed_attempts(m: Matrix, rule, row: Row, method: str, side: str, who_all: list[str]
                      ) -> list[str]:
    """Everyone the row names: an answer that is not a refusal, never a 5xx."""
    problems = []
    public = row.own == PUBLIC
    for who in who_all:
        ids = _target(m, row, side)
        url = _url(m, rule, row, ids)
        response = _request(m, who, method, url, row, ids)
        ok = response.status_code < 500 and (
            public or not (_refused(response, who) or response.status_code == 401))
        if not ok:
            problems.append(f"{who} {method} {url} ({side}): {response.status_code}, "
                            f"expected allowed: {response.get_data()[:200]!r}")
        problems += _scan(m, who, rule.endpoint, url, response, public)
    return problems


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]}-{r[1]}")
def test_route(matrix, route):
    endpoint, method = route
    row = MATRIX[route]
    rule = _rules(matrix.app)[route]
    everyone = ["anonymous", *PERSONAS]
    public = row.own == PUBLIC
    sides = ["own"] if row.foreign is None or public else ["own", "foreign"]
    problems: list[str] = []
    with matrix.app.app_context():
        for side in sides:
            may = _who(row.own if side == "own" else row.foreign)
            problems += _refused_attempts(matrix, rule, row, method, side,
                                          [w for w in everyone if not public and w not in may])
            problems += _allowed_attempts(matrix, rule, row, method, side,
                                          [w for w in everyone if public or w in may])
            db.session.expire_all()
    assert not problems, "\n".join(problems)


def test_the_scan_sees_what_it_must(matrix):
    """The scanner and the world: an evaluator does get the phone of a household to find,
    staff a masked ID number, the admin a full one; and a leak would be caught."""
    m = matrix
    with m.app.app_context():
        tasks = m.clients["evaluator_a"].get("/api/tasks")
        phones = set(PHONE.findall(body_text(tasks)))
        assert phones and phones <= m.world.phones["evaluator_a"]
        households = m.clients["admin"].get("/api/households?per_page=500")
        assert len(full_ids(body_text(households))) == 84
        staff = m.clients["staff_a"].get("/api/households?per_page=500")
        assert not full_ids(body_text(staff)) and "********" in body_text(staff)
        # What evaluator_x may not see, the scan reports.
        leaked = _scan(m, "evaluator_x", "x", "/x", households, False)
        # Example rows (the roster template) belong to nobody: not reported.
        template = m.clients["staff_a"].get("/api/roster/template.xlsx")
        assert PHONE.findall(body_text(template)) and not _scan(
            m, "evaluator_x", "x", "/x", template, True)
        assert any("phone" in p for p in leaked) and any("ID number" in p for p in leaked)
        assert any("outside their reach" in p for p in leaked)


def test_missing_objects_and_empty_bodies_are_never_a_5xx(matrix):
    """Every route with ids that name nothing and empty bodies: 404 or another 4xx, never
    a 5xx (the admin); refused, or public, for the anonymous."""
    m = matrix
    problems = []
    with m.app.app_context():
        for (endpoint, method), rule in sorted(_rules(m.app).items()):
            row = MATRIX[(endpoint, method)]
            if row.throwaway:
                continue
            values = {name: (999999 if "int" in type(rule._converters[name]).__name__.lower()
                             else "js" if name == "folder" else "nothing")
                      for name in rule.arguments}
            url = m.app.url_map.bind("localhost").build(endpoint, values)
            for who in ("admin", "anonymous"):
                client = m.clients[who]
                response = (client.get(url) if method == "GET" else
                            client._write(method.lower(), url, json={}))
                if response.status_code >= 500:
                    problems.append(f"{who} {method} {url}: {response.status_code}")
                if who == "anonymous" and row.own != PUBLIC and not _refused(response, who):
                    problems.append(f"{who} {method} {url}: {response.status_code}")
    assert not problems, "\n".join(problems)


def test_field_records_out_of_reach_are_rejected_and_store_nothing(matrix):
    """Sync decides per record (the batch is the body): an evaluator not assigned to a1
    replacing one of a1's sample households gets the batch refused (422), the record
    rejected as an unknown household (no probing), and nothing stored; a secretary may not
    send the record type at all."""
    m = matrix
    with m.app.app_context():
        token = db.session.scalar(text(
            "SELECT token FROM sample_entry WHERE village_id = :v AND role = 'sample' "
            "AND status = 'pending' ORDER BY rank LIMIT 1"), {"v": m.world.sides["own"]["village"]})
        before = _fingerprint()
        for who, field in (("evaluator_x", "sample_token"), ("secretary_a", "type")):
            response = m.clients[who].post("/api/sync", json={"records": [
                {"uuid": str(uuid.uuid4()), "type": "replacement", "payload": {
                    "sample_token": token, "reason": "moved_out", "at": "2026-11-01T01:00:00Z"}}]})
            assert response.status_code == 422, response.get_json()
            result = response.get_json()["results"][0]
            assert result["status"] == "rejected" and field in result["errors"], result
        assert _fingerprint() == before
