// Operations pages: energy (plan vs actual), forecasts, parking, water and rentals.

import { t, money, pct, num, big, unit, date, tick, setTimeZone, DASH } from './i18n.js';
import { h, clear, table, stat, nc } from './dom.js';
import { chart } from './charts.js';
import { api } from './api.js';
import { cached, state, whenReady, errorState, card, policySelect, currentPolicy, policyName, policyOrder, policyTable, BASELINE, get, empty, loading } from './ui.js';

export function setUnitHeader(sum) {
  document.getElementById('unit-name').textContent = sum?.unit?.name || '';
  setTimeZone(sum?.unit?.time_zone);
}

async function loadSummary(ctx) {
  loading(ctx.el);
  const sum = await whenReady(ctx.el, () => cached('/summary'), ctx.signal);
  setUnitHeader(sum);
  clear(ctx.el);
  return sum;
}

const sumOf = (a) => a.reduce((x, v) => x + (Number.isFinite(v) ? v : 0), 0);
const maxOf = (a) => a.reduce((x, v) => (Number.isFinite(v) && v > x ? v : x), -Infinity);
const minOf = (a) => -maxOf(a.map((v) => -v));
const kw = (v) => `${num(v, 1)} kW`;
const m3 = (v) => unit(v, 'm³');

// ---- Energy ----

const WEEK = 168;

// peakWeek is the middle week of the month with the baseline's highest import.
function peakWeek(sum) {
  const months = sum.policies?.[BASELINE]?.monthly || [];
  const start = Date.parse(sum.start);
  if (!months.length || !Number.isFinite(start)) return 1;
  const best = months.reduce((a, m) => ((m.peak_import_kw || 0) > (a.peak_import_kw || 0) ? m : a));
  const ms = Date.parse(`${best.month}-15T00:00:00${sum.start.slice(19) || 'Z'}`);
  return Number.isFinite(ms) ? Math.max(1, Math.floor((ms - start) / (WEEK * 3600e3)) + 1) : 1;
}

// columns reads the timeseries table by column name; x is each row's time in ms.
function columns(ts) {
  const idx = Object.fromEntries((ts.columns || []).map((c, i) => [c, i]));
  const step = (ts.step_minutes || 60) * 60e3;
  return { col: (name) => ts.rows.map((r) => (name in idx ? r[idx[name]] : NaN)), x: ts.rows.map((_, i) => Date.parse(ts.start) + i * step), stepH: step / 3600e3 };
}

