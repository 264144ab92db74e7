/* fieldapp service worker, served at /sw.js so that its scope is the whole site (/).
 *
 * The server fills in BUILD for each release (fieldapp/assets/pwa_build.py):
 *   digest   names the release; any change to any app file changes it, so this file
 *            changes and every phone installs the new release (nothing to bump by hand)
 *   shell    URLs to precache: the page, its stylesheet, and every module the entry
 *            (js/app.js) loads statically
 *   assets   '/js/x.js' -> '/js/x.<hash>.js' for every app file (js, css, icons)
 *   imports  each module's static imports, to precache a lazy module with what it needs
 *
 * - ONE cache per release, `fieldapp-shell-v<SHELL_VERSION>-<digest>`. SHELL_VERSION is the
 *   version of this worker's caching scheme; bump it only when the scheme changes.
 * - Install reuses what is already here: a file the page has just downloaded comes from
 *   the HTTP cache (hashed URLs never change content; the page is checked against the
 *   digest), and a file an older release cached under the same hashed URL is copied.
 *   Screens loaded lazily (per role) and the English catalogue are not precached on a
 *   first visit; the page fetches its role's screens after login and this worker caches
 *   them (as they pass through it, or on {type: 'CACHE_URLS'} for those the page loaded
 *   before this worker controlled it). A new release precaches again every module an older release had cached, with
 *   its imports, so an offline phone keeps what its user needs across updates.
 * - No skipWaiting on its own: it waits for {type: 'SKIP_WAITING'} from the page, which
 *   the page sends only when the user taps 新版本可用 and no form is open. Activation
 *   deletes every other fieldapp cache; IndexedDB (the outbox) is never touched.
 * - The app page (/ and /index.html): cache first, without waiting for the network. The
 *   browser checks sw.js for a new release after each navigation, in the background.
 *   Other navigations (/staff/..., /api/...) are left to the network.
 * - App files: cache first. Only same-origin GET answers with status 200 are ever cached,
 *   and nothing under /api/ (API GETs are network-only; offline data lives in IndexedDB).
 * - Background Sync `outbox-sync`: the worker does not send records itself (the queue
 *   logic is in the page's ES modules, one implementation only); it posts
 *   {type: 'FLUSH_OUTBOX'} to every open page, which flushes. With no page open nothing
 *   is lost: the next app open flushes.
 */

const SHELL_VERSION = 8;
const CACHE_PREFIX = 'fieldapp-shell-v';
const BUILD = __FIELDAPP_BUILD__;
const CACHE_NAME = `${CACHE_PREFIX}${SHELL_VERSION}-${BUILD.digest}`;
const HASHED = new Set(Object.values(BUILD.assets));
const HASHED_NAME = /^(.+)\.[0-9a-f]{12}(\.[a-z0-9]+)$/i;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE_NAME);
    const older = (await caches.keys()).filter((n) => n.startsWith(CACHE_PREFIX) && n !== CACHE_NAME);
    const wanted = new Set(BUILD.shell);
    for (const module of await modulesCachedBy(older)) {
      for (const path of withImports(module)) wanted.add(BUILD.assets[path]);
    }
    await Promise.all([...wanted].map(async (url) => {
      const res = (await copyFromOlder(url, older)) || (await download(url));
      await cache.put(url, res);
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
  else if (data.type === 'CACHE_URLS' && Array.isArray(data.urls)) event.waitUntil(keep(data.urls));
  else if (data.type === 'GET_VERSION' && event.ports && event.ports[0]) {
    event.ports[0].postMessage({ version: `${SHELL_VERSION}.${BUILD.digest.slice(0, 8)}` });
  }
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return; // writes go straight to the network, never cached
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) return; // network-only

  if (req.mode === 'navigate') {
    if (url.pathname === '/' || url.pathname === '/index.html') event.respondWith(page(req));
    return; // /staff/... and other server pages: the network decides
  }
  // A file of this release, by its hashed URL or by its plain name (a browser without
  // import maps asks for '/js/dom.js').
  const hashed = HASHED.has(url.pathname) ? url.pathname : BUILD.assets[url.pathname];
  if (hashed && !url.search) event.respondWith(cacheFirst(hashed));
  // anything else (staff files, another release's files): network only
});

