// The header on every screen (connectivity, pending count, last sync, language
// switch) and the bottom tab bar.

import { html, setHTML } from '../dom.js';
import { t, getLang } from '../i18n.js';
import { formatDateTime } from '../format.js';

/**
 * @typedef {Object} HeaderState
 * @property {boolean} online      false when the phone or the server is unreachable
 * @property {number|null} pending   null until read from IndexedDB
 * @property {number} rejected
 * @property {string|null} lastSyncAt
 * @property {boolean} syncing
 * @property {string|null} role    null when nobody is logged in
 * @property {string} route        current route name
 */

/**
 * @param {HTMLElement} el  the <header>
 * @param {HeaderState} s
 */
export function renderHeader(el, s) {
  const lang = getLang();
  const loggedIn = !!s.role;
  setHTML(el, html`
    <div class="hdr-top">
      <a class="brand" href="#/">${t('app.name')}</a>
      <div class="lang-switch" role="group" aria-label="${t('lang.label')}">
        <button type="button" id="lang-zh" data-testid="lang-zh" data-lang="zh-Hans" aria-pressed="${lang === 'zh-Hans'}">中文</button>
        <button type="button" id="lang-en" data-testid="lang-en" data-lang="en" aria-pressed="${lang === 'en'}">EN</button>
      </div>
    </div>
    <div class="hdr-status">
      <span id="net-status" data-testid="net-status" class="net ${s.online ? 'is-online' : 'is-offline'}" data-online="${String(s.online)}">
        <span class="dot" aria-hidden="true"></span>${s.online ? t('net.online') : t('net.offline')}
      </span>
      ${loggedIn ? html`
        <a id="pending-link" class="chip ${s.pending ? 'chip-warn' : ''}" href="#/outbox">
          ${t('hdr.pending')} ${s.pending === null ? html`<b aria-busy="true">…</b>`
            : html`<b id="pending-count" data-testid="pending-count">${s.pending}</b>`}
        </a>
        ${s.rejected ? html`<a id="rejected-link" class="chip chip-error" href="#/outbox">${t('hdr.rejected')} <b id="rejected-count" data-testid="rejected-count">${s.rejected}</b></a>` : ''}
        <span id="last-sync" data-testid="last-sync" class="muted">${s.syncing ? t('hdr.syncing')
          : s.lastSyncAt ? t('hdr.last_sync', { time: formatDateTime(s.lastSyncAt) }) : t('hdr.never_synced')}</span>
      ` : ''}
    </div>`);
}

/**
 * @param {HTMLElement} el  the <nav>
 * @param {HeaderState} s
 */
export function renderTabbar(el, s) {
  if (!s.role) { el.hidden = true; setHTML(el, html``); return; }
  const tabs = s.role === 'secretary'
    ? [['checkin', 'tab.checkin'], ['outbox', 'tab.outbox'], ['settings', 'tab.settings']]
    : [['tasks', 'tab.tasks'], ['outbox', 'tab.outbox'], ['settings', 'tab.settings']];
  const current = s.route === 'village' || s.route === 'visit' ? 'tasks' : s.route;
  el.hidden = false;
  setHTML(el, html`${tabs.map(([name, key]) => html`
    <a href="#/${name}" id="tab-${name}" data-testid="tab-${name}" class="tab" aria-current="${current === name ? 'page' : 'false'}">
      ${t(key)}${name === 'outbox' && (s.pending || 0) + s.rejected ? html`<span class="tab-badge">${(s.pending || 0) + s.rejected}</span>` : ''}
    </a>`)}`);
}
