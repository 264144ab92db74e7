// Dashboard and scores pages: sortable tables and the Leaflet map. No inline JS (CSP).
(function () {
  'use strict';

  /** Sort a table body by one column; numbers by data-sort, else by text (zh collation). */
  function makeSortable(table) {
    const heads = Array.from(table.querySelectorAll('thead th.sortable'));
    const collator = new Intl.Collator(['zh-Hans-CN', 'en'], { numeric: true });
    heads.forEach((th, col) => {
      th.tabIndex = 0;
      const run = () => {
        const asc = th.getAttribute('aria-sort') !== 'ascending';
        heads.forEach((h) => h.removeAttribute('aria-sort'));
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        const key = (row) => {
          const cell = row.cells[col];
          const v = cell.dataset.sort;
          return v !== undefined && v !== '' && !isNaN(Number(v)) ? Number(v) : cell.textContent.trim();
        };
        rows.sort((a, b) => {
          const x = key(a), y = key(b);
          const d = typeof x === 'number' && typeof y === 'number' ? x - y : collator.compare(String(x), String(y));
          return asc ? d : -d;
        });
        rows.forEach((r) => body.appendChild(r));
      };
      th.addEventListener('click', run);
      th.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); run(); } });
    });
  }
  document.querySelectorAll('table.sortable-table').forEach(makeSortable);

  // Irreversible actions (closing a meeting, finalising) ask first.
  document.querySelectorAll('form[data-confirm]').forEach((form) => {
    form.addEventListener('submit', (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });

  /** The map: tiles when MAP_TILE_URL is set, else the points on a plain background. */
  const el = document.getElementById('map');
  const dataEl = document.getElementById('map-data');
  if (!el || !dataEl || typeof window.L === 'undefined') return;
  const L = window.L;
  const data = JSON.parse(dataEl.textContent || '{}');
  const map = L.map(el, { preferCanvas: true, attributionControl: !!el.dataset.tileUrl });
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { maxZoom: 18 }).addTo(map);
  }
  const colour = { visit: '#1565c0', visitFlagged: '#b26a00', checkin: '#6a1b9a', checkinOut: '#b3261e' };
  const bounds = [];
  (data.centres || []).forEach((c) => {
    L.circle([c.lat, c.lon], { radius: 1000, color: '#8e1b14', weight: 1, fillOpacity: 0.03 })
      .bindTooltip(c.name).addTo(map);
    bounds.push([c.lat, c.lon]);
  });
  (data.points || []).forEach((p) => {
    const c = p.kind === 'visit' ? (p.flagged ? colour.visitFlagged : colour.visit)
      : (p.flagged ? colour.checkinOut : colour.checkin);
    L.circleMarker([p.lat, p.lon], { radius: 4, color: c, weight: 1, fillOpacity: 0.8 }).addTo(map);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 });
  else map.setView([34.36, 107.24], 9);
})();
