"""Quality flags for household visits and residency check-ins.

Flags point staff at records worth a second look; they never discard or discount a
record (whether a check-in counts is decided elsewhere, e.g. a revoked QR token).
Each flag is a code plus an English msgid (translated by the view) and JSON-safe params.
The rules are explained for county staff in docs/residency-and-flags.md.

Batch design: `checkin_flag_series` / `visit_flag_series` flag all N records of one
person in O(N log N): one sort by time (neighbours for speed, runs for constant
accuracy) and one dict from rounded coordinates to local days / households. The
single-record functions call the series, so both always agree.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fieldapp.domain import N_
from fieldapp.domain.geo import fence_distance_m, haversine_m
from fieldapp.domain.residency import ConfigError, check_field, load_config, local_day

Coord = tuple[float, float]  # (lat, lon), WGS-84
Fence = tuple[Coord, float]  # (centre, radius in metres)

# Same rule as the check-in geofence: a fix counts as inside when the circle of its
# reported accuracy touches the fence, but a vague fix may widen the fence by at most 200 m.
FENCE_ACCURACY_CAP_M = 200.0

CODES = (
    "no_location", "outside_fence", "low_accuracy", "zero_accuracy", "constant_accuracy",
    "repeated_coordinates", "short_visit", "impossible_speed", "clock_skew", "late_sync",
    "before_seed", "outside_cycle_year", "future_time",
)
# Visits with these flags are HELD: they count only once staff approve them (an honest
# visit cannot start before its households were drawn, outside its cycle's year, or after
# it reached the server). The others only ask for a second look.
TIME_FLAGS = ("before_seed", "outside_cycle_year", "future_time")
MAX_AHEAD = timedelta(minutes=10)


@dataclass(frozen=True)
class Flag:
    code: str
    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "msgid": self.msgid, "params": dict(self.params)}


@dataclass(frozen=True)
class FlagThresholds:
    max_accuracy_m: float = 100  # accuracy > this -> low_accuracy
    min_visit_minutes: float = 2  # duration < this -> short_visit
    max_speed_kmh: float = 120  # speed > this -> impossible_speed
    speed_min_distance_m: float = 100  # moves up to this are GPS jitter, never "speed"
    repeat_coord_decimals: int = 5  # 5 decimals ~ 1 m
    repeat_coord_min_count: int = 3  # check-ins: same coords on >= this many local days
    repeat_coord_min_households: int = 2  # visits: same coords for >= this many households
    clock_skew_hours: float = 24  # |device_sent_at - received_at| > this -> clock_skew
    late_sync_hours: float = 48  # received_at - at > this -> late_sync
    constant_accuracy_min_count: int = 5  # same accuracy on >= this many check-ins in a row

    def __post_init__(self) -> None:
        e: dict[str, list[str]] = {}
        for name in ("max_accuracy_m", "min_visit_minutes", "max_speed_kmh",
                     "clock_skew_hours", "late_sync_hours"):
            check_field(e, getattr(self, name) > 0, name, N_("Must be greater than 0."))
        check_field(e, self.speed_min_distance_m >= 0, "speed_min_distance_m",
               N_("Must be 0 or more."))
        check_field(e, 0 <= self.repeat_coord_decimals <= 8, "repeat_coord_decimals",
               N_("Must be between 0 and 8."))
        for name in ("repeat_coord_min_count", "repeat_coord_min_households",
                     "constant_accuracy_min_count"):
            check_field(e, getattr(self, name) >= 2, name, N_("Must be 2 or more."))
        if e:
            raise ConfigError(e)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FlagThresholds:
        return load_config(cls, data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


DEFAULT_THRESHOLDS = FlagThresholds()


@dataclass(frozen=True)
class VisitFacts:
    household: Hashable  # the household visited (id); repeats across households are flagged
    started_at: datetime  # phone clock, aware
    ended_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    geo_error: str | None = None  # 'denied' | 'unavailable' | 'timeout' from the phone
    device_sent_at: datetime | None = None  # the phone's clock when the batch was sent
    received_at: datetime | None = None  # server clock
    ref: str | None = None  # e.g. client uuid, echoed in params so staff can open the other


@dataclass(frozen=True)
class CheckInFacts:
    at: datetime  # phone clock at the tap, aware
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    geo_error: str | None = None
    device_sent_at: datetime | None = None
    received_at: datetime | None = None
    ref: str | None = None


# --- single-record checks -------------------------------------------------------------


def _fence_distance_m(a: Coord, b: Coord) -> float:
    # The same distance as the check-in's geofence decision (geo.geofence), so the
    # outside_fence flag and `inside_fence` never disagree. Tests patch it for exact edges.
    return fence_distance_m(a, b)


def _travel_distance_m(a: Coord, b: Coord) -> float:
    # Speed between records: haversine (0.5% off) is plenty and 200x faster than a geodesic.
    return haversine_m(a, b)


def _round(lat: float, lon: float, decimals: int) -> Coord:
    return (round(lat, decimals), round(lon, decimals))


_NO_LOCATION = {
    "denied": N_("No location: permission denied on the phone"),
    "unavailable": N_("No location: position unavailable"),
    "timeout": N_("No location: the phone timed out"),
}


def _location_flags(
    lat: float | None, lon: float | None, accuracy: float | None, geo_error: str | None,
    fence: Fence | None, t: FlagThresholds,
) -> list[Flag]:
    if lat is None or lon is None:
        reason = geo_error or "missing"
        msgid = _NO_LOCATION.get(reason, N_("No location recorded"))
        return [Flag("no_location", msgid, {"reason": reason})]
    out: list[Flag] = []
    if fence is not None:
        centre, radius = fence
        d = _fence_distance_m((lat, lon), centre)
        slack = min(max(accuracy or 0.0, 0.0), FENCE_ACCURACY_CAP_M)
        if d - slack > radius:
            out.append(Flag("outside_fence",
                            N_("%(distance_m)s m from the village centre (fence %(radius_m)s m)"),
                            {"distance_m": round(d), "radius_m": round(radius),
                             "accuracy_m": accuracy}))
    if accuracy is not None:
        if accuracy == 0:
            # Real GPS never reports perfect accuracy; mock-location apps often do.
            out.append(Flag("zero_accuracy",
                            N_("Accuracy reported as exactly 0 m (a sign of a mock location)"),
                            {}))
        elif accuracy > t.max_accuracy_m:
            out.append(Flag("low_accuracy",
                            N_("Low accuracy: %(accuracy_m)s m (limit %(limit_m)s m)"),
                            {"accuracy_m": round(accuracy, 1), "limit_m": t.max_accuracy_m}))
    return out


def _hours(td: timedelta) -> float:
    return round(td.total_seconds() / 3600, 1)


def _clock_flags(sent: datetime | None, received: datetime | None,
                 t: FlagThresholds) -> list[Flag]:
    # The record's own time may legitimately be days before it reaches us (offline), so
    # it says nothing about the phone's clock. The phone's clock at SEND time against the
    # server's receive time does: network delay is seconds, so the gap is the clock error.
    if sent is None or received is None:
        return []
    skew = sent - received
    if abs(skew) <= timedelta(hours=t.clock_skew_hours):
        return []
    return [Flag("clock_skew", N_("The phone's clock was off by %(hours)s hours"),
                 {"hours": _hours(skew)})]


# --- relational checks (need the person's other records) ------------------------------


@dataclass(frozen=True)
class _Point:
    index: int
    coord: Coord
    start: datetime
    end: datetime
    ref: str | None


def _speed_flags(points: Sequence[_Point], t: FlagThresholds, n: int) -> list[list[Flag]]:
    """For each point, the worst impossible move to its previous or next point in time.
    `points` must be sorted by start time."""
    out: list[list[Flag]] = [[] for _ in range(n)]
    worst: dict[int, tuple[float, Flag]] = {}
    for a, b in zip(points, points[1:]):
        d = _travel_distance_m(a.coord, b.coord)
        if d <= t.speed_min_distance_m:
            continue  # GPS jitter, whatever the time
        secs = max((b.start - a.end).total_seconds(), 0.0)  # overlap counts as no time
        if secs == 0:
            speed = float("inf")
            msgid = N_("Moved %(distance_m)s m with no time between records")
            params: dict[str, Any] = {"distance_m": round(d), "minutes": 0, "speed_kmh": None}
        elif d * 3.6 > t.max_speed_kmh * secs:  # d/secs*3.6 > max, without dividing
            speed = d * 3.6 / secs
            msgid = N_("Moved %(distance_m)s m in %(minutes)s min (%(speed_kmh)s km/h)")
            params = {"distance_m": round(d), "minutes": round(secs / 60, 1),
                      "speed_kmh": round(speed, 1)}
        else:
            continue
        for me, other in ((a, b), (b, a)):
            if me.index not in worst or speed > worst[me.index][0]:
                worst[me.index] = (speed, Flag("impossible_speed", msgid,
                                               {**params, "other": other.ref}))
    for i, (_, f) in worst.items():
        out[i].append(f)
    return out


def _sorted_points(items: Iterable[tuple[int, float | None, float | None, datetime,
                                         datetime, str | None]]) -> list[_Point]:
    pts = [_Point(i, (lat, lon), s, e, ref) for i, lat, lon, s, e, ref in items
           if lat is not None and lon is not None]
    pts.sort(key=lambda p: (p.start, p.end, p.index))
    return pts


# --- check-ins ------------------------------------------------------------------------


def checkin_flag_series(
    checkins: Sequence[CheckInFacts],
    centre: Coord | None,
    radius_m: float | None,
    thresholds: FlagThresholds = DEFAULT_THRESHOLDS,
) -> list[list[Flag]]:
    """Flags for every check-in of ONE secretary, in input order, in O(N log N)."""
    return checkin_series_with_runs(checkins, centre, radius_m, thresholds)[0]


def repeat_key(lat: float, lon: float, thresholds: FlagThresholds = DEFAULT_THRESHOLDS) -> Coord:
    """The rounded position two check-ins must share to count as the same spot."""
    return _round(lat, lon, thresholds.repeat_coord_decimals)


def repeated_coordinates_flag(days: int) -> Flag:
    return Flag("repeated_coordinates", N_("Exactly the same position on %(days)s different days"),
                {"days": days})


def checkin_series_with_runs(
    checkins: Sequence[CheckInFacts],
    centre: Coord | None,
    radius_m: float | None,
    thresholds: FlagThresholds = DEFAULT_THRESHOLDS,
    coord_days: Mapping[Coord, int] | None = None,
) -> tuple[list[list[Flag]], list[tuple[int, int] | None]]:
    """`checkin_flag_series`, plus for each check-in the (first, last) positions in time
    order of its constant-accuracy run (None: no run). `coord_days` gives, per repeat key,
    the distinct local days over a longer series than `checkins` (a window of it)."""
    t = thresholds
    fence: Fence | None = None
    if centre is not None and radius_m is not None:
        fence = (centre, radius_m)
    n = len(checkins)
    out: list[list[Flag]] = [[] for _ in range(n)]
    for i, c in enumerate(checkins):
        out[i] += _location_flags(c.lat, c.lon, c.accuracy_m, c.geo_error, fence, t)

    # Constant accuracy: runs of the same non-zero value in time order. A missing fix or a
    # zero (flagged on its own) breaks the run.
    order = sorted(range(n), key=lambda i: (checkins[i].at, i))
    spans: list[tuple[int, int] | None] = [None] * n
    run: list[int] = []
    run_start = 0

    def close_run(end: int) -> None:
        for j in run:
            spans[j] = (run_start, end)
        if len(run) >= t.constant_accuracy_min_count:
            acc = checkins[run[0]].accuracy_m
            for j in run:
                out[j].append(Flag(
                    "constant_accuracy",
                    N_("The same accuracy (%(accuracy_m)s m) on %(count)s check-ins in a row"),
                    {"accuracy_m": acc, "count": len(run)}))

    for pos, i in enumerate(order):
        c = checkins[i]
        acc = c.accuracy_m if c.lat is not None and c.lon is not None else None
        if acc and run and checkins[run[-1]].accuracy_m == acc:
            run.append(i)
            continue
        close_run(pos - 1)
        run, run_start = ([i] if acc else []), pos
    close_run(n - 1)

    # Repeated coordinates: real fixes wander by metres, so the same spot to ~1 m on
    # several different days suggests a replayed or typed-in position.
    days_at: dict[Coord, set[Any]] = defaultdict(set)
    keys: list[Coord | None] = []
    for c in checkins:
        if c.lat is None or c.lon is None:
            keys.append(None)
            continue
        k = _round(c.lat, c.lon, t.repeat_coord_decimals)
        days_at[k].add(local_day(c.at))
        keys.append(k)
    for i, k in enumerate(keys):
        if k is None:
            continue
        days = coord_days[k] if coord_days is not None and k in coord_days else len(days_at[k])
        if days >= t.repeat_coord_min_count:
            out[i].append(repeated_coordinates_flag(days))

    pts = _sorted_points((i, c.lat, c.lon, c.at, c.at, c.ref) for i, c in enumerate(checkins))
    for i, fs in enumerate(_speed_flags(pts, t, n)):
        out[i] += fs

    for i, c in enumerate(checkins):
        out[i] += _clock_flags(c.device_sent_at, c.received_at, t)
        if c.received_at is not None:
            delay = c.received_at - c.at
            if delay > timedelta(hours=t.late_sync_hours):
                # Still counted (phones stay offline for days); staff see the delay.
                out[i].append(Flag("late_sync",
                                   N_("Reached the server %(hours)s hours after the check-in"),
                                   {"hours": _hours(delay)}))
    return out, spans


def checkin_flags(
    checkin: CheckInFacts,
    history: Sequence[CheckInFacts],
    centre: Coord | None,
    radius_m: float | None,
    thresholds: FlagThresholds = DEFAULT_THRESHOLDS,
) -> list[Flag]:
    """Flags for one check-in given the secretary's OTHER check-ins (`history`)."""
    return checkin_flag_series([*history, checkin], centre, radius_m, thresholds)[-1]


