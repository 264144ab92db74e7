// #/settings: who is logged in, language, password, offline storage, app version, logout.
// Logout warns when records are not synced yet, and clears only this user's data.
// Changing the password (POST /api/auth/password) keeps this phone logged in and ends
// every other session of the account at once.

import { html, setHTML, qs, $on, $delegate } from '../dom.js';
import { t, getLang } from '../i18n.js';
import { storagePersisted } from '../taskdata.js';
import { formatDateTime } from '../format.js';
import { flattenErrors } from '../validate.js';
import { errorWords } from '../errors.js';

const MIN_PASSWORD = 8; // the server's rule (services/accounts.py)

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
      <h2 class="section-title">${t('password.title')}</h2>
      <form id="password-form" data-testid="password-form" class="form" novalidate>
        <label class="field"><span class="field-label">${t('password.current')}</span>
          <input class="input" id="password-current" data-testid="password-current" type="password" autocomplete="current-password" required></label>
        <label class="field"><span class="field-label">${t('password.new')}</span>
          <input class="input" id="password-new" data-testid="password-new" type="password" autocomplete="new-password" minlength="${MIN_PASSWORD}" required></label>
        <label class="field"><span class="field-label">${t('password.repeat')}</span>
          <input class="input" id="password-repeat" data-testid="password-repeat" type="password" autocomplete="new-password" required></label>
        <p id="password-result" data-testid="password-result" class="status-line" role="status"></p>
        <button type="submit" id="password-submit" data-testid="password-submit" class="btn btn-secondary btn-block">${t('password.submit')}</button>
      </form>
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
  offs.push(...passwordForm(root, ctx));
  // Syncing only helps pending records; returned ones must be fixed or discarded first.
  const syncButton = qs('#logout-sync', root);
  if (syncButton) {
    offs.push($on(syncButton, 'click', async () => {
      await ctx.sync.syncNow({ reason: 'logout' });
      ctx.rerender();
    }));
  }
  return () => { offs.forEach((off) => off()); ctx.setFormOpen(false); };
}

/**
 * The password change: checked here first (filled in, long enough, typed twice the
 * same), then by the server, whose field messages are shown as they come.
 * @param {HTMLElement} root
 * @param {Object} ctx
 * @returns {Array<Function>} listeners to remove
 */
function passwordForm(root, ctx) {
  const field = (id) => qs(`#${id}`, root);
  const result = field('password-result');
  const button = field('password-submit');
  const say = (msg, kind) => { result.textContent = msg; result.className = `status-line ${kind}`; };
  const inputs = ['password-current', 'password-new', 'password-repeat'].map(field);
  const onSubmit = async (e) => {
    e.preventDefault();
    const [current, next, repeat] = inputs.map((el) => el.value);
    if (!current || !next || !repeat) { say(t('password.err.missing'), 'form-error'); return; }
    if (next.length < MIN_PASSWORD) { say(t('password.err.short', { n: MIN_PASSWORD }), 'form-error'); return; }
    if (next !== repeat) { say(t('password.err.repeat'), 'form-error'); return; }
    if (navigator.onLine === false) { say(t('password.err.offline'), 'form-error'); return; }
    button.disabled = true;
    const r = await ctx.api.call('POST', '/api/auth/password', { current_password: current, new_password: next });
    button.disabled = false;
    if (r.ok) {
      inputs.forEach((el) => { el.value = ''; });
      ctx.setFormOpen(false);
      say(t('password.changed'), 'ok-text');
    } else if (r.error.code === 'offline' || r.error.code === 'timeout') {
      say(t('password.err.offline'), 'form-error');
    } else {
      const fields = flattenErrors(r.error.errors).map((x) => x.messages.join(t('sep.list'))).join(t('sep.list'));
      say(fields || r.error.message || t('error.generic', { reason: errorWords(r.error.code) }), 'form-error');
    }
  };
  // A half-typed password counts as an open form (no reload for an update meanwhile).
  const onInput = () => ctx.setFormOpen(inputs.some((el) => el.value !== ''));
  return [$on(field('password-form'), 'submit', onSubmit), ...inputs.map((el) => $on(el, 'input', onInput))];
}
