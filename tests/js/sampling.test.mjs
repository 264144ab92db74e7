import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  byRank, canVisit, nextReserve, applyVisit, applyReplacement, applyLocalRecords, progress, validateReplacement,
  REPLACEMENT_REASONS,
} from '../../pwa/js/sampling.js';

function village({ samples = 20, reserves = 5 } = {}) {
  const households = [];
  for (let rank = 1; rank <= samples + reserves; rank += 1) {
    const reserve = rank > samples;
    households.push({
      token: `tok${rank}`, household_no: `6103010010${String(rank).padStart(2, '0')}`, head_name: `户主${rank}`,
      family_size: 3, rank, role: reserve ? 'reserve' : 'sample', status: reserve ? 'reserve_unused' : 'pending',
    });
  }
  // shuffled, as a server might send them
  households.reverse();
  return { code: '610301001', name: '东风村', households };
}

const status = (v, token) => v.households.find((h) => h.token === token).status;

test('byRank sorts without mutating', () => {
  const v = village();
  const sorted = byRank(v.households);
  assert.deepEqual(sorted.map((h) => h.rank).slice(0, 3), [1, 2, 3]);
  assert.equal(v.households[0].rank, 25);
});

test('replacement marks the household unreachable and activates the next unused reserve in rank order', () => {
  const v0 = village();
  const { village: v1, applied, activated } = applyReplacement(v0, 'tok3');
  assert.equal(applied, true);
  assert.equal(status(v1, 'tok3'), 'unreachable');
  assert.equal(activated.token, 'tok21');
  assert.equal(status(v1, 'tok21'), 'reserve_active');
  assert.equal(status(v0, 'tok3'), 'pending', 'input is not mutated');

  const { village: v2, activated: a2 } = applyReplacement(v1, 'tok7');
  assert.equal(a2.token, 'tok22');
  assert.equal(status(v2, 'tok22'), 'reserve_active');
  assert.equal(nextReserve(v2).token, 'tok23');
});

test('an activated reserve can itself be replaced, by the next reserve', () => {
  let v = applyReplacement(village(), 'tok1').village;
  assert.equal(canVisit(v.households.find((h) => h.token === 'tok21')), true);
  const r = applyReplacement(v, 'tok21');
  v = r.village;
  assert.equal(status(v, 'tok21'), 'unreachable');
  assert.equal(r.activated.token, 'tok22');
});

test('no choice: an unused reserve, a visited or an unreachable household cannot be replaced', () => {
  let v = village();
  for (const token of ['tok22', 'nope']) {
    const r = applyReplacement(v, token);
    assert.equal(r.applied, false);
    assert.equal(r.activated, null);
  }
  v = applyVisit(v, 'tok2');
  assert.equal(applyReplacement(v, 'tok2').applied, false);
  v = applyReplacement(v, 'tok4').village;
  const again = applyReplacement(v, 'tok4');
  assert.equal(again.applied, false);
  assert.equal(status(again.village, 'tok22'), 'reserve_unused', 'a second replacement activates nothing');
});

test('when the reserves run out the household is still marked unreachable', () => {
  let v = village({ samples: 3, reserves: 1 });
  v = applyReplacement(v, 'tok1').village;
  const r = applyReplacement(v, 'tok2');
  assert.equal(r.applied, true);
  assert.equal(r.activated, null);
  assert.equal(status(r.village, 'tok2'), 'unreachable');
});

test('visits: only pending and activated reserves can be visited', () => {
  let v = village();
  v = applyVisit(v, 'tok1');
  assert.equal(status(v, 'tok1'), 'visited');
  v = applyVisit(v, 'tok21');
  assert.equal(status(v, 'tok21'), 'reserve_unused');
});

