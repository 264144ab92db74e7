// Hash routes. Pure parsing here; app.js listens to `hashchange` and renders.
//   #/login  #/tasks  #/village/<code>  #/visit/<token>  #/find/<token>  #/outbox  #/checkin  #/settings
// The printed field-sheet QR opens /#/visit/<token>, the check-in poster /#/checkin?v=<village_token>.

const ROUTES = [
  ['login', /^\/login$/, []],
  ['tasks', /^\/tasks$/, []],
  ['village', /^\/village\/([^/]+)$/, ['code']],
  ['visit', /^\/visit\/([^/]+)$/, ['token']],
  ['find', /^\/find\/([^/]+)$/, ['token']],
  ['outbox', /^\/outbox$/, []],
  ['checkin', /^\/checkin$/, []],
  ['settings', /^\/settings$/, []],
];

/**
 * @typedef {Object} Route
 * @property {string} name     a route name, 'home' for an empty hash, 'notfound' otherwise
 * @property {Object<string, string>} params
 * @property {Object<string, string>} query
 */

/**
 * @param {string} hash location.hash, e.g. '#/visit/abc?fix=123'
 * @returns {Route}
 */
export function parseHash(hash) {
  const s = String(hash || '').replace(/^#!?/, '');
  const [path, qs = ''] = s.split('?', 2);
  const query = Object.fromEntries(new URLSearchParams(qs));
  if (path === '' || path === '/') return { name: 'home', params: {}, query };
  for (const [name, re, keys] of ROUTES) {
    const m = re.exec(path);
    if (m) {
      const params = {};
      keys.forEach((k, i) => {
        try { params[k] = decodeURIComponent(m[i + 1]); } catch { params[k] = m[i + 1]; }
      });
      return { name, params, query };
    }
  }
  return { name: 'notfound', params: {}, query };
}

/**
 * Build a hash for a route.
 * @param {string} name
 * @param {Object<string, string>} [params]
 * @param {Object<string, string>} [query]
 * @returns {string} e.g. '#/village/610301001'
 */
export function hashFor(name, params = {}, query = {}) {
  const route = ROUTES.find((r) => r[0] === name);
  if (!route) throw new Error(`unknown route ${name}`);
  const path = route[2].length
    ? `/${name}/${route[2].map((k) => encodeURIComponent(params[k] ?? '')).join('/')}`
    : `/${name}`;
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null)).toString();
  return `#${path}${q ? `?${q}` : ''}`;
}
