// Wiring only: the service worker, the session, the per-user outbox and sync,
// the hash router, the header and banners. Screens live in views/, storage in
// db.js, HTTP in api.js, the queue in outbox.js, the triggers in sync.js.

import * as db from './db.js';
import { createApi } from './api.js';
import { createOutbox } from './outbox.js';
import { createSync } from './sync.js';
import { parseHash } from './router.js';
import { t, getLang, setLang, initLang } from './i18n.js';
import { html, setHTML, qs, $on, $delegate } from './dom.js';
import { downloadTasks } from './taskdata.js';
import { TASKS_DOWNLOADED_KEY } from './sync.js';
import { renderHeader, renderTabbar } from './views/header.js';
import * as loginView from './views/login.js';
import * as tasksView from './views/tasks.js';
import * as villageView from './views/village.js';
import * as visitView from './views/visit.js';
import * as outboxView from './views/outbox.js';
import * as checkinView from './views/checkin.js';
import * as settingsView from './views/settings.js';
import * as finderView from './views/finder.js';

const VIEWS = {
  login: loginView, tasks: tasksView, village: villageView, visit: visitView,
  outbox: outboxView, checkin: checkinView, settings: settingsView, find: finderView,
};
/** Which screens each phone role may open, and where it lands. */
const ROLE_ROUTES = {
  evaluator: ['tasks', 'village', 'visit', 'find', 'outbox', 'settings'],
  secretary: ['checkin', 'outbox', 'settings'],
};
const STAFF_ROLES = loginView.STAFF_ROLES;
const home = (role) => (role === 'secretary' ? '#/checkin' : role === 'evaluator' ? '#/tasks' : '#/settings');

const el = {
  header: qs('#app-header'), view: qs('#view'), tabbar: qs('#tabbar'), banners: qs('#banner-area'), toast: qs('#toast'),
};

const state = {
  session: null,
  reachable: null,          // last API answer: true (our JSON), false (no answer), null (unknown)
  counts: null,             // {pending, rejected} once read from IndexedDB (never a guessed 0)
  syncing: false,
  lastSyncAt: null,
  formsOpen: false,         // a form with unsaved input is on screen: never reload
  route: null,
  sessionExpired: false,    // the server said 401: records wait until the user logs in again
  returnTo: null,           // the QR link opened before login
  noOfflineStart: false,    // no service worker in this browser
  noDb: false,
  waitingWorker: null,      // a new service worker waiting to take over
  updateRequested: false,
  reloadPending: false,
};

const swSupported = 'serviceWorker' in navigator;
let swRegistration = null;
let user = null;            // {outbox, sync, deps, off}
let cleanup = null;
let renderSeq = 0;
let toastTimer = null;

const api = createApi({
  getCsrfToken: () => (state.session ? state.session.csrf_token : null),
  saveCsrfToken: async (token) => {
    if (state.session) state.session = { ...state.session, csrf_token: token };
    await db.saveCsrfToken(token).catch(() => {});
  },
  getLang,
  onConnectivity: (ok) => { if (state.reachable !== ok) { state.reachable = ok; refreshHeader(); } },
  onUnauthorized: () => { if (state.session && !state.sessionExpired) { state.sessionExpired = true; renderBanners(); } },
});

// ---- feedback ----------------------------------------------------------------

/**
 * @param {string} message
 * @param {'ok'|'warn'|'error'} [kind]
 */
function toast(message, kind = 'ok') {
  el.toast.textContent = message;
  el.toast.className = `toast toast-${kind} is-shown`;
  clearTimeout(toastTimer);
  // Hidden toasts leave no text behind for screen readers or page text.
  toastTimer = setTimeout(() => { el.toast.className = 'toast'; el.toast.textContent = ''; }, 3000);
}

function isOnline() {
  return navigator.onLine !== false && state.reachable !== false;
}

