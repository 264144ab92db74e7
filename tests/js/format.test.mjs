import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dayKey, monthKey, formatTime, formatDateTime, formatDay } from '../../pwa/js/format.js';
import { setLang, loadLang } from '../../pwa/js/i18n.js';

await loadLang('en'); // English is fetched on demand in the app

test('days are Beijing days', () => {
  assert.equal(dayKey('2026-11-24T16:30:00Z'), '2026-11-25'); // 00:30 in Beijing
  assert.equal(dayKey('2026-11-24T15:59:00Z'), '2026-11-24');
  assert.equal(monthKey('2026-11-30T16:00:00Z'), '2026-12');
  assert.equal(formatTime('2026-11-25T00:05:00Z'), '08:05');
});

test('short date-times', () => {
  const now = new Date('2026-11-25T04:00:00Z');
  assert.equal(formatDateTime('2026-11-25T01:02:00Z', now), '09:02');
  assert.equal(formatDateTime('2026-11-20T01:02:00Z', now), '11-20 09:02');
  assert.equal(formatDateTime('2025-11-20T01:02:00Z', now), '2025-11-20 09:02');
  assert.equal(formatDateTime(null, now), '');
  assert.equal(formatDateTime('garbage', now), '');
  setLang('en');
  assert.equal(formatDay('2026-11-05'), 'Nov 5');
  setLang('zh-Hans');
  assert.equal(formatDay('2026-11-05'), '11月5日');
});
