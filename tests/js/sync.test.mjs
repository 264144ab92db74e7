import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOutbox, memoryStore } from '../../pwa/js/outbox.js';
import { createSync, LAST_SYNC_KEY, TASKS_DOWNLOADED_KEY, KEEP_SYNCED_MS } from '../../pwa/js/sync.js';

function harness({ online = true, send } = {}) {
  let clock = Date.parse('2026-11-25T02:00:00Z');
  const timers = [];
  const metaRows = new Map();
  const meta = { get: async (k) => metaRows.get(k), set: async (k, v) => { metaRows.set(k, v); } };
  const outbox = createOutbox({ store: memoryStore(), userId: 1, now: () => clock, random: () => 0.5 });
  const bg = [];
  const changes = [];
  const sync = createSync({
    outbox, meta, send,
    onChange: (st) => changes.push({ running: st.running, synced: st.lastResult ? st.lastResult.synced : null }),
    now: () => clock,
    setTimer: (fn, ms) => { const h = { fn, at: clock + ms, cleared: false }; timers.push(h); return h; },
    clearTimer: (h) => { h.cleared = true; },
    isOnline: () => online,
    registerBackgroundSync: async () => { bg.push('outbox-sync'); },
  });
  return {
    outbox, sync, meta, metaRows, timers, bg, changes,
    advance: (ms) => { clock += ms; },
    live: () => timers.filter((h) => !h.cleared),
    setOnline: (v) => { online = v; },
  };
}

const ok = async (batch) => ({ status: 200, body: { results: batch.records.map((r) => ({ uuid: r.uuid, status: 'stored' })) } });
const down = async () => ({ status: 0, body: null });

test('kick registers Background Sync and sends at once when online', async () => {
  const h = harness({ send: ok });
  await h.outbox.enqueue('checkin', { at: 'x' });
  const r = await h.sync.kick();
  assert.deepEqual(h.bg, ['outbox-sync']);
  assert.equal(r.synced, 1);
  assert.ok(h.metaRows.get(LAST_SYNC_KEY));
  assert.equal(h.sync.status().lastSyncAt, h.metaRows.get(LAST_SYNC_KEY));
});

test('kick while offline only registers Background Sync', async () => {
  const calls = [];
  const h = harness({ online: false, send: async (b) => { calls.push(b); return ok(b); } });
  await h.outbox.enqueue('checkin', { at: 'x' });
  assert.equal(await h.sync.kick(), null);
  assert.deepEqual(h.bg, ['outbox-sync']);
  assert.equal(calls.length, 0);
});

test('a failure schedules a retry from the backoff; the retry then succeeds', async () => {
  let fail = true;
  const h = harness({ send: (b) => (fail ? down(b) : ok(b)) });
  await h.outbox.enqueue('visit', { sample_token: 't' });
  const r1 = await h.sync.syncNow();
  assert.equal(r1.ok, false);
  assert.equal(h.live().length, 1);
  const timer = h.live()[0];
  assert.equal(timer.at, r1.retryAt);
  assert.equal(h.sync.status().nextAttemptAt, r1.retryAt);
  assert.equal(h.metaRows.get(LAST_SYNC_KEY), undefined);

  fail = false;
  h.advance(timer.at);
  timer.cleared = true; // it fires
  timer.fn();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(await h.outbox.counts(), { pending: 0, rejected: 0, synced: 1 });
  assert.equal(h.live().length, 0, 'no retry after success');
  assert.equal(h.sync.status().nextAttemptAt, 0);
});

test('the online event resets the backoff and flushes', async () => {
  let fail = true;
  const h = harness({ send: (b) => (fail ? down(b) : ok(b)) });
  const target = new EventTarget();
  await h.sync.start(target);
  await h.outbox.enqueue('visit', { a: 1 });
  await h.sync.syncNow();
  await h.sync.syncNow();
  assert.equal(h.outbox.backoffState().failures, 2);
  fail = false;
  target.dispatchEvent(new Event('online'));
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(await h.outbox.counts(), { pending: 0, rejected: 0, synced: 1 });
  h.sync.stop();
  assert.equal(h.live().length, 0);
});

test('syncNow is single-flight', async () => {
  let n = 0;
  const h = harness({ send: async (b) => { n += 1; await new Promise((r) => setTimeout(r, 5)); return ok(b); } });
  await h.outbox.enqueue('visit', { a: 1 });
  const a = h.sync.syncNow();
  const b = h.sync.syncNow();
  assert.equal(a, b);
  await a;
  assert.equal(n, 1);
});

test('without tasks (secretary) synced records go after 30 days', async () => {
  const h = harness({ send: ok });
  await h.outbox.enqueue('checkin', { at: 'x' });
  await h.sync.syncNow();
  h.advance(KEEP_SYNCED_MS + 1000);
  await h.outbox.enqueue('checkin', { at: 'y' });
  await h.sync.syncNow();
  assert.equal((await h.outbox.counts()).synced, 1);
});

test('synced records are pruned after 30 days, but not before the next tasks download', async () => {
  const h = harness({ send: ok });
  h.metaRows.set(TASKS_DOWNLOADED_KEY, '2026-11-25T01:00:00.000Z');
  await h.outbox.enqueue('visit', { a: 1 });
  await h.sync.syncNow();
  h.advance(KEEP_SYNCED_MS + 1000);
  await h.outbox.enqueue('visit', { a: 2 });
  await h.sync.syncNow();
  assert.equal((await h.outbox.counts()).synced, 2, 'tasks were never downloaded again: keep showing progress');
  h.metaRows.set(TASKS_DOWNLOADED_KEY, new Date(Date.parse('2026-11-25T02:00:00Z') + KEEP_SYNCED_MS + 500).toISOString());
  await h.outbox.enqueue('visit', { a: 3 });
  await h.sync.syncNow();
  assert.equal((await h.outbox.counts()).synced, 2, 'the first one went, the two recent stay');
});

test('start flushes on app open and loads the last sync time', async () => {
  const h = harness({ send: ok });
  h.metaRows.set(LAST_SYNC_KEY, '2026-11-24T01:00:00.000Z');
  await h.outbox.enqueue('visit', { a: 1 });
  const r = await h.sync.start(new EventTarget());
  assert.equal(r.synced, 1);
  assert.notEqual(h.sync.status().lastSyncAt, '2026-11-24T01:00:00.000Z');
});

test('listeners see the run start and end, with the result at the end', async () => {
  const h = harness({ send: ok });
  await h.outbox.enqueue('visit', { a: 1 });
  const p = h.sync.syncNow();
  assert.deepEqual(h.changes.at(-1), { running: true, synced: null });
  await p;
  assert.deepEqual(h.changes.at(-1), { running: false, synced: 1 });
});
