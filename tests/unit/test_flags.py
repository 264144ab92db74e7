"""Quality flags for visits and check-ins (fieldapp.domain.flags)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest
from geopy.distance import distance as geo_distance

from fieldapp.domain import flags as F
from fieldapp.domain.flags import (
    CheckInFacts,
    FlagThresholds,
    VisitFacts,
    checkin_flag_series,
    checkin_flags,
    visit_coordinate_index,
    visit_flag_series,
    visit_flags,
)
from fieldapp.domain.residency import SHANGHAI, CheckInFact, ConfigError, monthly_residency

UTC = timezone.utc
CENTRE = (34.45, 107.62)  # 岐山县, roughly
RADIUS = 1000.0
T0 = datetime(2026, 3, 2, 8, 30, tzinfo=SHANGHAI)


def moved(point, metres: float, bearing: float = 0.0) -> tuple[float, float]:
    p = geo_distance(meters=metres).destination(point, bearing)
    return (p.latitude, p.longitude)


def checkin(at: datetime, coord=CENTRE, acc: float | None = 15.3, **kw) -> CheckInFacts:
    kw.setdefault("received_at", at + timedelta(minutes=1))
    kw.setdefault("device_sent_at", kw["received_at"])
    lat, lon = coord if coord is not None else (None, None)
    return CheckInFacts(at=at, lat=lat, lon=lon, accuracy_m=acc, **kw)


def visit(household, start: datetime, minutes: float = 15, coord=CENTRE,
          acc: float | None = 12.0, **kw) -> VisitFacts:
    lat, lon = coord if coord is not None else (None, None)
    return VisitFacts(household=household, started_at=start,
                      ended_at=start + timedelta(minutes=minutes), lat=lat, lon=lon,
                      accuracy_m=acc, **kw)


def codes(flags) -> list[str]:
    return [f.code for f in flags]


def alone(c: CheckInFacts, **kw):
    return checkin_flags(c, [], CENTRE, RADIUS, **kw)


@pytest.fixture
def fake_distance(monkeypatch):
    """Exact distances for boundary tests: a table keyed by the (unordered) pair."""
    table: dict[frozenset, float] = {}

    def dist(a, b):
        return 0.0 if a == b else table[frozenset((a, b))]

    monkeypatch.setattr(F, "_fence_distance_m", dist)
    monkeypatch.setattr(F, "_travel_distance_m", dist)
    return table


# --- clean data gives no flags ---------------------------------------------------------


def test_clean_realistic_checkin_series_has_no_flags():
    rnd = random.Random(7)
    series = []
    for day in range(30):
        at = T0 + timedelta(days=day, minutes=rnd.randint(0, 90))
        coord = moved(CENTRE, rnd.uniform(0, 300), rnd.uniform(0, 360))
        received = at + timedelta(minutes=rnd.randint(0, 600))
        series.append(checkin(at, coord, round(rnd.uniform(4, 60), 1), received_at=received,
                              device_sent_at=received - timedelta(seconds=2)))
    assert checkin_flag_series(series, CENTRE, RADIUS) == [[] for _ in series]


def test_clean_realistic_visit_day_has_no_flags():
    rnd = random.Random(3)
    here, start, visits = CENTRE, T0, []
    for hh in range(8):  # walk ~300 m, visit 15-40 min, repeat
        here = moved(here, 300, rnd.uniform(0, 360))
        visits.append(visit(f"hh{hh}", start, rnd.uniform(15, 40), here,
                            rnd.uniform(5, 30), received_at=T0 + timedelta(days=3),
                            device_sent_at=T0 + timedelta(days=3, seconds=-1)))
        start = visits[-1].ended_at + timedelta(minutes=10)
    index = visit_coordinate_index(visits)
    assert visit_flag_series(visits, index, lambda v: (CENTRE, 3000.0)) == [[]] * 8


# --- fence -----------------------------------------------------------------------------


@pytest.mark.parametrize(("dist", "acc", "flagged"), [
    (1049.0, 50.0, False), (1050.0, 50.0, False), (1050.5, 50.0, True),
    (1200.0, 500.0, False), (1200.5, 500.0, True),  # accuracy widens the fence by <= 200 m
    (1000.0, None, False), (1000.5, None, True),
])
def test_outside_fence_boundary(fake_distance, dist, acc, flagged):
    here = (34.46, 107.62)
    fake_distance[frozenset((here, CENTRE))] = dist
    fs = alone(checkin(T0, here, acc))
    assert ("outside_fence" in codes(fs)) is flagged
    v = visit("a", T0, coord=here, acc=acc)
    assert ("outside_fence" in codes(visit_flags(v, [], None, CENTRE, RADIUS))) is flagged


def test_outside_fence_real_geodesic():
    far = alone(checkin(T0, moved(CENTRE, 1500), acc=10))
    assert codes(far) == ["outside_fence"]
    assert far[0].params["distance_m"] == 1500 and far[0].params["radius_m"] == 1000
    assert alone(checkin(T0, moved(CENTRE, 900), acc=10)) == []
    # no fence known for the village: nothing to compare with
    assert checkin_flags(checkin(T0, moved(CENTRE, 5000)), [], None, None) == []


# --- accuracy --------------------------------------------------------------------------


@pytest.mark.parametrize(("acc", "expected"), [
    (99.9, []), (100.0, []), (100.1, ["low_accuracy"]),
    (0.0, ["zero_accuracy"]), (0.1, []), (None, []),
])
def test_accuracy_flags(acc, expected):
    assert codes(alone(checkin(T0, acc=acc))) == expected


def _run(accs, start=T0):
    return [checkin(start + timedelta(days=i), moved(CENTRE, 20 * i), a)
            for i, a in enumerate(accs)]


def test_constant_accuracy_boundary():
    four = checkin_flag_series(_run([10.0] * 4), CENTRE, RADIUS)
    five = checkin_flag_series(_run([10.0] * 5), CENTRE, RADIUS)
    six = checkin_flag_series(_run([12.5, 10.0, 10.0, 10.0, 10.0, 10.0]), CENTRE, RADIUS)
    assert four == [[]] * 4
    assert [codes(f) for f in five] == [["constant_accuracy"]] * 5
    assert five[0][0].params == {"accuracy_m": 10.0, "count": 5}
    assert [codes(f) for f in six] == [[]] + [["constant_accuracy"]] * 5


def test_constant_accuracy_run_broken_by_other_value_missing_fix_or_zero():
    broken = _run([10.0, 10.0, 10.0, 11.0, 10.0, 10.0])
    assert "constant_accuracy" not in codes(sum(checkin_flag_series(broken, CENTRE, RADIUS), []))
    zeros = _run([0.0] * 6)
    assert {c for fs in checkin_flag_series(zeros, CENTRE, RADIUS) for c in codes(fs)} == {
        "zero_accuracy"}
    # input order does not matter: runs follow time
    shuffled = list(reversed(_run([10.0] * 5)))
    assert all(codes(f) == ["constant_accuracy"]
               for f in checkin_flag_series(shuffled, CENTRE, RADIUS))


# --- repeated coordinates --------------------------------------------------------------


def test_repeated_checkin_coordinates_on_distinct_local_days():
    spot = (34.451234, 107.621234)
    same = (34.4512341, 107.6212344)  # equal to 5 decimals
    two = [checkin(T0, spot), checkin(T0 + timedelta(days=1), same)]
    assert checkin_flag_series(two, CENTRE, RADIUS) == [[], []]
    three = two + [checkin(T0 + timedelta(days=5), spot)]
    out = checkin_flag_series(three, CENTRE, RADIUS)
    assert [codes(f) for f in out] == [["repeated_coordinates"]] * 3
    assert out[0][0].params == {"days": 3}
    # many times on one day is one day
    one_day = [checkin(T0 + timedelta(hours=h), spot) for h in range(5)]
    assert all("repeated_coordinates" not in codes(f)
               for f in checkin_flag_series(one_day, CENTRE, RADIUS))


def test_repeated_coordinates_days_are_shanghai_days():
    spot = (34.45123, 107.62123)
    # 16:30Z and 03:00Z next day are both 2026-03-02 in Shanghai: two local days, not three
    ats = [datetime(2026, 3, 1, 16, 30, tzinfo=UTC), datetime(2026, 3, 2, 3, 0, tzinfo=UTC),
           datetime(2026, 3, 3, 1, 0, tzinfo=UTC)]
    out = checkin_flag_series([checkin(a, spot) for a in ats], CENTRE, RADIUS)
    assert out == [[], [], []]


def test_repeated_visit_coordinates_across_households():
    spot = (34.45123, 107.62123)
    a = visit("hh1", T0, coord=spot)
    b = visit("hh2", T0 + timedelta(days=1), coord=spot)
    a_again = visit("hh1", T0 + timedelta(days=2), coord=spot)
    index = visit_coordinate_index([a, b, a_again])
    fs = visit_flags(b, [], index, CENTRE, RADIUS)
    assert codes(fs) == ["repeated_coordinates"] and fs[0].params == {"others": 1}
    # a revisit of the same household at the same spot is normal
    only_hh1 = visit_coordinate_index([a, a_again])
    assert visit_flags(a_again, [a], only_hh1, CENTRE, RADIUS) == []
    strict = FlagThresholds(repeat_coord_min_households=3)
    assert visit_flags(b, [], index, CENTRE, RADIUS, strict) == []


# --- visit duration --------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "flagged"), [(119, True), (120, False), (121, False)])
def test_short_visit_boundary(seconds, flagged):
    v = visit("a", T0, minutes=seconds / 60)
    assert codes(visit_flags(v, [], None, CENTRE, RADIUS)) == (["short_visit"] if flagged else [])


# --- speed -----------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "flagged"), [(59, True), (60, False), (61, False)])
def test_impossible_speed_boundary_checkins(fake_distance, seconds, flagged):
    a, b = (34.40, 107.60), (34.42, 107.60)
    fake_distance[frozenset((a, b))] = 2000.0  # 2 km in 60 s = exactly 120 km/h
    first, second = checkin(T0, a, 10), checkin(T0 + timedelta(seconds=seconds), b, 11,
                                                 ref="b")
    out = checkin_flag_series([first, second], None, None)
    assert [codes(f) for f in out] == ([["impossible_speed"]] * 2 if flagged else [[], []])


@pytest.mark.parametrize(("seconds", "flagged"), [(59, True), (60, False)])
def test_impossible_speed_between_visits_uses_end_to_start(fake_distance, seconds, flagged):
    a, b = (34.40, 107.60), (34.42, 107.60)
    fake_distance[frozenset((a, b))] = 2000.0
    first = visit("h1", T0, 30, a, ref="first")
    second = visit("h2", first.ended_at + timedelta(seconds=seconds), 20, b)
    fs = visit_flags(second, [first], None, None, None)
    assert codes(fs) == (["impossible_speed"] if flagged else [])
    if flagged:
        assert fs[0].params["other"] == "first"


@pytest.mark.parametrize(("metres", "flagged"), [(99.0, False), (100.0, False), (100.5, True)])
def test_zero_time_delta_is_infinite_speed_beyond_jitter(fake_distance, metres, flagged):
    a, b = (34.40, 107.60), (34.401, 107.60)
    fake_distance[frozenset((a, b))] = metres
    out = checkin_flag_series([checkin(T0, a, 10), checkin(T0, b, 11)], None, None)
    assert [codes(f) for f in out] == ([["impossible_speed"]] * 2 if flagged else [[], []])
    if flagged:
        assert out[0][0].params["speed_kmh"] is None and out[0][0].params["minutes"] == 0


def test_small_moves_are_jitter_even_when_fast(fake_distance):
    a, b = (34.40, 107.60), (34.4005, 107.60)
    fake_distance[frozenset((a, b))] = 60.0  # 60 m in 1 s = 216 km/h, but within jitter
    out = checkin_flag_series([checkin(T0, a, 10), checkin(T0 + timedelta(seconds=1), b, 11)],
                              None, None)
    assert out == [[], []]


def test_overlapping_visits_far_apart_are_impossible():
    first = visit("h1", T0, 30, CENTRE)
    second = visit("h2", T0 + timedelta(minutes=10), 20, moved(CENTRE, 5000))
    assert codes(visit_flags(second, [first], None, None, None)) == ["impossible_speed"]


def test_speed_real_distance_reports_the_worst_neighbour():
    far = moved(CENTRE, 50_000, 90)  # 50 km in 10 min = 300 km/h
    series = [checkin(T0, CENTRE, 10, ref="a"),
              checkin(T0 + timedelta(minutes=10), far, 11, ref="b"),
              checkin(T0 + timedelta(hours=5), far, 12, ref="c")]
    out = checkin_flag_series(series, None, None)
    assert [codes(f) for f in out] == [["impossible_speed"], ["impossible_speed"], []]
    p = out[1][0].params
    # Speed uses the haversine on the mean radius: within 0.5% of the geodesic.
    assert p["other"] == "a" and p["distance_m"] == pytest.approx(50_000, rel=0.005)
    assert p["speed_kmh"] == pytest.approx(300.0, rel=0.005)


def test_checkins_without_location_are_skipped_for_speed(fake_distance):
    a, b = (34.40, 107.60), (34.42, 107.60)
    fake_distance[frozenset((a, b))] = 20_000.0  # 20 km in 2 h: fine
    series = [checkin(T0, a, 10), checkin(T0 + timedelta(hours=1), None, None),
              checkin(T0 + timedelta(hours=2), b, 11)]
    out = checkin_flag_series(series, None, None)
    assert [codes(f) for f in out] == [[], ["no_location"], []]


# --- clocks and sync -------------------------------------------------------------------


@pytest.mark.parametrize(("skew", "hours"), [
    (timedelta(hours=24), None), (timedelta(hours=24, seconds=1), 24.0),
    (timedelta(hours=-25), -25.0), (timedelta(hours=-24), None)])
def test_clock_skew_boundary(skew, hours):
    received = T0 + timedelta(minutes=5)
    fs = alone(checkin(T0, received_at=received, device_sent_at=received + skew))
    assert codes(fs) == ([] if hours is None else ["clock_skew"])
    if hours is not None:
        assert fs[0].params == {"hours": hours}


def test_visit_synced_days_later_with_a_right_clock_is_not_skewed():
    received = T0 + timedelta(days=5)
    v = visit("a", T0, received_at=received, device_sent_at=received - timedelta(seconds=3))
    assert visit_flags(v, [], None, CENTRE, RADIUS) == []
    wrong = visit("a", T0, received_at=received, device_sent_at=received - timedelta(days=2))
    assert codes(visit_flags(wrong, [], None, CENTRE, RADIUS)) == ["clock_skew"]


@pytest.mark.parametrize(("delay", "hours"), [
    (timedelta(hours=48), None), (timedelta(hours=48, seconds=1), 48.0),
    (timedelta(hours=72), 72.0)])
def test_late_sync_boundary(delay, hours):
    fs = alone(checkin(T0, received_at=T0 + delay))
    assert codes(fs) == ([] if hours is None else ["late_sync"])
    if hours is not None:
        assert fs[0].params == {"hours": hours}


def test_late_synced_checkin_still_counts_for_residency():
    late = checkin(T0, received_at=T0 + timedelta(days=4))
    assert codes(alone(late)) == ["late_sync"]
    # flags never discard: the same check-in, counted, makes the day present
    report = monthly_residency(2026, 3, [CheckInFact(late.at, True, counted=True)], [], [])
    assert report.days[1].status == "present"


# --- no location -----------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["denied", "unavailable", "timeout", None, "weird"])
def test_no_location(reason):
    fs = alone(checkin(T0, None, None, geo_error=reason))
    assert codes(fs) == ["no_location"]
    assert fs[0].params == {"reason": reason or "missing"}
    v = visit("a", T0, coord=None, acc=None, geo_error=reason)
    assert codes(visit_flags(v, [], None, CENTRE, RADIUS)) == ["no_location"]


# --- batch behaviour -------------------------------------------------------------------


def _messy_series() -> list[CheckInFacts]:
    spot = (34.45111, 107.62111)
    out = [checkin(T0 + timedelta(days=d), spot, 10.0, ref=f"r{d}") for d in range(6)]
    out += [checkin(T0 + timedelta(days=6), moved(CENTRE, 3000), 0.0, ref="far"),
            checkin(T0 + timedelta(days=6, minutes=1), CENTRE, 150.0, ref="jump",
                    received_at=T0 + timedelta(days=10)),
            checkin(T0 + timedelta(days=7), None, None, geo_error="denied", ref="none")]
    return out


def test_single_record_function_agrees_with_series():
    series = _messy_series()
    batch = checkin_flag_series(series, CENTRE, RADIUS)
    for i, c in enumerate(series):
        assert checkin_flags(c, series[:i] + series[i + 1:], CENTRE, RADIUS) == batch[i]
    assert {c for fs in batch for c in codes(fs)} >= {
        "repeated_coordinates", "constant_accuracy", "outside_fence", "zero_accuracy",
        "impossible_speed", "low_accuracy", "late_sync", "no_location"}
    json.dumps([[f.to_dict() for f in fs] for fs in batch])  # JSON-safe params


def test_series_is_linear_in_distance_calls(monkeypatch):
    calls = 0

    def counting(real):
        def count(a, b):
            nonlocal calls
            calls += 1
            return real(a, b)
        return count

    monkeypatch.setattr(F, "_fence_distance_m", counting(F._fence_distance_m))
    monkeypatch.setattr(F, "_travel_distance_m", counting(F._travel_distance_m))
    rnd = random.Random(1)
    n = 2000
    series = [checkin(T0 + timedelta(hours=6 * i),
                      moved(CENTRE, rnd.uniform(0, 300), rnd.uniform(0, 360)),
                      rnd.uniform(5, 50)) for i in range(n)]
    checkin_flag_series(series, CENTRE, RADIUS)
    assert calls <= 2 * n  # one fence check each, one per neighbouring pair


# --- thresholds ------------------------------------------------------------------------


def test_thresholds_round_trip_and_validation():
    t = FlagThresholds(max_accuracy_m=80, repeat_coord_min_count=4)
    assert FlagThresholds.from_dict(t.to_dict()) == t
    assert FlagThresholds.from_dict({}) == FlagThresholds()
    assert FlagThresholds.from_dict({"max_speed_kmh": 90}).max_speed_kmh == 90
    for data, field in [({"max_speed": 1}, "max_speed"), ({"max_speed_kmh": 0}, "max_speed_kmh"),
                        ({"repeat_coord_decimals": 5.0}, "repeat_coord_decimals"),
                        ({"repeat_coord_decimals": 9}, "repeat_coord_decimals"),
                        ({"constant_accuracy_min_count": 1}, "constant_accuracy_min_count"),
                        ({"late_sync_hours": "48"}, "late_sync_hours")]:
        with pytest.raises(ConfigError) as e:
            FlagThresholds.from_dict(data)
        assert field in e.value.errors


def test_custom_thresholds_apply():
    t = FlagThresholds(max_accuracy_m=50)
    assert codes(checkin_flags(checkin(T0, acc=60), [], CENTRE, RADIUS, t)) == ["low_accuracy"]
