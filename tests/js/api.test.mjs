import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApi, ApiError } from '../../pwa/js/api.js';

function json(status, body, headers = { 'Content-Type': 'application/json' }) {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers });
}

function fakeFetch(...answers) {
  const calls = [];
  const fn = async (url, init) => {
    calls.push({ url, init });
    const a = answers.shift();
    if (typeof a === 'function') return a(url, init);
    if (a instanceof Error) throw a;
    return a;
  };
  fn.calls = calls;
  return fn;
}

test('GET: JSON, same-origin credentials, no CSRF header, Accept-Language from the app', async () => {
  const fetch = fakeFetch(json(200, { villages: [] }));
  const api = createApi({ fetch, getCsrfToken: () => 'tok', getLang: () => 'zh-Hans' });
  assert.deepEqual(await api.get('/api/tasks'), { villages: [] });
  const { url, init } = fetch.calls[0];
  assert.equal(url, '/api/tasks');
  assert.equal(init.method, 'GET');
  assert.equal(init.credentials, 'same-origin');
  assert.equal(init.headers['X-CSRFToken'], undefined);
  assert.match(init.headers['Accept-Language'], /^zh-Hans/);
});

test('POST carries X-CSRFToken from the session and a JSON body', async () => {
  const fetch = fakeFetch(json(200, { ok: true }));
  const api = createApi({ fetch, getCsrfToken: async () => 'abc123' });
  await api.post('/api/leave', { start: '2026-11-01', end: '2026-11-02', reason: '体检' });
  const { init } = fetch.calls[0];
  assert.equal(init.method, 'POST');
  assert.equal(init.headers['X-CSRFToken'], 'abc123');
  assert.equal(init.headers['Content-Type'], 'application/json');
  assert.deepEqual(JSON.parse(init.body), { start: '2026-11-01', end: '2026-11-02', reason: '体检' });
});

test('setCsrfToken overrides the session token (login before a session exists)', async () => {
  const fetch = fakeFetch(json(200, {}));
  const api = createApi({ fetch, getCsrfToken: () => null });
  api.setCsrfToken('from-csrf-endpoint');
  await api.post('/api/auth/login', { phone: '1', password: 'x' });
  assert.equal(fetch.calls[0].init.headers['X-CSRFToken'], 'from-csrf-endpoint');
});

test('the server error shape is passed through as ApiError', async () => {
  const fetch = fakeFetch(json(401, { code: 'invalid_credentials', status: 401, message: '手机号或密码错误', errors: {} }));
  const api = createApi({ fetch });
  await assert.rejects(api.post('/api/auth/login', {}), (err) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 'invalid_credentials');
    assert.equal(err.status, 401);
    assert.equal(err.message, '手机号或密码错误');
    return true;
  });
});

test('network failure -> offline; timeout -> timeout; neither throws from call()', async () => {
  const connectivity = [];
  const api = createApi({
    fetch: fakeFetch(new TypeError('Failed to fetch'), (url, init) => new Promise((resolve, reject) => {
      init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
    })),
    timeoutMs: 20,
    onConnectivity: (ok) => connectivity.push(ok),
  });
  const a = await api.call('GET', '/api/me');
  assert.deepEqual(a.error, { code: 'offline', status: 0, message: 'offline', errors: null });
  const b = await api.call('GET', '/api/me');
  assert.equal(b.error.code, 'timeout');
  assert.deepEqual(connectivity, [false, false]);
});

test('connectivity is judged by the body: a captive portal 200 HTML page is offline', async () => {
  const seen = [];
  const api = createApi({
    fetch: fakeFetch(
      new Response('<html>请登录 Wi-Fi</html>', { status: 200, headers: { 'Content-Type': 'text/html' } }),
      new Response('<h1>Bad Gateway</h1>', { status: 502, headers: { 'Content-Type': 'text/html' } }),
      json(200, { user: { id: 1 } }),
    ),
    onConnectivity: (ok) => seen.push(ok),
  });
  const portal = await api.call('GET', '/api/me');
  assert.equal(portal.ok, false);
  assert.equal(portal.error.code, 'offline');
  const bad = await api.call('GET', '/api/me');
  assert.equal(bad.error.code, 'server_error');
  const ok = await api.call('GET', '/api/me');
  assert.equal(ok.ok, true);
  assert.deepEqual(seen, [false, true]);
});

