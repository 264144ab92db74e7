// #/village/<code>: the sample in rank order with status; reserves greyed until
// the replacement rule activates them.

import { html, setHTML } from '../dom.js';
import { t } from '../i18n.js';
import { progress, canVisit } from '../sampling.js';
import { localVillages } from '../taskdata.js';
import { statusBadge, backLink, recordStateByToken, fillBars, householdMeta } from './common.js';

function row(h, syncState) {
  const body = html`
    <span class="rank" aria-label="${t('village.rank')}">${h.rank}</span>
    <span class="row-main">
      <span class="row-title-line"><strong class="row-title">${t('village.head', { name: h.head_name })}</strong>
        <span class="row-badges">${statusBadge(h.status, syncState)}</span></span>
      <span class="row-sub">${householdMeta(h)}</span>
    </span>`;
  const attrs = { token: h.token, status: h.status };
  // Unused reserves cannot be opened: the next one is activated only by a replacement.
  if (h.status === 'reserve_unused') {
    return html`<li><div class="row hh-row is-disabled" aria-disabled="true" data-testid="household-row"
      data-token="${attrs.token}" data-status="${attrs.status}" data-role="${h.role}">${body}</div></li>`;
  }
  return html`<li><a class="row row-link hh-row ${canVisit(h) ? 'is-open' : ''}" href="#/visit/${encodeURIComponent(h.token)}"
    data-testid="household-row" data-token="${attrs.token}" data-status="${attrs.status}" data-role="${h.role}">${body}</a></li>`;
}

/**
 * @param {HTMLElement} root
 * @param {Object} ctx
 * @param {import('../router.js').Route} route
 */
export async function render(root, ctx, route) {
  const [villages, records] = await Promise.all([localVillages(ctx.deps), ctx.outbox.list()]);
  const village = villages.find((v) => v.code === route.params.code);
  if (!village) {
    ctx.setTitle(t('village.title'));
    setHTML(root, html`${backLink('#/tasks', t('tasks.title'))}
      <p class="empty" data-testid="village-missing">${t('village.missing')}</p>`);
    return;
  }
  ctx.setTitle(village.name);
  if (!village.draw) {
    setHTML(root, html`${backLink('#/tasks', t('tasks.title'))}
      <h1 class="page-title">${village.name}</h1>
      <p class="notice" data-testid="village-not-drawn">${t('village.not_drawn')}</p>`);
    return;
  }
  const p = progress(village);
  const states = recordStateByToken(records);
  const samples = village.households.filter((h) => h.role === 'sample');
  const reserves = village.households.filter((h) => h.role === 'reserve');
  const pct = p.target ? Math.round((100 * Math.min(p.visited, p.target)) / p.target) : 0;
  setHTML(root, html`
    ${backLink('#/tasks', t('tasks.title'))}
    <h1 class="page-title">${village.name}</h1>
    <section class="card village-summary">
      <p class="row-sub">${[village.town, village.county].filter(Boolean).join(' · ')}</p>
      <p class="big-progress"><span data-testid="village-progress">${p.visited}/${p.target}</span> ${t('tasks.visited')}</p>
      <span class="bar" aria-hidden="true"><span data-pct="${pct}"></span></span>
      <p class="muted small">${t('village.summary', { unreachable: p.unreachable, reserves: p.reservesLeft })}</p>
    </section>
    <h2 class="section-title">${t('village.samples')}</h2>
    <ol id="sample-list" data-testid="sample-list" class="list">${samples.map((h) => row(h, states.get(h.token)))}</ol>
    ${reserves.length ? html`
      <h2 class="section-title">${t('village.reserves')}</h2>
      <p class="muted small">${t('village.reserves_hint')}</p>
      <ol id="reserve-list" data-testid="reserve-list" class="list">${reserves.map((h) => row(h, states.get(h.token)))}</ol>` : ''}
  `);
  fillBars(root);
}
