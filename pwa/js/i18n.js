// Every user-visible string: `t(key, params)`. Chinese (zh-Hans) by default, English by
// the switch in the header. No DOM; the choice is remembered in localStorage.
//
// One catalogue per language in i18n/<lang>.js. Chinese is imported here, so it arrives
// with the app; other languages are fetched on demand (`loadLang`) with a literal
// import() the server lists in its import map and the service worker caches once used.
// A key missing from a catalogue falls back to Chinese.

import zhHans from './i18n/zh-Hans.js';

/** @typedef {'zh-Hans'|'en'} Lang */

export const LANGS = Object.freeze(['zh-Hans', 'en']);
const STORAGE_KEY = 'fieldapp.lang';

/** Catalogues fetched on demand; the import() must name its file literally. */
const LOADERS = {
  en: () => import('./i18n/en.js'),
};

/** The catalogues loaded so far. @type {Object<string, Object<string, string>>} */
export const DICTS = { 'zh-Hans': zhHans };

let lang = 'zh-Hans';

function storage() {
  try { return globalThis.localStorage || null; } catch { return null; }
}

/** Read the remembered language (zh-Hans when none). @returns {Lang} */
export function initLang() {
  const saved = storage() && storage().getItem(STORAGE_KEY);
  lang = LANGS.includes(saved) ? saved : 'zh-Hans';
  return lang;
}

/**
 * Fetch a language's catalogue once. False when it cannot be had (offline before it was
 * ever used): the caller keeps the current language.
 * @param {string} next
 * @returns {Promise<boolean>}
 */
export async function loadLang(next) {
  if (DICTS[next]) return true;
  if (!LOADERS[next]) return false;
  try {
    DICTS[next] = (await LOADERS[next]()).default;
    return true;
  } catch (err) {
    if (globalThis.console) console.warn(`i18n: ${next} unavailable`, err);
    return false;
  }
}

/** @returns {Lang} */
export function getLang() {
  return lang;
}

/**
 * Switch language. Load its catalogue first (`loadLang`); until then its strings fall back
 * to Chinese.
 * @param {string} next 'zh-Hans' | 'en' (anything else falls back to zh-Hans)
 * @param {{remember?: boolean}} [o]  remember: false switches for this page only
 * @returns {Lang}
 */
export function setLang(next, { remember = true } = {}) {
  lang = LANGS.includes(next) ? next : 'zh-Hans';
  if (remember) {
    try { storage()?.setItem(STORAGE_KEY, lang); } catch { /* private mode */ }
  }
  return lang;
}

/**
 * Translate a key, filling `{name}` placeholders. A missing English string falls back
 * to Chinese, a missing key shows the key (and a console warning).
 * @param {string} key
 * @param {Object<string, string|number>} [params]
 * @returns {string}
 */
export function t(key, params = {}) {
  let s = DICTS[lang]?.[key] ?? DICTS['zh-Hans'][key];
  if (s === undefined) {
    if (globalThis.console) console.warn(`i18n: missing key ${key}`);
    return key;
  }
  return s.replace(/\{(\w+)\}/g, (m, name) => (params[name] !== undefined && params[name] !== null ? String(params[name]) : m));
}

/**
 * Pick the current language from an instrument label `{zh, en}`.
 * @param {{zh?: string, en?: string}|string|null} label
 * @returns {string}
 */
export function pick(label) {
  if (!label) return '';
  if (typeof label === 'string') return label;
  return (lang === 'en' ? label.en || label.zh : label.zh || label.en) || '';
}
