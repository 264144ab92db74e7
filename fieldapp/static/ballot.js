// The public ballot page (/b/<token>): load the ballot, render it, send one vote.
// No framework, no build step. Network failures are retried with backoff; a retry after
// a lost response carries the same random receipt, so the server answers "stored" again
// instead of "already used".
(function () {
  'use strict';

  /** @param {string} sel */
  const qs = (sel) => /** @type {HTMLElement} */ (document.querySelector(sel));
  const root = qs('#ballot');
  const token = root.dataset.token || '';
  const lang = root.dataset.lang === 'en' ? 'en' : 'zh';
  const S = /** @type {HTMLElement} */ (qs('#t-strings')).dataset;
  const statusEl = qs('#status');
  const form = /** @type {HTMLFormElement} */ (qs('#form'));
  const errorEl = qs('#error');
  const submit = /** @type {HTMLButtonElement} */ (qs('#submit'));
  const MAX_ATTEMPTS = 8;
  const api = '/api/ballots/' + encodeURIComponent(token);

  /** @param {string} text @param {string} kind */
  function setStatus(text, kind) {
    statusEl.textContent = text;
    statusEl.className = 'status ' + (kind || '');
    statusEl.dataset.state = kind || '';
  }

  /** @param {string} s */
  function escapeHTML(s) {
    return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  /** Fetch with retries on network errors and 5xx: 1 s, 2 s, 4 s ... up to 30 s. */
  async function fetchRetry(url, options) {
    let delay = 1000;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(url, Object.assign({ credentials: 'same-origin', cache: 'no-store' }, options));
        if (res.status < 500 || attempt >= MAX_ATTEMPTS) return res;
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS) throw err;
      }
      for (let s = Math.round(delay / 1000); s > 0; s--) {
        setStatus(S.retrying.replace('{s}', String(s)), 'retry');
        await sleep(1000);
      }
      delay = Math.min(delay * 2, 30000);
    }
  }

  function receipt() {
    const key = 'ballot-receipt:' + token;
    let r = null;
    try { r = sessionStorage.getItem(key); } catch (e) { /* private mode */ }
    if (!r) {
      const bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      r = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      try { sessionStorage.setItem(key, r); } catch (e) { /* private mode */ }
    }
    return r;
  }

  function csrf() {
    const m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute('content') || '' : '';
  }

  async function refreshCsrf() {
    const res = await fetchRetry('/api/auth/csrf', {});
    const body = await res.json();
    const m = document.querySelector('meta[name="csrf-token"]');
    if (m && body.csrf_token) m.setAttribute('content', body.csrf_token);
  }

  /** @param {string} state */
  function showFinal(state) {
    form.hidden = true;
    if (state === 'stored') setStatus(S.stored, 'stored');
    else if (state === 'used') setStatus(S.used, 'used');
    else if (state === 'closed') setStatus(S.closed, 'closed');
    else setStatus(S.invalid, 'invalid');
  }

  function render(data) {
    const m = data.meeting;
    qs('#about').textContent = S.about.replace('{year}', m.year).replace('{town}', m.town)
      .replace('{village}', m.village_name).replace('{name}', m.secretary_name);
    qs('#categories').innerHTML = data.categories.map((c) =>
      `<label class="opt"><input type="radio" name="category" value="${escapeHTML(c.code)}" required> ${escapeHTML(c.label)}</label>`).join('');
    const ins = data.instrument;
    qs('#items').innerHTML = ins.items.map((item) => {
      const label = escapeHTML(item.label[lang] || item.label.zh);
      if (item.type === 'choice') {
        const opts = ins.option_sets[item.options].map((o) =>
          `<label class="opt"><input type="radio" name="q.${escapeHTML(item.id)}" value="${escapeHTML(o.code)}"${item.required ? ' required' : ''}> ${escapeHTML(o.label[lang] || o.label.zh)}</label>`).join('');
        return `<fieldset class="q" data-item="${escapeHTML(item.id)}"><legend>${label}</legend><div class="options">${opts}</div></fieldset>`;
      }
      const type = item.type === 'integer' ? 'number' : 'text';
      return `<label class="q">${label}<input type="${type}" name="q.${escapeHTML(item.id)}"${item.required ? ' required' : ''}></label>`;
    }).join('');
    form.hidden = false;
    setStatus('', '');
  }

  function collect() {
    const fd = new FormData(form);
    const answers = {};
    for (const [k, v] of fd.entries()) {
      if (k.startsWith('q.') && v !== '') {
        const input = form.querySelector(`[name="${CSS.escape(k)}"]`);
        answers[k.slice(2)] = input && input.type === 'number' ? Number(v) : v;
      }
    }
    return { category: fd.get('category'), answers };
  }

  async function send(payload, csrfRetried) {
    const res = await fetchRetry(api, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf() },
      body: JSON.stringify(payload),
    });
    const body = await res.json().catch(() => ({}));
    if (res.status === 400 && body.code === 'csrf_failed' && !csrfRetried) {
      await refreshCsrf();
      return send(payload, true);
    }
    return { res, body };
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errorEl.hidden = true;
    const data = collect();
    if (!form.checkValidity() || !data.category) {
      errorEl.textContent = S.missing;
      errorEl.hidden = false;
      return;
    }
    submit.disabled = true;
    setStatus(S.sending, 'sending');
    try {
      const { res, body } = await send({ category: data.category, answers: data.answers, receipt: receipt() }, false);
      if (res.status === 201 || res.status === 200) return showFinal('stored');
      if (body.state === 'used' || body.state === 'closed') return showFinal(body.state);
      if (res.status === 404) return showFinal('invalid');
      const msgs = Object.values(body.errors || {}).flat();
      errorEl.textContent = [body.message].concat(msgs).filter(Boolean).join(' ');
      errorEl.hidden = false;
      setStatus('', '');
    } catch (err) {
      setStatus(S.failed, 'failed');
    }
    submit.disabled = false;
  });

  async function load() {
    setStatus(S.loading, 'loading');
    try {
      const res = await fetchRetry(api, {});
      if (res.status === 404) return showFinal('invalid');
      const data = await res.json();
      if (data.state !== 'valid') return showFinal(data.state);
      render(data);
    } catch (err) {
      setStatus(S.failed, 'failed');
      const again = document.createElement('button');
      again.type = 'button';
      again.textContent = '↻';
      again.addEventListener('click', () => { again.remove(); load(); });
      statusEl.appendChild(again);
    }
  }

  load();
})();