export async function energy(ctx) {
  const sum = await loadSummary(ctx);
  const { el, tools, signal } = ctx;
  const pol = currentPolicy(sum);
  const weeks = Math.max(1, Math.ceil((sum.hours || 8760) / WEEK));
  if (!state.week || state.week > weeks) state.week = peakWeek(sum);
  const start = Date.parse(sum.start);
  const weekLabel = (w) => {
    const a = start + (w - 1) * WEEK * 3600e3;
    return t('energy.weekOf', { n: w, from: date(a, 'day'), to: date(a + (WEEK - 1) * 3600e3, 'day') });
  };
  const go = (w) => {
    state.week = Math.min(weeks, Math.max(1, w));
    energy(ctx);
  };
  const btn = (label, to, attrs) => h('button', { type: 'button', class: 'btn small', onclick: () => go(to), ...attrs }, label);
  tools.replaceChildren(policySelect(sum, () => energy(ctx)) || '',
    h('div', { class: 'inline-field' },
      h('label', { for: 'week-select' }, t('energy.weekLabel')),
      btn('‹', state.week - 1, { 'aria-label': t('energy.prevWeek'), disabled: state.week <= 1 }),
      h('select', { id: 'week-select', 'data-testid': 'week-select', onchange: (e) => go(+e.target.value) },
        Array.from({ length: weeks }, (_, i) => h('option', { value: i + 1, selected: i + 1 === state.week }, weekLabel(i + 1)))),
      btn('›', state.week + 1, { 'aria-label': t('energy.nextWeek'), disabled: state.week >= weeks }),
      btn(t('energy.peakWeek'), peakWeek(sum), { class: 'btn small ghost', 'data-testid': 'peak-week' })));
  loading(el);
  const from = (state.week - 1) * WEEK;
  const q = (p) => `/timeseries?policy=${encodeURIComponent(p)}&from=${from}&hours=${Math.min(WEEK, (sum.hours || 8760) - from)}`;
  let base;
  let op;
  try {
    [base, op] = await Promise.all([BASELINE, pol].map((p) => whenReady(el, () => api(q(p), { signal }), signal)));
  } catch (e) {
    if (e.name !== 'AbortError') errorState(el, e, ctx.rerender);
    return;
  }
  if (signal.aborted) return;
  clear(el);
  if (!op.rows?.length) return empty(el);
  const B = columns(base);
  const O = columns(op);
  const bImp = B.col('import_kw');
  const oImp = O.col('import_kw');
  const price = O.col('price_cny_per_kwh');
  const cost = (imp) => sumOf(imp.map((v, i) => v * (price[i] || 0) * O.stepH));
  const kwh = (a) => unit(sumOf(a) * O.stepH, 'kWh');
  const bName = policyName(BASELINE);
  const oName = policyName(pol);
  const vsBase = (v) => ({ note: `${bName}: ${v}` });
  el.append(card(weekLabel(state.week), h('dl', { class: 'kv-grid' },
    stat(t('energy.weekImport'), kwh(oImp), vsBase(kwh(bImp))),
    stat(t('energy.weekPeak'), kw(maxOf(oImp)), vsBase(kw(maxOf(bImp)))),
    stat(t('energy.weekCost'), money(cost(oImp)), vsBase(money(cost(bImp)))),
    stat(t('energy.weekPv'), kwh(O.col('pv_kw')), { note: t('energy.weekLoad', { v: kwh(O.col('load_kw')) }) }))));

  // The data tables give each day's mean and maximum: a week of hours is too long to read.
  const daily = (series) => {
    const per = Math.round(24 / O.stepH);
    const rows = [];
    for (let d = 0; d * per < O.x.length; d++) {
      rows.push([date(O.x[d * per], 'day'), ...series.flatMap((x) => {
        const sl = x.values.slice(d * per, (d + 1) * per);
        return [tick(sumOf(sl) / sl.length), tick(maxOf(sl))];
      })]);
    }
    return { cols: [t('chart.day'), ...series.flatMap((x) => [nc(`${x.label} · ${t('chart.mean')}`), nc(`${x.label} · ${t('chart.max')}`)])], rows };
  };
  const line = (o) => chart({ x: O.x, xType: 'time', tipY: kw, table: daily(o.series), ...o });
  const imp = [{ label: bName, values: bImp, cls: 's2', dash: true }, { label: oName, values: oImp, cls: 's1' }];
  el.append(line({ title: t('energy.importTitle'), subtitle: t('energy.importSub'), series: imp, testid: 'chart-import',
    desc: t('energy.importDesc', { base: bName, op: oName, bpeak: kw(maxOf(bImp)), opeak: kw(maxOf(oImp)) }) }));
  const soc = [{ label: oName, values: O.col('soc_kwh'), cls: 's1' }, { label: bName, values: B.col('soc_kwh'), cls: 's2', dash: true }];
  const kWh = (v) => `${num(v)} kWh`;
  el.append(line({ title: t('energy.socTitle'), series: soc, tipY: kWh, height: 220, testid: 'chart-soc',
    desc: t('energy.socDesc', { op: oName, min: kWh(minOf(soc[0].values)), max: kWh(maxOf(soc[0].values)) }) }));
  const yuan = (v) => `${num(v, 3)} ${t('unit.yuanPerKwh')}`;
  el.append(line({ title: t('energy.priceTitle'), series: [{ label: t('energy.price'), values: price, cls: 's6', step: true }], tipY: yuan,
    yFormat: (v) => num(v, 2), height: 180, testid: 'chart-price', table: null, desc: t('energy.priceDesc', { min: yuan(minOf(price)), max: yuan(maxOf(price)) }) }));

  const P = (p) => sum.policies[p] || {};
  const E = (p) => P(p).energy || {};
  const econ = (p, k) => get(P(p), 'kpi', 'economic', k);
  el.append(policyTable(sum, t('energy.annualTitle'), [
    [t('energy.import'), (p) => unit(E(p).import_kwh, 'kWh')],
    [t('energy.export'), (p) => unit(E(p).export_kwh, 'kWh')],
    [t('energy.pvAvail'), (p) => unit(E(p).pv_kwh, 'kWh')],
    [t('energy.curtailed'), (p) => unit(E(p).curtailed_kwh, 'kWh')],
    [t('energy.load'), (p) => unit(E(p).load_kwh, 'kWh')],
    [t('energy.peak'), (p) => kw(E(p).peak_import_kw)],
    [t('energy.selfConsumption'), (p) => pct(econ(p, 'pv_self_consumption'))],
    [t('energy.loadFactor'), (p) => pct(get(P(p), 'kpi', 'resilience', 'load_factor'))],
    [t('energy.avgPrice'), (p) => (econ(p, 'average_import_price_cny_per_kwh') === undefined ? DASH : yuan(econ(p, 'average_import_price_cny_per_kwh')))],
    [t('energy.revenue'), (p) => money(get(P(p), 'revenue_cny', 'energy'))],
  ], 'energy-annual'));

  const bats = policyOrder(sum).flatMap((p) => (P(p).batteries || []).map((b) =>
    [b.name, policyName(p), pct(b.state_of_health, 2), num(b.equivalent_full_cycles, 1), unit(b.discharged_kwh, 'kWh'), unit(b.loss_kwh, 'kWh')]));
  const c = card(t('energy.batteries'));
  if (!bats.length) empty(c, t('energy.noBatteries'));
  else c.append(table({ caption: t('energy.batteries'), testid: 'batteries', rows: bats,
    cols: [t('col.name'), t('policy.label'), nc(t('energy.soh')), nc(t('energy.cycles')), nc(t('energy.discharged')), nc(t('energy.losses'))] }));
  el.append(c);
}

