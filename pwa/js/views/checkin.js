// #/checkin[?v=<village_token>] (secretary home): one large 今日驻村打卡 button.
// One tap makes one geolocation attempt and queues a `checkin` record; nothing else
// is asked (no photo). This month's days come from GET /api/checkins/month when
// online (cached in meta for offline) plus the phone's own check-ins. 请假 is
// POST /api/leave, online only.

import { html, setHTML, qs, $on } from '../dom.js';
import { t } from '../i18n.js';
import { getFix } from '../geo.js';
import { flattenErrors } from '../validate.js';
import { dayKey, monthKey, formatTime, formatDateTime, formatDay } from '../format.js';

export const MONTH_CACHE_KEY = 'checkins_month';
const GEO_TIMEOUT_MS = 15000;

/**
 * The parts of GET /api/checkins/month the phone shows and caches:
 * `{year, month, days: [{day, status: present|leave|absent|future|outside_term}],
 *   required_days, village: {name}, pending_leave: [{start, end}]}`.
 * @param {*} data
 * @returns {{month: string, present: string[], leave: string[], required: number|null,
 *   village: string|null, pendingLeave: Array<{start: string, end: string}>}}
 */
export function parseMonth(data) {
  const d = data || {};
  const days = Array.isArray(d.days) ? d.days : [];
  const pick = (status) => days.filter((x) => x && x.status === status).map((x) => String(x.day).slice(0, 10)).sort();
  return {
    month: d.year && d.month ? `${d.year}-${String(d.month).padStart(2, '0')}` : '',
    present: pick('present'),
    leave: pick('leave'),
    required: Number.isInteger(d.required_days) ? d.required_days : null,
    village: d.village && d.village.name ? d.village.name : null,
    pendingLeave: (Array.isArray(d.pending_leave) ? d.pending_leave : []).map((l) => ({ start: l.start, end: l.end })),
  };
}

/**
 * @param {HTMLElement} root
 * @param {Object} ctx
 * @param {import('../router.js').Route} route
 */
