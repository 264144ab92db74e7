// #/login: phone + password. GET /api/auth/csrf, then POST /api/auth/login.
// The session is kept in IndexedDB (by ctx.signIn) so the app opens offline for days.
// Staff and admin accounts use the server-rendered pages under /staff/.

import { html, setHTML, qs, $on } from '../dom.js';
import { t } from '../i18n.js';
import { errorWords } from '../errors.js';

export const STAFF_ROLES = Object.freeze(['admin', 'county_staff']);

const MESSAGES = {
  invalid_credentials: 'login.err.invalid',
  too_many_attempts: 'login.err.throttled',
  offline: 'login.err.offline',
  timeout: 'login.err.offline',
};

/**
 * @param {HTMLElement} root
 * @param {Object} ctx  app context (api, signIn)
 * @returns {() => void} cleanup
 */
export function render(root, ctx) {
  ctx.setTitle(t('login.title'));
  setHTML(root, html`
    <section class="login">
      <h1 class="login-title">${t('app.name')}</h1>
      <p class="muted">${t('login.subtitle')}</p>
      <form id="login-form" data-testid="login-form" class="card form" novalidate>
        <label class="field">
          <span class="field-label">${t('login.phone')}</span>
          <input id="login-phone" data-testid="login-phone" name="phone" type="tel" inputmode="numeric"
                 autocomplete="username" maxlength="20" required>
        </label>
        <label class="field">
          <span class="field-label">${t('login.password')}</span>
          <input id="login-password" data-testid="login-password" name="password" type="password"
                 autocomplete="current-password" required>
        </label>
        <p id="login-error" data-testid="login-error" class="form-error" role="alert" hidden></p>
        <button id="login-submit" data-testid="login-submit" type="submit" class="btn btn-primary btn-block">${t('login.submit')}</button>
      </form>
      ${ctx.sessionExpired ? html`<p class="notice">${t('login.expired_hint')}</p>` : ''}
    </section>`);

  const form = qs('#login-form', root);
  const errorEl = qs('#login-error', root);
  const button = qs('#login-submit', root);
  const showError = (msg) => { errorEl.textContent = msg; errorEl.hidden = !msg; };

  return $on(form, 'submit', async (e) => {
    e.preventDefault();
    const phone = qs('#login-phone', root).value.trim();
    const password = qs('#login-password', root).value;
    if (!phone || !password) { showError(t('login.err.missing')); return; }
    showError('');
    button.disabled = true;
    button.textContent = t('login.busy');
    try {
      const csrf = await ctx.api.get('/api/auth/csrf');
      ctx.api.setCsrfToken(csrf.csrf_token);
      const res = await ctx.api.post('/api/auth/login', { phone, password });
      if (STAFF_ROLES.includes(res.user.role)) {
        window.location.assign('/staff/');
        return;
      }
      await ctx.signIn({ user: res.user, csrf_token: res.csrf_token || csrf.csrf_token });
    } catch (err) {
      const key = MESSAGES[err.code];
      showError(key ? t(key) : err.message || t('error.generic', { reason: errorWords(err.code) }));
      button.disabled = false;
      button.textContent = t('login.submit');
    }
  });
}