# --- visits ---------------------------------------------------------------------------


def visit_coordinate_index(
    visits: Iterable[VisitFacts], decimals: int = DEFAULT_THRESHOLDS.repeat_coord_decimals
) -> dict[Coord, frozenset[Hashable]]:
    """Rounded coordinates -> households visited there; build once per cycle (all
    evaluators) and pass to every visit_flags / visit_flag_series call."""
    idx: dict[Coord, set[Hashable]] = defaultdict(set)
    for v in visits:
        if v.lat is not None and v.lon is not None:
            idx[_round(v.lat, v.lon, decimals)].add(v.household)
    return {k: frozenset(s) for k, s in idx.items()}


def visit_flag_series(
    visits: Sequence[VisitFacts],
    coord_index: Mapping[Coord, Iterable[Hashable]] | None,
    fence_for: Callable[[VisitFacts], Fence | None] | None = None,
    thresholds: FlagThresholds = DEFAULT_THRESHOLDS,
) -> list[list[Flag]]:
    """Flags for every visit of ONE evaluator, in input order, in O(N log N).

    `coord_index` comes from visit_coordinate_index over the whole cycle (None: just
    these visits); `fence_for` gives each visit's village (centre, radius) or None.
    """
    t = thresholds
    n = len(visits)
    if coord_index is None:
        coord_index = visit_coordinate_index(visits, t.repeat_coord_decimals)
    out: list[list[Flag]] = [[] for _ in range(n)]
    for i, v in enumerate(visits):
        fence = fence_for(v) if fence_for is not None else None
        out[i] += _location_flags(v.lat, v.lon, v.accuracy_m, v.geo_error, fence, t)
        if v.lat is not None and v.lon is not None:
            homes = set(coord_index.get(_round(v.lat, v.lon, t.repeat_coord_decimals), ()))
            homes.add(v.household)
            if len(homes) >= t.repeat_coord_min_households:
                # Two homes are metres apart at best; one spot for several suggests the
                # forms were filled in somewhere else.
                out[i].append(Flag("repeated_coordinates",
                                   N_("Exactly the same position as visits to %(others)s "
                                      "other household(s)"),
                                   {"others": len(homes) - 1}))
        if v.ended_at is not None:
            minutes = (v.ended_at - v.started_at).total_seconds() / 60
            if minutes < t.min_visit_minutes:
                out[i].append(Flag("short_visit",
                                   N_("The visit took %(minutes)s min (minimum %(limit)s min)"),
                                   {"minutes": round(minutes, 1), "limit": t.min_visit_minutes}))

    pts = _sorted_points((i, v.lat, v.lon, v.started_at, v.ended_at or v.started_at, v.ref)
                         for i, v in enumerate(visits))
    for i, fs in enumerate(_speed_flags(pts, t, n)):
        out[i] += fs
    for i, v in enumerate(visits):
        out[i] += _clock_flags(v.device_sent_at, v.received_at, t)
    return out


