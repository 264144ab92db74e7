// Small DOM helpers (after todomvc's helpers.js) and the ONE escapeHTML.
// Importing this module touches no global, so node tests can use escapeHTML/html.
//
// Views build markup with the `html` tag: every interpolated value is escaped
// unless it is itself the result of `html` (or `raw`), so names from the server
// cannot inject markup.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/**
 * Escape a value for HTML text and attribute values.
 * @param {*} value null/undefined become ''
 * @returns {string}
 */
export function escapeHTML(value) {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

/** Markup that is already safe. */
export class SafeHTML {
  /** @param {string} value */
  constructor(value) { this.value = value; }
  toString() { return this.value; }
}

/**
 * Trust a string as markup. Only for constant strings written in this code base.
 * @param {string} s
 * @returns {SafeHTML}
 */
export function raw(s) {
  return new SafeHTML(String(s));
}

function part(v) {
  if (v instanceof SafeHTML) return v.value;
  if (Array.isArray(v)) return v.map(part).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHTML(v);
}

/**
 * Tagged template: `html\`<b>${name}</b>\`` escapes `name`; nested `html` results,
 * arrays of them, null/undefined/false are inserted as such.
 * @param {TemplateStringsArray} strings
 * @param {...*} values
 * @returns {SafeHTML}
 */
export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((v, i) => { out += part(v) + strings[i + 1]; });
  return new SafeHTML(out);
}

/**
 * Replace an element's content with safe markup.
 * @param {Element} el
 * @param {SafeHTML} markup
 */
export function setHTML(el, markup) {
  if (!(markup instanceof SafeHTML)) throw new TypeError('setHTML needs html`...` markup');
  el.innerHTML = markup.value;
}

/**
 * @param {string} selector
 * @param {ParentNode} [scope]
 * @returns {HTMLElement|null}
 */
export function qs(selector, scope = document) {
  return scope.querySelector(selector);
}

/**
 * @param {string} selector
 * @param {ParentNode} [scope]
 * @returns {HTMLElement[]}
 */
export function qsa(selector, scope = document) {
  return [...scope.querySelectorAll(selector)];
}

/**
 * addEventListener that returns its own remover.
 * @param {EventTarget} target
 * @param {string} type
 * @param {(e: Event) => void} fn
 * @param {AddEventListenerOptions|boolean} [opts]
 * @returns {() => void}
 */
export function $on(target, type, fn, opts) {
  target.addEventListener(type, fn, opts);
  return () => target.removeEventListener(type, fn, opts);
}

/**
 * Delegated listener: `fn(event, matchedElement)` for events inside `target` whose
 * target is (inside) an element matching `selector`.
 * @param {Element} target
 * @param {string} selector
 * @param {string} type
 * @param {(e: Event, el: HTMLElement) => void} fn
 * @returns {() => void}
 */
export function $delegate(target, selector, type, fn) {
  return $on(target, type, (e) => {
    const el = e.target instanceof Element ? e.target.closest(selector) : null;
    if (el && target.contains(el)) fn(e, /** @type {HTMLElement} */ (el));
  });
}
