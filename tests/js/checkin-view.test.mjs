// The secretary's month on the phone: the server's count, plus the phone's own
// check-ins only when they (will) count; outside-fence and no-position ones never do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFence, likelyCounts, monthView, distanceM, monthFor, acceptMonth, savedToast } from '../../pwa/js/views/checkin.js';
import { DICTS, loadLang } from '../../pwa/js/i18n.js';

await loadLang('en'); // English is fetched on demand in the app

const fence = { lat: 34.45, lon: 107.62, radius: 1000 };
// 0.009 degrees of latitude is about 1000.8 m.
const at = (day, hh = '02') => `${day}T${hh}:00:00+08:00`;
const rec = (state, day, geo, result = null) => ({ state, payload: { at: at(day), geo, geo_error: geo ? null : 'denied' }, result });
const near = { lat: 34.452, lon: 107.62, accuracy: 15 };
const far = { lat: 34.6, lon: 107.62, accuracy: 15 };
const cached = (present = [], leave = []) => ({ present, leave, fence });

test('parseFence reads the village centre and radius, or null without a centre', () => {
  assert.deepEqual(parseFence({ village: { name: 'x', lat: 34.45, lon: 107.62, radius_m: 800 } }), { lat: 34.45, lon: 107.62, radius: 800 });
  assert.equal(parseFence({ village: { name: 'x', lat: null, lon: null, radius_m: 1000 } }), null);
  assert.equal(parseFence(null), null);
});

test('likelyCounts follows the server rule: distance minus accuracy (capped at 200 m) within the radius', () => {
  const d = distanceM(34.45, 107.62, 34.459, 107.62);
  assert.ok(d > 1000 && d < 1002, String(d));
  assert.equal(likelyCounts({ geo: { lat: 34.459, lon: 107.62, accuracy: 0 } }, fence), false);
  assert.equal(likelyCounts({ geo: { lat: 34.459, lon: 107.62, accuracy: 5 } }, fence), true);
  // 1,190 m away with a 500 m fix: only 200 m is credited -> 990 m, inside.
  assert.equal(likelyCounts({ geo: { lat: 34.4607, lon: 107.62, accuracy: 500 } }, fence), true);
  assert.equal(likelyCounts({ geo: { lat: 34.4630, lon: 107.62, accuracy: 500 } }, fence), false);
  assert.equal(likelyCounts({ geo: null, geo_error: 'denied' }, fence), false);
  assert.equal(likelyCounts({ geo: near }, undefined), null); // fence never fetched
  assert.equal(likelyCounts({ geo: near }, null), false); // village without a centre: no day
});

test('the month is the server count; synced records count only when the server confirmed them inside', () => {
  const records = [
    rec('synced', '2026-11-03', near, { status: 'stored', data: { day: '2026-11-03', inside_fence: true, counted: true } }),
    rec('synced', '2026-11-04', far, { status: 'stored', data: { day: '2026-11-04', inside_fence: false, counted: true } }),
    rec('synced', '2026-11-05', near, { status: 'stored', data: { day: '2026-11-05', inside_fence: true, counted: false } }),
    rec('synced', '2026-11-06', null, { status: 'stored', data: { day: '2026-11-06', inside_fence: null, counted: true } }),
  ];
  const v = monthView(cached(['2026-11-01', '2026-11-02'], ['2026-11-10']), records, '2026-11-20');
  assert.deepEqual(v.days, ['2026-11-01', '2026-11-02', '2026-11-03']);
  assert.deepEqual(v.pending, []);
  assert.deepEqual(v.leave, ['2026-11-10']);
  assert.equal(v.today, null);
});

test('offline: pending check-ins count as pending only when the phone estimates them inside the fence', () => {
  const records = [rec('pending', '2026-11-07', near), rec('pending', '2026-11-08', far),
    rec('pending', '2026-11-09', null), rec('rejected', '2026-11-11', near), rec('sending', '2026-11-01', near)];
  const v = monthView(cached(['2026-11-01']), records, '2026-11-20');
  assert.deepEqual(v.days, ['2026-11-01', '2026-11-07']);
  assert.deepEqual(v.pending, ['2026-11-07']); // 11-01 is already counted by the server
  // Never online: no fence known, a check-in with a position is shown as pending.
  const never = monthView(null, [rec('pending', '2026-11-07', near), rec('pending', '2026-11-09', null)], '2026-11-20');
  assert.deepEqual(never.pending, ['2026-11-07']);
});

