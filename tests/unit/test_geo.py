import math
import random

import pytest
from geopy.distance import geodesic

from fieldapp.domain import geo
from fieldapp.domain.geo import (
    FenceResult,
    bd09_to_gcj02,
    bd09_to_wgs84,
    distance_m,
    fence_distance_m,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    geofence,
    haversine_m,
    in_china,
    normalise_system,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

TIANANMEN = (39.9087, 116.3975)
BAOJI = (34.36, 107.24)
# Reference values computed with the public algorithm (they agree with prcoords 1.x).
REFERENCE = {
    TIANANMEN: ((39.91010349934476, 116.40374357265176), (39.91644274963076, 116.4101165864734)),
    BAOJI: ((34.35857842731455, 107.24469246605626), (34.364495659962344, 107.25123790086437)),
}

# A grid over China's box, 1 degree apart (about 3,100 points).
GRID = [(lat + 0.37, lon + 0.61) for lat in range(18, 54) for lon in range(74, 135)]


@pytest.mark.parametrize("wgs", list(REFERENCE))
def test_forward_matches_reference(wgs):
    gcj, bd = REFERENCE[wgs]
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-12)
    assert wgs84_to_bd09(*wgs) == pytest.approx(bd, abs=1e-12)


def test_tiananmen_offset_is_hundreds_of_metres():
    gcj = wgs84_to_gcj02(*TIANANMEN)
    assert gcj == pytest.approx((39.9101, 116.4037), abs=1e-4)
    assert 300 < distance_m(TIANANMEN, gcj) < 800


def test_baoji_offset_is_hundreds_of_metres():
    assert 200 < distance_m(BAOJI, wgs84_to_gcj02(*BAOJI)) < 800


def _worst_metres(pairs):
    return max(distance_m(a, b) for a, b in pairs)


def test_gcj_round_trip_below_half_a_metre_over_china():
    pairs = [(p, gcj02_to_wgs84(*wgs84_to_gcj02(*p))) for p in GRID]
    # Degrees first (cheap, every point), then metres on a sample.
    worst_deg = max(max(abs(a[0] - b[0]), abs(a[1] - b[1])) for a, b in pairs)
    assert worst_deg < 1e-8  # about 1 mm; the documented target is < 0.5 m
    assert _worst_metres(pairs[::50]) < 0.01


def test_gcj_inverse_also_holds_from_the_gcj_side():
    # Starting from a GCJ point (what a map app gives), forward(inverse(p)) == p.
    for p in GRID[::7]:
        back = wgs84_to_gcj02(*gcj02_to_wgs84(*p))
        assert back == pytest.approx(p, abs=1e-8)


def test_bd_round_trip_below_half_a_metre():
    for p in GRID[::5]:
        assert bd09_to_gcj02(*gcj02_to_bd09(*p)) == pytest.approx(p, abs=1e-8)
        assert bd09_to_wgs84(*wgs84_to_bd09(*p)) == pytest.approx(p, abs=1e-8)
    assert _worst_metres([(p, bd09_to_wgs84(*wgs84_to_bd09(*p))) for p in GRID[::60]]) < 0.01


@pytest.mark.parametrize("point", [(48.8566, 2.3522), (40.7128, -74.006), (-33.87, 151.21), (35.68, 139.76)])
def test_outside_china_gcj_is_identity(point):
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point
    assert to_wgs84(*point, "GCJ02") == point


def test_bd09_outside_china_only_removes_the_baidu_shift():
    paris_bd = gcj02_to_bd09(48.8566, 2.3522)
    assert bd09_to_wgs84(*paris_bd) == pytest.approx((48.8566, 2.3522), abs=1e-9)


@pytest.mark.parametrize(
    ("system", "code"),
    [(None, "WGS84"), ("", "WGS84"), ("wgs84", "WGS84"), ("WGS-84", "WGS84"), (" wgs 84 ", "WGS84"),
     ("GPS", "WGS84"), ("gcj-02", "GCJ02"), ("GCJ_02", "GCJ02"), ("高德", "GCJ02"),
     ("bd-09", "BD09"), ("BD09LL", "BD09"), ("bd09", "BD09"), ("百度", "BD09")],
)
def test_normalise_system(system, code):
    assert normalise_system(system) == code


@pytest.mark.parametrize("system", ["UTM", "CGCS2000x", "gcj-03", "mercator"])
def test_unknown_system_raises(system):
    with pytest.raises(ValueError):
        normalise_system(system)
    with pytest.raises(ValueError):
        to_wgs84(34.0, 107.0, system)


def test_to_wgs84_dispatches():
    gcj, bd = REFERENCE[BAOJI]
    assert to_wgs84(*BAOJI, "WGS84") == BAOJI
    assert to_wgs84(*BAOJI, None) == BAOJI
    assert to_wgs84(*gcj, "gcj-02") == pytest.approx(BAOJI, abs=1e-9)
    assert to_wgs84(*bd, "bd-09") == pytest.approx(BAOJI, abs=1e-9)


