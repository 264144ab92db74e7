// Error codes (from the server's catalogue, or the API client's own: offline, timeout,
// server_error, http_<status>) in words. A code never reaches the screen: an unknown one
// reads as a generic problem. No DOM.

import { t } from './i18n.js';

/** Codes with their own words; every key is `err.<code>` in i18n.js. */
export const KNOWN_CODES = Object.freeze([
  'offline', 'timeout', 'server_error', 'internal_error', 'bad_request', 'csrf_failed',
  'not_logged_in', 'invalid_credentials', 'forbidden', 'not_found', 'method_not_allowed',
  'conflict', 'locked', 'payload_too_large', 'unsupported_media_type', 'validation_failed',
  'import_rejected', 'sync_batch_rejected', 'too_many_attempts', 'role_not_supported',
]);

/**
 * @param {string|null|undefined} code
 * @returns {string} words for the user, in the current language
 */
export function errorWords(code) {
  const c = String(code || '');
  if (KNOWN_CODES.includes(c)) return t(`err.${c}`);
  if (/^http_5\d\d$/.test(c)) return t('err.server_error');
  return t('err.unknown');
}
