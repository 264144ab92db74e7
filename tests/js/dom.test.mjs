import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHTML, html, raw, SafeHTML } from '../../pwa/js/dom.js';

test('escapeHTML escapes markup and quotes, and blanks null', () => {
  assert.equal(escapeHTML('<img src=x onerror="a(\'b\')">&`'), '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;&#96;');
  assert.equal(escapeHTML(null), '');
  assert.equal(escapeHTML(undefined), '');
  assert.equal(escapeHTML(0), '0');
  assert.equal(escapeHTML('张三'), '张三');
});

test('html escapes interpolations but keeps nested html and arrays', () => {
  const name = '<script>alert(1)</script>';
  const out = html`<li data-name="${name}">${name}${[html`<b>${'a&b'}</b>`, 'x<y']}${null}${false}${raw('<i>ok</i>')}</li>`;
  assert.ok(out instanceof SafeHTML);
  assert.equal(String(out),
    '<li data-name="&lt;script&gt;alert(1)&lt;/script&gt;">&lt;script&gt;alert(1)&lt;/script&gt;<b>a&amp;b</b>x&lt;y<i>ok</i></li>');
});

test('booleans inside a quoted attribute value read "true"/"false", never ""', () => {
  const on = true;
  const off = false;
  assert.equal(String(html`<span data-online="${off}" aria-pressed="${on}">x</span>`),
    '<span data-online="false" aria-pressed="true">x</span>');
  assert.equal(String(html`<p class='a ${off}' data-x="${0}" data-y="${null}">`), "<p class='a false' data-x=\"0\" data-y=\"\">");
  // Outside attribute values false still means "nothing", so `${cond && html`...`}` works.
  assert.equal(String(html`<ul>${off && html`<li>x</li>`}</ul><b ${off}>${on}</b>`), '<ul></ul><b >true</b>');
  // A quote or tag inside an interpolated value does not confuse the context.
  assert.equal(String(html`<i title="${'">'}" data-v="${off}">${'<b a="'}${off}</i>`),
    '<i title="&quot;&gt;" data-v="false">&lt;b a=&quot;</i>');
  // After an attribute closes, the text that follows is text again.
  assert.equal(String(html`<a href="#x">${off}</a><a data-k="k">${off}</a>`), '<a href="#x"></a><a data-k="k"></a>');
});

test('the header writes its boolean attributes as "true"/"false" (aria-pressed, data-online)', async () => {
  const { renderHeader } = await import('../../pwa/js/views/header.js');
  const el = { innerHTML: '' }; // setHTML only assigns innerHTML
  renderHeader(el, { online: false, pending: 0, rejected: 0, lastSyncAt: null, syncing: false, role: null, route: 'login' });
  assert.match(el.innerHTML, /data-online="false"/);
  assert.match(el.innerHTML, /data-lang="en" aria-pressed="false"/); // was aria-pressed=""
  assert.match(el.innerHTML, /data-lang="zh-Hans" aria-pressed="true"/);
  assert.doesNotMatch(el.innerHTML, /="" ?>|aria-pressed=""/);
});
