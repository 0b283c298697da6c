// Hand-written SVG charts: lines with interval bands, grouped bars and a horizontal
// waterfall. Each is a <figure> with a title, a legend, an <svg role="img"> with
// <title>/<desc>, and its data as a table in a <details>, for screen readers and for
// anyone who wants the numbers. Charts redraw at their container's width.

import { h, s, id, table } from './dom.js';
import { t, tick, date, getTimeZone } from './i18n.js';

const ok = (v) => typeof v === 'number' && Number.isFinite(v);
let ro = null;

// chart returns a card with a figure. o: {type: 'line'|'bar'|'waterfall', title, subtitle,
// desc, series: [{label, values, cls, dash, step}], bands: [{lo, hi, cls, label}], x,
// xType, steps, table, testid, …}; the legend comes from the series and bands.
export function chart(o) {
  const tid = id('ct');
  const did = id('cd');
  const holder = h('div', { class: 'chart-svg' });
  const kind = o.type === 'bar' ? 'bar' : 'line';
  const legend = [...(o.series || []).map((x) => [x.label, `${kind} ${x.cls}${x.dash ? ' dash' : ''}`]),
    ...(o.bands || []).map((b) => [b.label, `band ${b.cls}`])];
  const fig = h('figure', { class: 'chart', 'data-testid': o.testid },
    h('figcaption', {}, h('span', { class: 'chart-title' }, o.title), o.subtitle ? h('span', { class: 'chart-sub' }, o.subtitle) : null),
    o.type !== 'waterfall' && legend.length > 1 ? h('ul', { class: 'legend' }, legend.map(([l, c]) => h('li', {}, h('span', { class: 'sw ' + c, 'aria-hidden': 'true' }), l))) : null,
    holder,
    o.table ? h('details', { class: 'chart-data' }, h('summary', {}, t('chart.data')), table({ caption: o.title, ...o.table })) : null);
  const render = { line: lineChart, bar: barChart, waterfall }[o.type] || lineChart;
  fig._draw = () => {
    const w = Math.max(280, Math.round(holder.clientWidth || 640));
    fig._w = w;
    const svg = render(o, w);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-labelledby', `${tid} ${did}`);
    svg.prepend(s('title', { id: tid }, o.title), s('desc', { id: did }, o.desc || ''));
    holder.replaceChildren(svg);
  };
  requestAnimationFrame(() => {
    if (!fig.isConnected) return; // drawn once attached, when the width is known
    fig._draw();
    if (typeof ResizeObserver === 'undefined') return;
    ro ||= new ResizeObserver((es) => es.forEach((e) => {
      const f = e.target;
      if (!f.isConnected) ro.unobserve(f);
      else if (Math.abs(e.contentRect.width - f._w) > 4) f._draw();
    }));
    ro.observe(fig);
  });
  return h('section', { class: 'card' }, fig, o.after || null);
}

