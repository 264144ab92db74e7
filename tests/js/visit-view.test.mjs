// The visit screen's position box: a vague fix is not shown as a good one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { geoLevel, geoText, POOR_ACCURACY_M } from '../../pwa/js/views/visit.js';
import { setLang } from '../../pwa/js/i18n.js';

const fix = (accuracy) => ({ state: 'done', geo: { lat: 34.45, lon: 107.62, accuracy, at: '2026-11-25T01:00:00Z' }, geo_error: null });

test('geoLevel: locating, ok, poor beyond the accuracy limit, error without a fix', () => {
  assert.equal(geoLevel({ state: 'locating', geo: null, geo_error: null }), 'locating');
  assert.equal(geoLevel(fix(25)), 'ok');
  assert.equal(geoLevel(fix(POOR_ACCURACY_M)), 'ok');
  assert.equal(geoLevel(fix(180)), 'poor');
  assert.equal(geoLevel({ state: 'done', geo: null, geo_error: 'denied' }), 'error');
});

test('geoText says poor accuracy exactly when geoLevel is poor', () => {
  setLang('zh-Hans');
  assert.match(geoText(fix(180)), /精度较差/);
  assert.doesNotMatch(geoText(fix(25)), /精度较差/);
});