export async function render(root, ctx, route) {
  ctx.setTitle(t('checkin.title'));
  const villageToken = route.query.v || null;
  const now = new Date();
  const thisMonth = monthKey(now);
  const today = dayKey(now);

  const records = (await ctx.outbox.list()).filter((r) => r.type === 'checkin');
  const local = records.filter((r) => monthKey(r.payload.at) === thisMonth);
  const todayRec = [...local].reverse().find((r) => dayKey(r.payload.at) === today) || null;
  let cached = await ctx.deps.meta.get(MONTH_CACHE_KEY);
  if (!cached || cached.month !== thisMonth || !Array.isArray(cached.present)) cached = null;

  const draw = () => {
    const serverDays = cached ? cached.present : [];
    const localPending = new Set(local.filter((r) => r.state !== 'synced').map((r) => dayKey(r.payload.at)));
    const all = [...new Set([...serverDays, ...local.map((r) => dayKey(r.payload.at))])].sort();
    setHTML(qs('#checkin-month-box', root), html`
      <p id="checkin-month" data-testid="checkin-month" class="big-progress" data-days="${all.length}">
        ${t('checkin.month_days', { n: all.length })}</p>
      ${cached && cached.required ? html`<p class="muted small">${t('checkin.month_required', { n: cached.required })}</p>` : ''}
      ${localPending.size ? html`<p class="muted small">${t('checkin.month_pending', { n: localPending.size })}</p>` : ''}
      <ul class="day-chips" data-testid="checkin-days">${all.map((d) => html`
        <li class="day-chip ${localPending.has(d) && !serverDays.includes(d) ? 'is-pending' : ''}">${t('checkin.day', { d: Number(d.slice(8)) })}</li>`)}
        ${(cached ? cached.leave : []).map((d) => html`<li class="day-chip is-leave">${t('checkin.day', { d: Number(d.slice(8)) })} ${t('checkin.leave_day')}</li>`)}</ul>
      ${cached && cached.pendingLeave.length ? html`<p class="muted small" data-testid="leave-pending">${t('leave.pending', {
        list: cached.pendingLeave.map((l) => (l.start === l.end ? formatDay(l.start) : `${formatDay(l.start)}–${formatDay(l.end)}`)).join('、'),
      })}</p>` : ''}
      <p class="muted small" id="checkin-month-source">${cached
        ? t('checkin.month_updated', { time: formatDateTime(cached.fetched_at) }) : t('checkin.month_offline')}</p>`);
    const name = qs('#checkin-village', root);
    if (name) name.textContent = cached && cached.village ? cached.village : '';
  };

  setHTML(root, html`
    <section class="checkin-hero">
      <p class="row-title" id="checkin-village" data-testid="checkin-village"></p>
      ${villageToken ? html`<p class="badge badge-scan" id="checkin-scan" data-testid="checkin-scan">${t('checkin.scanned')}</p>` : ''}
      <button type="button" id="checkin-button" data-testid="checkin-button" class="btn-checkin ${todayRec ? 'is-done' : ''}"
        data-done="${!!todayRec}" ${todayRec ? html`disabled` : ''}>
        ${todayRec ? t('checkin.done', { time: formatTime(todayRec.payload.at) }) : t('checkin.button')}
      </button>
      <p id="checkin-geo" data-testid="checkin-geo" class="status-line" role="status">${todayRec
        ? (todayRec.payload.geo ? t('geo.ok', { m: Math.round(todayRec.payload.geo.accuracy) }) : t(`geo.err.${todayRec.payload.geo_error || 'unavailable'}`))
        : t('checkin.hint')}</p>
    </section>
    <section class="card" id="checkin-month-box"></section>
    <section class="card">
      <h2 class="section-title">${t('leave.title')}</h2>
      <form id="leave-form" data-testid="leave-form" class="form" novalidate>
        <div class="two-col">
          <label class="field"><span class="field-label">${t('leave.start')}</span>
            <input class="input" id="leave-start" data-testid="leave-start" type="date" value="${today}" required></label>
          <label class="field"><span class="field-label">${t('leave.end')}</span>
            <input class="input" id="leave-end" data-testid="leave-end" type="date" value="${today}" required></label>
        </div>
        <label class="field"><span class="field-label">${t('leave.reason')}</span>
          <textarea class="input" id="leave-reason" data-testid="leave-reason" rows="3" required></textarea></label>
        <p id="leave-result" data-testid="leave-result" class="status-line" role="status"></p>
        <button type="submit" id="leave-submit" data-testid="leave-submit" class="btn btn-secondary btn-block">${t('leave.submit')}</button>
      </form>
    </section>
    <p class="muted small fine-print">${t('checkin.fine_print')}</p>
  `);
  draw();

  const offs = [];
  // Refresh the month from the server when online; keep the cache for offline days.
  const refreshMonth = () => ctx.api.call('GET', '/api/checkins/month').then(async (r) => {
    if (!r.ok) return;
    const parsed = parseMonth(r.data);
    if (parsed.month && parsed.month !== thisMonth) return;
    cached = { ...parsed, month: thisMonth, fetched_at: new Date().toISOString() };
    await ctx.deps.meta.set(MONTH_CACHE_KEY, cached);
    if (root.isConnected) draw();
  });
  refreshMonth();

  const button = qs('#checkin-button', root);
  offs.push($on(button, 'click', async () => {
    button.disabled = true;
    button.textContent = t('geo.locating');
    const at = new Date().toISOString();
    const fix = await getFix({ timeout: GEO_TIMEOUT_MS, maximumAge: 60000 });
    try {
      await ctx.enqueue('checkin', { at, geo: fix.geo, geo_error: fix.geo_error, village_token: villageToken });
      ctx.toast(t('checkin.saved'), fix.geo ? 'ok' : 'warn');
    } catch (err) {
      console.error(err);
      ctx.toast(t('visit.save_failed'), 'error');
    }
    if (root.isConnected) ctx.rerender();
  }));

  const leaveResult = qs('#leave-result', root);
  const leaveButton = qs('#leave-submit', root);
  offs.push($on(qs('#leave-form', root), 'submit', async (e) => {
    e.preventDefault();
    const body = { start: qs('#leave-start', root).value, end: qs('#leave-end', root).value, reason: qs('#leave-reason', root).value.trim() };
    const say = (msg, kind) => { leaveResult.textContent = msg; leaveResult.className = `status-line ${kind}`; };
    if (!body.start || !body.end || !body.reason) { say(t('leave.err.missing'), 'form-error'); return; }
    if (body.end < body.start) { say(t('leave.err.order'), 'form-error'); return; }
    if (navigator.onLine === false) { say(t('leave.err.offline'), 'form-error'); return; }
    leaveButton.disabled = true;
    const r = await ctx.api.call('POST', '/api/leave', body);
    leaveButton.disabled = false;
    if (r.ok) {
      say(t('leave.sent'), 'ok-text');
      qs('#leave-reason', root).value = '';
      ctx.setFormOpen(false);
      refreshMonth();
    } else if (r.error.code === 'offline' || r.error.code === 'timeout') {
      say(t('leave.err.offline'), 'form-error');
    } else {
      const fields = flattenErrors(r.error.errors).map((x) => x.messages.join(t('sep.list'))).join(t('sep.list'));
      say(fields || r.error.message || t('error.generic', { code: r.error.code }), 'form-error');
    }
  }));
  // A half-written leave request counts as an open form (no reload for an update).
  offs.push($on(qs('#leave-reason', root), 'input', (e) => ctx.setFormOpen(e.target.value.trim() !== '')));
  return () => { offs.forEach((off) => off()); ctx.setFormOpen(false); };
}
