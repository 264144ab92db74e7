// When to flush the outbox. No DOM: app.js injects the event target (window),
// timers, Web Locks and the Background Sync registration.
//
// Triggers: app open (`start`), the `online` event, the 立即同步 button
// (`syncNow`), a new record (`kick`, which also registers Background Sync
// `outbox-sync` so the service worker can wake the page when the signal
// returns), the service worker's FLUSH_OUTBOX message (app.js calls
// `syncNow`), and a timer set from the outbox's backoff after a failure.

export const LAST_SYNC_KEY = 'last_sync_at';
export const TASKS_DOWNLOADED_KEY = 'tasks_downloaded_at';
export const KEEP_SYNCED_MS = 30 * 24 * 3600 * 1000;

/**
 * @typedef {Object} SyncStatus
 * @property {boolean} running
 * @property {string|null} lastSyncAt    ISO time of the last request the server confirmed
 * @property {import('./outbox.js').FlushResult|null} lastResult
 * @property {number} nextAttemptAt      ms, 0 when no retry is scheduled
 */

/**
 * @param {Object} o
 * @param {ReturnType<import('./outbox.js').createOutbox>} o.outbox
 * @param {(batch: Object) => Promise<{status: number, body: *}>} o.send  api.sendSync
 * @param {{get: (key: string) => Promise<*>, set: (key: string, value: *) => Promise<void>}} o.meta  this user's meta
 * @param {() => number} [o.now]
 * @param {(fn: () => void, ms: number) => *} [o.setTimer]
 * @param {(handle: *) => void} [o.clearTimer]
 * @param {() => boolean} [o.isOnline]     navigator.onLine; false skips immediate attempts
 * @param {{request: Function}|null} [o.locks]  navigator.locks: one flush across tabs
 * @param {() => Promise<*>} [o.registerBackgroundSync]
 * @param {number} [o.batchSize]
 * @param {(status: SyncStatus) => void} [o.onChange]
 */
export function createSync(o) {
  const now = o.now || (() => Date.now());
  const setTimer = o.setTimer || ((fn, ms) => setTimeout(fn, ms));
  const clearTimer = o.clearTimer || ((h) => clearTimeout(h));
  const isOnline = o.isOnline || (() => true);
  let timer = null;
  let nextAttemptAt = 0;
  let lastResult = null;
  let lastSyncAt = null;
  let running = null;
  let stopped = false;
  const removers = [];

  const status = () => ({ running: !!running, lastSyncAt, lastResult, nextAttemptAt });
  const changed = () => { try { o.onChange?.(status()); } catch (e) { console.error(e); } };

  function schedule(at) {
    if (timer !== null) clearTimer(timer);
    timer = null;
    nextAttemptAt = at || 0;
    if (!at || stopped) return;
    timer = setTimer(() => { timer = null; syncNow({ reason: 'backoff' }); }, Math.max(0, at - now()));
  }

  async function flushOnce() {
    const run = () => o.outbox.flush({ send: o.send, batchSize: o.batchSize });
    if (o.locks && typeof o.locks.request === 'function') {
      // One flush at a time across tabs: wait for another tab's run (bounded by the
      // request timeout), then send whatever it left.
      return o.locks.request('fieldapp-outbox-flush', run);
    }
    return run();
  }

  /**
   * Flush now (single-flight). Resolves with the flush result, or null when skipped.
   * @param {{reason?: string}} [opts]
   * @returns {Promise<import('./outbox.js').FlushResult|null>}
   */
  function syncNow(opts = {}) {
    if (running) return running;
    running = (async () => {
      const result = await flushOnce();
      if (!result) return null;
      lastResult = result;
      if (result.synced > 0 || (result.ok && result.requests > 0)) {
        lastSyncAt = new Date(now()).toISOString();
        await o.meta.set(LAST_SYNC_KEY, lastSyncAt);
      }
      schedule(result.ok ? 0 : result.retryAt);
      if (result.ok) {
        const downloaded = Date.parse((await o.meta.get(TASKS_DOWNLOADED_KEY)) || '') || Infinity;
        await o.outbox.prune({ before: Math.min(now() - KEEP_SYNCED_MS, downloaded) });
      }
      return result;
    })().catch((e) => { console.error('sync failed', e); return null; })
      .finally(() => { running = null; changed(); });
    changed(); // after `running` is set: listeners see running = true
    return running;
  }

  /**
   * A record was just queued: ask for Background Sync and try at once when online.
   * @returns {Promise<*>}
   */
  function kick() {
    o.registerBackgroundSync?.().catch(() => {});
    return isOnline() ? syncNow({ reason: 'enqueue' }) : Promise.resolve(null);
  }

  /**
   * Load the last sync time, listen for `online`, and flush once (app open).
   * @param {EventTarget} [target] window
   * @returns {Promise<*>}
   */
  async function start(target) {
    lastSyncAt = (await o.meta.get(LAST_SYNC_KEY)) || null;
    if (target) {
      const onOnline = () => { o.outbox.resetBackoff(); syncNow({ reason: 'online' }); };
      const onOffline = () => changed();
      target.addEventListener('online', onOnline);
      target.addEventListener('offline', onOffline);
      removers.push(() => target.removeEventListener('online', onOnline), () => target.removeEventListener('offline', onOffline));
    }
    changed();
    return isOnline() ? syncNow({ reason: 'open' }) : null;
  }

  /** Stop timers and listeners (logout). */
  function stop() {
    stopped = true;
    schedule(0);
    removers.splice(0).forEach((fn) => fn());
  }

  return { syncNow, kick, start, stop, status };
}
