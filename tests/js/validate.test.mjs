import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { validateAnswers, readAnswer, flattenErrors, itemErrors, charLength, instrumentKey } from '../../pwa/js/validate.js';
import { setLang, loadLang } from '../../pwa/js/i18n.js';

await loadLang('en'); // English is fetched on demand in the app

// The real instrument the server also validates with.
const instrument = JSON.parse(readFileSync(new URL('../../schemas/household_visit.v1.json', import.meta.url), 'utf8'));
const complete = {
  visited_home: 'satisfied', assistance_satisfaction: 'basically_satisfied', policy_delivered: 'dissatisfied',
  income_improved: 'unknown', overall_satisfaction: 'satisfied',
};

test('a complete answer set is valid; optional items may be left out', () => {
  setLang('zh-Hans');
  assert.equal(instrumentKey(instrument), 'household_visit@1');
  assert.deepEqual(validateAnswers(instrument, complete), {});
  assert.deepEqual(validateAnswers(instrument, { ...complete, respondent_family_members: 3, suggestions: '希望多来' }), {});
});

test('required choice items get a Chinese message', () => {
  setLang('zh-Hans');
  const errors = validateAnswers(instrument, { ...complete, visited_home: undefined, overall_satisfaction: '' });
  assert.deepEqual(Object.keys(errors).sort(), ['overall_satisfaction', 'visited_home']);
  assert.deepEqual(errors.visited_home, ['请选择一项']);
});

test('integers: whole numbers within min/max', () => {
  setLang('zh-Hans');
  assert.deepEqual(validateAnswers(instrument, { ...complete, respondent_family_members: 0 }), { respondent_family_members: ['不能小于 1'] });
  assert.deepEqual(validateAnswers(instrument, { ...complete, respondent_family_members: 31 }), { respondent_family_members: ['不能大于 30'] });
  assert.deepEqual(validateAnswers(instrument, { ...complete, respondent_family_members: '2.5' }), { respondent_family_members: ['请输入整数'] });
});

test('text max_length counts characters like Python len()', () => {
  setLang('zh-Hans');
  assert.equal(charLength('意见'), 2);
  assert.equal(charLength('😀'), 1);
  assert.deepEqual(validateAnswers(instrument, { ...complete, suggestions: '好'.repeat(500) }), {});
  const errors = validateAnswers(instrument, { ...complete, suggestions: '😀'.repeat(501) });
  assert.deepEqual(errors, { suggestions: ['最多 500 字（现有 501 字）'] });
});

test('unknown option codes are refused', () => {
  setLang('zh-Hans');
  assert.deepEqual(validateAnswers(instrument, { ...complete, visited_home: 'very_satisfied' }), { visited_home: ['选项无效'] });
});

test('English messages after the switch', () => {
  setLang('en');
  assert.deepEqual(validateAnswers(instrument, { ...complete, visited_home: undefined }), { visited_home: ['Choose one'] });
  setLang('zh-Hans');
});

test('readAnswer turns form strings into answers', () => {
  const int = { id: 'n', type: 'integer' };
  assert.equal(readAnswer(int, ' 12 '), 12);
  assert.equal(readAnswer(int, ''), undefined);
  assert.equal(readAnswer(int, '1e3'), '1e3');
  assert.equal(readAnswer({ id: 's', type: 'text' }, '  hi  '), 'hi');
  assert.equal(readAnswer({ id: 's', type: 'text' }, '   '), undefined);
  assert.equal(readAnswer({ id: 'c', type: 'choice' }, 'satisfied'), 'satisfied');
});

test('server error maps flatten and map back to instrument items', () => {
  const errors = { answers: { visited_home: ['Missing data for required field.'] }, geo_end: { lat: ['Not a valid number.'] }, _schema: ['bad'] };
  assert.deepEqual(flattenErrors(errors), [
    { path: 'answers.visited_home', messages: ['Missing data for required field.'] },
    { path: 'geo_end.lat', messages: ['Not a valid number.'] },
    { path: '_schema', messages: ['bad'] },
  ]);
  assert.deepEqual(itemErrors(instrument, errors), { visited_home: ['Missing data for required field.'] });
  assert.deepEqual(flattenErrors(null), []);
  assert.deepEqual(flattenErrors('x'), [{ path: '', messages: ['x'] }]);
});
