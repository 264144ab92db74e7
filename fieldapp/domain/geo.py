"""Coordinates: datum shifts, distances and the check-in geofence.

All functions take and return (lat, lon) in decimal degrees, in that order.

Chinese map apps do not use WGS-84: AMap and Tencent use GCJ-02 (WGS-84 plus a published,
deliberately irregular offset of a few hundred metres) and Baidu uses BD-09 (GCJ-02 plus a
further rotation/shift). We store WGS-84, so imported coordinates are converted here.

Distances: `fence_distance_m` (the geofence decision) is a local ellipsoidal formula that
agrees with the WGS-84 geodesic to within micrometres at 1 km and 2 cm at 20 km, at ~0.5 us
instead of geopy's ~200 us; beyond 20 km (a fix nowhere near the fence) it falls back to
the geodesic. `haversine_m` (mean earth radius, up to 0.5% off: 4.5 m at 1 km) is for speed
flags, where that error is irrelevant but would move a fence edge.

Precision (checked by tests/unit/test_geo.py on a grid over China):
- wgs84 -> gcj02 and gcj02 -> bd09 are the public forward formulas (exact by definition).
- gcj02 -> wgs84 and bd09 -> gcj02 invert the forward formula by fixed-point iteration
  until the step is below 1e-9 degrees; round trips agree within a few millimetres
  (far below the required 0.5 m).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from geopy.distance import geodesic

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as used by the GCJ-02 formula
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0  # Baidu's constant

_INVERSE_TOLERANCE_DEG = 1e-9  # about 0.1 mm
_INVERSE_MAX_STEPS = 50

WGS84, GCJ02, BD09 = "WGS84", "GCJ02", "BD09"
# Spellings met in rosters, after upper-casing and dropping spaces/punctuation.
_SYSTEM_ALIASES = {
    "": WGS84, "WGS84": WGS84, "WGS": WGS84, "GPS": WGS84,
    "GCJ02": GCJ02, "GCJ": GCJ02, "高德": GCJ02, "腾讯": GCJ02, "火星坐标": GCJ02,
    "BD09": BD09, "BD09LL": BD09, "百度": BD09,
}


def _outside_gcj_box(lat: float, lon: float) -> bool:
    # The box the public GCJ-02 formula uses: outside it the offset is not applied.
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """The public GCJ-02 forward transform; identity outside China's box."""
    if _outside_gcj_box(lat, lon):
        return lat, lon
    dlat = _offset_lat(lon - 105.0, lat - 35.0)
    dlon = _offset_lon(lon - 105.0, lat - 35.0)
    radlat = math.radians(lat)
    magic = 1.0 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lat + dlat, lon + dlon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """Baidu's forward transform from GCJ-02."""
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def _invert(forward, lat: float, lon: float, guess: tuple[float, float]) -> tuple[float, float]:
    """Solve forward(p) == (lat, lon) for p, starting at guess.

    Both offsets change slowly with position (their Jacobian is close to the identity),
    so the fixed-point step p -= forward(p) - target converges in a handful of steps.
    """
    p_lat, p_lon = guess
    for _ in range(_INVERSE_MAX_STEPS):
        f_lat, f_lon = forward(p_lat, p_lon)
        d_lat, d_lon = f_lat - lat, f_lon - lon
        p_lat, p_lon = p_lat - d_lat, p_lon - d_lon
        if abs(d_lat) < _INVERSE_TOLERANCE_DEG and abs(d_lon) < _INVERSE_TOLERANCE_DEG:
            break
    return p_lat, p_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Exact (to ~1e-9 degrees) inverse of wgs84_to_gcj02."""
    if _outside_gcj_box(lat, lon):
        return lat, lon
    f_lat, f_lon = wgs84_to_gcj02(lat, lon)
    first_guess = (2 * lat - f_lat, 2 * lon - f_lon)  # subtract the offset seen at the target
    return _invert(wgs84_to_gcj02, lat, lon, first_guess)


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """Inverse of gcj02_to_bd09: the usual closed form, then refined by iteration."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return _invert(gcj02_to_bd09, lat, lon, (z * math.sin(theta), z * math.cos(theta)))