// ---- Forecasts ----

export async function forecasts(ctx) {
  const { el, tools, signal } = ctx;
  state.days ||= 7;
  tools.replaceChildren(h('label', { class: 'inline-field' }, h('span', {}, t('fc.horizon')),
    h('select', { 'data-testid': 'forecast-days', onchange: (e) => ((state.days = +e.target.value), forecasts(ctx)) },
      [1, 3, 7, 14].map((d) => h('option', { value: d, selected: d === state.days }, t('fc.days', { n: d }))))));
  loading(el);
  let f;
  try {
    f = await whenReady(el, () => cached(`/forecast?days=${state.days}`), signal);
    setUnitHeader(await cached('/summary').catch(() => null));
  } catch (e) {
    if (e.name !== 'AbortError') errorState(el, e, ctx.rerender);
    return;
  }
  if (signal.aborted) return;
  clear(el);
  const hist = f.history || [];
  const fc = f.forecast || [];
  if (!hist.length && !fc.length) return empty(el);
  const actual = new Map((f.actual || []).map((r) => [r[0], r[1]]));
  const nh = hist.length;
  const gap = (n) => Array(n).fill(NaN);
  const after = (a) => [...gap(nh), ...a];
  const series = [
    { label: t('fc.history'), values: [...hist.map((r) => r[1]), ...gap(fc.length)], cls: 's2' },
    { label: t('fc.p50'), values: after(fc.map((r) => r[1])), cls: 's1' },
  ];
  if (actual.size) series.push({ label: t('fc.actual'), values: after(fc.map((r) => actual.get(r[0]) ?? NaN)), cls: 's3', dash: true });
  const errs = fc.map((r) => Math.abs((actual.get(r[0]) ?? NaN) - r[1])).filter(Number.isFinite);
  const level = f.level || 0.8;
  el.append(card(t('fc.summary'), h('dl', { class: 'kv-grid' },
    stat(t('fc.model'), f.model || DASH),
    stat(t('fc.origin'), f.origin ? date(f.origin) : DASH),
    stat(t('fc.coverage'), pct(f.coverage), { testid: 'forecast-coverage', note: t('fc.nominal', { v: pct(level, 0) }) }),
    stat(t('fc.mae'), errs.length ? kw(sumOf(errs) / errs.length) : DASH)),
  f.note ? h('p', { class: 'fine' }, f.note) : null));
  const every = Math.max(1, Math.round(fc.length / 56));
  el.append(chart({
    title: t('fc.title'), subtitle: t('fc.sub', { v: pct(level, 0) }), testid: 'chart-forecast',
    desc: t('fc.desc', { h: nh, n: fc.length, cov: pct(f.coverage) }),
    x: [...hist, ...fc].map((r) => Date.parse(r[0])), xType: 'time', series, tipY: kw,
    bands: [{ lo: after(fc.map((r) => r[2])), hi: after(fc.map((r) => r[3])), cls: 'band1', label: t('fc.band') }],
    table: { cols: [t('chart.time'), nc('P10'), nc('P50'), nc('P90'), nc(t('fc.actual'))],
      rows: fc.filter((_, i) => i % every === 0).map((r) => [date(r[0], 'hour'), num(r[2], 1), num(r[1], 1), num(r[3], 1), num(actual.get(r[0]), 1)]) },
  }));
}

