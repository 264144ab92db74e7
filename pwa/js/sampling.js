// The village sample on the phone: rank order, visit and replacement rules.
// Pure functions, no DOM, no storage: they take a village (as stored from
// GET /api/tasks) and return a new one. The server runs the same rule
// (next unused reserve in rank order) when the `replacement` record arrives;
// the phone applies it first so the evaluator can go on offline.

/** @typedef {'pending'|'visited'|'unreachable'|'reserve_unused'|'reserve_active'} HouseholdStatus */

/**
 * @typedef {Object} Household
 * @property {string} token          the sample token (also on the printed field sheet QR)
 * @property {string} household_no
 * @property {string} head_name
 * @property {number} family_size
 * @property {number} rank           1 = first drawn
 * @property {'sample'|'reserve'} role
 * @property {HouseholdStatus} status
 */

/**
 * @typedef {Object} Village
 * @property {string} code
 * @property {string} name
 * @property {Household[]} households
 */

/** Reasons a sampled household cannot be visited (codes sent to the server). */
export const REPLACEMENT_REASONS = Object.freeze(['not_home', 'migrant_work', 'moved_out', 'deceased', 'refused', 'other']);
/** 无人在家 counts only after this many calls at the door. */
export const MIN_NOT_HOME_ATTEMPTS = 2;
/** Limits the server applies (fieldapp/services/replacements.py). */
export const MAX_REASON_TEXT = 500;
export const MAX_ATTEMPTS = 100;

/**
 * Households in rank order (a new array).
 * @param {Household[]} households
 * @returns {Household[]}
 */
export function byRank(households) {
  return [...(households || [])].sort((a, b) => a.rank - b.rank);
}

/** @param {Household} h @returns {boolean} the household may be visited now */
export function canVisit(h) {
  return !!h && (h.status === 'pending' || h.status === 'reserve_active');
}

/** @param {Household} h @returns {boolean} the household may be declared 无法访问 */
export function canReplace(h) {
  return canVisit(h);
}

/**
 * The reserve that a replacement would activate now: the unused reserve with the
 * lowest rank. Never one the user picks.
 * @param {Village} village
 * @returns {Household|null}
 */
export function nextReserve(village) {
  return byRank(village.households).find((h) => h.role === 'reserve' && h.status === 'reserve_unused') || null;
}

function cloneVillage(village) {
  return { ...village, households: (village.households || []).map((h) => ({ ...h })) };
}

/**
 * Mark a household visited.
 * @param {Village} village
 * @param {string} token
 * @returns {Village} a new village (unchanged copy when the household cannot be visited)
 */
export function applyVisit(village, token) {
  const v = cloneVillage(village);
  const h = v.households.find((x) => x.token === token);
  if (h && canVisit(h)) h.status = 'visited';
  return v;
}

/**
 * Mark a household unreachable and activate the next unused reserve in rank order.
 * @param {Village} village
 * @param {string} token
 * @returns {{village: Village, applied: boolean, activated: Household|null}}
 *   applied=false when the household is unknown or cannot be replaced (already
 *   visited/unreachable, or an unused reserve); activated=null when no reserve is left.
 */
export function applyReplacement(village, token) {
  const v = cloneVillage(village);
  const h = v.households.find((x) => x.token === token);
  if (!h || !canReplace(h)) return { village: v, applied: false, activated: null };
  h.status = 'unreachable';
  const next = nextReserve(v);
  if (next) next.status = 'reserve_active';
  return { village: v, applied: true, activated: next ? { ...next } : null };
}

/**
 * The village as the phone knows it: the server's statuses (from the last download)
 * with this phone's records applied on top, oldest first. Idempotent, so records the
 * server already has change nothing.
 * @param {Village} village
 * @param {Array<{type: string, payload: {sample_token?: string}}>} records outbox records
 * @returns {Village}
 */
export function applyLocalRecords(village, records) {
  let v = cloneVillage(village);
  const tokens = new Set(v.households.map((h) => h.token));
  for (const r of records || []) {
    const token = r.payload && r.payload.sample_token;
    if (!tokens.has(token)) continue;
    // Staff rejected this very visit: the household is due again (server status wins).
    const returned = v.households.find((h) => h.token === token)?.returned;
    if (r.type === 'visit' && returned && returned.visit_uuid === r.uuid) continue;
    if (r.type === 'visit') v = applyVisit(v, token);
    else if (r.type === 'replacement') v = applyReplacement(v, token).village;
  }
  return v;
}

/**
 * Progress of a village: visited households against the sample size (20, or fewer in
 * a small village drawn as a complete census).
 * @param {Village} village
 * @returns {{visited: number, target: number, unreachable: number, reservesLeft: number}}
 */
export function progress(village) {
  const hs = village.households || [];
  return {
    visited: hs.filter((h) => h.status === 'visited').length,
    target: hs.filter((h) => h.role === 'sample').length,
    unreachable: hs.filter((h) => h.status === 'unreachable').length,
    reservesLeft: hs.filter((h) => h.status === 'reserve_unused').length,
  };
}

/**
 * Check a replacement before it is queued. Returns message keys for i18n.
 * @param {{reason?: string, reason_text?: string, attempts?: number|null}} r
 * @returns {Object<string, string[]>} `{field: [i18nKey]}`, empty when valid
 */
export function validateReplacement(r) {
  const errors = {};
  const blank = r.attempts === null || r.attempts === undefined || r.attempts === '';
  const n = Number(r.attempts);
  if (!REPLACEMENT_REASONS.includes(r.reason)) errors.reason = ['replace.err.reason'];
  if (!blank && (!Number.isInteger(n) || n < 0 || n > MAX_ATTEMPTS)) {
    errors.attempts = ['replace.err.attempts_range'];
  } else if (r.reason === 'not_home') {
    if (blank) errors.attempts = ['replace.err.attempts_required'];
    else if (n < MIN_NOT_HOME_ATTEMPTS) errors.attempts = ['replace.err.attempts_min'];
  }
  const text = String(r.reason_text || '');
  if (r.reason === 'other' && !text.trim()) errors.reason_text = ['replace.err.text_required'];
  else if ([...text].length > MAX_REASON_TEXT) errors.reason_text = ['replace.err.text_too_long'];
  return errors;
}
