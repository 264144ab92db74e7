// #/visit/<token>[?fix=<uuid>]: the household visit form, rendered from the
// instrument JSON; the 无法访问 replacement flow; and the edit of a returned
// (rejected) visit record. Also what the printed field-sheet QR opens.

import { html, setHTML, qs, qsa, $on, $delegate } from '../dom.js';
import { t, pick } from '../i18n.js';
import { getFix } from '../geo.js';
import { readAnswer, validateAnswers, itemErrors, flattenErrors, charLength } from '../validate.js';
import {
  canVisit, nextReserve, applyReplacement, validateReplacement, REPLACEMENT_REASONS, MIN_NOT_HOME_ATTEMPTS, MAX_REASON_TEXT,
} from '../sampling.js';
import { findHousehold, instrumentFor } from '../taskdata.js';
import { backLink, fieldLabel, householdMeta } from './common.js';
import { runDownload } from './tasks.js';
import { finderLinks } from './finder.js';

const GEO_TIMEOUT_MS = 15000;
const GEO_END_TIMEOUT_MS = 10000;

/**
 * Text for a geolocation state.
 * @param {{state: 'locating'|'done', geo: Object|null, geo_error: string|null}} g
 * @returns {string}
 */
export function geoText(g) {
  const level = geoLevel(g);
  if (level === 'locating') return t('geo.locating');
  if (g.geo) return t(level === 'poor' ? 'geo.ok_poor' : 'geo.ok', { m: Math.round(g.geo.accuracy) });
  return t(`geo.err.${g.geo_error || 'unavailable'}`);
}

/** Beyond this reported accuracy a fix is shown as poor (with a retry), not as good. */
export const POOR_ACCURACY_M = 100;

/**
 * How the position box looks: `ok` green; `poor` (a fix too vague to trust) and
 * `error` (no fix) amber with 重新定位; `locating` grey.
 * @param {{state: 'locating'|'done', geo: Object|null}} g
 * @returns {'locating'|'ok'|'poor'|'error'}
 */
export function geoLevel(g) {
  if (g.state === 'locating') return 'locating';
  if (!g.geo) return 'error';
  return Number(g.geo.accuracy) > POOR_ACCURACY_M ? 'poor' : 'ok';
}

function householdCard(village, h) {
  return html`
    <section class="card household-card" data-testid="household-card">
      <p class="row-sub">${village.name} · ${t(h.role === 'reserve' ? 'village.reserve_no' : 'village.sample_no', { rank: h.rank })}</p>
      <h1 class="page-title">${t('village.head', { name: h.head_name })}</h1>
      <p class="row-sub">${householdMeta(h)}</p>
      ${finderLinks(h)}
    </section>`;
}

function itemMarkup(instrument, item, index) {
  const id = item.id;
  const label = html`<span class="item-no">${index + 1}.</span> ${pick(item.label)}${item.required ? html` <span class="req">${t('form.required_mark')}</span>` : ''}`;
  let control;
  if (item.type === 'choice') {
    const options = instrument.option_sets[item.options] || [];
    control = html`<div class="choices">${options.map((o) => html`
      <label class="choice"><input type="radio" name="${id}" value="${o.code}" data-testid="option-${id}-${o.code}"><span>${pick(o.label)}</span></label>`)}
    </div>`;
  } else if (item.type === 'integer') {
    control = html`<input class="input input-number" id="answer-${id}" data-testid="answer-${id}" name="${id}" type="number"
      inputmode="numeric" step="1" ${item.min !== undefined ? html`min="${item.min}"` : ''} ${item.max !== undefined ? html`max="${item.max}"` : ''}>
      ${item.min !== undefined && item.max !== undefined ? html`<span class="hint">${t('form.range', { min: item.min, max: item.max })}</span>` : ''}`;
  } else {
    control = html`<textarea class="input" id="answer-${id}" data-testid="answer-${id}" name="${id}" rows="3"></textarea>
      ${item.max_length ? html`<span class="hint counter" id="count-${id}" data-max="${item.max_length}">0/${item.max_length}</span>` : ''}`;
  }
  const error = html`<p class="field-error" id="error-${id}" data-testid="error-${id}" role="alert" hidden></p>`;
  if (item.type === 'choice') {
    return html`<fieldset class="item" id="item-${id}" data-testid="item-${id}" data-item="${id}">
      <legend class="item-label">${label}</legend>${control}${error}</fieldset>`;
  }
  return html`<div class="item" id="item-${id}" data-testid="item-${id}" data-item="${id}">
      <label class="item-label" for="answer-${id}">${label}</label>${control}${error}</div>`;
}