function refreshHeader() {
  const s = {
    online: isOnline(), pending: state.counts ? state.counts.pending : null, rejected: state.counts ? state.counts.rejected : 0,
    lastSyncAt: state.lastSyncAt, syncing: state.syncing,
    role: state.session ? state.session.user.role : null, route: state.route ? state.route.name : '',
  };
  renderHeader(el.header, s);
  renderTabbar(el.tabbar, s);
}

let countsQueued = false;
function refreshCounts() {
  if (countsQueued || !user) return;
  countsQueued = true;
  queueMicrotask(async () => {
    countsQueued = false;
    if (!user) return;
    state.counts = await user.outbox.counts();
    refreshHeader();
  });
}

function renderBanners() {
  setHTML(el.banners, html`
    ${state.waitingWorker ? html`<button type="button" id="update-banner" data-testid="update-banner" class="banner banner-update">
      ${t('update.available')}</button>` : ''}
    ${state.sessionExpired ? html`<a id="relogin-banner" data-testid="relogin-banner" class="banner banner-warn" href="#/login">
      ${t('session.expired')}</a>` : ''}
    ${state.noOfflineStart ? html`<div id="no-sw-banner" data-testid="no-sw-banner" class="banner banner-info" role="note">
      ${t('sw.unsupported')}</div>` : ''}
    ${state.noDb ? html`<div id="no-db-banner" data-testid="no-db-banner" class="banner banner-error" role="alert">${t('db.unavailable')}</div>` : ''}
  `);
}

// ---- service worker ---------------------------------------------------------

async function registerServiceWorker() {
  if (!swSupported) { state.noOfflineStart = true; renderBanners(); return; }
  try {
    swRegistration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  } catch (err) {
    console.warn('service worker registration failed', err);
    state.noOfflineStart = true;
    renderBanners();
    return;
  }
  const reg = swRegistration;
  const offer = (worker) => {
    // Only an update (a page already controlled) gets the banner, not the first install.
    if (worker && navigator.serviceWorker.controller) { state.waitingWorker = worker; renderBanners(); }
  };
  offer(reg.waiting);
  reg.addEventListener('updatefound', () => {
    const worker = reg.installing;
    if (worker) worker.addEventListener('statechange', () => { if (worker.state === 'installed') offer(worker); });
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!state.updateRequested || reloading) return; // the first install claiming the page: no reload
    if (state.formsOpen) { state.reloadPending = true; return; }
    reloading = true;
    window.location.reload();
  });
  navigator.serviceWorker.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'FLUSH_OUTBOX' && user) user.sync.syncNow({ reason: 'background-sync' });
  });
  const check = () => reg.update().catch(() => {});
  $on(document, 'visibilitychange', () => { if (document.visibilityState === 'visible') check(); });
  $on(window, 'online', check);
}

function applyUpdate() {
  if (state.formsOpen) { toast(t('update.finish_form'), 'warn'); return; }
  const worker = state.waitingWorker || (swRegistration && swRegistration.waiting);
  if (!worker) return;
  state.updateRequested = true;
  worker.postMessage({ type: 'SKIP_WAITING' });
}

async function registerBackgroundSync() {
  if (!swRegistration || !swRegistration.sync) return;
  await swRegistration.sync.register('outbox-sync');
}

/** @returns {Promise<string|null>} the service worker's SHELL_VERSION */
function appVersion() {
  const worker = navigator.serviceWorker && navigator.serviceWorker.controller;
  if (!worker) return Promise.resolve(null);
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), 1000);
    channel.port1.onmessage = (e) => { clearTimeout(timer); resolve(e.data && e.data.version); };
    worker.postMessage({ type: 'GET_VERSION' }, [channel.port2]);
  });
}

// ---- the user's outbox and sync -----------------------------------------------

