// DOM-free helpers used by the screens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instrumentFor } from '../../pwa/js/taskdata.js';
import { getFix } from '../../pwa/js/geo.js';

test('instrumentFor: the cycle instrument when given, else the newest household_visit', () => {
  const list = [{ id: 'household_visit', version: 1 }, { id: 'household_visit', version: 2 }, { id: 'other', version: 5 }];
  assert.equal(instrumentFor({ cycle: { id: 1 } }, list).version, 2);
  assert.equal(instrumentFor({ cycle: { instrument: { id: 'household_visit', version: 1 } } }, list).version, 1);
  assert.equal(instrumentFor({ cycle: { instrument: { id: 'other', version: 9 } } }, list).version, 5);
  assert.equal(instrumentFor({}, []), null);
});

test('getFix maps the Geolocation API to the payload shape', async () => {
  const okGeo = { getCurrentPosition: (ok) => ok({ coords: { latitude: 34.36, longitude: 107.24, accuracy: 12.345 }, timestamp: Date.parse('2026-11-25T01:00:00Z') }) };
  assert.deepEqual(await getFix({ geolocation: okGeo, secure: true }), {
    geo: { lat: 34.36, lon: 107.24, accuracy: 12.3, at: '2026-11-25T01:00:00.000Z' }, geo_error: null,
  });
  const fail = (code) => ({ getCurrentPosition: (ok, err) => err({ code }) });
  assert.deepEqual(await getFix({ geolocation: fail(1), secure: true }), { geo: null, geo_error: 'denied' });
  assert.deepEqual(await getFix({ geolocation: fail(2), secure: true }), { geo: null, geo_error: 'unavailable' });
  assert.deepEqual(await getFix({ geolocation: fail(3), secure: true }), { geo: null, geo_error: 'timeout' });
  assert.deepEqual(await getFix({ geolocation: null }), { geo: null, geo_error: 'unsupported' });
  assert.deepEqual(await getFix({ geolocation: okGeo, secure: false }), { geo: null, geo_error: 'unsupported' });
  const silent = { getCurrentPosition: () => {} }; // some WebViews never answer
  assert.deepEqual(await getFix({ geolocation: silent, secure: true, timeout: 10 }), { geo: null, geo_error: 'timeout' });
});
