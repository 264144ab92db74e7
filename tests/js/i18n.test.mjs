import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DICTS, t, setLang, getLang, pick, LANGS, loadLang } from '../../pwa/js/i18n.js';
import { REPLACEMENT_REASONS } from '../../pwa/js/sampling.js';

const JS = fileURLToPath(new URL('../../pwa/js/', import.meta.url));
const files = (dir) => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? files(p) : p.endsWith('.js') ? [p] : [];
});

test('only Chinese comes with the app; English is loaded on demand, once', async () => {
  assert.deepEqual(Object.keys(DICTS), ['zh-Hans']);
  const i18nSource = readFileSync(join(JS, 'i18n.js'), 'utf8');
  assert.match(i18nSource, /^import zhHans from '\.\/i18n\/zh-Hans\.js';$/m);
  assert.doesNotMatch(i18nSource, /^import .*i18n\/en\.js/m, 'en is not a static import');
  setLang('en');
  assert.equal(t('checkin.button'), '今日驻村打卡', 'not loaded yet: Chinese, never a key');
  assert.equal(await loadLang('en'), true);
  const loaded = DICTS.en;
  assert.equal(await loadLang('en'), true);
  assert.equal(DICTS.en, loaded, 'loaded once');
  assert.equal(t('checkin.button'), 'Check in today');
  assert.equal(await loadLang('fr'), false);
  setLang('zh-Hans');
});

test('one catalogue file per language', () => {
  const files = readdirSync(join(JS, 'i18n')).sort();
  assert.deepEqual(files, LANGS.map((l) => `${l}.js`).sort());
});

test('zh-Hans and en have the same keys and no empty strings', async () => {
  await loadLang('en');
  const zh = Object.keys(DICTS['zh-Hans']).sort();
  const en = Object.keys(DICTS.en).sort();
  assert.deepEqual(en, zh);
  for (const lang of LANGS) for (const [k, v] of Object.entries(DICTS[lang])) assert.ok(v.trim(), `${lang} ${k}`);
});

test('placeholders match between languages', async () => {
  await loadLang('en');
  const names = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const k of Object.keys(DICTS['zh-Hans'])) assert.deepEqual(names(DICTS.en[k]), names(DICTS['zh-Hans'][k]), k);
});

test('every literal t("key") in pwa/js exists', () => {
  const missing = [];
  for (const f of files(JS)) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/\bt\(\s*'([^'$]+)'/g)) if (!(m[1] in DICTS['zh-Hans'])) missing.push(`${f}: ${m[1]}`);
    // keys chosen by a ternary: t(cond ? 'a' : 'b')
    for (const m of src.matchAll(/\?\s*'([a-z_]+\.[a-z_.]+)'\s*:\s*'([a-z_]+\.[a-z_.]+)'/g)) {
      for (const k of [m[1], m[2]]) if (!(k in DICTS['zh-Hans'])) missing.push(`${f}: ${k}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('keys built at run time exist', () => {
  const built = [
    ...['pending', 'visited', 'unreachable', 'reserve_unused', 'reserve_active'].flatMap((s) => [`status.${s}`, `visit.closed.${s}`]),
    ...REPLACEMENT_REASONS.map((r) => `reason.${r}`),
    ...['denied', 'unavailable', 'timeout', 'unsupported'].map((e) => `geo.err.${e}`),
    ...['evaluator', 'secretary', 'county_staff', 'admin'].map((r) => `role.${r}`),
    ...['pending', 'rejected'].map((s) => `sync.state.${s}`),
    ...['replace.err.reason', 'replace.err.attempts_required', 'replace.err.attempts_min', 'replace.err.text_required'],
    ...['login.err.invalid', 'login.err.throttled', 'login.err.offline', 'val.choose', 'val.required', 'geo.ok_poor'],
  ];
  for (const k of built) assert.ok(k in DICTS['zh-Hans'], k);
});

test('t fills params, falls back, and switches language', async () => {
  await loadLang('en');
  setLang('zh-Hans');
  assert.equal(t('hdr.last_sync', { time: '14:05' }), '同步于 14:05');
  assert.equal(t('no.such.key'), 'no.such.key');
  setLang('en');
  assert.equal(getLang(), 'en');
  assert.equal(t('checkin.button'), 'Check in today');
  assert.equal(pick({ zh: '满意', en: 'Satisfied' }), 'Satisfied');
  setLang('fr');
  assert.equal(getLang(), 'zh-Hans');
  assert.equal(pick({ zh: '满意', en: 'Satisfied' }), '满意');
  assert.equal(t('checkin.button'), '今日驻村打卡');
});

// Every user-visible string goes through i18n.js: no Chinese text (or full-width
// punctuation) in code outside the catalogues (js/i18n/), comments aside. Language names are written in their
// own language on purpose (a Chinese reader must find 中文 when the UI is English).
test('no user-visible Chinese literals outside the catalogues', () => {
  const ENDONYMS = new Set(['中文']);
  const offenders = [];
  for (const f of files(JS)) {
    if (f.includes(`${join('js', 'i18n')}${sep}`)) continue;
    const code = readFileSync(f, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
      .replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
    code.split('\n').forEach((line, i) => {
      for (const m of line.matchAll(/[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+/g)) {
        if (!ENDONYMS.has(m[0])) offenders.push(`${f}:${i + 1}: ${m[0]}`);
      }
    });
  }
  assert.deepEqual(offenders, []);
});

test('index.html: the loading text shown before any script runs is in both languages', async () => {
  const { readFile } = await import('node:fs/promises');
  const page = await readFile(new URL('../../pwa/index.html', import.meta.url), 'utf8');
  const loading = page.match(/<p class="loading"[^>]*>(.*?)<\/p>/s);
  assert.ok(loading, 'index.html has a .loading paragraph');
  assert.match(loading[1], /class="spinner"/);
  assert.match(loading[1], /[\u4e00-\u9fff]/); // Chinese
  assert.match(loading[1], /Loading/); // and English
});