function replacePanel(village) {
  const next = nextReserve(village);
  return html`
    <section id="replace-panel" data-testid="replace-panel" class="card" hidden>
      <h2 class="section-title">${t('replace.title')}</h2>
      <fieldset class="item" id="replace-reason-set">
        <legend class="item-label">${t('replace.reason')} <span class="req">${t('form.required_mark')}</span></legend>
        <div class="choices">${REPLACEMENT_REASONS.map((code) => html`
          <label class="choice"><input type="radio" name="reason" value="${code}" data-testid="reason-${code}"><span>${t(`reason.${code}`)}</span></label>`)}
        </div>
        <p class="field-error" id="rerror-reason" data-testid="replace-error-reason" role="alert" hidden></p>
      </fieldset>
      <div class="item" id="attempts-field" hidden>
        <label class="item-label" for="replace-attempts">${t('replace.attempts')} <span class="req">${t('form.required_mark')}</span></label>
        <input class="input input-number" id="replace-attempts" data-testid="replace-attempts" type="number" inputmode="numeric" min="0" max="100" step="1">
        <span class="hint">${t('replace.attempts_hint')}</span>
        <p class="field-error" id="rerror-attempts" data-testid="replace-error-attempts" role="alert" hidden></p>
      </div>
      <div class="item">
        <label class="item-label" for="replace-text">${t('replace.text')} <span class="req" id="replace-text-req" hidden>${t('form.required_mark')}</span></label>
        <textarea class="input" id="replace-text" data-testid="replace-text" rows="3"></textarea>
        <p class="field-error" id="rerror-reason_text" data-testid="replace-error-reason_text" role="alert" hidden></p>
      </div>
      <p class="notice" id="replace-preview" data-testid="replace-preview">${next
        ? t('replace.preview', { rank: next.rank, name: next.head_name })
        : t('replace.preview_none')}</p>
      <div class="actions">
        <button type="button" id="replace-confirm" data-testid="replace-confirm" class="btn btn-danger btn-block">${t('replace.confirm')}</button>
        <button type="button" id="replace-cancel" data-testid="replace-cancel" class="btn btn-secondary btn-block">${t('replace.cancel')}</button>
      </div>
    </section>`;
}

function showFieldErrors(root, prefix, errors) {
  for (const el of qsa(`[id^="${prefix}"]`, root)) {
    const field = el.id.slice(prefix.length);
    const msgs = errors[field] || [];
    el.textContent = msgs.join(t('sep.list'));
    el.hidden = !msgs.length;
    el.closest('.item')?.classList.toggle('has-error', msgs.length > 0);
  }
  const first = qsa('.has-error', root).find((el) => !el.closest('[hidden]'));
  if (first) {
    first.scrollIntoView({ block: 'center', behavior: 'smooth' });
    // Keyboard and screen-reader users land on the first control to correct.
    const control = qs('input:not([type=hidden]), textarea, select', first);
    if (control) control.focus({ preventScroll: true });
  }
  return !!first;
}

/**
 * @param {HTMLElement} root
 * @param {Object} ctx
 * @param {import('../router.js').Route} route
 */
