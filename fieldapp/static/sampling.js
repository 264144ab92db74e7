// Staff sampling pages (no inline scripts under the CSP): the print button, and the bulk
// assignment form on the cycle page, whose village checkboxes sit in the table rows
// (associated with the form by their `form` attribute).

/** @param {HTMLFormElement} form @returns {HTMLInputElement[]} */
function villageBoxes(form) {
  return Array.from(form.elements).filter((el) => el.name === 'village_ids');
}

/** @param {HTMLFormElement} form */
function showCount(form) {
  const out = form.querySelector('[data-selected-count]');
  if (out) out.textContent = String(villageBoxes(form).filter((box) => box.checked).length);
}

/**
 * Tick exactly the villages without an evaluator, of the chosen evaluator's county.
 * @param {HTMLFormElement} form
 */
function selectUnassigned(form) {
  const select = form.querySelector('[data-evaluator]');
  const option = select && select.selectedOptions[0];
  const county = option ? option.dataset.county : '';
  for (const box of villageBoxes(form)) {
    box.checked = box.dataset.unassigned === 'true' && (!county || box.dataset.county === county);
  }
  showCount(form);
}

document.addEventListener('click', (event) => {
  const target = /** @type {Element} */ (event.target);
  if (target.closest('[data-print]')) {
    window.print();
    return;
  }
  const all = target.closest('[data-select-unassigned]');
  if (all && all.form) {
    selectUnassigned(all.form);
    return;
  }
  const none = target.closest('[data-select-none]');
  if (none && none.form) {
    for (const box of villageBoxes(none.form)) box.checked = false;
    showCount(none.form);
  }
});

document.addEventListener('change', (event) => {
  const box = /** @type {HTMLInputElement} */ (event.target);
  if (box.name === 'village_ids' && box.form) showCount(box.form);
});

// The browser may restore ticks on back/forward: show their count.
const bulkForm = document.getElementById('bulk-assign');
if (bulkForm instanceof HTMLFormElement) showCount(bulkForm);