// ---- Parking ----

export async function parking(ctx) {
  const sum = await loadSummary(ctx);
  const { el, tools } = ctx;
  tools.replaceChildren(policySelect(sum, () => parking(ctx)) || '');
  const pol = currentPolicy(sum);
  const lots = sum.policies[pol]?.parking || [];
  if (!lots.length) return empty(el, t('parking.none'));
  const tot = (k) => sumOf(lots.map((l) => l[k] || 0));
  const req = tot('requests');
  el.append(card(t('parking.headline', { policy: policyName(pol) }), h('dl', { class: 'kv-grid' },
    stat(t('parking.revenue'), money(tot('revenue_cny')), { note: t('parking.operatorShare', { v: money(tot('operator_share_cny')) }) }),
    stat(t('parking.residentIncome'), money(tot('resident_share_cny'))),
    stat(t('parking.acceptance'), pct(req ? tot('accepted') / req : NaN), { note: t('parking.requests', { n: big(req) }) }),
    stat(t('kpi.parkingAvailability'), pct(get(sum.policies[pol], 'kpi', 'social', 'resident_parking_availability'), 2), { note: t('parking.conflicts', { n: num(tot('resident_conflicts')) }) }),
    stat(t('parking.turnedAway'), big(tot('turned_away')), { note: t('parking.pricedOut', { n: big(tot('priced_out')) }) }),
    stat(t('parking.occupancy'), pct(tot('mean_occupancy') / lots.length)))));

  const pols = policyOrder(sum);
  const rows = pols.flatMap((p) => (sum.policies[p]?.parking || []).map((l) => ({ className: p === pol ? 'hl' : '',
    cells: [l.name, policyName(p), big(l.requests), big(l.accepted), pct(l.requests ? l.accepted / l.requests : NaN), money(l.revenue_cny), money(l.resident_share_cny),
      num(l.resident_conflicts), pct(l.mean_occupancy), l.mean_price_cny_per_h === undefined ? DASH : `${num(l.mean_price_cny_per_h, 2)} ${t('unit.yuanPerHour')}`] })));
  el.append(card(t('parking.byLot'), table({ caption: t('parking.byLot'), testid: 'parking-table', rows,
    cols: [t('col.lot'), t('policy.label'), nc(t('parking.col.requests')), nc(t('parking.col.accepted')), nc(t('parking.acceptance')), nc(t('parking.revenue')),
      nc(t('parking.residentIncome')), nc(t('parking.col.conflicts')), nc(t('parking.occupancy')), nc(t('parking.col.price'))] })));

}

// ---- Water ----

