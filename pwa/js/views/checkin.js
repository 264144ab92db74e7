// #/checkin[?v=<village_token>] (secretary home): one large 今日驻村打卡 button.
// One tap makes one geolocation attempt and queues a `checkin` record; nothing else
// is asked (no photo). This month's days in the village are the server's count
// (GET /api/checkins/month, cached in meta for offline; a check-in outside the fence
// or without a position makes no day) plus the phone's own check-ins: synced ones the
// server confirmed inside the fence, and unsynced ones the phone itself estimates
// inside the fence (the server's rule; shown apart as 待同步). A check-in that does not
// count leaves the button usable, so the secretary can try again the same day.
// 请假 is POST /api/leave, online only.

import { html, setHTML, qs, $on } from '../dom.js';
import { t } from '../i18n.js';
import { getFix } from '../geo.js';
import { flattenErrors } from '../validate.js';
import { dayKey, monthKey, formatTime, formatDateTime, formatDay } from '../format.js';
import { errorWords } from '../errors.js';

// In the per-user meta store ([user_id, key]); the value also names its user, and a
// month the server sent for another user (the session cookie changed under this screen:
// two secretaries sharing a phone) is neither cached nor shown. See monthFor/acceptMonth.
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
 * The cached month if it is this user's and this month's, else null.
 * @param {*} cached the meta value under MONTH_CACHE_KEY
 * @param {number|string} userId the phone's logged-in user
 * @param {string} month 'YYYY-MM'
 * @returns {Object|null}
 */
export function monthFor(cached, userId, month) {
  if (!cached || cached.month !== month || !Array.isArray(cached.present)) return null;
  if (cached.user_id === undefined || String(cached.user_id) !== String(userId)) return null;
  return cached;
}

/**
 * Is GET /api/checkins/month's answer this user's? The server says whose month it is;
 * an answer without `user_id` (an older server) is taken as the session's.
 * @param {*} data
 * @param {number|string} userId
 * @returns {boolean}
 */
export function acceptMonth(data, userId) {
  if (!data || typeof data !== 'object') return false;
  return data.user_id === undefined || data.user_id === null || String(data.user_id) === String(userId);
}

/**
 * The toast after a tap: honest about a check-in that will not count.
 * @param {*} payload the `checkin` payload just queued
 * @param {{lat: number, lon: number, radius: number}|null|undefined} fence
 * @returns {{key: string, kind: 'ok'|'warn'}}
 */
export function savedToast(payload, fence) {
  const geo = payload && payload.geo;
  if (!geo) return { key: 'checkin.saved_not_counted_geo', kind: 'warn' };
  const counts = likelyCounts(payload, fence);
  if (counts === false) {
    return { key: fence ? 'checkin.saved_not_counted_fence' : 'checkin.saved_not_counted_centre', kind: 'warn' };
  }
  return { key: 'checkin.saved', kind: 'ok' }; // counts, or the fence is not known yet
}

/**
 * A check-in with a position in a village that has no centre yet: the server keeps it and
 * judges it once the county sets the village's location, so trying again does not help.
 * @param {{payload: Object, result?: Object|null}|null} rec
 * @param {{lat: number, lon: number, radius: number}|null|undefined} fence
 * @returns {boolean}
 */
export function waitsForCentre(rec, fence) {
  if (!rec || !rec.payload || !rec.payload.geo) return false;
  const data = rec.result && rec.result.data;
  if (data && 'inside_fence' in data) return data.inside_fence === null;
  return fence === null;
}

/** The allowance for a fix's reported accuracy at the fence, as on the server. */
export const FENCE_ACCURACY_CAP_M = 200;

/**
 * The village fence from GET /api/checkins/month: `{lat, lon, radius_m}`, or null when
 * the village has no centre (then the server counts no day from a check-in).
 * @param {*} data
 * @returns {{lat: number, lon: number, radius: number}|null}
 */
export function parseFence(data) {
  const v = data && data.village;
  if (!v || typeof v.lat !== 'number' || typeof v.lon !== 'number') return null;
  return { lat: v.lat, lon: v.lon, radius: Number.isFinite(v.radius_m) ? v.radius_m : 1000 };
}

/**
 * Great-circle distance in metres (the server uses the WGS-84 geodesic; the two
 * differ by well under 0.5 %, which only matters right at the fence).
 * @param {number} lat1 @param {number} lon1 @param {number} lat2 @param {number} lon2
 * @returns {number}
 */
