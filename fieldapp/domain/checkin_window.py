"""Flag one new check-in against a bounded window of its neighbours, not the whole series.

`checkin_flag_series` over a secretary's whole history gives the reference flags. A new
check-in can change only:
- its own flags;
- the speed flags of its nearest located neighbours before and after it in time;
- the constant-accuracy runs it joins, or splits (the runs just before and after it);
- the repeated-coordinates count of the records at the same spot (any time: the service
  finds those by position, `with_repeat_days` rewrites that one flag).

`window_flags` computes the flags of a time-ordered slice of the series and says which
of them are exact (do not depend on records outside the slice); `affected_positions` says
which positions must be exact. When one is not, the caller widens the window. The result
is then identical to a full recomputation (tests/unit/test_checkin_window.py checks it on
generated series).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fieldapp.domain.flags import (DEFAULT_THRESHOLDS, CheckInFacts, Coord, Flag,
                                   FlagThresholds, checkin_series_with_runs, repeat_key,
                                   repeated_coordinates_flag)
from fieldapp.domain.residency import local_day

# Flags that follow repeated_coordinates in a check-in's list (see checkin_series_with_runs).
_AFTER_REPEAT = ("impossible_speed", "clock_skew", "late_sync")


@dataclass(frozen=True)
class WindowFlags:
    flags: list[list[Flag]]  # per window position
    exact: list[bool]  # False: the flags there depend on records outside the window


def _located(c: CheckInFacts) -> bool:
    return c.lat is not None and c.lon is not None


def window_flags(
    window: Sequence[CheckInFacts],
    centre: Coord | None,
    radius_m: float | None,
    thresholds: FlagThresholds = DEFAULT_THRESHOLDS,
    *,
    opens_series: bool,
    closes_series: bool,
    coord_days: Mapping[Coord, int],
) -> WindowFlags:
    """Flags of a slice of ONE secretary's series, in series order (time, then id).

    `opens_series` / `closes_series`: nothing of the series lies before / after the slice.
    `coord_days`: distinct local days per repeat key over the WHOLE series (keys missing
    there are counted within the slice)."""
    flags, spans = checkin_series_with_runs(window, centre, radius_m, thresholds, coord_days)
    n = len(window)
    located = [i for i, c in enumerate(window) if _located(c)]
    first, last = (located[0], located[-1]) if located else (n, -1)
    exact = []
    for i, c in enumerate(window):
        ok = True
        if _located(c):  # speed needs the located neighbour on each side
            ok = (opens_series or i > first) and (closes_series or i < last)
        span = spans[i]
        if span is not None:  # the run must be closed inside the slice
            ok = ok and (opens_series or span[0] > 0) and (closes_series or span[1] < n - 1)
        exact.append(ok)
    return WindowFlags(flags, exact)


def affected_positions(window: Sequence[CheckInFacts], new: int, *, opens_series: bool,
                       closes_series: bool, thresholds: FlagThresholds = DEFAULT_THRESHOLDS
                       ) -> set[int] | None:
    """Positions whose flags the record at `new` may change (see the module docstring),
    or None when one of them lies outside the window (widen it)."""
    n = len(window)
    out = {new}
    if _located(window[new]):
        before = [i for i in range(new) if _located(window[i])]
        after = [i for i in range(new + 1, n) if _located(window[i])]
        if (not before and not opens_series) or (not after and not closes_series):
            return None
        out.update(before[-1:] + after[:1])
    # Runs joined or split: the record itself and the ones right before and after it; a
    # run reaching the window's edge is caught by `exact`.
    for j in (new - 1, new + 1):
        if 0 <= j < n:
            out.add(j)
        elif not (opens_series if j < 0 else closes_series):
            return None
    runs = _run_members(window, thresholds)
    for j in list(out):
        out.update(runs.get(j, ()))
    return out


def _run_members(window: Sequence[CheckInFacts], t: FlagThresholds) -> dict[int, range]:
    """Position -> the positions of its constant-accuracy run (same rule as the series)."""
    out: dict[int, range] = {}
    start = 0
    for i in range(1, len(window) + 1):
        if i < len(window) and _same_run(window[i - 1], window[i]):
            continue
        members = range(start, i)
        if window[start].accuracy_m and _located(window[start]):
            for j in members:
                out[j] = members
        start = i
    return out


def _same_run(a: CheckInFacts, b: CheckInFacts) -> bool:
    return bool(_located(a) and _located(b) and a.accuracy_m and a.accuracy_m == b.accuracy_m)


def with_repeat_days(flags: list[dict[str, Any]], days: int,
                     thresholds: FlagThresholds = DEFAULT_THRESHOLDS) -> list[dict[str, Any]]:
    """Stored flags (dicts) with the repeated-coordinates flag for `days` distinct days,
    at the place the series puts it; nothing else changes."""
    kept = [f for f in flags if f.get("code") != "repeated_coordinates"]
    if days < thresholds.repeat_coord_min_count:
        return kept
    at = next((i for i, f in enumerate(kept) if f.get("code") in _AFTER_REPEAT), len(kept))
    return kept[:at] + [repeated_coordinates_flag(days).to_dict()] + kept[at:]


# --- one new check-in, with the stored series behind two loaders ----------------------


@dataclass(frozen=True)
class StoredCheckIn:
    id: int
    facts: CheckInFacts
    flags: list[dict[str, Any]]  # as stored (Flag.to_dict())


@dataclass(frozen=True)
class SpotRow:
    """A stored check-in near a position, for counting the days spent at one spot."""
    id: int
    lat: float
    lon: float
    day: Any  # local date
    flags: list[dict[str, Any]]


@dataclass(frozen=True)
class NewCheckInFlags:
    flags: list[Flag]  # of the new check-in
    updates: dict[int, list[dict[str, Any]]]  # stored check-in id -> its new flags


WindowLoader = Callable[[int], tuple[Sequence[StoredCheckIn], Sequence[StoredCheckIn]]]
SpotLoader = Callable[[Sequence[Coord], float], Sequence[SpotRow]]
FIRST_WINDOW = 8  # stored check-ins loaded on each side at first; x4 while not enough


def flag_new_checkin(new: CheckInFacts, load_window: WindowLoader, load_spots: SpotLoader,
                     centre: Coord | None, radius_m: float | None,
                     thresholds: FlagThresholds = DEFAULT_THRESHOLDS) -> NewCheckInFlags:
    """The new check-in's flags and the stored check-ins whose flags it changes, exactly
    as `checkin_flag_series` over the whole series (the new record last among equal times).

    `load_window(k)` returns up to k stored check-ins before the new one and up to k
    after it, each in series order; `load_spots(keys, margin)` returns at least every
    stored check-in within `margin` degrees of each key (more does no harm)."""
    t = thresholds
    k = FIRST_WINDOW
    while True:
        before, after = load_window(k)
        window = [s.facts for s in before] + [new] + [s.facts for s in after]
        at = len(before)
        opens, closes = len(before) < k, len(after) < k
        needed = affected_positions(window, at, opens_series=opens, closes_series=closes,
                                    thresholds=t)
        if needed is not None:
            days, spots = _spot_days(window, needed, new, load_spots, t)
            result = window_flags(window, centre, radius_m, t, opens_series=opens,
                                  closes_series=closes, coord_days=days)
            if all(result.exact[i] for i in needed):
                break
        if opens and closes:  # the whole series is loaded: everything is exact
            raise AssertionError("a complete series must be exact")
        k *= 4
    stored = before + [None] + after  # type: ignore[operator]
    updates: dict[int, list[dict[str, Any]]] = {}
    for i in needed - {at}:
        row = stored[i]
        new_flags = [f.to_dict() for f in result.flags[i]]
        if new_flags != row.flags:
            updates[row.id] = new_flags
    written = {stored[i].id for i in needed - {at}}
    if _located(new):
        key = repeat_key(new.lat, new.lon, t)
        for spot in spots:
            if spot.id in written or repeat_key(spot.lat, spot.lon, t) != key:
                continue
            patched = with_repeat_days(spot.flags, days[key], t)
            if patched != spot.flags:
                updates[spot.id] = patched
    return NewCheckInFlags(result.flags[at], updates)


def _spot_days(window: Sequence[CheckInFacts], needed: set[int], new: CheckInFacts,
               load_spots: SpotLoader, t: FlagThresholds
               ) -> tuple[dict[Coord, int], Sequence[SpotRow]]:
    """Distinct local days over the whole series for the spots of the `needed` records."""
    keys = {repeat_key(window[i].lat, window[i].lon, t) for i in needed  # type: ignore[arg-type]
            if _located(window[i])}
    if not keys:
        return {}, ()
    spots = load_spots(sorted(keys), 10.0 ** -t.repeat_coord_decimals)
    days: dict[Coord, set[Any]] = {key: set() for key in keys}
    for spot in spots:
        key = repeat_key(spot.lat, spot.lon, t)
        if key in days:
            days[key].add(spot.day)
    if _located(new):
        days[repeat_key(new.lat, new.lon, t)].add(local_day(new.at))
    return {key: len(d) for key, d in days.items()}, spots
