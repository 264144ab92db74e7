// DOM-free helpers used by the screens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instrumentFor } from '../../pwa/js/taskdata.js';
import { getFix } from '../../pwa/js/geo.js';
import { parseMonth } from '../../pwa/js/views/checkin.js';

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

test('parseMonth reads GET /api/checkins/month (days with a status per calendar day)', () => {
  const data = {
    year: 2026, month: 11, required_days: 20, village: { id: 3, name: '东风村' },
    days: [
      { day: '2026-11-01', status: 'present', checkin_count: 1 }, { day: '2026-11-02', status: 'absent' },
      { day: '2026-11-03', status: 'leave' }, { day: '2026-11-04', status: 'present' }, { day: '2026-11-05', status: 'future' },
    ],
    pending_leave: [{ id: 1, start: '2026-11-27', end: '2026-11-28', status: 'pending' }],
  };
  assert.deepEqual(parseMonth(data), {
    month: '2026-11', present: ['2026-11-01', '2026-11-04'], leave: ['2026-11-03'], required: 20, village: '东风村',
    pendingLeave: [{ start: '2026-11-27', end: '2026-11-28' }],
  });
  assert.deepEqual(parseMonth(null), { month: '', present: [], leave: [], required: null, village: null, pendingLeave: [] });
});
