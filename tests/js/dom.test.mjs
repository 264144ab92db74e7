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
