// The service worker cannot run under node; check its static contract instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const PWA = fileURLToPath(new URL('../../pwa/', import.meta.url));
const src = readFileSync(join(PWA, 'sw.js'), 'utf8');
const shell = JSON.parse(src.match(/const SHELL = (\[[\s\S]*?\]);/)[1].replace(/'/g, '"').replace(/,\s*\]/, ']'));
const walk = (dir) => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? walk(p) : [p];
});

test('one versioned cache name', () => {
  assert.match(src, /const SHELL_VERSION = \d+;/);
  assert.match(src, /const CACHE_PREFIX = 'fieldapp-shell-v';/);
  assert.equal((src.match(/caches\.open\(/g) || []).length, (src.match(/caches\.open\(CACHE_NAME\)/g) || []).length);
});

test('the precache list is exactly the shell files on disk', () => {
  const onDisk = walk(PWA)
    .map((p) => `/${relative(PWA, p).split('\\').join('/')}`)
    .filter((p) => /^\/(js|css|icons)\/.*\.(js|css|png)$/.test(p) || p === '/manifest.webmanifest')
    .sort();
  const listed = shell.filter((u) => u !== '/').sort();
  assert.deepEqual(listed, onDisk);
  assert.ok(shell.includes('/'), 'the app shell page');
  for (const u of shell) if (u !== '/') assert.ok(existsSync(join(PWA, u)), u);
});

test('index.html loads the app module and the manifest', () => {
  const html = readFileSync(join(PWA, 'index.html'), 'utf8');
  assert.match(html, /<html lang="zh-Hans">/);
  assert.match(html, /<script type="module" src="\/js\/app\.js"><\/script>/);
  assert.match(html, /<link rel="manifest" href="\/manifest\.webmanifest">/);
  assert.doesNotMatch(html, /https?:\/\//, 'nothing from a CDN');
});

test('manifest: name, scope, display and icons (any + maskable, 192 and 512)', () => {
  const m = JSON.parse(readFileSync(join(PWA, 'manifest.webmanifest'), 'utf8'));
  assert.equal(m.name, '驻村评议');
  assert.equal(m.short_name, '驻村评议');
  assert.equal(m.start_url, '/');
  assert.equal(m.scope, '/');
  assert.equal(m.display, 'standalone');
  assert.ok(m.theme_color && m.background_color);
  for (const size of ['192x192', '512x512']) {
    for (const purpose of ['any', 'maskable']) {
      const icon = m.icons.find((i) => i.sizes === size && i.purpose === purpose);
      assert.ok(icon, `${size} ${purpose}`);
      const png = readFileSync(join(PWA, icon.src));
      assert.equal(png.subarray(1, 4).toString(), 'PNG');
      assert.equal(png.readUInt32BE(16), Number(size.split('x')[0]), 'width');
      assert.equal(png.readUInt32BE(20), Number(size.split('x')[1]), 'height');
    }
  }
});

test('rules: waits for SKIP_WAITING, never touches /api/ or writes, background sync asks pages to flush', () => {
  assert.equal((src.match(/skipWaiting\(\)/g) || []).length, 1);
  assert.match(src, /data\.type === 'SKIP_WAITING'\) self\.skipWaiting\(\)/);
  assert.match(src, /if \(req\.method !== 'GET'\) return;/);
  assert.match(src, /if \(url\.pathname\.startsWith\('\/api\/'\)\) return;/);
  assert.match(src, /res\.status === 200/);
  assert.match(src, /event\.tag === 'outbox-sync'/);
  assert.match(src, /FLUSH_OUTBOX/);
});

test('no module reaches outside the origin', () => {
  for (const p of walk(join(PWA, 'js'))) {
    const code = readFileSync(p, 'utf8');
    assert.doesNotMatch(code, /from\s+'https?:/, p);
    assert.doesNotMatch(code, /import\(\s*'https?:/, p);
  }
});

// Phones keep the cached shell until SHELL_VERSION changes. This lock makes a change
// to any shell file without a version bump fail here instead of in the field.
test('SHELL_VERSION was bumped when a shell file changed (tests/js/sw-shell.lock.json)', () => {
  const version = Number(src.match(/const SHELL_VERSION = (\d+);/)[1]);
  const hash = createHash('sha256');
  for (const u of [...shell].sort()) {
    hash.update(`${u}\0`);
    hash.update(readFileSync(join(PWA, u === '/' ? 'index.html' : u)));
  }
  const digest = hash.digest('hex').slice(0, 16);
  const lockPath = fileURLToPath(new URL('./sw-shell.lock.json', import.meta.url));
  const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
  const hint = `shell files changed: bump SHELL_VERSION in pwa/sw.js (now ${version}) and write `
    + `{"SHELL_VERSION": ${Math.max(version, lock.SHELL_VERSION + 1)}, "digest": "${digest}"} to tests/js/sw-shell.lock.json`;
  assert.deepEqual({ SHELL_VERSION: version, digest }, { SHELL_VERSION: lock.SHELL_VERSION, digest: lock.digest }, hint);
});
