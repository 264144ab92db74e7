import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distanceM, bearingDeg, compassPoint, roundDistance, project, scaleBar } from '../../pwa/js/compass.js';

const home = { lat: 34.45, lon: 107.62 };

test('distance and bearing agree with the geometry', () => {
  const north = { lat: 34.45 + 1000 / 111195, lon: 107.62 };
  assert.ok(Math.abs(distanceM(home, north) - 1000) < 1);
  assert.ok(Math.abs(bearingDeg(home, north)) < 0.01);
  const east = { lat: 34.45, lon: 107.62 + 0.01 };
  assert.ok(Math.abs(bearingDeg(home, east) - 90) < 0.01);
  assert.ok(Math.abs(bearingDeg(east, home) - 270) < 0.01);
  assert.equal(distanceM(home, home), 0);
});

test('eight compass points, wrapping at north', () => {
  assert.deepEqual([0, 22, 23, 90, 135, 180, 225, 270, 315, 338, 359, -10].map(compassPoint),
    ['n', 'n', 'ne', 'e', 'se', 's', 'sw', 'w', 'nw', 'n', 'n', 'n']);
});

test('distances are rounded as people say them', () => {
  assert.deepEqual(roundDistance(3), { unit: 'm', n: 10 });
  assert.deepEqual(roundDistance(324), { unit: 'm', n: 320 });
  assert.deepEqual(roundDistance(999), { unit: 'm', n: 1000 });
  assert.deepEqual(roundDistance(1260), { unit: 'km', n: 1.3 });
});

test('the sketch is north-up, fits the points and keeps a minimum span', () => {
  const north = { lat: 34.451, lon: 107.62 };
  const { xy, metresPerPx } = project([home, north], 200, { pad: 20, minSpanM: 100 });
  assert.ok(xy[1].y < xy[0].y, 'north is up');
  assert.ok(Math.abs(xy[0].x - xy[1].x) < 1e-6);
  for (const p of xy) assert.ok(p.x >= 20 && p.x <= 180 && p.y >= 20 && p.y <= 180);
  const close = project([home, { lat: 34.45001, lon: 107.62 }], 200, { pad: 20, minSpanM: 100 });
  assert.ok(close.metresPerPx >= 100 / 160 - 1e-9);
  assert.ok(metresPerPx > 0);
});

test('scale bar picks a round length that fits', () => {
  assert.deepEqual(scaleBar(1, 80), { metres: 50, px: 50 });
  const bar = scaleBar(7.3, 80);
  assert.equal(bar.metres, 500);
  assert.ok(bar.px <= 80);
});
