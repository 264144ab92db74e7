// The ONE fetch wrapper. JSON in and out, same-origin cookies, X-CSRFToken on
// writes, a timeout, and one error shape `{code, message, status, errors}`:
//   - no response at all (TypeError from fetch)          -> code 'offline', status 0
//   - no answer within the timeout                        -> code 'timeout', status 0
//   - an answer that is not our JSON (captive portal, a
//     proxy's login page: status 200 with HTML)           -> code 'offline', status as received
//   - a 5xx that is not JSON                              -> code 'server_error'
//   - the server's error body `{code, status, message, errors}` is passed through.
// "Reached the server" is decided by the body (JSON from us), not by the status.
// No DOM: the app injects callbacks for connectivity and expired sessions.

/** @typedef {{code: string, message: string, status: number, errors: Object|null}} ApiErrorShape */

/**
 * @typedef {Object} ApiResult
 * @property {boolean} ok
 * @property {number} status   0 when there was no HTTP answer
 * @property {*} data          the parsed JSON body (also on errors, e.g. the 422 sync results)
 * @property {ApiErrorShape|null} error
 */

export const DEFAULT_TIMEOUT_MS = 20000;
/** Bodies at least this long are gzipped when the caller asks (`{gzip: true}`). */
export const GZIP_MIN_CHARS = 1024;

/** An API failure thrown by `get`/`post`. */
export class ApiError extends Error {
  /** @param {ApiErrorShape} shape @param {*} [body] */
  constructor(shape, body = null) {
    super(shape.message || shape.code);
    this.name = 'ApiError';
    this.code = shape.code;
    this.status = shape.status;
    this.errors = shape.errors || null;
    this.body = body;
  }
}

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * gzip a text with the browser's CompressionStream; null where there is none.
 * @param {string} text
 * @returns {Promise<ArrayBuffer|null>}
 */
export async function gzipText(text) {
  if (typeof CompressionStream !== 'function') return null;
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).arrayBuffer();
}

/**
 * @param {Object} [opts]
 * @param {typeof fetch} [opts.fetch]
 * @param {() => (string|null|Promise<string|null>)} [opts.getCsrfToken]   token from the session store
 * @param {(token: string) => (void|Promise<void>)} [opts.saveCsrfToken]  keep a refreshed token
 * @param {() => string} [opts.getLang]           'zh-Hans' | 'en', sent as Accept-Language
 * @param {number} [opts.timeoutMs]
 * @param {(reachable: boolean) => void} [opts.onConnectivity]
 * @param {(error: ApiErrorShape) => void} [opts.onUnauthorized]   a 401 outside login
 */
