// node --test tests/js/  — the outbox queue without a browser (in-memory store).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOutbox, memoryStore, backoffDelay, BACKOFF_BASE_MS, BACKOFF_MAX_MS } from '../../pwa/js/outbox.js';

function setup({ userId = 7, store = memoryStore() } = {}) {
  let clock = Date.parse('2026-11-25T02:00:00Z');
  let n = 0;
  const outbox = createOutbox({
    store, userId, now: () => clock, uuid: () => `uuid-${userId}-${++n}`, random: () => 0.5,
  });
  return { outbox, store, advance: (ms) => { clock += ms; }, now: () => clock };
}

/** A fake /api/sync that stores each uuid once, like the server. */
function fakeServer() {
  const stored = new Map();
  const calls = [];
  const plan = []; // per-call overrides: (batch) => response
  const send = async (batch) => {
    calls.push(structuredClone(batch));
    const override = plan.shift();
    if (override) return override(batch);
    return {
      status: 200,
      body: {
        server_time: new Date().toISOString(),
        results: batch.records.map((r) => {
          const dup = stored.has(r.uuid);
          stored.set(r.uuid, r.payload);
          return { uuid: r.uuid, status: dup ? 'duplicate' : 'stored', id: stored.size };
        }),
      },
    };
  };
  return { send, calls, plan, stored };
}

async function fill(outbox, count, advance) {
  const recs = [];
  for (let i = 0; i < count; i += 1) {
    recs.push(await outbox.enqueue('visit', { sample_token: `t${i}`, answers: { q: i } }));
    advance(1000);
  }
  return recs;
}

