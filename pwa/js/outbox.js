// The outbox: records made on the phone, waiting to reach POST /api/sync.
//
// No DOM and no IndexedDB here. The caller injects a `store` with
// get/put/list/delete (db.js provides the IndexedDB one, the node tests an
// in-memory one), so the queue logic is tested without a browser.
//
// Record states:
//   pending  - waiting to be sent (also: sent, but the server did not confirm).
//   sending  - inside a request right now. A page that dies mid-request leaves
//              records here; every flush first puts them back to pending. The
//              server deduplicates by uuid, so sending twice is harmless.
//   rejected - the server refused it (field errors or a uuid conflict). Kept and
//              shown until the user edits and re-queues it (`retry`) or throws it
//              away (`discard`). Never deleted silently.
//   synced   - confirmed `stored` or `duplicate`. Kept so the screens can still
//              show local progress until tasks are downloaded again, then removed
//              by `prune({before})` (sync.js prunes synced records that are older
//              than 30 days AND older than the last tasks download).
//
// Exactly once: the uuid is made once, in `enqueue`, and persisted before
// `enqueue` returns. Every resend carries the same uuid; the server stores a
// uuid once and answers `duplicate` afterwards.

/** @typedef {'pending'|'sending'|'rejected'|'synced'} RecordState */

/**
 * @typedef {Object} OutboxRecord
 * @property {string} uuid
 * @property {string} type            'visit' | 'replacement' | 'checkin'
 * @property {Object} payload
 * @property {RecordState} state
 * @property {string|number} user_id
 * @property {string} created_at      ISO time of enqueue
 * @property {number} created_ms      ms since epoch, the queue order (oldest first)
 * @property {number} attempts        how many times it was put in a request
 * @property {Object|null} errors     server field errors `{field: [msg]}` (rejected)
 * @property {boolean} [conflict]     rejected because the uuid exists with other content
 * @property {string|null} synced_at
 * @property {Object|null} result     the server's result row once synced
 */

/**
 * @typedef {Object} OutboxStore
 * @property {(uuid: string) => Promise<OutboxRecord|undefined>} get
 * @property {(rec: OutboxRecord) => Promise<void>} put
 * @property {() => Promise<OutboxRecord[]>} list
 * @property {(uuid: string) => Promise<void>} delete
 */

/**
 * What `send` resolves with. It must not throw for HTTP answers; a thrown error or
 * `status: 0` means the network failed.
 * @typedef {Object} SendResponse
 * @property {number} status   HTTP status (0 = no response)
 * @property {Object|null} body parsed JSON body (null when none or not JSON)
 */

/**
 * @typedef {Object} FlushResult
 * @property {boolean} ok          false when the last request failed (network/5xx/timeout/...)
 * @property {number} synced       records confirmed in this run
 * @property {number} rejected     records that became rejected in this run
 * @property {number} remaining    records still pending afterwards
 * @property {number} requests     requests made
 * @property {string|null} error   error code of the failed request (e.g. 'offline', 'server_error')
 * @property {number|null} retryAt ms time the backoff allows the next attempt (when !ok)
 */

export const DEFAULT_BATCH_SIZE = 50;
export const BACKOFF_BASE_MS = 2000;
export const BACKOFF_MAX_MS = 5 * 60 * 1000;

/**
 * The backoff delay before attempt number `failures + 1`: 2 s, 4 s, 8 s, ... capped at
 * 5 min, then scaled by a jitter factor in [0.75, 1.25) so that phones that lost the
 * network together do not all come back in the same second (capped again after jitter).
 * @param {number} failures consecutive failed attempts (>= 1)
 * @param {() => number} [random] returns [0, 1)
 * @param {{baseMs?: number, maxMs?: number}} [opts]
 * @returns {number} milliseconds
 */
export function backoffDelay(failures, random = Math.random, opts = {}) {
  const base = opts.baseMs ?? BACKOFF_BASE_MS;
  const max = opts.maxMs ?? BACKOFF_MAX_MS;
  const n = Math.max(1, failures);
  const plain = Math.min(max, base * 2 ** Math.min(n - 1, 30));
  return Math.round(Math.min(max, plain * (0.75 + random() * 0.5)));
}

/** A tiny in-memory store with the OutboxStore interface (node tests, fallbacks). */
export function memoryStore() {
  const rows = new Map();
  const copy = (r) => (r === undefined ? undefined : structuredClone(r));
  return {
    async get(uuid) { return copy(rows.get(uuid)); },
    async put(rec) { rows.set(rec.uuid, copy(rec)); },
    async list() { return [...rows.values()].map(copy); },
    async delete(uuid) { rows.delete(uuid); },
  };
}

const byAge = (a, b) => (a.created_ms - b.created_ms) || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);

