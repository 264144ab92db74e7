// Small behaviours shared by staff pages (no inline scripts: CSP script-src 'self').
for (const button of document.querySelectorAll('[data-print]')) {
  button.addEventListener('click', () => window.print());
}
