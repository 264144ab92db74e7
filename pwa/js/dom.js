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
 * For each hole of a template, whether it sits inside a quoted attribute value
 * (`data-x="${v}"`, `class="a ${v}"`). Scans the constant parts only: interpolated
 * values are escaped, so they never open or close a quote or a tag.
 * @param {ReadonlyArray<string>} strings
 * @returns {boolean[]}
 */
function attributeHoles(strings) {
  const out = [];
  let state = 'text'; // text | tag | dq | sq
  for (let i = 0; i < strings.length - 1; i += 1) {
    const s = strings[i];
    for (let j = 0; j < s.length; j += 1) {
      const c = s[j];
      if (state === 'text') { if (c === '<' && /[A-Za-z/!]/.test(s[j + 1] || '')) state = 'tag'; }
      else if (state === 'tag') { if (c === '"') state = 'dq'; else if (c === "'") state = 'sq'; else if (c === '>') state = 'text'; }
      else if ((state === 'dq' && c === '"') || (state === 'sq' && c === "'")) state = 'tag';
    }
    out.push(state === 'dq' || state === 'sq');
  }
  return out;
}

/** @type {WeakMap<ReadonlyArray<string>, boolean[]>} one scan per template (call site) */
const HOLES = new WeakMap();

/**
 * Tagged template: `html\`<b>${name}</b>\`` escapes `name`; nested `html` results,
 * arrays of them, null/undefined/false are inserted as such (so `${cond && html\`...\`}`
 * works). Inside a quoted attribute value a boolean is written as "true"/"false":
 * `data-online="${online}"` must never read "" for false.
 * @param {TemplateStringsArray} strings
 * @param {...*} values
 * @returns {SafeHTML}
 */
export function html(strings, ...values) {
  let holes = HOLES.get(strings);
  if (!holes) { holes = attributeHoles(strings); HOLES.set(strings, holes); }
  let out = strings[0];
  values.forEach((v, i) => {
    out += (holes[i] && typeof v === 'boolean' ? String(v) : part(v)) + strings[i + 1];
  });
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
