// Roster upload with a progress bar. XHR (not fetch) because only XHR reports upload progress.
const form = document.getElementById('roster-form');
const result = document.getElementById('roster-result');
const progressBox = document.getElementById('roster-progress');
const bar = progressBox.querySelector('progress');
const progressText = document.getElementById('roster-progress-text');
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const L = (key) => result.dataset['label' + key[0].toUpperCase() + key.slice(1)] || key;

/** @param {string} s */
function escapeHTML(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// The order a county thinks in: places first, then people.
const KINDS = ['towns', 'villages', 'households', 'secretaries'];

function renderCounts(report) {
  const rows = KINDS.filter((kind) => report.counts[kind]).map((kind) => [kind, report.counts[kind]]).map(([kind, c]) =>
    `<tr><th>${escapeHTML(L(kind))}</th><td class="num">${c.created}</td><td class="num">${c.updated}</td><td class="num">${c.unchanged}</td></tr>`).join('');
  return `<p class="ok" data-testid="roster-ok">${escapeHTML(report.dry_run ? L('dry') : L('done'))}</p>
    <table data-testid="roster-counts"><thead><tr><th></th><th class="num">${escapeHTML(L('created'))}</th><th class="num">${escapeHTML(L('updated'))}</th><th class="num">${escapeHTML(L('unchanged'))}</th></tr></thead><tbody>${rows}</tbody></table>
    ${!report.dry_run && report.counts.secretaries && report.counts.secretaries.created
      ? `<p><a href="${escapeHTML(result.dataset.accountsUrl)}" data-testid="roster-next-accounts">${escapeHTML(L('nextAccounts'))}</a></p>` : ''}`;
}

function renderErrors(body) {
  const rows = (body.rows || []).map((r) =>
    `<tr><td>${escapeHTML(r.file)}</td><td>${escapeHTML(r.sheet || '')}</td><td class="num">${escapeHTML(r.row ?? '')}</td><td>${escapeHTML(r.column || '')}</td><td>${escapeHTML(r.message)}</td></tr>`).join('');
  return `<p class="error" data-testid="roster-error">${escapeHTML(body.message)}</p>
    <div class="table-wrap"><table data-testid="roster-errors"><thead><tr><th>${escapeHTML(L('file'))}</th><th>${escapeHTML(L('sheet'))}</th><th class="num">${escapeHTML(L('row'))}</th><th>${escapeHTML(L('column'))}</th><th>${escapeHTML(L('message'))}</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const data = new FormData();
  for (const file of form.elements.files.files) data.append('files', file);
  const dry = form.elements.dry_run.checked;
  const xhr = new XMLHttpRequest();
  xhr.open('POST', `${form.dataset.url}?dry_run=${dry}`);
  xhr.setRequestHeader('X-CSRFToken', csrf);
  xhr.setRequestHeader('Accept', 'application/json');
  progressBox.hidden = false;
  result.hidden = true;
  bar.removeAttribute('value');
  xhr.upload.addEventListener('progress', (e) => {
    if (!e.lengthComputable) return;
    const pct = Math.round((e.loaded / e.total) * 100);
    bar.value = pct;
    progressText.textContent = L('uploading').replace('{pct}', String(pct));
  });
  xhr.upload.addEventListener('load', () => {
    bar.removeAttribute('value'); // indeterminate while the server checks every row
    progressText.textContent = L('processing');
  });
  xhr.addEventListener('load', () => {
    progressBox.hidden = true;
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch { body = { message: xhr.statusText }; }
    result.innerHTML = xhr.status === 200 ? renderCounts(body) : renderErrors(body);
    result.hidden = false;
  });
  xhr.addEventListener('error', () => {
    progressBox.hidden = true;
    result.innerHTML = `<p class="error">${escapeHTML(L('network'))}</p>`;
    result.hidden = false;
  });
  xhr.send(data);
});
