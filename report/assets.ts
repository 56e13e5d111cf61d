/**
 * The report's stylesheet and its one script, written once to `report/assets/` and linked by every page.
 * The script only enhances: without it every row of a table shows, every link works and a thumbnail's
 * link opens its enlarged picture. It sorts tables (`th[data-sort]`, by each cell's `data-value`), pages
 * them (`table[data-page-size]` with a `.pager`), filters them by neuron id (`#neuron-search`) and opens
 * enlarged pictures in a dialog (`a.zoom` → `dialog#zoom`). Text from the data is set with textContent
 * only, so a hostile class or file name stays text.
 */

export const REPORT_CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 1400px; }
h1 { font-size: 1.5em; margin-bottom: 0.3em; } h2 { font-size: 1.2em; margin-top: 1.6em; } h3 { font-size: 1.05em; margin: 0.4em 0; }
nav.crumbs { font-size: 0.9em; color: #555; } nav.crumbs a { margin-right: 0.3em; }
code { background: #f3f3f3; padding: 0 0.25em; border-radius: 3px; word-break: break-all; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
th[data-sort] { cursor: pointer; user-select: none; } th[data-sort]::after { content: ' ↕'; color: #aaa; }
th[aria-sort=ascending]::after { content: ' ▲'; color: #333; } th[aria-sort=descending]::after { content: ' ▼'; color: #333; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; }
dl.summary dt { font-weight: 600; } dl.summary dd { margin: 0; }
dl.glossary dt { font-weight: 600; margin-top: 0.5em; } dl.glossary dd { margin: 0.1em 0 0 1.5em; max-width: 60em; }
.charts { display: flex; flex-wrap: wrap; gap: 1em 2.5em; align-items: flex-start; }
figure.chart { margin: 0.5em 0; } figure.chart figcaption { font-size: 0.85em; color: #555; max-width: 36em; }
figure.chart svg { max-width: 100%; height: auto; }
.layer-stats { font-size: 1.05em; }
.toolbar { display: flex; gap: 1em; align-items: center; margin: 0.5em 0; flex-wrap: wrap; }
.pager button { margin: 0 1px; min-width: 2.2em; } .pager button[aria-current=page] { font-weight: 700; background: #dde8ff; }
.methods { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5em; }
.vn { margin: 0.4em 0 0.9em; padding: 0.4em 0.5em; border: 1px solid #e4e4e4; border-radius: 4px; }
.vn .meta { font-size: 0.9em; color: #444; margin-bottom: 0.3em; }
.thumbs a.zoom { display: inline-block; margin: 0 2px 2px 0; }
.thumbs img { width: 64px; height: 64px; image-rendering: pixelated; border: 1px solid #ccc; display: block; }
.thumbs .missing { display: inline-block; width: 64px; height: 64px; background: #eee; margin: 0 2px 2px 0; }
.labelbar { display: flex; height: 10px; width: 100%; max-width: 360px; margin: 0.2em 0 0.35em; border-radius: 2px; overflow: hidden; background: #eee; }
.labelbar span { display: block; height: 100%; }
table.circuit { font-size: 0.85em; margin: 0.3em 0 0; } table.circuit td.bar { width: 90px; }
table.circuit td.bar span { display: block; height: 8px; background: #4c78a8; }
dialog#zoom { border: none; padding: 0.6em; max-width: 92vw; } dialog#zoom::backdrop { background: rgba(0,0,0,0.6); }
dialog#zoom img { width: min(80vw, 448px); height: auto; image-rendering: pixelated; display: block; }
dialog#zoom figure { margin: 0; } dialog#zoom figcaption { font-size: 0.9em; margin-top: 0.4em; max-width: 448px; }
.note { color: #8a5a00; font-size: 0.9em; }
.evidence { display: flex; flex-wrap: wrap; gap: 0 2.5em; }
.evidence table { font-size: 0.9em; }
.decision { font-weight: 600; margin: 0.2em 0; }
.gates { font-size: 0.9em; margin: 0.2em 0; }
th.best, td.best { background: #fff6d6; }
td.pass, span.pass { color: #1a7f37; font-weight: 600; } td.fail, span.fail { color: #b42318; font-weight: 600; }
tr.shown td { background: #fff6d6; }
td.sig { font-weight: 700; }
.badge { display: inline-block; font-size: 0.9em; padding: 0.1em 0.5em; border-radius: 3px; background: #eee; margin: 0.2em 0; }
.badge.sig { background: #dcf5e3; color: #1a7f37; }
.muted { color: #777; }
@media (max-width: 900px) { .methods { grid-template-columns: 1fr; } }
`;

export const REPORT_JS = `'use strict';
(function () {
  function valueOf(cell) {
    var v = cell.getAttribute('data-value');
    if (v === null) v = cell.textContent || '';
    var n = Number(v);
    return v !== '' && !isNaN(n) ? n : v.toLowerCase();
  }

  function compare(a, b) {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    if (typeof a === 'number') return -1;
    if (typeof b === 'number') return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function setUpTable(table) {
    var tbody = table.tBodies[0];
    if (!tbody) return;
    var size = Number(table.getAttribute('data-page-size')) || 0;
    var pager = document.querySelector('.pager[data-for="' + table.id + '"]');
    var search = document.querySelector('input[data-search-for="' + table.id + '"]');
    var status = document.querySelector('[data-status-for="' + table.id + '"]');
    var state = { page: 0, filter: '' };

    function matching() {
      var rows = Array.prototype.slice.call(tbody.rows);
      if (!state.filter) return rows;
      return rows.filter(function (r) { return (r.getAttribute('data-neuron') || '').indexOf(state.filter) === 0; });
    }

    function render() {
      var rows = Array.prototype.slice.call(tbody.rows);
      var shown = matching();
      var pages = size > 0 ? Math.max(1, Math.ceil(shown.length / size)) : 1;
      if (state.page >= pages) state.page = pages - 1;
      var first = size > 0 ? state.page * size : 0;
      var last = size > 0 ? first + size : shown.length;
      var visible = new Set(shown.slice(first, last));
      rows.forEach(function (r) { r.hidden = !visible.has(r); });
      if (status) {
        status.textContent = shown.length === 0 ? 'no neuron matches' :
          'neurons ' + (first + 1) + '–' + Math.min(last, shown.length) + ' of ' + shown.length;
      }
      if (pager) drawPager(pages);
    }

    function drawPager(pages) {
      pager.textContent = '';
      function button(label, page, current) {
        var b = document.createElement('button');
        b.type = 'button';
        b.textContent = label;
        b.setAttribute('data-page', String(page));
        if (current) b.setAttribute('aria-current', 'page');
        b.disabled = page < 0 || page >= pages;
        b.addEventListener('click', function () { state.page = page; render(); });
        pager.appendChild(b);
      }
      button('‹', state.page - 1, false);
      for (var p = 0; p < pages; p++) {
        if (p === 0 || p === pages - 1 || Math.abs(p - state.page) <= 2) button(String(p + 1), p, p === state.page);
        else if (Math.abs(p - state.page) === 3) pager.appendChild(document.createTextNode(' … '));
      }
      button('›', state.page + 1, false);
    }

    Array.prototype.forEach.call(table.querySelectorAll('th[data-sort]'), function (th) {
      th.tabIndex = 0;
      function sort() {
        var column = th.cellIndex;
        var descending = th.getAttribute('aria-sort') === 'ascending';
        Array.prototype.forEach.call(table.querySelectorAll('th[data-sort]'), function (other) { other.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
        var rows = Array.prototype.slice.call(tbody.rows);
        rows.sort(function (a, b) {
          var c = compare(valueOf(a.cells[column]), valueOf(b.cells[column]));
          return descending ? -c : c;
        });
        rows.forEach(function (r) { tbody.appendChild(r); });
        state.page = 0;
        render();
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(); });
    });

    if (search) {
      search.addEventListener('input', function () {
        state.filter = search.value.trim();
        state.page = 0;
        render();
      });
      search.addEventListener('keydown', function (e) {
        if (e.key !== 'Enter') return;
        var exact = tbody.querySelector('tr[data-neuron="' + CSS.escape(search.value.trim()) + '"] a');
        var only = matching();
        var link = exact || (only.length === 1 ? only[0].querySelector('a') : null);
        if (link) window.location.href = link.getAttribute('href');
      });
    }
    render();
  }

  function setUpZoom() {
    var dialog = document.getElementById('zoom');
    if (!dialog || typeof dialog.showModal !== 'function') return;
    var img = dialog.querySelector('img');
    var caption = dialog.querySelector('figcaption');
    Array.prototype.forEach.call(document.querySelectorAll('a.zoom'), function (a) {
      a.addEventListener('click', function (e) {
        e.preventDefault();
        img.src = a.getAttribute('href');
        img.alt = a.getAttribute('data-caption') || '';
        caption.textContent = a.getAttribute('data-caption') || '';
        dialog.showModal();
      });
    });
    dialog.addEventListener('click', function () { dialog.close(); });
  }

  Array.prototype.forEach.call(document.querySelectorAll('table[data-page-size], table.sortable'), setUpTable);
  setUpZoom();
})();
`;