export async function render(root, ctx, route) {
  const token = route.params.token;
  const found = await findHousehold(ctx.deps, token);
  ctx.setTitle(t('visit.title'));

  if (!found) {
    setHTML(root, html`
      ${backLink('#/tasks', t('tasks.title'))}
      <section class="card" id="visit-missing" data-testid="visit-missing">
        <h1 class="page-title">${t('visit.missing_title')}</h1>
        <p>${t('visit.missing', { token })}</p>
        <button id="download-tasks" data-testid="download-tasks" type="button" class="btn btn-primary btn-block">${t('tasks.download')}</button>
        <p id="tasks-status" class="status-line" role="status"></p>
      </section>`);
    const button = qs('#download-tasks', root);
    return $on(button, 'click', () => runDownload(ctx, button, qs('#tasks-status', root), () => ctx.rerender()));
  }

  const { village, household } = found;
  const records = await ctx.outbox.list();
  const fixRecord = route.query.fix
    ? records.find((r) => r.uuid === route.query.fix && r.type === 'visit' && r.payload.sample_token === token && r.state === 'rejected')
    : null;
  const returned = records.find((r) => r.type === 'visit' && r.payload.sample_token === token && r.state === 'rejected');

  if (!fixRecord && !canVisit(household)) {
    setHTML(root, html`
      ${backLink(`#/village/${encodeURIComponent(village.code)}`, village.name)}
      ${householdCard(village, household)}
      <p class="notice" data-testid="visit-closed">${t(`visit.closed.${household.status}`)}</p>
      ${returned ? html`<a class="btn btn-primary btn-block" data-testid="visit-fix-link"
        href="#/visit/${encodeURIComponent(token)}?fix=${encodeURIComponent(returned.uuid)}">${t('outbox.fix')}</a>` : ''}`);
    return undefined;
  }

  const instruments = await ctx.db.listInstruments();
  const instrument = fixRecord
    ? instruments.find((i) => i.id === fixRecord.payload.instrument_id && Number(i.version) === Number(fixRecord.payload.instrument_version))
    : instrumentFor(village, instruments);
  if (!instrument) {
    setHTML(root, html`${backLink(`#/village/${encodeURIComponent(village.code)}`, village.name)}
      <p class="notice" data-testid="visit-no-instrument">${t('visit.no_instrument')}</p>`);
    return undefined;
  }

  setHTML(root, html`
    ${backLink(`#/village/${encodeURIComponent(village.code)}`, village.name)}
    ${householdCard(village, household)}
    ${fixRecord ? '' : html`<div class="actions" id="unreachable-box">
      <button type="button" id="visit-unreachable" data-testid="visit-unreachable" class="btn btn-secondary btn-block">${t('visit.unreachable')}</button>
      <p class="muted small">${t('visit.unreachable_hint')}</p></div>`}
    ${fixRecord ? html`<p class="notice notice-error" data-testid="visit-fix-notice">${t('visit.fix_notice')}</p>
      <ul class="errors" id="visit-general-errors"></ul>` : ''}
    <div class="geo card" id="geo-box" data-testid="geo-box">
      <span id="geo-status" data-testid="geo-status" data-state="locating">${t('geo.locating')}</span>
      <button type="button" id="geo-retry" data-testid="geo-retry" class="btn btn-small btn-secondary" hidden>${t('geo.retry')}</button>
    </div>
    <form id="visit-form" data-testid="visit-form" class="form" novalidate>
      <h2 class="section-title">${pick(instrument.title)}</h2>
      ${instrument.items.map((item, i) => itemMarkup(instrument, item, i))}
      <div class="item">
        <label class="item-label" for="visit-note">${t('visit.note')}</label>
        <textarea class="input" id="visit-note" data-testid="visit-note" name="__note" rows="5" placeholder="${t('visit.note_hint')}"></textarea>
      </div>
      <p class="form-error" id="visit-error" data-testid="visit-error" role="alert" hidden></p>
      <div class="actions">
        <button type="submit" id="visit-save" data-testid="visit-save" class="btn btn-primary btn-block">${t(fixRecord ? 'visit.resubmit' : 'visit.save')}</button>
      </div>
    </form>
    ${fixRecord ? '' : replacePanel(village)}
  `);
  ctx.setFormOpen(true);

  const form = /** @type {HTMLFormElement} */ (qs('#visit-form', root));
  const startedAt = fixRecord ? fixRecord.payload.started_at : new Date().toISOString();
  const offs = [];

  // ---- geolocation at open -------------------------------------------------
  const geoStatus = qs('#geo-status', root);
  const geoRetry = qs('#geo-retry', root);
  let geoStart = { state: 'locating', geo: null, geo_error: null };
  let geoStartPromise = null;
  const showGeo = (g) => {
    const level = geoLevel(g);
    geoStatus.textContent = geoText(g);
    geoStatus.dataset.state = level;
    geoStatus.parentElement.classList.toggle('geo-warn', level === 'poor' || level === 'error');
    geoRetry.hidden = g.state === 'locating';
  };
  const locate = () => {
    geoStart = { state: 'locating', geo: null, geo_error: null };
    showGeo(geoStart);
    geoStartPromise = getFix({ timeout: GEO_TIMEOUT_MS }).then((r) => {
      geoStart = { state: 'done', ...r };
      if (root.isConnected) showGeo(geoStart);
      return geoStart;
    });
  };
  if (fixRecord) {
    const p = fixRecord.payload;
    geoStart = { state: 'done', geo: p.geo_start, geo_error: p.geo_start ? null : p.geo_error };
    showGeo(geoStart);
    geoRetry.hidden = true;
  } else {
    locate();
    offs.push($on(geoRetry, 'click', locate));
  }

  // ---- prefill when fixing a returned record --------------------------------
  if (fixRecord) {
    const p = fixRecord.payload;
    for (const item of instrument.items) {
      const v = p.answers ? p.answers[item.id] : undefined;
      if (v === undefined || v === null) continue;
      const el = form.elements.namedItem(item.id);
      if (el && 'value' in el) el.value = String(v);
    }
    qs('#visit-note', root).value = p.note || '';
    const byItem = itemErrors(instrument, fixRecord.errors);
    showFieldErrors(root, 'error-', byItem);
    const general = flattenErrors(fixRecord.errors).filter((e) => !byItem[e.path.split('.').pop()]);
    const ul = qs('#visit-general-errors', root);
    setHTML(ul, html`${general.map((e) => html`<li data-testid="visit-general-error">${fieldLabel(e.path, instrument)}${t('sep.label')}${e.messages.join(t('sep.list'))}</li>`)}`);
  }

  // ---- live feedback ------------------------------------------------------
  const updateCounter = (el) => {
    const c = qs(`#count-${el.name}`, root);
    if (c) {
      const n = charLength(el.value.trim());
      c.textContent = `${n}/${c.dataset.max}`;
      c.classList.toggle('over', n > Number(c.dataset.max));
    }
  };
  qsa('textarea[name]', form).forEach(updateCounter);
  offs.push($delegate(form, 'input, textarea', 'input', (e, el) => {
    updateCounter(el);
    const err = qs(`#error-${el.name}`, root);
    if (err && !err.hidden) { err.hidden = true; el.closest('.item')?.classList.remove('has-error'); }
  }));
  offs.push($delegate(form, 'input[type=radio]', 'change', (e, el) => {
    const err = qs(`#error-${el.name}`, root);
    if (err) { err.hidden = true; el.closest('.item')?.classList.remove('has-error'); }
  }));

  const collect = () => {
    const answers = {};
    for (const item of instrument.items) {
      const el = form.elements.namedItem(item.id);
      const v = readAnswer(item, el ? el.value : undefined);
      if (v !== undefined) answers[item.id] = v;
    }
    return answers;
  };

  // ---- save ---------------------------------------------------------------
  const save = qs('#visit-save', root);
  const formError = qs('#visit-error', root);
  offs.push($on(form, 'submit', async (e) => {
    e.preventDefault();
    const answers = collect();
    const errors = validateAnswers(instrument, answers);
    if (showFieldErrors(root, 'error-', errors)) {
      formError.textContent = t('form.fix_errors');
      formError.hidden = false;
      return;
    }
    formError.hidden = true;
    save.disabled = true;
    const note = qs('#visit-note', root).value.trim();
    try {
      if (fixRecord) {
        await ctx.outbox.retry(fixRecord.uuid, { ...fixRecord.payload, answers, note });
        ctx.afterEnqueue();
        ctx.toast(t('visit.resubmitted'), 'ok');
      } else {
        save.textContent = t('geo.locating');
        const start = await geoStartPromise;
        const end = await getFix({ timeout: GEO_END_TIMEOUT_MS });
        const payload = {
          sample_token: household.token,
          instrument_id: instrument.id,
          instrument_version: instrument.version,
          answers,
          note,
          started_at: startedAt,
          ended_at: new Date().toISOString(),
          geo_start: start.geo,
          geo_end: end.geo,
          geo_error: end.geo ? (start.geo ? null : start.geo_error) : end.geo_error,
        };
        await ctx.enqueue('visit', payload);
        ctx.toast(payload.geo_error ? t('visit.saved_nogeo') : t('visit.saved'), payload.geo_error ? 'warn' : 'ok');
      }
      ctx.setFormOpen(false);
      ctx.navigate(`#/village/${encodeURIComponent(village.code)}`);
    } catch (err) {
      console.error(err);
      formError.textContent = t('visit.save_failed');
      formError.hidden = false;
      save.disabled = false;
      save.textContent = t(fixRecord ? 'visit.resubmit' : 'visit.save');
    }
  }));

  // ---- 无法访问 (replacement) -------------------------------------------------
  if (!fixRecord) {
    const panel = qs('#replace-panel', root);
    const toggle = (showPanel) => {
      panel.hidden = !showPanel;
      form.hidden = showPanel;
      qs('#geo-box', root).hidden = showPanel;
      qs('#unreachable-box', root).hidden = showPanel;
      (showPanel ? panel : form).scrollIntoView({ block: 'start' });
    };
    offs.push($on(qs('#visit-unreachable', root), 'click', () => toggle(true)));
    offs.push($on(qs('#replace-cancel', root), 'click', () => toggle(false)));
    offs.push($delegate(panel, 'input[name=reason]', 'change', (e, el) => {
      qs('#attempts-field', root).hidden = el.value !== 'not_home';
      qs('#replace-text-req', root).hidden = el.value !== 'other';
      showFieldErrors(panel, 'rerror-', {});
    }));
    const confirm = qs('#replace-confirm', root);
    offs.push($on(confirm, 'click', async () => {
      const reason = qs('input[name=reason]:checked', panel)?.value || null;
      const attemptsRaw = qs('#replace-attempts', root).value.trim();
      const text = qs('#replace-text', root).value.trim();
      const data = {
        sample_token: household.token,
        reason,
        reason_text: text || null,
        attempts: reason === 'not_home' && attemptsRaw !== '' ? Number(attemptsRaw) : null,
        at: new Date().toISOString(),
      };
      const errs = validateReplacement(data);
      const translated = Object.fromEntries(Object.entries(errs)
        .map(([k, keys]) => [k, keys.map((key) => t(key, { min: MIN_NOT_HOME_ATTEMPTS, max: MAX_REASON_TEXT }))]));
      if (showFieldErrors(panel, 'rerror-', translated)) return;
      confirm.disabled = true;
      try {
        const { activated } = applyReplacement(village, household.token);
        await ctx.enqueue('replacement', data);
        ctx.toast(activated ? t('replace.done', { name: activated.head_name, rank: activated.rank }) : t('replace.done_none'),
          activated ? 'ok' : 'warn');
        ctx.setFormOpen(false);
        ctx.navigate(`#/village/${encodeURIComponent(village.code)}`);
      } catch (err) {
        console.error(err);
        confirm.disabled = false;
        ctx.toast(t('visit.save_failed'), 'error');
      }
    }));
  }

  return () => { offs.forEach((off) => off()); ctx.setFormOpen(false); };
}
