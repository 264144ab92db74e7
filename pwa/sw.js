/* fieldapp service worker, served at /sw.js so that its scope is the whole site (/).
 *
 * - ONE cache, `fieldapp-shell-v<SHELL_VERSION>`, filled at install with the app
 *   shell (SHELL below). Bump SHELL_VERSION whenever any shell file changes: the
 *   new worker installs beside the old one, waits, and the page offers
 *   新版本可用; activation deletes every other fieldapp cache.
 * - No skipWaiting on its own: it waits for {type: 'SKIP_WAITING'} from the page,
 *   which the page sends only when the user taps the banner and no form is open.
 * - Navigations to the app (/ and /index.html): network first (with a short
 *   timeout for weak signal), the cached shell when offline. Other navigations
 *   (/staff/..., /api/...) are left to the network.
 * - Shell assets: cache first. Only same-origin GET answers with status 200 are
 *   ever cached, and nothing under /api/ (API GETs are network-only; offline data
 *   lives in IndexedDB, written by the page).
 * - Background Sync `outbox-sync`: the worker does not send records itself (the
 *   queue logic is in the page's ES modules, one implementation only); it posts
 *   {type: 'FLUSH_OUTBOX'} to every open page, which flushes. With no page open
 *   nothing is lost: the next app open flushes.
 */

const SHELL_VERSION = 8;
const CACHE_PREFIX = 'fieldapp-shell-v';
const CACHE_NAME = `${CACHE_PREFIX}${SHELL_VERSION}`;
const NAVIGATION_TIMEOUT_MS = 4000;

// Every file the app needs to start offline. tests/js/sw.test.mjs checks this list
// against the files under pwa/.
const SHELL = [
  '/',
  '/manifest.webmanifest',
  '/css/app.css',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-192.png',
  '/icons/maskable-512.png',
  '/js/api.js',
  '/js/app.js',
  '/js/compass.js',
  '/js/db.js',
  '/js/dom.js',
  '/js/errors.js',
  '/js/format.js',
  '/js/geo.js',
  '/js/i18n.js',
  '/js/outbox.js',
  '/js/router.js',
  '/js/sampling.js',
  '/js/sync.js',
  '/js/taskdata.js',
  '/js/validate.js',
  '/js/views/checkin.js',
  '/js/views/common.js',
  '/js/views/finder.js',
  '/js/views/header.js',
  '/js/views/login.js',
  '/js/views/outbox.js',
  '/js/views/settings.js',
  '/js/views/tasks.js',
  '/js/views/village.js',
  '/js/views/visit.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE_NAME);
    // `reload` bypasses the HTTP cache so a new version never precaches stale files.
    await Promise.all(SHELL.map(async (url) => {
      const res = await fetch(new Request(url, { cache: 'reload', credentials: 'same-origin' }));
      if (!res.ok) throw new Error(`precache ${url}: ${res.status}`);
      await cache.put(url, await cleanRedirect(res));
    }));
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== CACHE_NAME).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type === 'SKIP_WAITING') self.skipWaiting();
  else if (data.type === 'GET_VERSION' && event.ports && event.ports[0]) event.ports[0].postMessage({ version: SHELL_VERSION });
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return; // writes go straight to the network, never cached
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) return; // network-only

  if (req.mode === 'navigate') {
    if (url.pathname === '/' || url.pathname === '/index.html') event.respondWith(navigation(req));
    return; // /staff/... and other server pages: the network decides
  }
  if (SHELL.includes(url.pathname) || /^\/(js|css|icons)\//.test(url.pathname)) event.respondWith(cacheFirst(req));
  // anything else (server-rendered staff assets, uploads): network only
});

self.addEventListener('sync', (event) => {
  if (event.tag === 'outbox-sync') event.waitUntil(askPagesToFlush());
});

async function askPagesToFlush() {
  const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const page of pages) page.postMessage({ type: 'FLUSH_OUTBOX' });
}

async function navigation(req) {
  try {
    const res = await withTimeout(fetch(req), NAVIGATION_TIMEOUT_MS);
    if (res.ok) return res;
    // A 5xx or a proxy error page: the cached shell works better offline-first.
    return (await cachedShell()) || res;
  } catch {
    const cached = await cachedShell();
    if (cached) return cached;
    return new Response('<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
      + '<title>驻村评议</title><p style="font:18px sans-serif;padding:16px">没有网络，请联网后再打开。<br>Offline: open again when online.</p>', {
      status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' },
    });
  }
}

async function cachedShell() {
  const cache = await caches.open(CACHE_NAME);
  return (await cache.match('/')) || (await cache.match('/index.html'));
}

async function cacheFirst(req) {
  const cache = await caches.open(CACHE_NAME);
  const hit = await cache.match(req);
  if (hit) return hit;
  const res = await fetch(req);
  if (res.status === 200 && res.type === 'basic') cache.put(req, res.clone());
  return res;
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

// A response that followed a redirect cannot answer a navigation: copy it.
async function cleanRedirect(res) {
  if (!res.redirected) return res;
  return new Response(await res.blob(), { status: res.status, statusText: res.statusText, headers: res.headers });
}
