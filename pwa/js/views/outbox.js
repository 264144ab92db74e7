// #/outbox (待同步): pending count, returned records with their field errors and
// fix/discard actions, the last successful sync, and 立即同步.

import { html, setHTML, qs, $on, $delegate } from '../dom.js';
import { t } from '../i18n.js';
import { errorWords } from '../errors.js';
import { formatDateTime } from '../format.js';
import { flattenErrors } from '../validate.js';
import { householdIndex } from '../taskdata.js';
import { fieldLabel } from './common.js';

function describe(rec, index) {
  const hit = rec.payload && rec.payload.sample_token ? index.get(rec.payload.sample_token) : null;
  const who = hit ? t('village.head', { name: hit.household.head_name }) : '';
  const where = hit ? hit.village.name : '';
  if (rec.type === 'visit') return { title: t('record.visit'), detail: [who, where].filter(Boolean).join(' · ') };
  if (rec.type === 'replacement') {
    return { title: t('record.replacement'), detail: [who, rec.payload.reason ? t(`reason.${rec.payload.reason}`) : ''].filter(Boolean).join(' · ') };
  }
  if (rec.type === 'checkin') return { title: t('record.checkin'), detail: formatDateTime(rec.payload.at) };
  return { title: rec.type, detail: '' };
}

/**
 * @param {HTMLElement} root
 * @param {Object} ctx
 */
export async function render(root, ctx) {
  ctx.setTitle(t('outbox.title'));
  const [records, instruments, index] = await Promise.all([
    ctx.outbox.list(), ctx.db.listInstruments(), ctx.isEvaluator ? householdIndex(ctx.deps) : new Map(),
  ]);
  const pending = records.filter((r) => r.state === 'pending' || r.state === 'sending');
  const rejected = records.filter((r) => r.state === 'rejected');
  const synced = records.filter((r) => r.state === 'synced');
  const status = ctx.sync.status();
  const last = status.lastResult;
  const instrumentOf = (r) => instruments.find((i) => i.id === r.payload.instrument_id && Number(i.version) === Number(r.payload.instrument_version)) || null;

  setHTML(root, html`
    <h1 class="page-title">${t('outbox.title')}</h1>
    <section class="card">
      <p class="big-progress">${t('outbox.pending')} <b id="outbox-pending" data-testid="outbox-pending">${pending.length}</b></p>
      <p id="outbox-last-sync" data-testid="outbox-last-sync" class="muted">${status.lastSyncAt
        ? t('outbox.last_sync', { time: formatDateTime(status.lastSyncAt) }) : t('hdr.never_synced')}</p>
      <button type="button" id="sync-now" data-testid="sync-now" class="btn btn-primary btn-block" ${status.running ? html`disabled` : ''}>
        ${status.running ? t('hdr.syncing') : t('outbox.sync_now')}</button>
      <p id="sync-result" data-testid="sync-result" class="status-line" role="status">${last && !last.ok
        ? t(last.error === 'offline' || last.error === 'timeout' ? 'outbox.failed_offline' : 'outbox.failed', { reason: errorWords(last.error), time: status.nextAttemptAt ? formatDateTime(status.nextAttemptAt) : '-' })
        : ''}</p>
    </section>

    ${rejected.length ? html`
      <h2 class="section-title section-error">${t('outbox.rejected', { n: rejected.length })}</h2>
      <p class="muted small">${t('outbox.rejected_hint')}</p>
      <ul id="rejected-list" data-testid="rejected-list" class="list">
        ${rejected.map((r) => {
          const d = describe(r, index);
          const errs = flattenErrors(r.errors);
          return html`<li class="record record-rejected" data-testid="rejected-record" data-uuid="${r.uuid}" data-type="${r.type}">
            <div class="record-head"><strong>${d.title}</strong><span class="muted small">${formatDateTime(r.created_at)}</span></div>
            ${d.detail ? html`<p class="row-sub">${d.detail}</p>` : ''}
            <ul class="errors">
              ${r.conflict ? html`<li class="error-text" data-testid="rejected-error">${t('outbox.conflict')}</li>` : errs.map((e) => html`
                <li class="error-text" data-testid="rejected-error" data-field="${e.path}">${fieldLabel(e.path, r.type === 'visit' ? instrumentOf(r) : null)}${t('sep.label')}${e.messages.join(t('sep.list'))}</li>`)}
            </ul>
            <div class="actions-row">
              ${r.type === 'visit' && !r.conflict ? html`<a class="btn btn-primary" data-testid="record-fix"
                href="#/visit/${encodeURIComponent(r.payload.sample_token)}?fix=${encodeURIComponent(r.uuid)}">${t('outbox.fix')}</a>` : ''}
              ${r.conflict ? '' : html`<button type="button" class="btn btn-secondary" data-action="retry" data-testid="record-retry">${t('outbox.retry')}</button>`}
              <button type="button" class="btn btn-danger-outline" data-action="discard" data-testid="record-discard">${t('outbox.discard')}</button>
            </div>
          </li>`;
        })}
      </ul>` : ''}

    <h2 class="section-title">${t('outbox.waiting', { n: pending.length })}</h2>
    ${pending.length ? html`<ul id="pending-list" data-testid="pending-list" class="list">
      ${pending.map((r) => {
        const d = describe(r, index);
        return html`<li class="record" data-testid="pending-record" data-uuid="${r.uuid}" data-type="${r.type}">
          <div class="record-head"><strong>${d.title}</strong><span class="muted small">${formatDateTime(r.created_at)}</span></div>
          ${d.detail ? html`<p class="row-sub">${d.detail}</p>` : ''}
          ${r.attempts ? html`<p class="muted small">${t('outbox.attempts', { n: r.attempts })}</p>` : ''}
        </li>`;
      })}</ul>` : html`<p class="empty" data-testid="outbox-empty">${t('outbox.nothing')}</p>`}
    ${synced.length ? html`<p class="muted small" data-testid="outbox-synced">${t('outbox.synced_kept', { n: synced.length })}</p>` : ''}
  `);

  const offs = [];
  const button = qs('#sync-now', root);
  offs.push($on(button, 'click', async () => {
    button.disabled = true;
    button.textContent = t('hdr.syncing');
    const r = await ctx.sync.syncNow({ reason: 'button' });
    if (r && r.ok) ctx.toast(r.synced ? t('outbox.done', { n: r.synced }) : t('outbox.nothing_to_send'), 'ok');
    // app.js redraws this screen when the run ends.
  }));
  offs.push($delegate(root, '[data-action]', 'click', async (e, el) => {
    const uuid = el.closest('[data-uuid]').dataset.uuid;
    if (el.dataset.action === 'discard') {
      if (!window.confirm(t('outbox.discard_confirm'))) return;
      await ctx.outbox.discard(uuid);
      ctx.toast(t('outbox.discarded'), 'ok');
    } else if (el.dataset.action === 'retry') {
      await ctx.outbox.retry(uuid);
      ctx.afterEnqueue();
    }
    ctx.rerender();
  }));
  return () => offs.forEach((off) => off());
}