self.addEventListener('sync', (event) => {
  if (event.tag === 'outbox-sync') event.waitUntil(askPagesToFlush());
});

async function askPagesToFlush() {
  const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const page of pages) page.postMessage({ type: 'FLUSH_OUTBOX' });
}

/**
 * Keep files of this release that the page loaded without this worker (before it took
 * control): they are in the HTTP cache, so nothing is downloaded again.
 */
async function keep(urls) {
  const cache = await caches.open(CACHE_NAME);
  await Promise.all(urls.filter((url) => HASHED.has(url)).map(async (url) => {
    if (await cache.match(url, { ignoreVary: true })) return;
    const res = await fetch(new Request(url, { cache: 'force-cache', credentials: 'same-origin' }));
    if (res.status === 200 && res.type === 'basic') await cache.put(url, res);
  }));
}

/** Plain paths of the modules that older releases' caches hold and this release has. */
async function modulesCachedBy(cacheNames) {
  const found = new Set();
  for (const name of cacheNames) {
    for (const req of await (await caches.open(name)).keys()) {
      const path = new URL(req.url).pathname.replace(HASHED_NAME, '$1$2');
      if (path.endsWith('.js') && BUILD.assets[path]) found.add(path);
    }
  }
  return found;
}

/** A module and everything it imports statically, as plain paths. */
function withImports(module) {
  const seen = new Set();
  const stack = [module];
  while (stack.length) {
    const path = stack.pop();
    if (seen.has(path)) continue;
    seen.add(path);
    stack.push(...(BUILD.imports[path] || []));
  }
  return seen;
}

/** The same hashed URL in an older release's cache holds the same bytes. */
async function copyFromOlder(url, older) {
  if (!HASHED.has(url)) return null;
  for (const name of older) {
    const hit = await caches.match(url, { cacheName: name, ignoreVary: true });
    if (hit) return hit;
  }
  return null;
}

async function download(url) {
  if (url === '/') return thisReleasesPage();
  // `force-cache`: a hashed URL never changes, so the copy the page just downloaded will do.
  const res = await fetch(new Request(url, { cache: 'force-cache', credentials: 'same-origin' }));
  if (!res.ok) throw new Error(`precache ${url}: ${res.status}`);
  return res;
}

/** The page of this release: the one in the HTTP cache when it carries this digest. */
async function thisReleasesPage() {
  for (const mode of ['force-cache', 'no-cache']) {
    const res = await fetch(new Request('/', { cache: mode, credentials: 'same-origin' }));
    if (res.ok && (await res.clone().text()).includes(`<meta name="fieldapp-build" content="${BUILD.digest}">`)) {
      return cleanRedirect(res);
    }
  }
  // The server already has a newer release: this worker is stale; the browser installs
  // the newer sw.js on its next check.
  throw new Error('precache /: the server has another release');
}

async function page(req) {
  const cached = await caches.match('/', { cacheName: CACHE_NAME, ignoreVary: true });
  if (cached) return cached;
  try {
    return await fetch(req);
  } catch {
    return new Response('<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
      + '<title>驻村评议</title><p style="font:18px sans-serif;padding:16px">没有网络，请联网后再打开。<br>Offline: open again when online.</p>', {
      status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' },
    });
  }
}

async function cacheFirst(url) {
  const cache = await caches.open(CACHE_NAME);
  const hit = await cache.match(url, { ignoreVary: true });
  if (hit) return hit;
  const res = await fetch(url, { credentials: 'same-origin' });
  if (res.status === 200 && res.type === 'basic') await cache.put(url, res.clone());
  return res;
}

// A response that followed a redirect cannot answer a navigation: copy it.
async function cleanRedirect(res) {
  if (!res.redirected) return res;
  return new Response(await res.blob(), { status: res.status, statusText: res.statusText, headers: res.headers });
}