test('enqueue assigns a uuid and persists before returning', async () => {
  const store = memoryStore();
  const outbox = createOutbox({ store, userId: 1 });
  const rec = await outbox.enqueue('checkin', { at: '2026-11-25T00:00:00Z', geo: null, geo_error: 'denied', village_token: null });
  assert.match(rec.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const saved = await store.get(rec.uuid);
  assert.equal(saved.state, 'pending');
  assert.equal(saved.user_id, 1);
  assert.deepEqual(saved.payload.geo_error, 'denied');
});

test('enqueue fails (and returns nothing) when the store cannot persist', async () => {
  const store = { ...memoryStore(), put: async () => { throw new Error('QuotaExceededError'); } };
  const outbox = createOutbox({ store, userId: 1 });
  await assert.rejects(outbox.enqueue('visit', { a: 1 }), /Quota/);
});

test('the payload is copied: later edits by the caller do not change the queued record', async () => {
  const { outbox, store } = setup();
  const payload = { answers: { q: 'satisfied' } };
  const rec = await outbox.enqueue('visit', payload);
  payload.answers.q = 'dissatisfied';
  assert.equal((await store.get(rec.uuid)).payload.answers.q, 'satisfied');
});

test('exactly once: the uuid is stable across retries and the server stores it once', async () => {
  const { outbox, advance } = setup();
  const server = fakeServer();
  const [rec] = await fill(outbox, 1, advance);
  server.plan.push(async () => { throw new TypeError('Failed to fetch'); });
  const r1 = await outbox.flush({ send: server.send });
  assert.equal(r1.ok, false);
  assert.equal(r1.error, 'offline');
  assert.equal((await outbox.get(rec.uuid)).state, 'pending');

  // The request reached the server but the answer was lost (timeout): sent again, duplicate.
  server.plan.push(async (batch) => { await server.send.call(null, batch); return { status: 0, body: null }; });
  const r2 = await outbox.flush({ send: server.send });
  assert.equal(r2.ok, false);
  const r3 = await outbox.flush({ send: server.send });
  assert.equal(r3.ok, true);
  assert.equal(r3.synced, 1);

  const uuids = server.calls.map((c) => c.records.map((r) => r.uuid)).flat();
  assert.ok(uuids.length >= 3);
  assert.ok(uuids.every((u) => u === rec.uuid), 'every attempt carries the same uuid');
  assert.equal(server.stored.size, 1);
  const synced = await outbox.get(rec.uuid);
  assert.equal(synced.state, 'synced');
  assert.equal(synced.result.status, 'duplicate');
  assert.ok(synced.attempts >= 3);

  const r4 = await outbox.flush({ send: server.send });
  assert.equal(r4.requests, 0, 'nothing left to send');
});

test('batches: splits by batchSize, oldest first, and sends the contract shape', async () => {
  const { outbox, advance } = setup();
  const server = fakeServer();
  const recs = await fill(outbox, 7, advance);
  const r = await outbox.flush({ send: server.send, batchSize: 3 });
  assert.deepEqual(server.calls.map((c) => c.records.length), [3, 3, 1]);
  assert.deepEqual(server.calls.flatMap((c) => c.records.map((x) => x.uuid)), recs.map((x) => x.uuid));
  const first = server.calls[0];
  assert.ok(!Number.isNaN(Date.parse(first.device_sent_at)));
  assert.deepEqual(Object.keys(first.records[0]).sort(), ['payload', 'type', 'uuid']);
  assert.equal(first.records[0].type, 'visit');
  assert.deepEqual(r, { ok: true, synced: 7, rejected: 0, remaining: 0, requests: 3, error: null, retryAt: null });
});

test('a 500 in the middle of a sync loses nothing, and the retry succeeds', async () => {
  const { outbox, advance } = setup();
  const server = fakeServer();
  await fill(outbox, 5, advance);
  server.plan.push(undefined); // first batch: normal 200
  server.plan.push(async () => ({ status: 500, body: { code: 'internal_error', status: 500, message: 'boom' } }));
  const r1 = await outbox.flush({ send: server.send, batchSize: 2 });
  assert.equal(r1.ok, false);
  assert.equal(r1.error, 'internal_error');
  assert.equal(r1.synced, 2);
  assert.equal(r1.remaining, 3);
  const states = (await outbox.list()).map((x) => x.state);
  assert.deepEqual(states, ['synced', 'synced', 'pending', 'pending', 'pending']);
  assert.ok(r1.retryAt > 0);

  const r2 = await outbox.flush({ send: server.send, batchSize: 2 });
  assert.equal(r2.ok, true);
  assert.equal(r2.synced, 3);
  assert.equal(server.stored.size, 5);
  assert.deepEqual((await outbox.counts()), { pending: 0, rejected: 0, synced: 5 });
});

test('a 5xx without JSON, a timeout and a captive-portal answer are all transient', async () => {
  const { outbox, advance } = setup();
  await fill(outbox, 1, advance);
  for (const res of [{ status: 502, body: null }, { status: 0, body: null, error: { code: 'timeout' } }, { status: 200, body: null }]) {
    const r = await outbox.flush({ send: async () => res });
    assert.equal(r.ok, false);
    assert.deepEqual(await outbox.counts(), { pending: 1, rejected: 0, synced: 0 });
  }
});

test('422 sync_batch_rejected: rejected keep their errors, conflict is rejected, pending are re-sent at once without them', async () => {
  const { outbox, advance } = setup();
  const server = fakeServer();
  const [bad, good, clash] = await fill(outbox, 3, advance);
  server.plan.push(async (batch) => ({
    status: 422,
    body: {
      code: 'sync_batch_rejected', status: 422, message: 'batch refused', errors: {},
      results: [
        { uuid: batch.records[0].uuid, status: 'rejected', errors: { answers: { visited_home: ['Missing data for required field.'] } } },
        { uuid: batch.records[1].uuid, status: 'pending' },
        { uuid: batch.records[2].uuid, status: 'conflict' },
      ],
    },
  }));
  const r = await outbox.flush({ send: server.send });
  assert.equal(server.calls.length, 2, 'the valid record is re-sent in the same flush');
  assert.deepEqual(server.calls[1].records.map((x) => x.uuid), [good.uuid]);
  assert.equal(r.ok, true);
  assert.equal(r.synced, 1);
  assert.equal(r.rejected, 2);

  const b = await outbox.get(bad.uuid);
  assert.equal(b.state, 'rejected');
  assert.deepEqual(b.errors, { answers: { visited_home: ['Missing data for required field.'] } });
  const c = await outbox.get(clash.uuid);
  assert.equal(c.state, 'rejected');
  assert.equal(c.conflict, true);
  assert.ok(c.errors);
  assert.equal((await outbox.get(good.uuid)).state, 'synced');
  assert.deepEqual(await outbox.counts(), { pending: 0, rejected: 2, synced: 1 });

  // Rejected records are not sent again by themselves...
  const again = await outbox.flush({ send: server.send });
  assert.equal(again.requests, 0);
  // ...until the user fixes one and re-queues it, with the same uuid.
  await outbox.retry(bad.uuid, { sample_token: 't0', answers: { visited_home: 'satisfied' } });
  const fixed = await outbox.get(bad.uuid);
  assert.equal(fixed.state, 'pending');
  assert.equal(fixed.errors, null);
  const r3 = await outbox.flush({ send: server.send });
  assert.equal(r3.synced, 1);
  assert.equal(server.calls.at(-1).records[0].uuid, bad.uuid);
  assert.equal(server.calls.at(-1).records[0].payload.answers.visited_home, 'satisfied');
});

test('a 422 with another code (e.g. a validation error on the batch) is not a per-record answer', async () => {
  const { outbox, advance } = setup();
  await fill(outbox, 2, advance);
  const r = await outbox.flush({
    send: async () => ({ status: 422, body: { code: 'validation_error', status: 422, message: 'x', errors: { records: ['too many'] } } }),
  });
  assert.equal(r.ok, false);
  assert.equal(r.error, 'validation_error');
  assert.deepEqual(await outbox.counts(), { pending: 2, rejected: 0, synced: 0 });
});

test('an answer that settles nothing does not loop forever', async () => {
  const { outbox, advance } = setup();
  await fill(outbox, 2, advance);
  let calls = 0;
  const r = await outbox.flush({ send: async () => { calls += 1; return { status: 200, body: { results: [] } }; } });
  assert.equal(calls, 1);
  assert.equal(r.ok, false);
  assert.equal(r.error, 'no_progress');
  assert.equal(r.remaining, 2);
});

test('single-flight: concurrent flushes share one run', async () => {
  const { outbox, advance } = setup();
  await fill(outbox, 2, advance);
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  const server = fakeServer();
  let sends = 0;
  const send = async (batch) => { sends += 1; await gate; return server.send(batch); };
  const a = outbox.flush({ send });
  const b = outbox.flush({ send });
  assert.equal(a, b);
  assert.equal(outbox.running, true);
  release();
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra, rb);
  assert.equal(sends, 1);
  assert.equal(server.stored.size, 2);
  assert.equal(outbox.running, false);
  // A new call after the run finished starts a new run.
  const c = outbox.flush({ send });
  assert.notEqual(c, a);
  await c;
});