def wgs84_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def bd09_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))


def normalise_system(system: str | None) -> str:
    """'wgs-84', 'GCJ_02', 'bd09ll', '百度', '' or None -> 'WGS84' | 'GCJ02' | 'BD09'.

    Raises ValueError for anything else.
    """
    key = re.sub(r"[\s\-_./()（）]", "", system or "").upper()
    try:
        return _SYSTEM_ALIASES[key]
    except KeyError:
        raise ValueError(f"unknown coordinate system: {system!r}") from None


def to_wgs84(lat: float, lon: float, system: str | None) -> tuple[float, float]:
    """Convert a point given in `system` to WGS-84."""
    code = normalise_system(system)
    if code == GCJ02:
        return gcj02_to_wgs84(lat, lon)
    if code == BD09:
        return bd09_to_wgs84(lat, lon)
    return lat, lon


def in_china(lat: float, lon: float) -> bool:
    """A generous box around China, to catch swapped or mistyped coordinates on import."""
    return 3.8 <= lat <= 53.6 and 73.5 <= lon <= 135.1


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic (WGS-84 ellipsoid) distance in metres between two (lat, lon) points."""
    return geodesic(a, b).meters


_WGS84_A = 6378137.0
_WGS84_F = 1 / 298.257223563
_WGS84_E2 = _WGS84_F * (2 - _WGS84_F)
MEAN_EARTH_RADIUS_M = 6371008.8  # IUGG mean radius (2a + b) / 3 of WGS-84
LOCAL_FORMULA_MAX_M = 20_000.0  # beyond this the local formula's error passes 1 cm


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance on the mean-radius sphere: fast, within 0.5% of the geodesic.
    For speed between records, not for a fence edge."""
    lat1, lon1 = math.radians(a[0]), math.radians(a[1])
    lat2, lon2 = math.radians(b[0]), math.radians(b[1])
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * MEAN_EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def fence_distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The distance a geofence decision uses: the WGS-84 geodesic to the millimetre at
    fence scale, computed on the ellipsoid's tangent plane at the mid-latitude (meridian
    and prime-vertical radii of curvature); the true geodesic beyond 20 km."""
    phi = math.radians((a[0] + b[0]) / 2)
    s = math.sin(phi)
    w = 1 - _WGS84_E2 * s * s
    prime_vertical = _WGS84_A / math.sqrt(w)
    meridian = prime_vertical * (1 - _WGS84_E2) / w
    dy = meridian * math.radians(b[0] - a[0])
    dx = prime_vertical * math.cos(phi) * math.radians(b[1] - a[1])
    d = math.hypot(dx, dy)
    return d if d <= LOCAL_FORMULA_MAX_M else distance_m(a, b)


@dataclass(frozen=True)
class FenceResult:
    distance_m: float
    # distance minus the credited GPS accuracy, never below 0
    effective_distance_m: float
    inside: bool


def geofence(
    centre: tuple[float, float],
    radius_m: float,
    point: tuple[float, float],
    accuracy_m: float | None,
    accuracy_cap_m: float = 200,
) -> FenceResult:
    """Is `point` inside the circle, giving the phone the benefit of its GPS accuracy?

    Inside when distance - min(accuracy, cap) <= radius. A missing, negative or NaN
    accuracy counts as 0; the cap stops a vague fix (accuracy 5 km) from counting as inside.
    """
    distance = fence_distance_m(centre, point)
    credit = accuracy_m if accuracy_m is not None and accuracy_m > 0 else 0.0
    credit = min(credit, accuracy_cap_m)
    effective = distance - credit
    return FenceResult(distance, max(effective, 0.0), effective <= radius_m)
