"""Estimating a village's centre from its households' coordinates.

A roster without a 村 sheet still usually has the households' coordinates. Their
coordinate-wise median is a robust centre: one household typed with the wrong county's
coordinates (or latitude and longitude swapped inside China) cannot move it. Households
more than `OUTLIER_M` (5 km) from that median are left out and reported, and the centre
is the median of the others. The result is an estimate (shown as 估计) until staff or a
村 sheet give the 村委会's location.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import median
from typing import Hashable

OUTLIER_M = 5000.0
_EARTH_RADIUS_M = 6371008.8


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres; plenty for kilometre-scale decisions."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Outlier:
    ref: Hashable  # what the caller uses to name the household (e.g. 户编号)
    distance_m: float  # from the estimated centre


@dataclass(frozen=True)
class CentreEstimate:
    lat: float
    lon: float
    used: int  # households the centre rests on
    outliers: list[Outlier] = field(default_factory=list)


def _median_point(points: list[tuple[float, float]]) -> tuple[float, float]:
    return median(p[0] for p in points), median(p[1] for p in points)


def estimate_centre(points: list[tuple[Hashable, float, float]],
                    outlier_m: float = OUTLIER_M) -> CentreEstimate | None:
    """`points` are (ref, lat, lon) in WGS-84. None when there is nothing to rest on: no
    coordinates, or no two households within `outlier_m` of their median."""
    if not points:
        return None
    coords = [(lat, lon) for _ref, lat, lon in points]
    centre = _median_point(coords)
    for _ in range(2):  # the second pass re-centres on the inliers and re-judges them
        inliers = [(lat, lon) for _ref, lat, lon in points
                   if haversine_m(centre, (lat, lon)) <= outlier_m]
        if not inliers:
            return None
        centre = _median_point(inliers)
    outliers = sorted(
        (Outlier(ref, round(haversine_m(centre, (lat, lon)), 1)) for ref, lat, lon in points
         if haversine_m(centre, (lat, lon)) > outlier_m), key=lambda o: -o.distance_m)
    return CentreEstimate(round(centre[0], 7), round(centre[1], 7),
                          len(points) - len(outliers), outliers)