test('records are "sending" during the request and go back to pending on failure', async () => {
  const { outbox, advance } = setup();
  const [rec] = await fill(outbox, 1, advance);
  let seen;
  await outbox.flush({ send: async () => { seen = (await outbox.get(rec.uuid)).state; return { status: 503, body: null }; } });
  assert.equal(seen, 'sending');
  assert.equal((await outbox.get(rec.uuid)).state, 'pending');
  assert.deepEqual(await outbox.counts(), { pending: 1, rejected: 0, synced: 0 });
});

test('records left "sending" by a page that died are sent again', async () => {
  const store = memoryStore();
  const { outbox, advance } = setup({ store });
  const [rec] = await fill(outbox, 1, advance);
  await store.put({ ...(await store.get(rec.uuid)), state: 'sending' });
  const server = fakeServer();
  const r = await outbox.flush({ send: server.send });
  assert.equal(r.synced, 1);
  assert.equal(server.calls[0].records[0].uuid, rec.uuid);
});

test('backoff grows exponentially, is capped, and resets after the server answers', async () => {
  const { outbox, advance, now } = setup();
  await fill(outbox, 1, advance);
  const fail = async () => ({ status: 0, body: null });
  const delays = [];
  for (let i = 0; i < 10; i += 1) {
    const r = await outbox.flush({ send: fail });
    delays.push(r.retryAt - now());
  }
  assert.deepEqual(delays.slice(0, 5), [2000, 4000, 8000, 16000, 32000]);
  assert.ok(delays.every((d, i) => i === 0 || d >= delays[i - 1]));
  assert.equal(delays.at(-1), BACKOFF_MAX_MS);
  assert.equal(outbox.backoffState().failures, 10);

  const server = fakeServer();
  const ok = await outbox.flush({ send: server.send });
  assert.equal(ok.ok, true);
  assert.deepEqual(outbox.backoffState(), { failures: 0, nextAttemptAt: 0 });

  await outbox.enqueue('visit', { x: 1 });
  const again = await outbox.flush({ send: fail });
  assert.equal(again.retryAt - now(), BACKOFF_BASE_MS, 'back to the first step');
  outbox.resetBackoff();
  assert.deepEqual(outbox.backoffState(), { failures: 0, nextAttemptAt: 0 });
});

