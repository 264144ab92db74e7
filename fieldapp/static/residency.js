// Residency staff pages: sortable tables, a print button, confirmation before
// rotating a poster code. No inline scripts (CSP script-src 'self').
(function () {
  'use strict';

  /** @param {HTMLTableCellElement} cell @param {string} kind */
  function cellValue(cell, kind) {
    const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    if (kind === 'num') {
      const n = parseFloat(raw);
      return Number.isNaN(n) ? -Infinity : n;
    }
    return raw;
  }

  /** @param {HTMLTableElement} table */
  function makeSortable(table) {
    const headers = Array.from(table.tHead ? table.tHead.rows[0].cells : []);
    headers.forEach((th, index) => {
      const kind = th.dataset.sort;
      if (!kind) return;
      th.tabIndex = 0;
      const sort = () => {
        const ascending = th.getAttribute('aria-sort') !== 'ascending';
        headers.forEach((h) => h.removeAttribute('aria-sort'));
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        const body = table.tBodies[0];
        const rows = Array.from(body.rows).filter((r) => r.cells.length === headers.length);
        rows.sort((a, b) => {
          const x = cellValue(a.cells[index], kind);
          const y = cellValue(b.cells[index], kind);
          const c = kind === 'num' ? x - y : String(x).localeCompare(String(y), 'zh-Hans-CN');
          return ascending ? c : -c;
        });
        rows.forEach((r) => body.appendChild(r));
      };
      th.addEventListener('click', sort);
      th.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
    });
  }

  document.querySelectorAll('table.sortable').forEach(makeSortable);
  document.querySelectorAll('[data-print]').forEach((b) => b.addEventListener('click', () => window.print()));
  document.querySelectorAll('form[data-confirm]').forEach((form) => {
    form.addEventListener('submit', (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });
}());
