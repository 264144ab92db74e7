"""Flagging one new check-in against a bounded window gives exactly the flags of a full
recomputation of the series, whatever the order in which check-ins arrive."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from fieldapp.domain import checkin_window as W
from fieldapp.domain.flags import CheckInFacts, FlagThresholds, checkin_flag_series
from fieldapp.domain.residency import local_day

CENTRE = (34.45, 107.62)
RADIUS = 1000.0
T0 = datetime(2026, 3, 2, 0, 30, tzinfo=timezone.utc)


class MemoryStore:
    """The stored series of one secretary, with the two loaders the service implements
    with SQL; counts what it hands out so the test can check the window stays small."""

    def __init__(self) -> None:
        self.rows: dict[int, tuple[CheckInFacts, list[dict]]] = {}
        self.loaded = 0

    def ordered(self) -> list[int]:
        return sorted(self.rows, key=lambda i: (self.rows[i][0].at, i))

    def window_loader(self, new: CheckInFacts):
        def load(k: int):
            ids = self.ordered()
            before = [i for i in ids if self.rows[i][0].at <= new.at][-k:]
            after = [i for i in ids if self.rows[i][0].at > new.at][:k]
            self.loaded += len(before) + len(after)
            return ([W.StoredCheckIn(i, *self.rows[i]) for i in before],
                    [W.StoredCheckIn(i, *self.rows[i]) for i in after])
        return load

    def load_spots(self, keys, margin):
        out = []
        for i, (facts, flags) in self.rows.items():
            if facts.lat is None:
                continue
            if any(abs(facts.lat - k[0]) <= margin and abs(facts.lon - k[1]) <= margin
                   for k in keys):
                out.append(W.SpotRow(i, facts.lat, facts.lon, local_day(facts.at), flags))
        return out

    def add(self, new: CheckInFacts, thresholds: FlagThresholds) -> None:
        result = W.flag_new_checkin(new, self.window_loader(new), self.load_spots, CENTRE,
                                    RADIUS, thresholds)
        for row_id, flags in result.updates.items():
            self.rows[row_id] = (self.rows[row_id][0], flags)
        self.rows[len(self.rows) + 1] = (new, [f.to_dict() for f in result.flags])

    def full_recomputation(self, thresholds: FlagThresholds) -> dict[int, list[dict]]:
        ids = self.ordered()
        series = checkin_flag_series([self.rows[i][0] for i in ids], CENTRE, RADIUS, thresholds)
        return {i: [f.to_dict() for f in fs] for i, fs in zip(ids, series)}


def generated_series(rnd: random.Random, n: int) -> list[CheckInFacts]:
    """Check-ins with the features flags look at, in abundance: a few fixed spots (repeats),
    runs of one accuracy (mock apps), missing fixes, zero accuracy, equal times, jumps of
    kilometres minutes apart, late and skewed syncs."""
    spots = [(CENTRE[0] + rnd.uniform(-0.02, 0.02), CENTRE[1] + rnd.uniform(-0.02, 0.02))
             for _ in range(4)]
    out = []
    at = T0
    accuracy = 12.0
    for i in range(n):
        at += rnd.choice([timedelta(0), timedelta(minutes=3), timedelta(hours=2),
                          timedelta(hours=20), timedelta(days=1)])
        if rnd.random() < 0.3:
            accuracy = rnd.choice([0.0, 5.0, 12.0, 30.0, 150.0])
        if rnd.random() < 0.1:
            lat = lon = None
            acc = None
        else:
            lat, lon = rnd.choice(spots) if rnd.random() < 0.5 else (
                CENTRE[0] + rnd.uniform(-0.05, 0.05), CENTRE[1] + rnd.uniform(-0.05, 0.05))
            acc = accuracy if rnd.random() < 0.8 else rnd.uniform(3, 40)
        received = at + rnd.choice([timedelta(minutes=1), timedelta(days=3)])
        sent = received + rnd.choice([timedelta(0), timedelta(0), timedelta(hours=30)])
        out.append(CheckInFacts(at=at, lat=lat, lon=lon, accuracy_m=acc,
                                geo_error=None if lat is not None else "timeout",
                                device_sent_at=sent, received_at=received, ref=f"r{i}"))
    return out


THRESHOLDS = FlagThresholds(constant_accuracy_min_count=3, repeat_coord_min_count=2)


@pytest.mark.parametrize("seed", range(40))
def test_window_flags_equal_the_full_recomputation_in_any_arrival_order(seed):
    rnd = random.Random(seed)
    series = generated_series(rnd, rnd.randint(1, 70))
    arrival = series[:]
    if seed % 4:  # mostly in time order, as phones send them; sometimes shuffled (offline)
        for _ in range(len(arrival) // 3):
            i, j = rnd.randrange(len(arrival)), rnd.randrange(len(arrival))
            arrival[i], arrival[j] = arrival[j], arrival[i]
    thresholds = THRESHOLDS if seed % 2 else FlagThresholds()
    store = MemoryStore()
    for new in arrival:
        store.add(new, thresholds)
        assert {i: flags for i, (_f, flags) in store.rows.items()} == \
            store.full_recomputation(thresholds)


def test_every_kind_of_flag_occurs_in_the_generated_series():
    seen = set()
    for seed in range(40):
        rnd = random.Random(seed)
        series = generated_series(rnd, 70)
        for fs in checkin_flag_series(series, CENTRE, RADIUS, THRESHOLDS):
            seen.update(f.code for f in fs)
    assert seen >= {"no_location", "outside_fence", "low_accuracy", "zero_accuracy",
                    "constant_accuracy", "repeated_coordinates", "impossible_speed",
                    "clock_skew", "late_sync"}


def test_a_new_checkin_at_the_end_of_a_long_series_reads_a_bounded_window():
    rnd = random.Random(5)
    store = MemoryStore()
    spots_free = [CheckInFacts(at=T0 + timedelta(days=d, minutes=rnd.uniform(0, 60)),
                               lat=CENTRE[0] + rnd.uniform(-0.003, 0.003),
                               lon=CENTRE[1] + rnd.uniform(-0.003, 0.003),
                               accuracy_m=rnd.uniform(5, 30), ref=f"d{d}") for d in range(400)]
    for c in spots_free[:-1]:
        store.add(c, FlagThresholds())
    store.loaded = 0
    store.add(spots_free[-1], FlagThresholds())
    assert store.loaded <= 2 * W.FIRST_WINDOW  # not the 399 stored before it


def test_a_long_constant_accuracy_run_widens_the_window_until_it_is_closed():
    """A mock-location app reporting 5 m every day: a new record joining the run changes
    the run's count on every member, however far back."""
    store = MemoryStore()
    series = [CheckInFacts(at=T0 + timedelta(days=d), lat=CENTRE[0] + d * 1e-4,
                           lon=CENTRE[1], accuracy_m=5.0, ref=f"m{d}") for d in range(50)]
    for c in series:
        store.add(c, FlagThresholds())
    stored = store.full_recomputation(FlagThresholds())
    assert {i: flags for i, (_f, flags) in store.rows.items()} == stored
    assert all(any(f["code"] == "constant_accuracy" and f["params"]["count"] == 50
                   for f in flags) for flags in stored.values())


def test_with_repeat_days_puts_the_flag_where_the_series_does():
    flags = [{"code": "outside_fence", "msgid": "x", "params": {}},
             {"code": "late_sync", "msgid": "y", "params": {}}]
    patched = W.with_repeat_days(flags, 4)
    assert [f["code"] for f in patched] == ["outside_fence", "repeated_coordinates", "late_sync"]
    assert patched[1]["params"] == {"days": 4}
    assert W.with_repeat_days(patched, 2) == flags  # below the threshold: gone again
