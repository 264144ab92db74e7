// #/settings: who is logged in, language, offline storage, app version, logout.
// Logout warns when records are not synced yet, and clears only this user's data.

import { html, setHTML, qs, $on, $delegate } from '../dom.js';
import { t, getLang } from '../i18n.js';
import { storagePersisted } from '../taskdata.js';
import { formatDateTime } from '../format.js';

/**
 * @param {HTMLElement} root
 * @param {Object} ctx
 */
export async function render(root, ctx) {
  ctx.setTitle(t('settings.title'));
  const [counts, persisted, version] = await Promise.all([ctx.outbox.counts(), storagePersisted(false), ctx.appVersion()]);
  const unsynced = counts.pending + counts.rejected;
  const user = ctx.session.user;
  const lang = getLang();

  setHTML(root, html`
    <h1 class="page-title">${t('settings.title')}</h1>
    <section class="card">
      <p class="row-title" data-testid="settings-user">${user.name}</p>
      <p class="row-sub">${t(`role.${user.role}`)} · ${t('settings.login_at', { time: formatDateTime(ctx.session.login_at) })}</p>
    </section>
    <section class="card">
      <h2 class="section-title">${t('lang.label')}</h2>
      <div class="segmented" role="group">
        <button type="button" class="btn ${lang === 'zh-Hans' ? 'btn-primary' : 'btn-secondary'}" data-lang="zh-Hans" data-testid="settings-lang-zh">中文</button>
        <button type="button" class="btn ${lang === 'en' ? 'btn-primary' : 'btn-secondary'}" data-lang="en" data-testid="settings-lang-en">English</button>
      </div>
    </section>
    <section class="card">
      <h2 class="section-title">${t('settings.offline')}</h2>
      <p data-testid="settings-storage">${persisted === true ? t('storage.persisted') : persisted === false ? t('storage.not_persisted') : t('storage.unknown')}</p>
      <p data-testid="settings-sw">${ctx.swSupported ? t('settings.sw_ok') : t('sw.unsupported')}</p>
      <p class="muted small" data-testid="app-version">${t('settings.version', { v: version || '-' })}</p>
    </section>
    <section class="card">
      <button type="button" id="logout" data-testid="logout" class="btn btn-danger-outline btn-block">${t('settings.logout')}</button>
      <div id="logout-warning" data-testid="logout-warning" class="notice notice-error" hidden>
        <p>${t('logout.unsynced', { n: unsynced })}</p>
        ${counts.rejected > 0 && html`<p><a href="#/outbox" data-testid="logout-outbox" class="btn btn-secondary btn-block">${t('logout.review_rejected', { n: counts.rejected })}</a></p>`}
        ${counts.pending > 0 && html`<button type="button" id="logout-sync" data-testid="logout-sync" class="btn btn-primary btn-block">${t('outbox.sync_now')}</button>`}
        <button type="button" id="logout-confirm" data-testid="logout-confirm" class="btn btn-danger btn-block">${t('logout.confirm_delete')}</button>
        <button type="button" id="logout-cancel" data-testid="logout-cancel" class="btn btn-secondary btn-block">${t('common.cancel')}</button>
      </div>
    </section>
  `);

  const warning = qs('#logout-warning', root);
  const offs = [
    $delegate(root, '[data-lang]', 'click', (e, el) => ctx.setLang(el.dataset.lang)),
    $on(qs('#logout', root), 'click', async () => {
      const c = await ctx.outbox.counts();
      if (c.pending + c.rejected > 0) { warning.hidden = false; warning.scrollIntoView({ block: 'center' }); return; }
      await ctx.signOut();
    }),
    $on(qs('#logout-cancel', root), 'click', () => { warning.hidden = true; }),
    $on(qs('#logout-confirm', root), 'click', () => ctx.signOut()),
  ];
  // Syncing only helps pending records; returned ones must be fixed or discarded first.
  const syncButton = qs('#logout-sync', root);
  if (syncButton) {
    offs.push($on(syncButton, 'click', async () => {
      await ctx.sync.syncNow({ reason: 'logout' });
      ctx.rerender();
    }));
  }
  return () => offs.forEach((off) => off());
}
