import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setLang, loadLang, DICTS } from '../../pwa/js/i18n.js';
import { directions, sketch, finderLinks } from '../../pwa/js/views/finder.js';
import { errorWords, KNOWN_CODES } from '../../pwa/js/errors.js';

const house = { lat: 34.45, lon: 107.62 };

test('directions in words: distance rounded, eight compass points, "right here" when close', async () => {
  await loadLang('en');
  setLang('zh-Hans');
  const south = { lat: 34.45 - 320 / 111195, lon: 107.62 };
  const d = directions(south, house); // the house is north of the phone
  assert.equal(d.distance, '约 320 米');
  assert.equal(d.direction, '在你的北方');
  assert.equal(directions({ lat: 34.45001, lon: 107.62 }, house).distance, '就在附近（30 米内）');
  assert.equal(directions(null, house), null);
  setLang('en');
  assert.equal(directions({ lat: 34.45, lon: 107.60 }, house).direction, 'to your east');
  setLang('zh-Hans');
});

test('the sketch draws the house, the phone and a scale, north up', () => {
  const svg = String(sketch(house, [{ lat: 34.4503, lon: 107.6201 }], { lat: 34.449, lon: 107.62, accuracy: 20 },
    { lat: 34.4505, lon: 107.6205 }));
  for (const id of ['finder-map', 'finder-target', 'finder-me', 'finder-centre', 'finder-scale']) {
    assert.ok(svg.includes(`data-testid="${id}"`), id);
  }
  const me = /data-testid="finder-me"/.exec(svg);
  assert.ok(me);
  const cy = (name) => Number(new RegExp(`cy="([\\d.]+)"[^>]*data-testid="${name}"`).exec(svg)[1]);
  assert.ok(cy('finder-me') > cy('finder-target'), 'the phone (south) is drawn below the house');
});

test('call and find links only for the households the finder covers', () => {
  const findable = String(finderLinks({ token: 'tok', phone: '13912345678', home: house }));
  assert.ok(findable.includes('href="tel:13912345678"') && findable.includes('#/find/tok'));
  const reserve = String(finderLinks({ token: 'r1' })); // unused reserve: neither phone nor home
  assert.ok(!reserve.includes('tel:') && !reserve.includes('#/find/'));
});

test('error codes read as words in both languages, never as codes', async () => {
  await loadLang('en');
  for (const lang of ['zh-Hans', 'en']) {
    setLang(lang);
    for (const code of [...KNOWN_CODES, 'http_502', 'http_418', 'whatever_new_code', undefined]) {
      const words = errorWords(code);
      assert.ok(words && !/[a-z]+_[a-z_]+/.test(words), `${lang} ${code}: ${words}`);
    }
    for (const code of KNOWN_CODES) assert.ok(`err.${code}` in DICTS[lang], code);
  }
  setLang('zh-Hans');
  assert.equal(errorWords('internal_error'), '服务器暂时出了问题');
});