function startUser(session) {
  stopUser();
  state.counts = null;
  const userId = session.user_id;
  const outbox = createOutbox({ store: db.outboxStore(userId), userId });
  const meta = db.metaStore(userId);
  const deps = { api, db, outbox, meta, userId };
  const sync = createSync({
    outbox, meta, send: (batch) => api.sendSync(batch),
    isOnline: () => navigator.onLine !== false,
    locks: navigator.locks || null,
    registerBackgroundSync,
    onChange: (s) => {
      const finished = state.syncing && !s.running;
      state.syncing = s.running;
      state.lastSyncAt = s.lastSyncAt;
      refreshHeader();
      if (finished && s.lastResult) afterSync(s.lastResult);
    },
  });
  const off = outbox.subscribe(refreshCounts);
  user = { outbox, sync, deps, meta, off };
  refreshCounts();
  sync.start(window);
}

function stopUser() {
  if (!user) return;
  user.sync.stop();
  user.off();
  user = null;
}

async function afterSync(result) {
  if (result.rejected) toast(t('outbox.rejected_toast', { n: result.rejected }), 'error');
  const name = state.route && state.route.name;
  if (!state.formsOpen && (name === 'outbox' || name === 'village' || name === 'tasks' || name === 'checkin')) route();
  // A replacement's reserve is decided by the server; refresh the tasks after one synced.
  if (result.synced && state.session && state.session.user.role === 'evaluator' && user) {
    const since = Date.parse((await user.meta.get(TASKS_DOWNLOADED_KEY)) || '') || 0;
    const fresh = (await user.outbox.list({ state: 'synced' }))
      .some((r) => r.type === 'replacement' && Date.parse(r.synced_at) > since);
    if (fresh) {
      try {
        await downloadTasks(user.deps);
        if (!state.formsOpen && ['tasks', 'village'].includes(state.route && state.route.name)) route();
      } catch { /* offline again: the next download will do */ }
    }
  }
}

/**
 * Queue a record and trigger a sync attempt.
 * @param {string} type
 * @param {Object} payload
 */
async function enqueue(type, payload) {
  const rec = await user.outbox.enqueue(type, payload);
  user.sync.kick();
  return rec;
}

// ---- session ------------------------------------------------------------------

async function signIn({ user: u, csrf_token: csrf }) {
  if (!ROLE_ROUTES[u.role]) throw Object.assign(new Error('role'), { code: 'role_not_supported' });
  await db.saveSession({ user: u, csrf_token: csrf, login_at: new Date().toISOString() });
  state.session = await db.getSession();
  state.sessionExpired = false;
  loggedOutFlag(false);
  api.setCsrfToken(null);
  startUser(state.session);
  renderBanners();
  const target = state.returnTo || home(u.role);
  state.returnTo = null;
  navigate(target, true);
}

async function signOut() {
  const userId = state.session.user_id;
  loggedOutFlag(true);
  await api.call('POST', '/api/auth/logout', {}, { timeoutMs: 5000 });
  stopUser();
  await db.clearUserData(userId);
  state.session = null;
  state.sessionExpired = false;
  state.counts = null;
  api.setCsrfToken(null);
  renderBanners();
  navigate('#/login', true);
}

// Set by an explicit logout (which may have happened offline, leaving the server
// session alive): then the app never takes over a server session by itself.
const LOGGED_OUT_KEY = 'fieldapp.loggedOut';
const loggedOutFlag = (value) => {
  try {
    if (value === undefined) return localStorage.getItem(LOGGED_OUT_KEY) === '1';
    if (value) localStorage.setItem(LOGGED_OUT_KEY, '1'); else localStorage.removeItem(LOGGED_OUT_KEY);
  } catch { /* no storage */ }
  return false;
};

/** No local session but maybe a server one (the cookie survived): take it over. */
async function resumeServerSession() {
  if (loggedOutFlag()) return;
  const me = await api.call('GET', '/api/me');
  if (!me.ok || !me.data) return;
  const u = me.data.user || me.data;
  if (STAFF_ROLES.includes(u.role)) { window.location.assign('/staff/'); return; }
  if (!ROLE_ROUTES[u.role]) return;
  const csrf = await api.call('GET', '/api/auth/csrf');
  if (!csrf.ok) return;
  await db.saveSession({ user: u, csrf_token: csrf.data.csrf_token, login_at: new Date().toISOString() });
  state.session = await db.getSession();
}