export function createApi(opts = {}) {
  const doFetch = opts.fetch || ((...a) => globalThis.fetch(...a));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let csrfOverride = null;
  let gzipRefused = false; // the server (or a proxy) answered 415 to a gzip body

  async function csrfToken() {
    if (csrfOverride) return csrfOverride;
    return opts.getCsrfToken ? await opts.getCsrfToken() : null;
  }

  /**
   * One request; never throws.
   * @param {string} method
   * @param {string} path  e.g. '/api/sync'
   * @param {*} [body]     JSON-serialised when given
   * @param {{timeoutMs?: number, retryCsrf?: boolean, gzip?: boolean}} [o]
   *   gzip: send a long body gzipped (Content-Encoding: gzip) where the browser can
   * @returns {Promise<ApiResult>}
   */
  async function call(method, path, body, o = {}) {
    const m = method.toUpperCase();
    const headers = { Accept: 'application/json' };
    const lang = opts.getLang ? opts.getLang() : null;
    if (lang) headers['Accept-Language'] = lang === 'en' ? 'en' : 'zh-Hans,zh;q=0.9';
    let payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    if (payload !== undefined && o.gzip && !gzipRefused && payload.length >= GZIP_MIN_CHARS) {
      const packed = await gzipText(payload).catch(() => null);
      if (packed) { payload = packed; headers['Content-Encoding'] = 'gzip'; }
    }
    if (WRITE.has(m)) {
      const tok = await csrfToken();
      if (tok) headers['X-CSRFToken'] = tok;
    }
    const ctrl = new AbortController();
    const limit = o.timeoutMs ?? timeoutMs;
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ctrl.abort(); }, limit);
    let res;
    let text = '';
    try {
      res = await doFetch(path, {
        method: m, headers, credentials: 'same-origin', cache: 'no-store', signal: ctrl.signal, body: payload,
      });
      text = await res.text();
    } catch {
      clearTimeout(timer);
      const code = timedOut ? 'timeout' : 'offline';
      opts.onConnectivity?.(false);
      return { ok: false, status: 0, data: null, error: { code, status: 0, message: code, errors: null } };
    }
    clearTimeout(timer);
    if (res.status === 415 && headers['Content-Encoding']) {
      // Something on the way does not take gzip bodies: send plain from now on.
      gzipRefused = true;
      return call(m, path, body, o);
    }

    // Our server always answers with a JSON object (or an empty 204).
    let data = null;
    let fromServer = false;
    if (text) {
      try {
        const v = JSON.parse(text);
        if (v && typeof v === 'object') { data = v; fromServer = true; }
      } catch { /* not JSON */ }
    } else {
      const type = (res.headers && res.headers.get && res.headers.get('Content-Type')) || '';
      fromServer = res.status === 204 || /json/i.test(type);
    }
    if (!fromServer) {
      // Not our server talking (captive portal, proxy page) or a bare crash page.
      const code = res.status >= 500 ? 'server_error' : 'offline';
      if (code === 'offline') opts.onConnectivity?.(false);
      return { ok: false, status: res.status, data: null, error: { code, status: res.status, message: code, errors: null } };
    }
    opts.onConnectivity?.(true);

    if (res.ok) return { ok: true, status: res.status, data, error: null };

    const error = {
      code: (data && typeof data.code === 'string' && data.code) || (res.status >= 500 ? 'server_error' : `http_${res.status}`),
      status: res.status,
      message: (data && data.message) || '',
      errors: (data && data.errors) || null,
    };
    if (o.retryCsrf !== false && WRITE.has(m) && (res.status === 400 || res.status === 403) && /csrf/i.test(error.code + error.message)) {
      // The token went stale (e.g. a new session cookie): fetch a fresh one and try once more.
      const fresh = await call('GET', '/api/auth/csrf', undefined, { retryCsrf: false });
      if (fresh.ok && fresh.data && fresh.data.csrf_token) {
        csrfOverride = fresh.data.csrf_token;
        await opts.saveCsrfToken?.(fresh.data.csrf_token);
        return call(m, path, body, { ...o, retryCsrf: false });
      }
    }
    if (res.status === 401 && !path.startsWith('/api/auth/')) opts.onUnauthorized?.(error);
    return { ok: false, status: res.status, data, error };
  }

  async function orThrow(promise) {
    const r = await promise;
    if (!r.ok) throw new ApiError(r.error, r.data);
    return r.data;
  }

  return {
    call,
    /** @param {string} path @returns {Promise<*>} the JSON body; throws ApiError */
    get: (path) => orThrow(call('GET', path)),
    /** @param {string} path @param {*} [body] @returns {Promise<*>} the JSON body; throws ApiError */
    post: (path, body = {}) => orThrow(call('POST', path, body)),
    /** Use this token for writes until the session store has one (login). @param {string|null} token */
    setCsrfToken(token) { csrfOverride = token || null; },
    /**
     * The outbox's `send`: POST /api/sync, resolving `{status, body}` for any HTTP answer.
     * @param {{device_sent_at: string, records: Array}} batch
     * @returns {Promise<{status: number, body: *, error: ApiErrorShape|null}>}
     */
    async sendSync(batch) {
      const r = await call('POST', '/api/sync', batch, { gzip: true });
      if (r.status && r.data === null) return { status: 0, body: null, error: r.error }; // not our server
      return { status: r.status, body: r.data, error: r.error };
    },
  };
}