test('today: counted or pending disables the button; a check-in that does not count leaves it usable', () => {
  const today = '2026-11-20';
  assert.equal(monthView(cached([today]), [], today).today, 'counted');
  assert.equal(monthView(cached([]), [rec('pending', today, near)], today).today, 'pending');
  const outside = monthView(cached([]), [rec('pending', today, far)], today);
  assert.equal(outside.today, 'not_counted');
  assert.equal(outside.todayRecord.payload.geo, far);
  assert.equal(monthView(cached([]), [rec('pending', today, null)], today).today, 'not_counted');
  // A second try inside the fence the same day counts, and is the record shown.
  const again = monthView(cached([]), [rec('pending', today, far), rec('pending', today, near)], today);
  assert.equal(again.today, 'pending');
  assert.equal(again.todayRecord.payload.geo, near);
  assert.deepEqual(again.days, [today]);
});

test('a shared phone: the cached month is shown only to the user it belongs to', () => {
  const mine = { month: '2026-11', present: ['2026-11-01'], leave: [], user_id: 7 };
  assert.equal(monthFor(mine, 7, '2026-11'), mine);
  assert.equal(monthFor(mine, '7', '2026-11'), mine); // ids from JSON or IndexedDB alike
  assert.equal(monthFor(mine, 8, '2026-11'), null); // another secretary on the same phone
  assert.equal(monthFor(mine, 7, '2026-12'), null); // last month
  assert.equal(monthFor({ month: '2026-11', present: [], leave: [] }, 7, '2026-11'), null); // whose? unknown
  assert.equal(monthFor(undefined, 7, '2026-11'), null);
  // The server's answer names its user: an answer for the cookie's other user is dropped.
  assert.equal(acceptMonth({ user_id: 7, year: 2026, month: 11 }, 7), true);
  assert.equal(acceptMonth({ user_id: 8, year: 2026, month: 11 }, 7), false);
  assert.equal(acceptMonth({ year: 2026, month: 11 }, 7), true); // an older server
  assert.equal(acceptMonth(null, 7), false);
});

test('the toast after a tap says when the check-in will not count', () => {
  const say = (payload, f) => savedToast(payload, f);
  assert.deepEqual(say({ geo: near }, fence), { key: 'checkin.saved', kind: 'ok' });
  assert.deepEqual(say({ geo: near }, undefined), { key: 'checkin.saved', kind: 'ok' }); // fence unknown: the server decides
  assert.deepEqual(say({ geo: far }, fence), { key: 'checkin.saved_not_counted_fence', kind: 'warn' });
  assert.deepEqual(say({ geo: null, geo_error: 'denied' }, fence), { key: 'checkin.saved_not_counted_geo', kind: 'warn' });
  assert.deepEqual(say({ geo: null, geo_error: 'timeout' }, undefined), { key: 'checkin.saved_not_counted_geo', kind: 'warn' });
  assert.deepEqual(say({ geo: near }, null), { key: 'checkin.saved_not_counted_centre', kind: 'warn' });
  for (const lang of Object.keys(DICTS)) {
    for (const key of ['checkin.saved_not_counted_fence', 'checkin.saved_not_counted_geo', 'checkin.saved_not_counted_centre']) {
      assert.ok(DICTS[lang][key], `${lang} ${key}`);
    }
  }
  assert.match(DICTS['zh-Hans']['checkin.saved_not_counted_fence'], /^已记录，但不计入在村天数：/);
});

test('a check-in in a village without a centre waits for it instead of asking to try again', async () => {
  const { waitsForCentre } = await import('../../pwa/js/views/checkin.js');
  const geo = { lat: 34.45, lon: 107.62, accuracy: 10 };
  assert.equal(waitsForCentre({ payload: { geo } }, null), true); // the month says: no centre
  assert.equal(waitsForCentre({ payload: { geo } }, { lat: 34.45, lon: 107.62, radius: 1000 }), false);
  assert.equal(waitsForCentre({ payload: { geo: null } }, null), false); // no position: retry helps
  // The server's answer wins over the cached month.
  assert.equal(waitsForCentre({ payload: { geo }, result: { data: { inside_fence: null } } }, undefined), true);
  assert.equal(waitsForCentre({ payload: { geo }, result: { data: { inside_fence: false } } }, null), false);
});
