// Distance, direction and a north-up sketch map between the phone and a house: the house
// finder's arithmetic. No DOM, no network (the coordinates come with the tasks).

const EARTH_RADIUS_M = 6371008.8;
const RAD = Math.PI / 180;
const DIRECTIONS = ['n', 'ne', 'e', 'se', 's', 'sw', 'w', 'nw'];

/** @typedef {{lat: number, lon: number}} Point */

/**
 * Great-circle distance in metres.
 * @param {Point} a @param {Point} b
 * @returns {number}
 */
export function distanceM(a, b) {
  const h = Math.sin(((b.lat - a.lat) * RAD) / 2) ** 2
    + Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(((b.lon - a.lon) * RAD) / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Initial bearing from `a` to `b`, degrees clockwise from north, 0 <= x < 360.
 * @param {Point} a @param {Point} b
 * @returns {number}
 */
export function bearingDeg(a, b) {
  const phi1 = a.lat * RAD;
  const phi2 = b.lat * RAD;
  const dl = (b.lon - a.lon) * RAD;
  const y = Math.sin(dl) * Math.cos(phi2);
  const x = Math.cos(phi1) * Math.sin(phi2) - Math.sin(phi1) * Math.cos(phi2) * Math.cos(dl);
  return ((Math.atan2(y, x) / RAD) + 360) % 360;
}

/**
 * One of eight compass points for a bearing: 'n', 'ne', ... (i18n keys `dir.<x>`).
 * @param {number} deg
 * @returns {string}
 */
export function compassPoint(deg) {
  return DIRECTIONS[Math.round((((deg % 360) + 360) % 360) / 45) % 8];
}

/**
 * A distance rounded the way people say it: 10 m steps below 1 km, then 0.1 km.
 * @param {number} m
 * @returns {{unit: 'm'|'km', n: number}}
 */
export function roundDistance(m) {
  if (m < 1000) return { unit: 'm', n: Math.max(10, Math.round(m / 10) * 10) };
  return { unit: 'km', n: Math.round(m / 100) / 10 };
}

/**
 * Where to draw points on a north-up square sketch of `size` px: a local equirectangular
 * projection around the points' middle, scaled to fit with `pad` px to spare, never
 * closer than `minSpanM` metres across (so two points 5 m apart are not drawn 200 px apart).
 * @param {Array<Point>} points
 * @param {number} size
 * @param {{pad?: number, minSpanM?: number}} [opts]
 * @returns {{xy: Array<{x: number, y: number}>, metresPerPx: number}}
 */
export function project(points, size, opts = {}) {
  const pad = opts.pad ?? 16;
  const minSpan = opts.minSpanM ?? 200;
  if (!points.length) return { xy: [], metresPerPx: minSpan / (size - 2 * pad) };
  const lats = points.map((p) => p.lat);
  const lons = points.map((p) => p.lon);
  const mid = { lat: (Math.min(...lats) + Math.max(...lats)) / 2, lon: (Math.min(...lons) + Math.max(...lons)) / 2 };
  const mPerLat = EARTH_RADIUS_M * RAD;
  const mPerLon = mPerLat * Math.cos(mid.lat * RAD);
  const local = points.map((p) => ({ x: (p.lon - mid.lon) * mPerLon, y: (p.lat - mid.lat) * mPerLat }));
  const span = Math.max(minSpan, ...local.map((p) => 2 * Math.max(Math.abs(p.x), Math.abs(p.y))));
  const metresPerPx = span / (size - 2 * pad);
  const c = size / 2;
  return { xy: local.map((p) => ({ x: c + p.x / metresPerPx, y: c - p.y / metresPerPx })), metresPerPx };
}

/**
 * A round scale-bar length (1, 2 or 5 x 10^k metres) of at most `maxPx` pixels.
 * @param {number} metresPerPx
 * @param {number} maxPx
 * @returns {{metres: number, px: number}}
 */
export function scaleBar(metresPerPx, maxPx) {
  const limit = metresPerPx * maxPx;
  let metres = 1;
  for (let k = 0; k < 8; k += 1) {
    for (const f of [1, 2, 5]) {
      const m = f * 10 ** k;
      if (m <= limit) metres = m;
    }
  }
  return { metres, px: metres / metresPerPx };
}
