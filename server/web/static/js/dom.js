// DOM helpers. Everything that comes from the API is put in as text, never as HTML.

const SVGNS = 'http://www.w3.org/2000/svg';

function set(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k === 'class') el.setAttribute('class', v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function add(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// h creates an HTML element: h('td', {class: 'num'}, '1,234').
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  set(el, attrs);
  add(el, children);
  return el;
}

// s creates an SVG element.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  set(el, attrs);
  add(el, children);
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

let uid = 0;
export function id(prefix = 'id') {
  uid += 1;
  return `${prefix}-${uid}`;
}

// nc is a numeric (right-aligned) table column.
export const nc = (label) => ({ label, num: true });

// table builds an accessible table: cols are labels or nc(label), rows are arrays of
// cells (strings or nodes) or {cells, className}.
export function table({ caption, cols, rows, testid, className, showCaption }) {
  cols = cols.map((c) => (typeof c === 'string' ? { label: c } : c));
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || null },
    h('table', { class: className || null, 'data-testid': testid || null },
      caption ? h('caption', { class: showCaption ? null : 'visually-hidden' }, caption) : null,
      h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', { class: r.className || null }, (r.cells || r).map((v, i) =>
        i === 0 && !cols[0].num ? h('th', { scope: 'row' }, v) : h('td', { class: cols[i]?.num ? 'num' : null }, v)))))));
}

// stat is a figure with its label: the building block of the KPI cards.
export function stat(label, value, { note, testid } = {}) {
  return h('div', { class: 'stat' },
    h('dt', {}, label),
    h('dd', {}, h('span', { class: 'stat-value', 'data-testid': testid || null }, value), note ? h('span', { class: 'stat-note' }, note) : null));
}

export function icon(name) {
  const paths = {
    check: 'M4 10.5l4 4 8-9',
    cross: 'M5 5l10 10M15 5L5 15',
    warn: 'M10 3l8 14H2zM10 8v4M10 14.5v.5',
    info: 'M10 9v6M10 5.5v.5',
    up: 'M10 15V5M5 10l5-5 5 5',
    down: 'M10 5v10M5 10l5 5 5-5',
    lock: 'M5 9h10v8H5zM7 9V6a3 3 0 016 0v3',
  };
  return s('svg', { class: 'icon', viewBox: '0 0 20 20', 'aria-hidden': 'true' },
    name === 'info' ? s('circle', { cx: 10, cy: 10, r: 8 }) : null,
    s('path', { d: paths[name] || paths.info }));
}
