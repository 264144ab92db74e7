// Wiring only: the service worker, the session, the per-user outbox and sync,
// the hash router, the header and banners. Screens live in views/, storage in
// db.js, HTTP in api.js, the queue in outbox.js, the triggers in sync.js.

import * as db from './db.js';
import { createApi } from './api.js';
import { parseHash } from './router.js';
import { t, getLang, setLang, initLang, loadLang } from './i18n.js';
import { html, setHTML, qs, $on, $delegate } from './dom.js';
import { renderHeader, renderTabbar } from './views/header.js';
import * as loginView from './views/login.js';

// The login screen comes with the app; every other screen is fetched when first needed
// (and, after login, ahead of time for the user's role: see warmRole). Each import() names
// its file literally: the server lists these modules in the import map, and the service
// worker caches them once fetched, for offline use.
const VIEWS = {
  login: () => Promise.resolve(loginView),
  tasks: () => import('./views/tasks.js'),
  village: () => import('./views/village.js'),
  visit: () => import('./views/visit.js'),
  find: () => import('./views/finder.js'),
  outbox: () => import('./views/outbox.js'),
  checkin: () => import('./views/checkin.js'),
  settings: () => import('./views/settings.js'),
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
let userSeq = 0;            // bumped by stopUser: a startUser still loading gives up
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
  // The page came from the cache: ask for a new release in the background (the banner
  // offers it once installed), now and whenever the app comes back to the foreground.
  const check = () => reg.update().catch(() => {});
  if (navigator.serviceWorker.controller && navigator.onLine !== false) check();
  $on(document, 'visibilitychange', () => { if (document.visibilityState === 'visible') check(); });
  $on(window, 'online', check);
  keepLoadedFilesOffline();
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

/** @returns {Promise<string|null>} the service worker's version: caching scheme and release, e.g. '7.1a2b3c4d' */
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

/**
 * Start the logged-in user's outbox and sync. Their modules are not part of the login
 * screen's downloads: a first visit gets the login form sooner.
 * @param {Object} session
 */
async function startUser(session) {
  stopUser();
  const seq = userSeq;
  state.counts = null;
  const [{ createOutbox }, { createSync }] = await Promise.all([import('./outbox.js'), import('./sync.js')]);
  if (seq !== userSeq) return; // logged out (or in as someone else) meanwhile
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
  warmRole(session.user.role);
}

function stopUser() {
  userSeq += 1;
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
    const { TASKS_DOWNLOADED_KEY } = await import('./sync.js');
    const since = Date.parse((await user.meta.get(TASKS_DOWNLOADED_KEY)) || '') || 0;
    const fresh = (await user.outbox.list({ state: 'synced' }))
      .some((r) => r.type === 'replacement' && Date.parse(r.synced_at) > since);
    if (fresh) {
      try {
        const { downloadTasks } = await import('./taskdata.js');
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
  await startUser(state.session);
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

/**
 * No local session but maybe a server one (the cookie survived): take it over. This runs
 * beside the login form, which is already on screen: it moves on only while the form is
 * untouched (someone typing is logging in by hand).
 */
async function resumeServerSession() {
  if (loggedOutFlag()) return;
  const me = await api.call('GET', '/api/me');
  if (!me.ok || !me.data || state.session) return;
  const u = me.data.user || me.data;
  if (STAFF_ROLES.includes(u.role)) { window.location.assign('/staff/'); return; }
  if (!ROLE_ROUTES[u.role]) return;
  const csrf = await api.call('GET', '/api/auth/csrf');
  if (!csrf.ok || state.session || loginFormTouched()) return;
  await db.saveSession({ user: u, csrf_token: csrf.data.csrf_token, login_at: new Date().toISOString() });
  if (state.session || loginFormTouched()) return;
  state.session = await db.getSession();
  await startUser(state.session);
  renderBanners();
  const target = state.returnTo || home(u.role);
  state.returnTo = null;
  navigate(target, true);
}

function loginFormTouched() {
  return Array.from(el.view.querySelectorAll('#login-form input')).some((input) => input.value !== '');
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

async function changeLang(lang) {
  if (!(await loadLang(lang))) { toast(t('lang.unavailable'), 'warn'); return; }
  setLang(lang);
  keepLoadedFilesOffline();
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
  let view;
  try {
    view = await VIEWS[r.name]();
  } catch (err) {
    // Offline, and this screen was never fetched on this phone (or a new release is out).
    console.error(err);
    if (swRegistration) swRegistration.update().catch(() => {});
    if (seq === renderSeq) setHTML(container, html`<p class="notice notice-error" data-testid="view-error">${t('error.view_unavailable')}</p>`);
    return;
  }
  if (seq !== renderSeq) return;
  try {
    const done = await view.render(container, context(), r);
    if (seq !== renderSeq) { if (typeof done === 'function') done(); return; }
    cleanup = typeof done === 'function' ? done : null;
    performance.mark(`fieldapp:screen:${r.name}`);
  } catch (err) {
    console.error(err);
    if (seq === renderSeq) setHTML(container, html`<p class="notice notice-error" data-testid="view-error">${t('error.view')}</p>`);
  }
}

/**
 * Fetch the screens of a role before they are needed, so that they open offline. Once
 * fetched, the service worker keeps them, and every later release precaches them again.
 * @param {string} role
 */
function warmRole(role) {
  const names = (ROLE_ROUTES[role] || []).filter((name) => name !== 'login');
  const later = globalThis.requestIdleCallback || ((fn) => setTimeout(fn, 200));
  later(() => Promise.allSettled(names.map((name) => VIEWS[name]())).then(keepLoadedFilesOffline));
}

/**
 * Ask the service worker to keep every app file this page has loaded. A module fetched
 * before the worker controlled the page (the first login) did not pass through it; the
 * worker takes it from the HTTP cache, without downloading it again.
 */
async function keepLoadedFilesOffline() {
  if (!swRegistration) return;
  const reg = await navigator.serviceWorker.ready;
  const urls = performance.getEntriesByType('resource')
    .map((entry) => new URL(entry.name, window.location.href))
    .filter((url) => url.origin === window.location.origin && !url.search)
    .map((url) => url.pathname);
  if (reg.active) reg.active.postMessage({ type: 'CACHE_URLS', urls });
}

// ---- start --------------------------------------------------------------------

// The first screen waits for nothing on the network: the session comes from IndexedDB,
// the screens from the service worker's cache, and the server is asked afterwards.
async function boot() {
  const wanted = initLang();
  if (wanted !== 'zh-Hans' && !(await loadLang(wanted))) setLang('zh-Hans', { remember: false });
  document.documentElement.lang = getLang();
  refreshHeader();
  $delegate(el.header, '[data-lang]', 'click', (e, b) => changeLang(b.dataset.lang));
  $delegate(el.banners, '#update-banner', 'click', applyUpdate);
  $on(window, 'online', () => { state.reachable = null; refreshHeader(); });
  $on(window, 'offline', refreshHeader);

  // A first visit has no database yet: nobody is logged in, and setting the database up
  // waits until the login form is on screen.
  const firstVisit = (await db.exists()) === false;
  try {
    if (!firstVisit) state.session = await db.getSession();
  } catch (err) {
    console.error(err);
    state.noDb = true;
  }
  renderBanners();
  if (state.session) await startUser(state.session).catch((err) => console.error(err));
  $on(window, 'hashchange', route);
  await route();
  if (firstVisit) db.openDB().catch(() => { state.noDb = true; renderBanners(); });
  if (navigator.onLine !== false) {
    if (state.session) checkServerSession();
    else if (!state.noDb) resumeServerSession();
  }
  // After the page's own downloads: the worker's install then finds them in the HTTP cache.
  if (document.readyState === 'complete') registerServiceWorker();
  else $on(window, 'load', registerServiceWorker);
}

boot();
