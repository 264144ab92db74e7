import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHash, hashFor } from '../../pwa/js/router.js';

test('routes from the hash, including the QR links', () => {
  assert.deepEqual(parseHash(''), { name: 'home', params: {}, query: {} });
  assert.deepEqual(parseHash('#/'), { name: 'home', params: {}, query: {} });
  assert.deepEqual(parseHash('#/login'), { name: 'login', params: {}, query: {} });
  assert.deepEqual(parseHash('#/village/610301001'), { name: 'village', params: { code: '610301001' }, query: {} });
  assert.deepEqual(parseHash('#/visit/Ab-9_x'), { name: 'visit', params: { token: 'Ab-9_x' }, query: {} });
  assert.deepEqual(parseHash('#/visit/tok?fix=u-1'), { name: 'visit', params: { token: 'tok' }, query: { fix: 'u-1' } });
  assert.deepEqual(parseHash('#/checkin?v=VT123'), { name: 'checkin', params: {}, query: { v: 'VT123' } });
  for (const n of ['tasks', 'outbox', 'settings']) assert.equal(parseHash(`#/${n}`).name, n);
  assert.equal(parseHash('#/nope').name, 'notfound');
  assert.equal(parseHash('#/visit/').name, 'notfound');
  assert.equal(parseHash('#/visit/%E4%B8%9C').params.token, '东');
  assert.equal(parseHash('#/visit/%E4%B8').params.token, '%E4%B8');
});

test('hashFor builds what parseHash reads', () => {
  assert.equal(hashFor('village', { code: '61 03' }), '#/village/61%2003');
  assert.equal(hashFor('visit', { token: 't' }, { fix: 'u' }), '#/visit/t?fix=u');
  assert.equal(hashFor('tasks'), '#/tasks');
  assert.deepEqual(parseHash(hashFor('visit', { token: 'a/b' })).params, { token: 'a/b' });
  assert.throws(() => hashFor('nope'));
});