export async function water(ctx) {
  const sum = await loadSummary(ctx);
  const { el, tools } = ctx;
  tools.replaceChildren(policySelect(sum, () => water(ctx)) || '');
  const pol = currentPolicy(sum);
  const w = sum.policies[pol]?.water;
  if (!w) return empty(el, t('water.none'));
  const r = get(sum.policies[pol], 'kpi', 'resilience') || {};
  const mm = (v) => (v === undefined ? DASH : `${num(v)} mm`);
  el.append(card(t('water.headline', { policy: policyName(pol) }), h('dl', { class: 'kv-grid' },
    stat(t('water.supplied'), m3(w.supplied_m3), { note: t('water.ofDemand', { v: m3(w.demand_m3) }) }),
    stat(t('water.timeReliability'), pct(w.time_reliability), { note: t('water.volumetric', { v: pct(w.volumetric_reliability) }) }),
    stat(t('water.autonomy'), r.water_autonomy_days === undefined ? DASH : t('unit.days', { v: num(r.water_autonomy_days, 1) })),
    stat(t('water.detained'), m3(w.detained_m3), { note: t('water.detainedNote') }),
    stat(t('water.spill'), m3(w.spill_m3)),
    stat(t('water.rain'), mm(w.rain_mm), { note: t('water.inflow', { v: m3(w.inflow_m3) }) }),
    stat(t('water.revenue'), money(get(sum.policies[pol], 'revenue_cny', 'water'))))));
  const W = (p, k) => sum.policies[p]?.water?.[k];
  el.append(policyTable(sum, t('water.table'), [
    [t('water.rain'), (p) => mm(W(p, 'rain_mm'))],
    ...[[t('water.inflowLabel'), 'inflow_m3'], [t('water.demand'), 'demand_m3'], [t('water.supplied'), 'supplied_m3'], [t('water.spill'), 'spill_m3'],
      [t('water.released'), 'released_m3'], [t('water.detained'), 'detained_m3']].map(([l, k]) => [l, (p) => m3(W(p, k))]),
    [t('water.timeReliability'), (p) => pct(W(p, 'time_reliability'))],
    [t('water.volumetricLabel'), (p) => pct(W(p, 'volumetric_reliability'))],
  ], 'water-table'));
}

// ---- Rentals ----

export async function rentals(ctx) {
  const sum = await loadSummary(ctx);
  const { el, tools } = ctx;
  tools.replaceChildren(policySelect(sum, () => rentals(ctx)) || '');
  const pol = currentPolicy(sum);
  const groups = sum.policies[pol]?.rentals || [];
  if (!groups.length) return empty(el, t('rentals.none'));
  const kind = (g) => (g.short_term ? t('rentals.short') : t('rentals.long'));
  const refused = (g) => (g.requests ? `${big(g.refused)} / ${big(g.requests)}` : DASH);
  el.append(h('div', { class: 'cards-grid' }, groups.map((g) => h('section', { class: 'card', 'data-testid': 'rental-card' },
    h('h2', {}, g.name, h('span', { class: 'tag' }, kind(g))),
    h('div', { class: 'occ', role: 'img', 'aria-label': t('rentals.occupancyIs', { v: pct(g.occupancy) }) },
      h('div', { class: 'occ-bar', style: { width: `${Math.max(0, Math.min(1, g.occupancy || 0)) * 100}%` } })),
    h('dl', { class: 'kv-grid' },
      stat(t('rentals.occupancy'), pct(g.occupancy)),
      stat(t('rentals.revenue'), money(g.revenue_cny)),
      stat(t('rentals.adr'), money(g.adr_cny)),
      stat(t('rentals.revpar'), money(g.revpar_cny)),
      stat(t('rentals.nights'), `${big(g.unit_nights_sold)} / ${big(g.unit_nights_available)}`),
      g.requests ? stat(t('rentals.refused'), refused(g), { note: pct(g.refused / g.requests) }) : null)))));
  const rows = policyOrder(sum).flatMap((p) => (sum.policies[p]?.rentals || []).map((g) => ({ className: p === pol ? 'hl' : '',
    cells: [g.name, policyName(p), kind(g), pct(g.occupancy), money(g.adr_cny), money(g.revpar_cny), money(g.revenue_cny), refused(g)] })));
  el.append(card(t('rentals.table'), table({ caption: t('rentals.table'), testid: 'rentals-table', rows,
    cols: [t('col.group'), t('policy.label'), t('rentals.type'), nc(t('rentals.occupancy')), nc(t('rentals.adr')), nc(t('rentals.revpar')), nc(t('rentals.revenue')), nc(t('rentals.refused'))] })));
}