def visit_flags(
    visit: VisitFacts,
    evaluator_visits: Sequence[VisitFacts],
    coord_index: Mapping[Coord, Iterable[Hashable]] | None,
    village_centre: Coord | None,
    village_radius_m: float | None,
    thresholds: FlagThresholds = DEFAULT_THRESHOLDS,
) -> list[Flag]:
    """Flags for one visit given the same evaluator's OTHER visits (any order)."""
    fence: Fence | None = None
    if village_centre is not None and village_radius_m is not None:
        fence = (village_centre, village_radius_m)
    return visit_flag_series([*evaluator_visits, visit], coord_index,
                             lambda v: fence if v is visit else None, thresholds)[-1]


def visit_time_flags(started_at: datetime, ended_at: datetime | None, received_at: datetime | None,
                     seed_recorded_at: datetime | None, cycle_year: int | None,
                     max_ahead: timedelta = MAX_AHEAD) -> list[Flag]:
    """Times no honest visit has: before its draw's seed was recorded, outside the cycle's
    year (Asia/Shanghai), or more than `max_ahead` after the time it reached the server."""
    out: list[Flag] = []
    if seed_recorded_at is not None and started_at < seed_recorded_at:
        out.append(Flag("before_seed", N_("Started before the draw's seed was recorded (%(seed_at)s)"),
                        {"seed_at": seed_recorded_at.isoformat()}))
    if cycle_year is not None and local_day(started_at).year != cycle_year:
        out.append(Flag("outside_cycle_year", N_("Not in the cycle's year %(year)s"),
                        {"year": cycle_year}))
    latest = max(started_at, ended_at or started_at)
    if received_at is not None and latest > received_at + max_ahead:
        out.append(Flag("future_time", N_("Dated %(minutes)s min after it reached the server"),
                        {"minutes": round((latest - received_at).total_seconds() / 60)}))
    return out
