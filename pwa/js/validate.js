// Client-side checks of a visit form against its instrument
// (schemas/<id>.v<version>.json), and helpers for the server's error maps.
// No DOM. The server validates again from the same instrument file; these
// checks only save the evaluator a rejected record later.

import { t } from './i18n.js';

/**
 * @typedef {Object} InstrumentItem
 * @property {string} id
 * @property {'choice'|'integer'|'text'} type
 * @property {{zh: string, en: string}} label
 * @property {boolean} [required]
 * @property {string} [options]     option-set name (choice)
 * @property {number} [min]         (integer)
 * @property {number} [max]         (integer)
 * @property {number} [max_length]  (text) counted in characters (code points), as Python's len()
 */

/**
 * @typedef {Object} Instrument
 * @property {string} id
 * @property {number} version
 * @property {{zh: string, en: string}} title
 * @property {Object<string, Array<{code: string, label: {zh: string, en: string}, value: number|null}>>} option_sets
 * @property {InstrumentItem[]} items
 */

/** @param {Instrument} instrument @returns {string} the key used in the instruments store */
export function instrumentKey(instrument) {
  return `${instrument.id}@${instrument.version}`;
}

/** @param {string} s @returns {number} length in code points (一 counts 1, an emoji counts 1) */
export function charLength(s) {
  return [...String(s)].length;
}

const isBlank = (v) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

/**
 * Turn a raw form value into an answer. Blank -> undefined (left out of `answers`).
 * Integers that do not parse stay strings so that validation reports them.
 * @param {InstrumentItem} item
 * @param {string|null|undefined} raw
 * @returns {string|number|undefined}
 */
export function readAnswer(item, raw) {
  if (isBlank(raw)) return undefined;
  if (item.type === 'integer') {
    const s = String(raw).trim();
    return /^[-+]?\d+$/.test(s) ? Number(s) : s;
  }
  if (item.type === 'text') return String(raw).trim();
  return String(raw);
}

/**
 * Validate answers against an instrument.
 * @param {Instrument} instrument
 * @param {Object<string, string|number>} answers `{item_id: option_code | integer | text}`
 * @returns {Object<string, string[]>} `{item_id: [message]}` in the current language; empty when valid
 */
export function validateAnswers(instrument, answers) {
  const errors = {};
  const add = (id, msg) => { (errors[id] = errors[id] || []).push(msg); };
  for (const item of instrument.items) {
    const v = answers[item.id];
    if (isBlank(v)) {
      if (item.required) add(item.id, t(item.type === 'choice' ? 'val.choose' : 'val.required'));
      continue;
    }
    if (item.type === 'choice') {
      const set = instrument.option_sets[item.options] || [];
      if (!set.some((o) => o.code === v)) add(item.id, t('val.choice_invalid'));
    } else if (item.type === 'integer') {
      if (typeof v !== 'number' || !Number.isInteger(v)) add(item.id, t('val.integer'));
      else if (item.min !== undefined && item.min !== null && v < item.min) add(item.id, t('val.min', { min: item.min }));
      else if (item.max !== undefined && item.max !== null && v > item.max) add(item.id, t('val.max', { max: item.max }));
    } else if (item.type === 'text') {
      if (item.max_length && charLength(v) > item.max_length) {
        add(item.id, t('val.max_length', { max: item.max_length, n: charLength(v) }));
      }
    }
  }
  return errors;
}

/**
 * Flatten a server error map (possibly nested: `{answers: {item: ["msg"]}}`, or
 * marshmallow's `{"0": {...}}`) into rows with a dotted path.
 * @param {*} errors
 * @param {string} [prefix]
 * @returns {Array<{path: string, messages: string[]}>}
 */
export function flattenErrors(errors, prefix = '') {
  if (errors === null || errors === undefined) return [];
  if (typeof errors === 'string') return [{ path: prefix, messages: [errors] }];
  if (Array.isArray(errors)) {
    if (errors.every((e) => typeof e === 'string')) return [{ path: prefix, messages: errors }];
    return errors.flatMap((e, i) => flattenErrors(e, prefix ? `${prefix}.${i}` : String(i)));
  }
  if (typeof errors === 'object') {
    return Object.entries(errors).flatMap(([k, v]) => flattenErrors(v, prefix ? `${prefix}.${k}` : k));
  }
  return [{ path: prefix, messages: [String(errors)] }];
}

/**
 * Field errors of a server error map that belong to instrument items, keyed by item id
 * (`answers.visited_home`, `payload.answers.visited_home` or `visited_home`).
 * @param {Instrument} instrument
 * @param {*} errors
 * @returns {Object<string, string[]>}
 */
export function itemErrors(instrument, errors) {
  const ids = new Set(instrument.items.map((i) => i.id));
  const out = {};
  for (const { path, messages } of flattenErrors(errors)) {
    const last = path.split('.').pop();
    if (ids.has(last)) out[last] = [...(out[last] || []), ...messages];
  }
  return out;
}
