// The ONE module that owns IndexedDB (database `fieldapp`). No DOM.
// Everything a user made or downloaded carries `user_id`, so two people who
// share a phone never see each other's data, and logout clears only one user's.

const DB_NAME = 'fieldapp';
const DB_VERSION = 1;
const SESSION_KEY = 'current';

let dbPromise = null;

/**
 * Open (and create or upgrade) the database once per page.
 * @returns {Promise<IDBDatabase>}
 */
export function openDB() {
  if (dbPromise) return dbPromise;
  dbPromise = new Promise((resolve, reject) => {
    if (!globalThis.indexedDB) { reject(new Error('indexeddb_unavailable')); return; }
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = (event) => {
      const db = req.result;
      const from = event.oldVersion;
      if (from < 1) {
        // session: who is logged in on this phone, their CSRF token and login time, so
        // the app opens offline for days without asking for the password. One row.
        db.createObjectStore('session', { keyPath: 'id' });
        // tasks: the villages assigned to an evaluator with their sampled and reserve
        // households, as downloaded from GET /api/tasks; visits are made from these
        // without signal. Keyed by [user_id, village code].
        const tasks = db.createObjectStore('tasks', { keyPath: ['user_id', 'code'] });
        tasks.createIndex('user_id', 'user_id');
        // instruments: the questionnaires the forms are rendered from, keyed `id@version`.
        // Old versions stay as long as a queued record may need them. Not personal
        // data, so shared by the users of the phone.
        db.createObjectStore('instruments', { keyPath: 'key' });
        // outbox: visits, replacements and check-ins made on the phone until the server
        // confirms them, keyed by their client uuid (the exactly-once id). `state`
        // finds pending and rejected records; `user_id` keeps users apart.
        const outbox = db.createObjectStore('outbox', { keyPath: 'uuid' });
        outbox.createIndex('state', 'state');
        outbox.createIndex('user_id', 'user_id');
        // meta: small per-user facts: last successful sync, last tasks download, whether
        // persistent storage was granted, the cached month of check-ins.
        db.createObjectStore('meta', { keyPath: ['user_id', 'key'] });
      }
      // Later versions: add `if (from < 2) { ... }` blocks here; never edit the ones above.
    };
    req.onsuccess = () => {
      const db = req.result;
      // Another tab opened a newer version: let it upgrade, reload later.
      db.onversionchange = () => { db.close(); dbPromise = null; };
      resolve(db);
    };
    req.onerror = () => { dbPromise = null; reject(req.error); };
    req.onblocked = () => console.warn('fieldapp db upgrade blocked by another tab');
  });
  return dbPromise;
}

/**
 * Whether this browser has the database yet, without creating it (false on a first
 * visit, which then shows the login form without waiting for the set-up). Null when
 * the browser cannot tell.
 * @returns {Promise<boolean|null>}
 */
export async function exists() {
  if (!globalThis.indexedDB || typeof indexedDB.databases !== 'function') return null;
  try {
    return (await indexedDB.databases()).some((d) => d.name === DB_NAME);
  } catch {
    return null;
  }
}