// niceTicks returns about n round values covering [lo, hi].
export function niceTicks(lo, hi, n = 5) {
  if (!(hi > lo)) {
    const p = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= p;
    hi += p;
  }
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((x) => x >= raw);
  const out = [];
  for (let v = Math.floor(lo / step) * step; v <= Math.ceil(hi / step) * step + step / 2; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  return out;
}

function extent(vals, zero) {
  let lo = zero ? 0 : Infinity;
  let hi = zero ? 0 : -Infinity;
  for (const v of vals) if (ok(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  return lo === Infinity ? [0, 1] : [lo, hi];
}

// frame draws the y grid of a chart and returns its scales.
function frame(W, H, vals, zero, m = { l: 52, r: 12, t: 12, b: 28 }) {
  const yt = niceTicks(...extent(vals, zero), H < 240 ? 4 : 5);
  const [ylo, yhi] = [yt[0], yt[yt.length - 1]];
  const ih = H - m.t - m.b;
  const Y = (v) => m.t + ih - ((v - ylo) / (yhi - ylo || 1)) * ih;
  const svg = s('svg', { class: 'svgchart', viewBox: `0 0 ${W} ${H}`, width: W, height: H });
  const g = s('g', { 'aria-hidden': 'true' });
  svg.append(g);
  return { svg, g, Y, m, ih, iw: W - m.l - m.r, yt };
}

function yAxis(f, W, fmt) {
  for (const v of f.yt) {
    f.g.append(s('line', { class: v === 0 ? 'axis' : 'grid', x1: f.m.l, x2: W - f.m.r, y1: f.Y(v), y2: f.Y(v) }),
      s('text', { class: 'tick', x: f.m.l - 6, y: f.Y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  }
}

const HOUR = 3600e3;

// timeTicks puts ticks on local midnights (or whole hours) of the unit's time zone.
function timeTicks(x0, x1, max) {
  const steps = [1, 3, 6, 12, 24, 48, 168, 336, 672].map((k) => k * HOUR);
  const step = steps.find((st) => (x1 - x0) / st <= max) || steps[steps.length - 1];
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: getTimeZone(), hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })
    .formatToParts(x0).map((x) => [x.type, +x.value]));
  let v = x0 - ((p.hour % 24) * 3600 + p.minute * 60 + p.second) * 1000;
  while (v < x0) v += Math.min(step, 24 * HOUR);
  const out = [];
  for (; v <= x1; v += step) out.push(v);
  return { ticks: out, daily: step >= 24 * HOUR };
}

function lineChart(o, W) {
  const H = o.height || (W < 480 ? 220 : 280);
  const xs = o.x;
  const n = xs.length;
  const all = o.series.flatMap((x) => x.values).concat(...(o.bands || []).flatMap((b) => [b.lo, b.hi]));
  const f = frame(W, H, all, o.zero !== false);
  const { g, Y, m, iw, ih } = f;
  const [x0, x1] = n ? [xs[0], xs[n - 1]] : [0, 1];
  const X = (v) => m.l + (x1 === x0 ? iw / 2 : ((v - x0) / (x1 - x0)) * iw);
  yAxis(f, W, o.yFormat || tick);
  let xt;
  let xFmt = o.xFormat;
  if (o.xType === 'time') {
    const tt = timeTicks(x0, x1, Math.max(2, Math.floor(iw / 74)));
    xt = tt.ticks;
    xFmt ||= (v) => date(v, tt.daily ? 'day' : 'hour');
  } else {
    xt = niceTicks(x0, x1, Math.max(2, Math.floor(iw / 60))).filter((v) => v >= x0 && v <= x1 && Number.isInteger(v));
    xFmt ||= String;
  }
  for (const v of xt) {
    g.append(s('line', { class: 'grid v', x1: X(v), x2: X(v), y1: m.t, y2: m.t + ih }),
      s('text', { class: 'tick', x: X(v), y: H - 8, 'text-anchor': 'middle' }, xFmt(v)));
  }
  const pt = (i, v) => `${X(xs[i]).toFixed(1)},${Y(v).toFixed(1)}`;
  for (const b of o.bands || []) {
    const top = xs.map((_, i) => (ok(b.hi[i]) ? pt(i, b.hi[i]) : '')).filter(Boolean);
    const bot = xs.map((_, i) => (ok(b.lo[i]) ? pt(i, b.lo[i]) : '')).filter(Boolean).reverse();
    if (top.length) g.append(s('path', { class: `band ${b.cls}`, d: `M${top.join('L')}L${bot.join('L')}Z` }));
  }
  for (const se of o.series) {
    let d = '';
    let pen = false;
    se.values.forEach((v, i) => {
      if (!ok(v)) return void (pen = false);
      const [px, py] = pt(i, v).split(',');
      d += !pen ? `M${px},${py}` : se.step ? `H${px}V${py}` : `L${px},${py}`;
      pen = true;
    });
    if (d) g.append(s('path', { class: `line ${se.cls}${se.dash ? ' dash' : ''}`, d }));
  }
  if (n > 1) crosshair(f.svg, { n, xs, X, Y, m, W, ih, o, xFmt: o.tipX || xFmt, yFmt: o.tipY || o.yFormat || tick });
  return f.svg;
}

// crosshair reads out the values under the pointer, or under the arrow keys when the
// chart has focus (Home/End, PageUp/PageDown jump).
function crosshair(svg, c) {
  const { xs, X, m, o } = c;
  const vline = s('line', { class: 'cross', y1: m.t, y2: m.t + c.ih });
  const dots = o.series.map((se) => s('circle', { class: `dot ${se.cls}`, r: 3.5 }));
  const box = s('rect', { class: 'tip', rx: 4, y: m.t + 4 });
  const txt = s('text', { class: 'tiptext' });
  const gx = s('g', { 'aria-hidden': 'true', visibility: 'hidden' }, vline, dots, box, txt);
  const hit = s('rect', { class: 'hit', x: m.l, y: m.t, width: c.W - m.l - m.r, height: c.ih });
  svg.append(gx, hit);
  svg.setAttribute('tabindex', '0');
  let cur = -1;
  const set = (el, a) => Object.entries(a).forEach(([k, v]) => el.setAttribute(k, v));
  const show = (i) => {
    cur = Math.max(0, Math.min(c.n - 1, i));
    const x = X(xs[cur]);
    set(vline, { x1: x, x2: x });
    const lines = [c.xFmt(xs[cur])];
    o.series.forEach((se, k) => {
      const v = se.values[cur];
      set(dots[k], ok(v) ? { visibility: 'visible', cx: x, cy: c.Y(v) } : { visibility: 'hidden' });
      lines.push(`${se.label}: ${ok(v) ? c.yFmt(v) : '—'}`);
    });
    for (const b of o.bands || []) if (ok(b.lo[cur])) lines.push(`${b.label}: ${c.yFmt(b.lo[cur])} – ${c.yFmt(b.hi[cur])}`);
    txt.replaceChildren(...lines.map((l, j) => s('tspan', { x: 0, dy: j ? 15 : 0, class: j ? null : 'tiphead' }, l)));
    const w = Math.max(...lines.map((l) => l.length)) * 7 + 16;
    const tx = x + 10 + w > c.W - 4 ? x - 10 - w : x + 10;
    set(box, { x: tx, width: w, height: lines.length * 15 + 10 });
    set(txt, { transform: `translate(${tx + 8},${m.t + 21})` });
    set(gx, { visibility: 'visible' });
  };
  const hide = () => gx.setAttribute('visibility', 'hidden');
  hit.addEventListener('pointermove', (e) => {
    const r = svg.getBoundingClientRect();
    const px = ((e.clientX - r.left) / r.width) * c.W;
    show(xs.reduce((best, v, i) => (Math.abs(X(v) - px) < Math.abs(X(xs[best]) - px) ? i : best), 0));
  });
  hit.addEventListener('pointerleave', hide);
  svg.addEventListener('blur', hide);
  svg.addEventListener('focus', () => show(cur < 0 ? c.n - 1 : cur));
  svg.addEventListener('keydown', (e) => {
    const big = Math.max(1, Math.round(c.n / 20));
    const to = { ArrowLeft: cur - 1, ArrowRight: cur + 1, PageUp: cur - big, PageDown: cur + big, Home: 0, End: c.n - 1 }[e.key];
    if (to === undefined) return;
    show(to);
    e.preventDefault();
  });
}

// barChart: grouped bars, one group per category.
function barChart(o, W) {
  const H = o.height || (W < 480 ? 220 : 280);
  const f = frame(W, H, o.series.flatMap((x) => x.values), true);
  const { g, Y, m, iw } = f;
  const yFmt = o.yFormat || tick;
  yAxis(f, W, yFmt);
  const cats = o.categories;
  const gw = iw / Math.max(1, cats.length);
  const pad = Math.min(gw * 0.2, 10);
  const bw = Math.max(1, Math.min(44, (gw - pad) / o.series.length));
  const inset = (gw - bw * o.series.length) / 2;
  const every = Math.ceil(cats.length / Math.max(1, Math.floor(iw / 44)));
  cats.forEach((c, i) => {
    o.series.forEach((se, k) => {
      const v = se.values[i];
      if (!ok(v)) return;
      g.append(s('rect', { class: `bar ${se.cls}`, x: m.l + i * gw + inset + k * bw, y: Math.min(Y(v), Y(0)), width: Math.max(0.5, bw - (bw > 3 ? 1 : 0)), height: Math.max(0.5, Math.abs(Y(v) - Y(0))) }));
    });
    if (i % every === 0) g.append(s('text', { class: 'tick', x: m.l + i * gw + gw / 2, y: H - 8, 'text-anchor': 'middle' }, c));
  });
  return f.svg;
}

// waterfall: horizontal, one row per step, so that labels stay readable on a phone.
// o.steps: [{label, value, total}].
function waterfall(o, W) {
  const rowH = 28;
  const narrow = W < 520;
  const lw = narrow ? Math.round(W * 0.36) : 180;
  const H = 34 + o.steps.length * rowH;
  let run = 0;
  const bars = o.steps.map((st) => {
    const a = st.total ? 0 : run;
    run = st.total ? st.value : run + st.value;
    return { ...st, a, b: run };
  });
  const xt = niceTicks(...extent(bars.flatMap((b) => [b.a, b.b]), true), narrow ? 3 : 5);
  const x1 = W - (narrow ? 84 : 120);
  const X = (v) => lw + ((v - xt[0]) / (xt[xt.length - 1] - xt[0] || 1)) * (x1 - lw);
  const fmt = o.format || tick;
  const svg = s('svg', { class: 'svgchart waterfall', viewBox: `0 0 ${W} ${H}`, width: W, height: H });
  for (const v of xt) {
    svg.append(s('line', { class: v === 0 ? 'axis' : 'grid', x1: X(v), x2: X(v), y1: 8, y2: H - 26, 'aria-hidden': 'true' }),
      s('text', { class: 'tick', x: X(v), y: H - 8, 'text-anchor': 'middle', 'aria-hidden': 'true' }, tick(v)));
  }
  bars.forEach((b, i) => {
    const y = 8 + i * rowH;
    const cls = b.total ? 'total' : b.value >= 0 ? 'pos' : 'neg';
    svg.append(s('text', { class: 'wf-label' + (b.total ? ' strong' : ''), x: lw - 8, y: y + rowH / 2 + 4, 'text-anchor': 'end' }, b.label),
      s('rect', { class: `wf ${cls}`, x: Math.min(X(b.a), X(b.b)), y: y + 5, width: Math.max(1, Math.abs(X(b.b) - X(b.a))), height: rowH - 10 }),
      s('text', { class: 'wf-value ' + cls, x: W - 4, y: y + rowH / 2 + 4, 'text-anchor': 'end' }, (b.total || b.value < 0 ? '' : '+') + fmt(b.value)));
    if (i < bars.length - 1) svg.append(s('line', { class: 'wf-link', x1: X(b.b), x2: X(b.b), y1: y + rowH - 5, y2: y + rowH + 5, 'aria-hidden': 'true' }));
  });
  return svg;
}