test('backoff jitter stays within ±25% and under the cap', () => {
  for (let n = 1; n <= 20; n += 1) {
    const plain = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (n - 1));
    const lo = backoffDelay(n, () => 0);
    const hi = backoffDelay(n, () => 0.999999);
    assert.equal(lo, Math.round(plain * 0.75));
    assert.ok(hi <= BACKOFF_MAX_MS);
    assert.ok(hi >= Math.min(BACKOFF_MAX_MS, plain * 1.24));
  }
});

test('discard deletes only on explicit request, and never a synced record', async () => {
  const { outbox, advance } = setup();
  const server = fakeServer();
  const [a, b] = await fill(outbox, 2, advance);
  server.plan.push(async (batch) => ({
    status: 422,
    body: { code: 'sync_batch_rejected', status: 422, results: [{ uuid: batch.records[0].uuid, status: 'rejected', errors: { note: ['too long'] } }, { uuid: batch.records[1].uuid, status: 'pending' }] },
  }));
  await outbox.flush({ send: server.send });
  assert.equal((await outbox.get(a.uuid)).state, 'rejected');
  assert.equal((await outbox.get(b.uuid)).state, 'synced');
  assert.equal(await outbox.discard(b.uuid), false, 'synced records are pruned, not discarded');
  assert.equal(await outbox.discard(a.uuid), true);
  assert.equal(await outbox.get(a.uuid), undefined);
  assert.equal(await outbox.discard('nope'), false);
  assert.deepEqual(await outbox.counts(), { pending: 0, rejected: 0, synced: 1 });
});

test('one user only: records of another user in the same store are invisible and never sent', async () => {
  const store = memoryStore();
  const mine = setup({ store, userId: 1 });
  const theirs = setup({ store, userId: 2 });
  await mine.outbox.enqueue('visit', { who: 'me' });
  const other = await theirs.outbox.enqueue('visit', { who: 'them' });
  assert.equal((await mine.outbox.list()).length, 1);
  assert.equal(await mine.outbox.get(other.uuid), undefined);
  assert.equal(await mine.outbox.discard(other.uuid), false);
  const server = fakeServer();
  await mine.outbox.flush({ send: server.send });
  assert.deepEqual(server.calls.flatMap((c) => c.records.map((r) => r.payload.who)), ['me']);
  assert.equal((await store.get(other.uuid)).state, 'pending');
});

test('prune removes synced records older than the cut-off only', async () => {
  const { outbox, advance, now } = setup();
  const server = fakeServer();
  await fill(outbox, 2, advance);
  await outbox.flush({ send: server.send });
  await outbox.enqueue('visit', { later: true });
  advance(10_000);
  assert.equal(await outbox.prune({ before: now() - 60_000 }), 0);
  assert.equal(await outbox.prune({ before: now() }), 2);
  assert.deepEqual(await outbox.counts(), { pending: 1, rejected: 0, synced: 0 });
});

test('subscribers hear about changes', async () => {
  const { outbox } = setup();
  let n = 0;
  const off = outbox.subscribe(() => { n += 1; });
  await outbox.enqueue('visit', { a: 1 });
  assert.ok(n >= 1);
  off();
  const before = n;
  await outbox.enqueue('visit', { a: 2 });
  assert.equal(n, before);
});