test('sendSync resolves {status, body} for the outbox, including the 422 results', async () => {
  const body = { code: 'sync_batch_rejected', status: 422, message: 'x', results: [{ uuid: 'u1', status: 'rejected', errors: { note: ['x'] } }] };
  const api = createApi({ fetch: fakeFetch(json(422, body), new TypeError('down'), new Response('<html>', { status: 200 })) });
  const r = await api.sendSync({ device_sent_at: '2026-11-25T00:00:00Z', records: [] });
  assert.equal(r.status, 422);
  assert.deepEqual(r.body, body);
  assert.equal((await api.sendSync({ records: [] })).status, 0);
  assert.equal((await api.sendSync({ records: [] })).status, 0, 'not our server counts as no answer');
});

test('a stale CSRF token is refreshed once and the write retried', async () => {
  const saved = [];
  const fetch = fakeFetch(
    json(400, { code: 'csrf_failed', status: 400, message: 'The CSRF token is invalid.' }),
    json(200, { csrf_token: 'fresh' }),
    json(200, { results: [] }),
  );
  const api = createApi({ fetch, getCsrfToken: () => 'old', saveCsrfToken: (t) => saved.push(t) });
  const r = await api.call('POST', '/api/sync', { records: [] });
  assert.equal(r.ok, true);
  assert.deepEqual(fetch.calls.map((c) => [c.init.method, c.url, c.init.headers['X-CSRFToken']]), [
    ['POST', '/api/sync', 'old'], ['GET', '/api/auth/csrf', undefined], ['POST', '/api/sync', 'fresh'],
  ]);
  assert.deepEqual(saved, ['fresh']);
});

test('a 401 outside /api/auth/ tells the app the session expired', async () => {
  const expired = [];
  const api = createApi({
    fetch: fakeFetch(json(401, { code: 'unauthorized', status: 401, message: '' }), json(401, { code: 'invalid_credentials', status: 401 })),
    onUnauthorized: (e) => expired.push(e.code),
  });
  await api.call('POST', '/api/sync', {});
  await api.call('POST', '/api/auth/login', {});
  assert.deepEqual(expired, ['unauthorized']);
});

test('204 No Content is a success with no data', async () => {
  const api = createApi({ fetch: fakeFetch(new Response(null, { status: 204 })) });
  const r = await api.call('POST', '/api/auth/logout', {});
  assert.equal(r.ok, true);
  assert.equal(r.data, null);
});

const bigBatch = () => ({
  device_sent_at: '2026-11-25T00:00:00Z',
  records: Array.from({ length: 20 }, (_, n) => ({ uuid: `u${n}`, type: 'visit', payload: { note: `第${n}户：户主在家`, answers: { visited_home: 'satisfied' } } })),
});

test('sendSync gzips a long batch (Content-Encoding: gzip) that inflates to the same JSON', async () => {
  const fetch = fakeFetch(json(200, { results: [] }));
  const api = createApi({ fetch });
  const batch = bigBatch();
  await api.sendSync(batch);
  const { init } = fetch.calls[0];
  assert.equal(init.headers['Content-Encoding'], 'gzip');
  assert.equal(init.headers['Content-Type'], 'application/json');
  const { gunzipSync } = await import('node:zlib');
  const raw = JSON.stringify(batch);
  const sent = Buffer.from(init.body);
  assert.equal(gunzipSync(sent).toString('utf8'), raw);
  assert.ok(sent.length < Buffer.byteLength(raw) / 3, `${sent.length} of ${Buffer.byteLength(raw)} bytes`);
});

test('short bodies and other calls stay plain JSON', async () => {
  const fetch = fakeFetch(json(200, { results: [] }), json(200, { ok: true }));
  const api = createApi({ fetch });
  await api.sendSync({ records: [{ uuid: 'u', type: 'visit', payload: {} }] });
  await api.post('/api/leave', bigBatch());
  for (const { init } of fetch.calls) {
    assert.equal(init.headers['Content-Encoding'], undefined);
    assert.equal(typeof init.body, 'string');
  }
});

test('a 415 to a gzip body is sent again plain, and plain from then on', async () => {
  const fetch = fakeFetch(new Response('<html>415</html>', { status: 415 }), json(200, { results: [] }), json(200, { results: [] }));
  const api = createApi({ fetch });
  const r = await api.sendSync(bigBatch());
  assert.equal(r.status, 200);
  assert.equal(fetch.calls[0].init.headers['Content-Encoding'], 'gzip');
  assert.equal(fetch.calls[1].init.headers['Content-Encoding'], undefined);
  assert.equal(JSON.parse(fetch.calls[1].init.body).records.length, 20);
  await api.sendSync(bigBatch());
  assert.equal(fetch.calls[2].init.headers['Content-Encoding'], undefined);
});
