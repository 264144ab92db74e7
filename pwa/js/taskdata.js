// Evaluator tasks on the phone: download, and the villages as the phone sees them
// (server statuses + this phone's records). No DOM. Used by the tasks, village,
// visit and outbox views.

import { applyLocalRecords, byRank } from './sampling.js';
import { TASKS_DOWNLOADED_KEY } from './sync.js';

export const PERSISTED_KEY = 'storage_persisted';

/**
 * @typedef {Object} TaskDeps
 * @property {ReturnType<import('./api.js').createApi>} api
 * @property {typeof import('./db.js')} db
 * @property {ReturnType<import('./outbox.js').createOutbox>} outbox
 * @property {{get: Function, set: Function}} meta
 * @property {number|string} userId
 */

/**
 * Ask the browser to keep our storage when space runs low. Resolves with the state.
 * @param {boolean} [ask] call persist() (true) or only read persisted()
 * @returns {Promise<boolean|null>} null when the browser has no StorageManager
 */
export async function storagePersisted(ask = false) {
  const storage = globalThis.navigator && globalThis.navigator.storage;
  if (!storage || !storage.persisted) return null;
  try {
    if (await storage.persisted()) return true;
    return ask && storage.persist ? await storage.persist() : false;
  } catch {
    return false;
  }
}

/**
 * GET /api/tasks and store villages, households and instruments for offline work.
 * @param {TaskDeps} deps
 * @returns {Promise<{villages: Array<Object>, instruments: Array<Object>, downloadedAt: string, persisted: boolean|null}>}
 * @throws {import('./api.js').ApiError} when offline or refused
 */
export async function downloadTasks(deps) {
  const data = await deps.api.get('/api/tasks');
  const villages = Array.isArray(data && data.villages) ? data.villages : [];
  const instruments = Array.isArray(data && data.instruments) ? data.instruments : [];
  await deps.db.saveTasks(deps.userId, villages, instruments);
  const downloadedAt = new Date().toISOString();
  await deps.meta.set(TASKS_DOWNLOADED_KEY, downloadedAt);
  const persisted = await storagePersisted(true);
  await deps.meta.set(PERSISTED_KEY, persisted);
  return { villages, instruments, downloadedAt, persisted };
}

/**
 * All stored villages with this phone's records applied, sorted by name.
 * @param {TaskDeps} deps
 * @returns {Promise<Array<Object>>}
 */
export async function localVillages(deps) {
  const [villages, records] = await Promise.all([deps.db.listVillages(deps.userId), deps.outbox.list()]);
  return villages
    .map((v) => {
      const local = applyLocalRecords(v, records);
      return { ...local, households: byRank(local.households) };
    })
    .sort((a, b) => String(a.name).localeCompare(String(b.name), 'zh-Hans-CN'));
}

/**
 * Find a household by its sample token in the stored villages.
 * @param {TaskDeps} deps
 * @param {string} token
 * @returns {Promise<{village: Object, household: Object}|null>}
 */
export async function findHousehold(deps, token) {
  for (const village of await localVillages(deps)) {
    const household = village.households.find((h) => h.token === token);
    if (household) return { village, household };
  }
  return null;
}

/**
 * Map sample token -> {village, household} for labelling outbox records.
 * @param {TaskDeps} deps
 * @returns {Promise<Map<string, {village: Object, household: Object}>>}
 */
export async function householdIndex(deps) {
  const map = new Map();
  for (const village of await localVillages(deps)) {
    for (const household of village.households) map.set(household.token, { village, household });
  }
  return map;
}

/**
 * The instrument to use for a village: the cycle's own (`cycle.instrument = {id, version}`)
 * when the server says, else the newest stored version of `household_visit`.
 * @param {Object} village
 * @param {Array<Object>} instruments stored instruments
 * @returns {Object|null}
 */
export function instrumentFor(village, instruments) {
  const want = village && village.cycle && village.cycle.instrument;
  if (want && want.id) {
    const exact = instruments.find((i) => i.id === want.id && Number(i.version) === Number(want.version));
    if (exact) return exact;
  }
  const id = (want && want.id) || 'household_visit';
  const same = instruments.filter((i) => i.id === id).sort((a, b) => b.version - a.version);
  return same[0] || null;
}