test('local records overlay the downloaded statuses, idempotently', () => {
  const base = village();
  const records = [
    { type: 'visit', payload: { sample_token: 'tok1' } },
    { type: 'replacement', payload: { sample_token: 'tok2' } },
    { type: 'visit', payload: { sample_token: 'tok21' } },
    { type: 'checkin', payload: { at: 'x' } },
    { type: 'visit', payload: { sample_token: 'other-village' } },
  ];
  const once = applyLocalRecords(base, records);
  const twice = applyLocalRecords(once, records);
  assert.deepEqual(twice, once);
  assert.equal(status(once, 'tok1'), 'visited');
  assert.equal(status(once, 'tok2'), 'unreachable');
  assert.equal(status(once, 'tok21'), 'visited');
  assert.equal(status(once, 'tok22'), 'reserve_unused');
  assert.deepEqual(progress(once), { visited: 2, target: 20, unreachable: 1, reservesLeft: 4 });
});

test('the server state (already applied) plus the same records changes nothing', () => {
  let server = village();
  server = applyReplacement(server, 'tok5').village;
  const local = applyLocalRecords(server, [{ type: 'replacement', payload: { sample_token: 'tok5' } }]);
  assert.deepEqual(local, server);
});

test('progress counts against the sample size (complete census: fewer than 20)', () => {
  assert.deepEqual(progress(village({ samples: 12, reserves: 0 })), { visited: 0, target: 12, unreachable: 0, reservesLeft: 0 });
});

test('replacement validation: 无人在家 needs attempts >= 2, 其他 needs text', () => {
  assert.deepEqual(validateReplacement({ reason: null }), { reason: ['replace.err.reason'] });
  assert.deepEqual(validateReplacement({ reason: 'not_home', attempts: null }), { attempts: ['replace.err.attempts_required'] });
  assert.deepEqual(validateReplacement({ reason: 'not_home', attempts: 1 }), { attempts: ['replace.err.attempts_min'] });
  assert.deepEqual(validateReplacement({ reason: 'not_home', attempts: 1.5 }), { attempts: ['replace.err.attempts_range'] });
  assert.deepEqual(validateReplacement({ reason: 'refused', attempts: 101 }), { attempts: ['replace.err.attempts_range'] });
  assert.deepEqual(validateReplacement({ reason: 'refused', attempts: -1 }), { attempts: ['replace.err.attempts_range'] });
  assert.deepEqual(validateReplacement({ reason: 'refused', attempts: 0 }), {});
  assert.deepEqual(validateReplacement({ reason: 'moved_out', reason_text: '迁'.repeat(500) }), {});
  assert.deepEqual(validateReplacement({ reason: 'moved_out', reason_text: '迁'.repeat(501) }), { reason_text: ['replace.err.text_too_long'] });
  assert.deepEqual(validateReplacement({ reason: 'not_home', attempts: 2 }), {});
  assert.deepEqual(validateReplacement({ reason: 'other', reason_text: '  ' }), { reason_text: ['replace.err.text_required'] });
  assert.deepEqual(validateReplacement({ reason: 'other', reason_text: '房屋已拆除' }), {});
  for (const reason of ['migrant_work', 'moved_out', 'deceased', 'refused']) assert.deepEqual(validateReplacement({ reason }), {});
  assert.deepEqual([...REPLACEMENT_REASONS], ['not_home', 'migrant_work', 'moved_out', 'deceased', 'refused', 'other']);
});

test('a visit staff rejected no longer marks its household visited on this phone', () => {
  const village = {
    code: 'v', name: 'v', households: [
      { token: 't1', rank: 1, role: 'sample', status: 'pending', returned: { reason: '位置不在本村', visit_uuid: 'u-old' } },
      { token: 't2', rank: 2, role: 'sample', status: 'pending' },
    ],
  };
  const rejected = { uuid: 'u-old', type: 'visit', payload: { sample_token: 't1' } };
  const other = { uuid: 'u-2', type: 'visit', payload: { sample_token: 't2' } };
  let v = applyLocalRecords(village, [rejected, other]);
  assert.equal(v.households[0].status, 'pending');
  assert.equal(v.households[1].status, 'visited');
  // The revisit (a new record) counts as usual.
  v = applyLocalRecords(village, [rejected, { uuid: 'u-new', type: 'visit', payload: { sample_token: 't1' } }]);
  assert.equal(v.households[0].status, 'visited');
});