export function distanceM(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2
    + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

/**
 * Would the server count this (unsynced) check-in as a day in the village?
 * No position: no. Known fence: distance minus min(accuracy, 200 m) <= radius.
 * Village without a centre (`null`): no. Fence never fetched (`undefined`): `null`.
 * @param {*} payload a `checkin` payload
 * @param {{lat: number, lon: number, radius: number}|null|undefined} fence
 * @returns {boolean|null}
 */
export function likelyCounts(payload, fence) {
  const geo = payload && payload.geo;
  if (!geo || typeof geo.lat !== 'number' || typeof geo.lon !== 'number') return false;
  if (fence === undefined) return null;
  if (!fence) return false; // the village has no centre: the server counts no day
  const credit = Math.min(Math.max(Number(geo.accuracy) || 0, 0), FENCE_ACCURACY_CAP_M);
  return distanceM(fence.lat, fence.lon, geo.lat, geo.lon) - credit <= fence.radius;
}

/**
 * What the phone shows for the month: days the server counted (or confirmed for a
 * synced record), days waiting to sync that will likely count, and today's state.
 * @param {{present: string[], leave: string[], fence?: Object|null}|null} cached
 * @param {Array<{state: string, payload: Object, result?: Object|null}>} records this month's check-ins, oldest first
 * @param {string} today 'YYYY-MM-DD' (Beijing)
 * @returns {{days: string[], present: string[], pending: string[], leave: string[],
 *   today: 'counted'|'pending'|'not_counted'|null, todayRecord: Object|null}}
 */
export function monthView(cached, records, today) {
  const present = new Set(cached ? cached.present : []);
  const pending = new Set();
  const fence = cached && 'fence' in cached ? cached.fence : undefined;
  const counts = (r) => {
    if (r.state === 'synced') {
      const data = r.result && r.result.data;
      return !!(data && data.inside_fence === true && data.counted !== false);
    }
    if (r.state === 'rejected') return false;
    // Unknown fence (never online): a check-in with a position is shown as pending.
    return likelyCounts(r.payload, fence) !== false;
  };
  for (const r of records) {
    const day = dayKey(r.payload.at);
    if (!counts(r)) continue;
    if (r.state === 'synced') present.add(day);
    else pending.add(day);
  }
  for (const d of present) pending.delete(d);
  const todays = records.filter((r) => dayKey(r.payload.at) === today);
  let state = null;
  if (present.has(today)) state = 'counted';
  else if (pending.has(today)) state = 'pending';
  else if (todays.some((r) => r.state !== 'rejected')) state = 'not_counted';
  const good = [...todays].reverse().find((r) => counts(r));
  const todayRecord = good || (todays.length ? todays[todays.length - 1] : null);
  return {
    days: [...new Set([...present, ...pending])].sort(),
    present: [...present].sort(),
    pending: [...pending].sort(),
    leave: cached ? cached.leave.filter((d) => !present.has(d) && !pending.has(d)) : [],
    today: state,
    todayRecord,
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
  const userId = ctx.deps.userId;
  let cached = monthFor(await ctx.deps.meta.get(MONTH_CACHE_KEY), userId, thisMonth);

  const drawHero = (view) => {
    const button = qs('#checkin-button', root);
    const done = view.today === 'counted' || view.today === 'pending';
    const rec = view.todayRecord;
    button.classList.toggle('is-done', done);
    button.dataset.done = String(done);
    button.dataset.today = view.today || 'none';
    button.disabled = done;
    button.textContent = !done ? t('checkin.button')
      : rec ? t('checkin.done', { time: formatTime(rec.payload.at) }) : t('checkin.done_server');
    let line = t('checkin.hint');
    const waiting = view.today === 'not_counted' && waitsForCentre(rec, cached && 'fence' in cached ? cached.fence : undefined);
    if (waiting) {
      line = t('checkin.kept_no_centre', { time: formatTime(rec.payload.at) });
    } else if (view.today === 'not_counted' && rec) {
      line = t(rec.payload.geo ? 'checkin.not_counted_fence' : 'checkin.not_counted_geo', { time: formatTime(rec.payload.at) });
    } else if (done && rec) {
      line = rec.payload.geo ? t('geo.ok', { m: Math.round(rec.payload.geo.accuracy) }) : t(`geo.err.${rec.payload.geo_error || 'unavailable'}`);
    } else if (done) {
      line = '';
    }
    const geoLine = qs('#checkin-geo', root);
    geoLine.textContent = line;
    geoLine.classList.toggle('form-error', view.today === 'not_counted' && !waiting);
    geoLine.dataset.waiting = String(waiting);
  };

  const draw = () => {
    const view = monthView(cached, local, today);
    const pendingSet = new Set(view.pending);
    drawHero(view);
    setHTML(qs('#checkin-month-box', root), html`
      <p id="checkin-month" data-testid="checkin-month" class="big-progress" data-days="${view.days.length}"
        data-server-days="${cached ? cached.present.length : ''}" data-pending-days="${view.pending.length}">
        ${t('checkin.month_days', { n: view.days.length })}</p>
      ${cached && cached.required ? html`<p class="muted small">${t('checkin.month_required', { n: cached.required })}</p>` : ''}
      ${view.pending.length ? html`<p class="muted small">${t('checkin.month_pending', { n: view.pending.length })}</p>` : ''}
      <ul class="day-chips" data-testid="checkin-days">${view.days.map((d) => html`
        <li class="day-chip ${pendingSet.has(d) ? 'is-pending' : ''}">${t('checkin.day', { d: Number(d.slice(8)) })}</li>`)}
        ${view.leave.map((d) => html`<li class="day-chip is-leave">${t('checkin.day', { d: Number(d.slice(8)) })} ${t('checkin.leave_day')}</li>`)}</ul>
      ${cached && cached.pendingLeave.length ? html`<p class="muted small" data-testid="leave-pending">${t('leave.pending', {
        list: cached.pendingLeave.map((l) => (l.start === l.end ? formatDay(l.start) : `${formatDay(l.start)}–${formatDay(l.end)}`)).join(t('sep.enum')),
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
      <button type="button" id="checkin-button" data-testid="checkin-button" class="btn-checkin">${t('checkin.button')}</button>
      <p id="checkin-geo" data-testid="checkin-geo" class="status-line" role="status"></p>
    </section>
    <section class="card" id="checkin-month-box"></section>
    <section class="card">
      <h2 class="section-title">${t('leave.title')}</h2>
      <form id="leave-form" data-testid="leave-form" class="form" novalidate>
        <div class="two-col">
          <label class="field"><span class="field-label">${t('leave.start')} <span class="req">${t('form.required_mark')}</span></span>
            <input class="input" id="leave-start" data-testid="leave-start" type="date" value="${today}" required></label>
          <label class="field"><span class="field-label">${t('leave.end')} <span class="req">${t('form.required_mark')}</span></span>
            <input class="input" id="leave-end" data-testid="leave-end" type="date" value="${today}" required></label>
        </div>
        <label class="field"><span class="field-label">${t('leave.reason')} <span class="req">${t('form.required_mark')}</span></span>
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
    if (!r.ok || !acceptMonth(r.data, userId)) return;
    const parsed = parseMonth(r.data);
    if (parsed.month && parsed.month !== thisMonth) return;
    cached = { ...parsed, fence: parseFence(r.data), month: thisMonth, user_id: userId, fetched_at: new Date().toISOString() };
    await ctx.deps.meta.set(MONTH_CACHE_KEY, cached);
    if (root.isConnected) draw();
  });
  refreshMonth();

  const button = qs('#checkin-button', root);
  offs.push($on(button, 'click', async () => {
    button.disabled = true;
    button.textContent = t('geo.locating');
    const at = new Date().toISOString();
    // A retry after a check-in that did not count asks for a fresh position, not the
    // one the phone may still hold from that check-in.
    const retry = button.dataset.today === 'not_counted';
    const fix = await getFix({ timeout: GEO_TIMEOUT_MS, maximumAge: retry ? 0 : 60000 });
    try {
      const payload = { at, geo: fix.geo, geo_error: fix.geo_error, village_token: villageToken };
      await ctx.enqueue('checkin', payload);
      const said = savedToast(payload, cached && 'fence' in cached ? cached.fence : undefined);
      ctx.toast(t(said.key), said.kind);
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
      say(fields || r.error.message || t('error.generic', { reason: errorWords(r.error.code) }), 'form-error');
    }
  }));
  // A half-written leave request counts as an open form (no reload for an update).
  offs.push($on(qs('#leave-reason', root), 'input', (e) => ctx.setFormOpen(e.target.value.trim() !== '')));
  return () => { offs.forEach((off) => off()); ctx.setFormOpen(false); };
}