/** A stored session: check in the background whether the server still knows it. */
async function checkServerSession() {
  const me = await api.call('GET', '/api/me');
  if (me.status === 401) { state.sessionExpired = true; renderBanners(); return; }
  const u = me.ok && me.data ? (me.data.user || me.data) : null;
  if (u && state.session && String(u.id) !== String(state.session.user_id)) { state.sessionExpired = true; renderBanners(); }
}

// ---- routing ------------------------------------------------------------------

/**
 * @param {string} hash
 * @param {boolean} [replace]
 */
function navigate(hash, replace = false) {
  if (window.location.hash === hash) { route(); return; }
  if (replace) { window.location.replace(hash); return; }
  window.location.hash = hash;
}

function setFormOpen(open) {
  state.formsOpen = !!open;
}

function changeLang(lang) {
  setLang(lang);
  document.documentElement.lang = getLang();
  refreshHeader();
  renderBanners();
  if (state.formsOpen) toast(t('lang.after_form'), 'warn');
  else route();
}

function context() {
  return {
    api, db, session: state.session, sessionExpired: state.sessionExpired,
    outbox: user && user.outbox, sync: user && user.sync, deps: user && user.deps,
    isEvaluator: !!state.session && state.session.user.role === 'evaluator',
    swSupported: swSupported && !state.noOfflineStart,
    setTitle: (title) => { document.title = `${title} · ${t('app.name')}`; },
    setFormOpen, toast, navigate, enqueue, signIn, signOut, appVersion,
    afterEnqueue: () => user && user.sync.kick(),
    setLang: changeLang,
    rerender: () => route(),
  };
}

async function route() {
  if (state.reloadPending && !state.formsOpen) { window.location.reload(); return; }
  const r = parseHash(window.location.hash);
  if (!state.session) {
    if (r.name !== 'login') {
      if (r.name !== 'home' && r.name !== 'notfound') state.returnTo = window.location.hash;
      navigate('#/login', true);
      return;
    }
  } else {
    const role = state.session.user.role;
    const allowed = ROLE_ROUTES[role] || ['settings'];
    if ((r.name === 'login' && !state.sessionExpired) || (r.name !== 'login' && !allowed.includes(r.name))) {
      navigate(home(role), true);
      return;
    }
  }
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } }
  cleanup = null;
  state.formsOpen = false;
  state.route = r;
  refreshHeader();
  // Each render gets its own container: a slow, superseded render writes into a detached node.
  const seq = ++renderSeq;
  const container = document.createElement('div');
  container.className = `screen screen-${r.name}`;
  el.view.replaceChildren(container);
  window.scrollTo(0, 0);
  try {
    const done = await VIEWS[r.name].render(container, context(), r);
    if (seq !== renderSeq) { if (typeof done === 'function') done(); return; }
    cleanup = typeof done === 'function' ? done : null;
  } catch (err) {
    console.error(err);
    if (seq === renderSeq) setHTML(container, html`<p class="notice notice-error" data-testid="view-error">${t('error.view')}</p>`);
  }
}

// ---- start --------------------------------------------------------------------

async function boot() {
  initLang();
  document.documentElement.lang = getLang();
  refreshHeader();
  $delegate(el.header, '[data-lang]', 'click', (e, b) => changeLang(b.dataset.lang));
  $delegate(el.banners, '#update-banner', 'click', applyUpdate);
  $on(window, 'online', () => { state.reachable = null; refreshHeader(); });
  $on(window, 'offline', refreshHeader);
  registerServiceWorker();

  try {
    state.session = await db.getSession();
  } catch (err) {
    console.error(err);
    state.noDb = true;
  }
  if (!state.session && !state.noDb && navigator.onLine !== false) await resumeServerSession();
  renderBanners();
  if (state.session) startUser(state.session);
  $on(window, 'hashchange', route);
  await route();
  if (state.session && navigator.onLine !== false) checkServerSession();
}

boot();