/** @param {IDBRequest} r @returns {Promise<*>} */
function done(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/**
 * Run `fn(stores)` in one transaction; resolves with fn's result once it committed.
 * @template T
 * @param {string|string[]} names
 * @param {IDBTransactionMode} mode
 * @param {(stores: Object<string, IDBObjectStore>) => (T|Promise<T>)} fn
 * @returns {Promise<T>}
 */
async function tx(names, mode, fn) {
  const db = await openDB();
  const list = Array.isArray(names) ? names : [names];
  const t = db.transaction(list, mode);
  const stores = Object.fromEntries(list.map((n) => [n, t.objectStore(n)]));
  const committed = new Promise((resolve, reject) => {
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
  let result;
  try {
    result = await fn(stores);
  } catch (err) {
    try { t.abort(); } catch { /* already finished */ }
    committed.catch(() => {});
    throw err;
  }
  await committed;
  return result;
}

// ---- session ---------------------------------------------------------------

/**
 * @typedef {Object} Session
 * @property {{id: number|string, name: string, role: string, county_id: number|null}} user
 * @property {number|string} user_id
 * @property {string|null} csrf_token
 * @property {string} login_at ISO
 */

/** @returns {Promise<Session|null>} */
export async function getSession() {
  const row = await tx('session', 'readonly', (s) => done(s.session.get(SESSION_KEY)));
  return row || null;
}

/** @param {Omit<Session, 'user_id'>} session @returns {Promise<void>} */
export function saveSession(session) {
  return tx('session', 'readwrite', (s) => done(s.session.put({ ...session, user_id: session.user.id, id: SESSION_KEY })));
}

/** Keep a refreshed CSRF token in the session row. @param {string} token */
export async function saveCsrfToken(token) {
  const cur = await getSession();
  if (cur) await tx('session', 'readwrite', (s) => done(s.session.put({ ...cur, csrf_token: token })));
}

/** @returns {Promise<void>} */
export function clearSession() {
  return tx('session', 'readwrite', (s) => done(s.session.delete(SESSION_KEY)));
}

// ---- tasks and instruments -------------------------------------------------

/**
 * Replace a user's villages with a fresh download and store its instruments.
 * @param {number|string} userId
 * @param {Array<Object>} villages  from GET /api/tasks
 * @param {Array<Object>} instruments
 * @returns {Promise<void>}
 */
export function saveTasks(userId, villages, instruments = []) {
  return tx(['tasks', 'instruments'], 'readwrite', async (s) => {
    const keys = await done(s.tasks.index('user_id').getAllKeys(userId));
    for (const k of keys) s.tasks.delete(k);
    for (const v of villages) s.tasks.put({ ...v, user_id: userId });
    for (const ins of instruments) s.instruments.put({ ...ins, key: `${ins.id}@${ins.version}` });
  });
}

/** @param {number|string} userId @returns {Promise<Array<Object>>} villages */
export function listVillages(userId) {
  return tx('tasks', 'readonly', (s) => done(s.tasks.index('user_id').getAll(userId)));
}

/** @param {number|string} userId @param {string} code @returns {Promise<Object|null>} */
export async function getVillage(userId, code) {
  return (await tx('tasks', 'readonly', (s) => done(s.tasks.get([userId, code])))) || null;
}

/**
 * @param {string} key 'id@version'
 * @returns {Promise<Object|null>}
 */
export async function getInstrument(key) {
  return (await tx('instruments', 'readonly', (s) => done(s.instruments.get(key)))) || null;
}

/** @returns {Promise<Array<Object>>} */
export function listInstruments() {
  return tx('instruments', 'readonly', (s) => done(s.instruments.getAll()));
}

// ---- outbox ----------------------------------------------------------------

/**
 * The outbox store of one user, for outbox.js (`get/put/list/delete`).
 * @param {number|string} userId
 * @returns {import('./outbox.js').OutboxStore}
 */
export function outboxStore(userId) {
  return {
    get: (uuid) => tx('outbox', 'readonly', (s) => done(s.outbox.get(uuid))),
    put: (rec) => tx('outbox', 'readwrite', (s) => done(s.outbox.put({ ...rec, user_id: userId }))),
    list: () => tx('outbox', 'readonly', (s) => done(s.outbox.index('user_id').getAll(userId))),
    delete: (uuid) => tx('outbox', 'readwrite', (s) => done(s.outbox.delete(uuid))),
  };
}

// ---- meta ------------------------------------------------------------------

/**
 * Per-user key/value facts.
 * @param {number|string} userId
 * @returns {{get: (key: string) => Promise<*>, set: (key: string, value: *) => Promise<void>}}
 */
export function metaStore(userId) {
  return {
    get: async (key) => {
      const row = await tx('meta', 'readonly', (s) => done(s.meta.get([userId, key])));
      return row ? row.value : undefined;
    },
    set: (key, value) => tx('meta', 'readwrite', (s) => done(s.meta.put({ user_id: userId, key, value }))),
  };
}

// ---- logout ------------------------------------------------------------------

/**
 * Delete everything of one user: villages, outbox records (synced or not), meta, and
 * the session row when it is theirs. Other users' rows and the instruments stay.
 * @param {number|string} userId
 * @returns {Promise<void>}
 */
export function clearUserData(userId) {
  return tx(['session', 'tasks', 'outbox', 'meta'], 'readwrite', async (s) => {
    for (const k of await done(s.tasks.index('user_id').getAllKeys(userId))) s.tasks.delete(k);
    for (const k of await done(s.outbox.index('user_id').getAllKeys(userId))) s.outbox.delete(k);
    s.meta.delete(IDBKeyRange.bound([userId, ''], [userId, '\uffff']));
    const cur = await done(s.session.get(SESSION_KEY));
    if (cur && cur.user_id === userId) s.session.delete(SESSION_KEY);
  });
}
