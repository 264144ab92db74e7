// #/tasks (evaluator home): 下载任务, what is stored and when, storage persistence,
// and the villages with their progress x/20.

import { html, setHTML, qs, $on } from '../dom.js';
import { fillBars } from './common.js';
import { t } from '../i18n.js';
import { errorWords } from '../errors.js';
import { formatDateTime } from '../format.js';
import { progress } from '../sampling.js';
import { downloadTasks, localVillages, storagePersisted, PERSISTED_KEY } from '../taskdata.js';
import { TASKS_DOWNLOADED_KEY } from '../sync.js';

/**
 * The 下载任务 button with its status line; shared by #/tasks and the visit view's
 * "not on this phone" message.
 * @param {Object} ctx
 * @param {HTMLButtonElement} button
 * @param {HTMLElement} statusEl
 * @param {() => void} onDone
 * @returns {Promise<void>}
 */
export async function runDownload(ctx, button, statusEl, onDone) {
  button.disabled = true;
  button.textContent = t('tasks.downloading');
  statusEl.textContent = '';
  try {
    const r = await downloadTasks(ctx.deps);
    const households = r.villages.reduce((n, v) => n + (v.households || []).length, 0);
    ctx.toast(t('tasks.downloaded', { villages: r.villages.length, households }), 'ok');
    onDone();
  } catch (err) {
    statusEl.textContent = err.code === 'offline' || err.code === 'timeout' ? t('tasks.err.offline') : t('error.generic', { reason: errorWords(err.code) });
    statusEl.classList.add('form-error');
    button.disabled = false;
    button.textContent = t('tasks.download');
  }
}

/**
 * @param {HTMLElement} root
 * @param {Object} ctx
 * @returns {Promise<() => void>}
 */
export async function render(root, ctx) {
  ctx.setTitle(t('tasks.title'));
  const [villages, downloadedAt, persistedMeta] = await Promise.all([
    localVillages(ctx.deps), ctx.deps.meta.get(TASKS_DOWNLOADED_KEY), ctx.deps.meta.get(PERSISTED_KEY),
  ]);
  const persisted = (await storagePersisted(false)) ?? persistedMeta ?? null;
  const households = villages.reduce((n, v) => n + v.households.length, 0);
  // Visits staff rejected: the household is pending again, with the reason, for a revisit.
  const returned = villages.flatMap((v) => v.households
    .filter((h) => h.returned && (h.status === 'pending' || h.status === 'reserve_active'))
    .map((h) => ({ village: v, household: h })));

  setHTML(root, html`
    <h1 class="page-title">${t('tasks.title')}</h1>
    <section class="card">
      <button id="download-tasks" data-testid="download-tasks" type="button" class="btn btn-primary btn-block">${t('tasks.download')}</button>
      <p id="tasks-status" data-testid="tasks-status" class="status-line" role="status">
        ${downloadedAt
          ? t('tasks.stored', { villages: villages.length, households, time: formatDateTime(downloadedAt) })
          : t('tasks.none_stored')}
      </p>
      <p id="storage-status" data-testid="storage-status" class="muted small" data-persisted="${String(persisted)}">
        ${persisted === true ? t('storage.persisted') : persisted === false ? t('storage.not_persisted') : t('storage.unknown')}
      </p>
    </section>
    ${returned.length ? html`
      <h2 class="section-title">${t('tasks.returned')}</h2>
      <ul id="returned-list" data-testid="returned-list" class="list">
        ${returned.map(({ village, household }) => html`
          <li><a class="row row-link" href="#/visit/${encodeURIComponent(household.token)}" data-testid="returned-row" data-token="${household.token}">
            <span class="row-main">
              <strong class="row-title">${village.name} · ${t('village.head', { name: household.head_name })}</strong>
              <span class="row-sub" data-testid="returned-reason">${t('tasks.returned_reason', { reason: household.returned.reason || '' })}</span>
            </span>
          </a></li>`)}
      </ul>` : ''}
    ${villages.length ? html`
      <h2 class="section-title">${t('tasks.villages')}</h2>
      <ul id="village-list" data-testid="village-list" class="list">
        ${villages.map((v) => {
          const p = progress(v);
          const pct = p.target ? Math.round((100 * Math.min(p.visited, p.target)) / p.target) : 0;
          return html`
          <li>
            <a class="row row-link" href="#/village/${encodeURIComponent(v.code)}" data-testid="village-row" data-code="${v.code}">
              <span class="row-main">
                <strong class="row-title">${v.name}</strong>
                <span class="row-sub">${[v.town, v.county].filter(Boolean).join(' · ')}${v.cycle && v.cycle.year ? ` · ${t('tasks.cycle', { year: v.cycle.year })}` : ''}</span>
                <span class="bar" aria-hidden="true"><span data-pct="${pct}"></span></span>
              </span>
              <span class="row-side">${v.draw ? html`
                <span class="progress-num" data-testid="village-progress">${p.visited}/${p.target}</span>
                <span class="row-sub">${t('tasks.visited')}</span>` : html`
                <span class="badge badge-reserve_unused" data-testid="village-not-drawn">${t('tasks.not_drawn')}</span>`}
              </span>
            </a>
          </li>`;
        })}
      </ul>` : html`<p id="village-empty" data-testid="village-empty" class="empty">${t('tasks.empty')}</p>`}
  `);

  fillBars(root);
  const button = qs('#download-tasks', root);
  return $on(button, 'click', () => runDownload(ctx, button, qs('#tasks-status', root), () => ctx.rerender()));
}