/**
 * Create the outbox of one user.
 * @param {Object} opts
 * @param {OutboxStore} opts.store
 * @param {string|number} opts.userId  records of other users in the store are ignored
 * @param {() => number} [opts.now]    clock in ms
 * @param {() => string} [opts.uuid]   id factory (crypto.randomUUID)
 * @param {() => number} [opts.random] jitter source
 * @param {{baseMs?: number, maxMs?: number}} [opts.backoff]
 */
export function createOutbox({ store, userId, now = () => Date.now(), uuid, random = Math.random, backoff = {} }) {
  if (!store) throw new Error('outbox: store is required');
  if (userId === undefined || userId === null) throw new Error('outbox: userId is required');
  const makeId = uuid || (() => globalThis.crypto.randomUUID());
  const listeners = new Set();
  let running = null;
  let failures = 0;
  let nextAttemptAt = 0;

  const emit = () => { for (const fn of listeners) { try { fn(); } catch (e) { console.error(e); } } };
  const mine = async () => (await store.list()).filter((r) => r.user_id === userId);
  const iso = (ms) => new Date(ms).toISOString();

  /**
   * Persist a new record, then return it. The uuid is assigned here, once.
   * @param {string} type
   * @param {Object} payload
   * @returns {Promise<OutboxRecord>}
   */
  async function enqueue(type, payload) {
    if (!type || typeof type !== 'string') throw new TypeError('outbox.enqueue: type is required');
    if (!payload || typeof payload !== 'object') throw new TypeError('outbox.enqueue: payload must be an object');
    const t = now();
    /** @type {OutboxRecord} */
    const rec = {
      uuid: makeId(), type, payload: structuredClone(payload), state: 'pending', user_id: userId,
      created_at: iso(t), created_ms: t, attempts: 0, errors: null, conflict: false,
      synced_at: null, result: null,
    };
    await store.put(rec);
    emit();
    return rec;
  }

  /**
   * All of this user's records, oldest first, optionally of one state.
   * @param {{state?: RecordState}} [filter]
   * @returns {Promise<OutboxRecord[]>}
   */
  async function list(filter = {}) {
    const rows = (await mine()).sort(byAge);
    return filter.state ? rows.filter((r) => r.state === filter.state) : rows;
  }

  /** @returns {Promise<{pending: number, rejected: number, synced: number}>} pending includes sending */
  async function counts() {
    const c = { pending: 0, rejected: 0, synced: 0 };
    for (const r of await mine()) {
      if (r.state === 'pending' || r.state === 'sending') c.pending += 1;
      else if (r.state === 'rejected') c.rejected += 1;
      else if (r.state === 'synced') c.synced += 1;
    }
    return c;
  }

  /** @param {string} id @returns {Promise<OutboxRecord|undefined>} */
  async function get(id) {
    const r = await store.get(id);
    return r && r.user_id === userId ? r : undefined;
  }

  /**
   * Re-queue a rejected record, optionally with an edited payload. Keeps its uuid
   * (the rejected batch stored nothing, so the same uuid is still free server-side).
   * @param {string} id
   * @param {Object} [payload] the edited payload
   * @returns {Promise<OutboxRecord>}
   */
  async function retry(id, payload) {
    const r = await get(id);
    if (!r) throw new Error(`outbox.retry: no record ${id}`);
    if (r.state === 'synced') throw new Error('outbox.retry: record is already synced');
    if (r.state === 'sending') throw new Error('outbox.retry: record is being sent');
    if (payload) r.payload = structuredClone(payload);
    r.state = 'pending';
    r.errors = null;
    r.conflict = false;
    await store.put(r);
    emit();
    return r;
  }

  /**
   * Delete a record on the user's explicit request. Synced records cannot be discarded
   * (they are pruned); a record inside a running request cannot either.
   * @param {string} id
   * @returns {Promise<boolean>} whether something was deleted
   */
  async function discard(id) {
    const r = await get(id);
    if (!r || r.state === 'sending' || r.state === 'synced') return false;
    await store.delete(id);
    emit();
    return true;
  }

  /**
   * Delete synced records confirmed before `before` (ms).
   * @param {{before: number}} opts
   * @returns {Promise<number>} how many were deleted
   */
  async function prune({ before }) {
    let n = 0;
    for (const r of await mine()) {
      if (r.state === 'synced' && r.synced_at && Date.parse(r.synced_at) < before) {
        await store.delete(r.uuid);
        n += 1;
      }
    }
    if (n) emit();
    return n;
  }

  async function setState(recs, state, extra = () => ({})) {
    for (const r of recs) {
      const cur = await store.get(r.uuid);
      if (!cur) continue; // discarded meanwhile
      Object.assign(cur, { state }, extra(cur));
      await store.put(cur);
    }
  }

  function failed(error, t) {
    failures += 1;
    nextAttemptAt = t + backoffDelay(failures, random, backoff);
    return error;
  }

  /**
   * Send pending records in batches of `batchSize`, oldest first, until none is left,
   * the network fails, or a round makes no progress. Single-flight: a call while a
   * flush runs returns that run's promise.
   * @param {Object} opts
   * @param {(batch: {device_sent_at: string, records: Array<{uuid: string, type: string, payload: Object}>}) => Promise<SendResponse>} opts.send
   * @param {number} [opts.batchSize]
   * @param {() => number} [opts.now]
   * @returns {Promise<FlushResult>}
   */
  function flush(opts) {
    if (running) return running;
    running = run(opts).finally(() => { running = null; emit(); });
    return running;
  }

  async function run({ send, batchSize = DEFAULT_BATCH_SIZE, now: clock = now }) {
    if (typeof send !== 'function') throw new TypeError('outbox.flush: send is required');
    const size = Math.max(1, Math.floor(batchSize));
    const result = { ok: true, synced: 0, rejected: 0, remaining: 0, requests: 0, error: null, retryAt: null };

    // Records left in `sending` by a page that died mid-request go back to pending.
    await setState((await mine()).filter((r) => r.state === 'sending'), 'pending');

    for (;;) {
      const batch = (await list({ state: 'pending' })).slice(0, size);
      if (!batch.length) break;
      await setState(batch, 'sending', (cur) => ({ attempts: (cur.attempts || 0) + 1 }));
      emit();
      const t = clock();
      let res;
      try {
        result.requests += 1;
        res = await send({
          device_sent_at: iso(t),
          records: batch.map((r) => ({ uuid: r.uuid, type: r.type, payload: r.payload })),
        });
      } catch (err) {
        res = { status: 0, body: null, error: err };
      }
      const status = res?.status ?? 0;
      const body = res?.body ?? null;
      const results = resultsOf(body);
      const isBatchReject = status === 422 && body?.code === 'sync_batch_rejected' && results;

      if (!((status === 200 && results) || isBatchReject)) {
        // Network failure, timeout, 5xx, 401, anything unexpected: nothing changes but
        // the records go back to pending; the backoff decides when to try again.
        await setState(batch, 'pending');
        result.ok = false;
        result.error = failed(errorCode(res), clock());
        result.retryAt = nextAttemptAt;
        break;
      }

      // The server answered: connectivity is fine, reset the backoff.
      failures = 0;
      nextAttemptAt = 0;
      const byUuid = new Map(results.map((x) => [x.uuid, x]));
      let progress = 0;
      for (const r of batch) {
        const x = byUuid.get(r.uuid);
        const cur = await store.get(r.uuid);
        if (!cur) continue;
        if (x && (x.status === 'stored' || x.status === 'duplicate')) {
          Object.assign(cur, { state: 'synced', synced_at: iso(clock()), errors: null, result: x });
          result.synced += 1;
          progress += 1;
        } else if (x && x.status === 'rejected') {
          Object.assign(cur, { state: 'rejected', errors: x.errors || {}, conflict: false, result: x });
          result.rejected += 1;
          progress += 1;
        } else if (x && x.status === 'conflict') {
          Object.assign(cur, {
            state: 'rejected', conflict: true, result: x,
            errors: x.errors && Object.keys(x.errors).length ? x.errors : { uuid: ['conflict'] },
          });
          result.rejected += 1;
          progress += 1;
        } else {
          // `pending` (valid, batch refused) or missing from the answer: send again.
          cur.state = 'pending';
        }
        await store.put(cur);
      }
      emit();
      if (!progress) {
        // The server answered but settled nothing: do not loop; treat like a failure.
        result.ok = false;
        result.error = failed('no_progress', clock());
        result.retryAt = nextAttemptAt;
        break;
      }
    }
    result.remaining = (await list()).filter((r) => r.state === 'pending' || r.state === 'sending').length;
    return result;
  }

  return {
    enqueue, list, counts, get, retry, discard, prune, flush,
    /** @returns {boolean} whether a flush is running */
    get running() { return running !== null; },
    /** @returns {{failures: number, nextAttemptAt: number}} the backoff state */
    backoffState() { return { failures, nextAttemptAt }; },
    /** Forget past failures (e.g. the `online` event fired). */
    resetBackoff() { failures = 0; nextAttemptAt = 0; },
    /** @param {() => void} fn called after every change @returns {() => void} unsubscribe */
    subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); },
  };
}

function resultsOf(body) {
  if (!body || typeof body !== 'object') return null;
  if (Array.isArray(body.results)) return body.results;
  if (body.errors && Array.isArray(body.errors.results)) return body.errors.results;
  return null;
}

function errorCode(res) {
  if (!res || !res.status) return res?.body?.code || res?.error?.code || 'offline';
  if (res.body && typeof res.body.code === 'string') return res.body.code;
  return res.status >= 500 ? 'server_error' : `http_${res.status}`;
}
