// Pieces shared by several screens.

import { html, qsa } from '../dom.js';
import { t, pick } from '../i18n.js';

/**
 * Set the width of progress bars rendered as `<span data-pct="42">` (done in JS, not
 * with a style attribute, so a strict Content-Security-Policy still allows it).
 * @param {ParentNode} root
 */
export function fillBars(root) {
  for (const el of qsa('[data-pct]', root)) el.style.width = `${Number(el.dataset.pct) || 0}%`;
}

/**
 * A household status badge.
 * @param {string} status
 * @param {string|null} [syncState] state of the phone's record for it ('pending'|'sending'|'rejected'|'synced')
 * @returns {import('../dom.js').SafeHTML}
 */
export function statusBadge(status, syncState = null) {
  return html`<span class="badge badge-${status}" data-testid="household-status" data-status="${status}">${t(`status.${status}`)}</span>${
    syncState === 'rejected' ? html`<span class="badge badge-error">${t('sync.state.rejected')}</span>`
      : syncState === 'pending' || syncState === 'sending' ? html`<span class="badge badge-sync">${t('sync.state.pending')}</span>` : ''}`;
}

/**
 * 户编号 … · N 口人 as two unbreakable-where-possible pieces: on a narrow row the
 * line breaks between them, never inside the household number.
 * @param {{household_no: string, family_size: number}} h
 * @returns {import('../dom.js').SafeHTML}
 */
export function householdMeta(h) {
  return html`<span class="keep" data-testid="household-no">${t('village.household_no', { no: h.household_no })}</span> · <span class="keep">${
    t('village.family_size', { n: h.family_size })}</span>`;
}

/**
 * A back link with a large touch target.
 * @param {string} href
 * @param {string} label
 * @returns {import('../dom.js').SafeHTML}
 */
export function backLink(href, label) {
  return html`<a class="back" href="${href}"><span aria-hidden="true">‹</span> ${label}</a>`;
}

/**
 * The newest record per sample token (visit/replacement), to mark rows as
 * waiting or returned.
 * @param {Array<Object>} records outbox records, oldest first
 * @returns {Map<string, string>} token -> record state
 */
export function recordStateByToken(records) {
  const map = new Map();
  for (const r of records) {
    const token = r.payload && r.payload.sample_token;
    if (token && (r.type === 'visit' || r.type === 'replacement')) map.set(token, r.state);
  }
  return map;
}

const FIELDS = new Set(['sample_token', 'instrument_id', 'instrument_version', 'answers', 'note', 'started_at', 'ended_at',
  'geo_start', 'geo_end', 'geo_error', 'reason', 'reason_text', 'attempts', 'at', 'geo', 'village_token', 'uuid']);

/**
 * A readable name for a server error path such as `answers.visited_home` or `geo_end.lat`.
 * @param {string} path
 * @param {Object|null} [instrument]
 * @returns {string}
 */
export function fieldLabel(path, instrument = null) {
  const parts = String(path || '').split('.');
  const last = parts[parts.length - 1];
  const item = instrument && instrument.items.find((i) => i.id === last);
  if (item) return pick(item.label);
  for (let i = parts.length - 1; i >= 0; i -= 1) if (FIELDS.has(parts[i])) return t(`field.${parts[i]}`);
  return t('field._record');
}
