// Dates and times for display. Days are Beijing days (Asia/Shanghai), as on the server.
// No DOM.

import { t } from './i18n.js';

export const TIME_ZONE = 'Asia/Shanghai';

const parts = (d, opts) => Object.fromEntries(
  new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, hourCycle: 'h23', ...opts })
    .formatToParts(d).map((p) => [p.type, p.value]),
);

const toDate = (v) => (v instanceof Date ? v : new Date(v));

/**
 * The Beijing calendar day of an instant.
 * @param {Date|string|number} when
 * @returns {string} 'YYYY-MM-DD'
 */
export function dayKey(when) {
  const p = parts(toDate(when), { year: 'numeric', month: '2-digit', day: '2-digit' });
  return `${p.year}-${p.month}-${p.day}`;
}

/**
 * @param {Date|string|number} when
 * @returns {string} 'YYYY-MM'
 */
export function monthKey(when) {
  return dayKey(when).slice(0, 7);
}

/**
 * 'HH:MM' in Beijing time.
 * @param {Date|string|number} when
 * @returns {string}
 */
export function formatTime(when) {
  const p = parts(toDate(when), { hour: '2-digit', minute: '2-digit' });
  return `${p.hour}:${p.minute}`;
}

/**
 * A short date-time: 'HH:MM' today, otherwise 'MM-DD HH:MM' (or 'YYYY-MM-DD HH:MM' in another year).
 * @param {Date|string|number|null} when
 * @param {Date} [now]
 * @returns {string} '' for null
 */
export function formatDateTime(when, now = new Date()) {
  if (when === null || when === undefined || when === '') return '';
  const d = toDate(when);
  if (Number.isNaN(d.getTime())) return '';
  const day = dayKey(d);
  if (day === dayKey(now)) return formatTime(d);
  return `${day.slice(0, 4) === dayKey(now).slice(0, 4) ? day.slice(5) : day} ${formatTime(d)}`;
}

/**
 * A day key shown in the current language: '11月25日' / 'Nov 25'.
 * @param {string} key 'YYYY-MM-DD'
 * @returns {string}
 */
export function formatDay(key) {
  const [, m, d] = key.split('-').map(Number);
  return t('date.month_day', { m: t(`month.${m}`), d });
}