@pytest.mark.parametrize(
    ("lat", "lon", "inside"),
    [(34.36, 107.24, True), (39.9, 116.4, True), (3.8, 73.5, True), (53.6, 135.1, True),
     (3.79, 100, False), (53.61, 120, False), (30, 73.49, False), (30, 135.11, False),
     (107.24, 34.36, False), (0, 0, False), (48.85, 2.35, False)],
)
def test_in_china(lat, lon, inside):
    assert in_china(lat, lon) is inside


def test_distance_m_is_geodesic():
    assert distance_m(BAOJI, BAOJI) == 0
    # One degree of latitude near 34 N is about 110.9 km on the WGS-84 ellipsoid.
    assert distance_m((34.0, 107.0), (35.0, 107.0)) == pytest.approx(110_941, abs=50)
    assert distance_m(BAOJI, TIANANMEN) == pytest.approx(distance_m(TIANANMEN, BAOJI))


def _china_points(n: int, seed: int = 13):
    rnd = random.Random(seed)
    for _ in range(n):
        yield (rnd.uniform(18.0, 53.0), rnd.uniform(74.0, 134.0)), rnd.uniform(0, 360)


@pytest.mark.parametrize("metres", [1, 100, 1000, 3000, 10_000, 19_999])
def test_fence_distance_agrees_with_the_geodesic_at_fence_scale(metres):
    for centre, bearing in _china_points(200):
        p = geodesic(meters=metres).destination(centre, bearing)
        point = (p.latitude, p.longitude)
        assert fence_distance_m(centre, point) == pytest.approx(distance_m(centre, point),
                                                               abs=0.02)


def test_fence_distance_beyond_20_km_is_the_geodesic():
    assert fence_distance_m(BAOJI, TIANANMEN) == distance_m(BAOJI, TIANANMEN)
    far = (34.36 + 0.3, 107.24)  # ~33 km north
    assert fence_distance_m(BAOJI, far) == distance_m(BAOJI, far)


def test_haversine_is_within_half_a_percent_but_would_move_a_1_km_fence_edge():
    worst = 0.0
    for centre, bearing in _china_points(300):
        p = geodesic(meters=1000).destination(centre, bearing)
        point = (p.latitude, p.longitude)
        error = haversine_m(centre, point) - distance_m(centre, point)
        assert abs(error) < 5.0
        worst = max(worst, abs(error))
    # Metres of error at 1 km: the geofence decision therefore uses fence_distance_m.
    assert worst > 2.0
    north = geodesic(meters=999).destination(BAOJI, 0)  # 1 m inside a 1 km fence
    inside = (north.latitude, north.longitude)
    assert haversine_m(BAOJI, inside) > 1000  # the sphere would judge it outside
    assert geofence(BAOJI, 1000, inside, None).inside is True


CENTRE = (34.36, 107.24)
POINT = (34.3645, 107.2412)  # about 510 m away
D = fence_distance_m(CENTRE, POINT)  # what geofence measures (the geodesic to micrometres)


def test_geofence_without_accuracy():
    result = geofence(CENTRE, 1000, POINT, None)
    assert result == FenceResult(D, D, True)
    assert 400 < D < 600


@pytest.mark.parametrize(
    ("radius", "accuracy", "inside"),
    [
        (D - 30 + 1e-6, 30, True),  # just inside
        (D - 30, 30, True),  # exactly on the edge counts as inside
        (D - 30 - 1e-6, 30, False),  # just outside
        (D, None, True),
        (D - 1e-6, None, False),
        (D - 1e-6, -50, False),  # negative accuracy counts as 0
        (D - 1e-6, math.nan, False),  # so does NaN
        (D - 200, 5000, True),  # accuracy above the cap: only the cap is credited
        (D - 200 - 1e-6, 5000, False),
        (D - 200 - 1e-6, 200, False),
    ],
)
def test_geofence_boundaries(radius, accuracy, inside):
    assert geofence(CENTRE, radius, POINT, accuracy).inside is inside


def test_geofence_custom_cap_and_effective_distance():
    result = geofence(CENTRE, 100, POINT, 5000, accuracy_cap_m=50)
    assert result.distance_m == D
    assert result.effective_distance_m == pytest.approx(D - 50)
    assert result.inside is False
    assert geofence(CENTRE, D - 50, POINT, 5000, accuracy_cap_m=50).inside is True


def test_geofence_effective_distance_never_negative():
    result = geofence(CENTRE, 0, CENTRE, 30)
    assert result == FenceResult(0.0, 0.0, True)


def test_module_names_the_three_systems():
    assert (geo.WGS84, geo.GCJ02, geo.BD09) == ("WGS84", "GCJ02", "BD09")
