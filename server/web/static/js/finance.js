// Finance: valuation and C-REIT figures, annual cash flows, the Monte Carlo fan, the
// year-1 bridge from EBITDA to the distributable amount, tranches and rule checks.

import { t, tk, money, pct, num, tick, DASH } from './i18n.js';
import { h, clear, table, stat, icon, nc } from './dom.js';
import { chart } from './charts.js';
import { cached, whenReady, errorState, card, loading, empty } from './ui.js';

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

export async function finance(ctx) {
  const { el, signal } = ctx;
  loading(el);
  let f;
  try {
    f = await whenReady(el, () => cached('/finance'), signal);
  } catch (e) {
    if (e.name === 'AbortError') return;
    if (e.status === 404 && e.code === 'no_finance') {
      clear(el);
      el.append(card(t('fin.none'), h('p', {}, e.message)));
      return;
    }
    errorState(el, e, ctx.rerender);
    return;
  }
  if (signal.aborted) return;
  clear(el);
  const v = f.valuation || {};
  const c = f.creit || {};
  const r = f.risk || null;
  const proj = f.projection || [];

  el.append(card(t('fin.headline'), h('dl', { class: 'kv-grid' },
    stat(t('fin.assetValue'), money(v.asset_value), { testid: 'fin-asset-value', note: isNum(v.discount_rate) ? t('fin.discount', { v: pct(v.discount_rate, 1) }) : '' }),
    stat(t('fin.npv'), money(v.npv), { note: isNum(v.investment) ? t('fin.investment', { v: money(v.investment) }) : '' }),
    stat(t('fin.nav'), money(v.nav), { note: isNum(v.nav_per_unit) ? t('fin.navPerUnit', { v: v.nav_per_unit.toFixed(4) }) : '' }),
    stat(t('fin.irr'), pct(v.irr, 2), { note: isNum(v.project_irr) ? t('fin.projectIrr', { v: pct(v.project_irr, 2) }) : v.irr_note || '' }),
    stat(t('kpi.distributionRate'), pct(c.distribution_rate, 2), { testid: 'fin-distribution-rate', note: isNum(c.distribution_rate_on_nav) ? t('kpi.onNav', { v: pct(c.distribution_rate_on_nav, 2) }) : '' }),
    stat(t('fin.distribution'), money(c.distribution), { note: t('fin.distributable', { v: money(c.distributable_amount) }) }),
    stat(t('fin.payout'), pct(c.payout_ratio, 1), { note: isNum(c.assets_to_net_assets) ? t('fin.leverage', { v: num(c.assets_to_net_assets, 3) }) : '' }),
    r ? stat('CFaR95', money(r.cfar95), { testid: 'fin-cfar95', note: `CFaR99 ${money(r.cfar99)}` }) : null,
    r ? stat(t('fin.rateRange'), `${pct(r.distribution_rate_p5, 2)} – ${pct(r.distribution_rate_p95, 2)}`, { note: t('fin.rateMedian', { v: pct(r.distribution_rate_p50, 2) }) }) : null,
    r ? stat(t('fin.dscrBreach'), pct(r.p_dscr_breach, 1), { note: t('fin.paths', { n: num(r.paths) }) }) : null)));

  if (proj.length) el.append(cashFlow(proj));
  if (r?.fan?.length) el.append(fan(r, proj));
  const bridge = c.bridge || proj[0]?.bridge;
  if (bridge) el.append(bridgeChart(bridge, c));
  el.append(tranches(f.tranches || []));
  el.append(checks(c.checks || []));
  if (proj.length) el.append(projection(proj));
}

function cashFlow(proj) {
  const cats = proj.map((p) => String(p.period || p.year));
  const series = [
    { label: t('fin.revenue'), values: proj.map((p) => p.revenue), cls: 's2' },
    { label: 'EBITDA', values: proj.map((p) => p.ebitda), cls: 's1' },
    { label: t('fin.distribution'), values: proj.map((p) => p.distribution), cls: 's4' },
  ];
  const first = proj[0];
  const last = proj[proj.length - 1];
  return chart({
    type: 'bar', title: t('fin.cashTitle'), subtitle: t('fin.cashSub', { n: proj.length }), testid: 'chart-cashflow',
    desc: t('fin.cashDesc', { from: cats[0], to: cats[cats.length - 1], r0: money(first.revenue), r1: money(last.revenue), d0: money(first.distribution), d1: money(last.distribution) }),
    categories: cats.map((c) => c.slice(0, 4)), series,
    table: { cols: [t('fin.year'), ...series.map((x) => nc(x.label))], rows: proj.map((p, i) => [cats[i], ...series.map((x) => money(x.values[i]))]) },
  });
}

function fan(r, proj) {
  const x = r.fan.map((y) => y.year);
  const base = new Map(proj.map((p) => [p.year, p.distributable]));
  const series = [{ label: t('fin.p50'), values: r.fan.map((y) => y.p50), cls: 's1' }];
  if (proj.length) series.push({ label: t('fin.baseCase'), values: x.map((y) => base.get(y) ?? NaN), cls: 's3', dash: true });
  const bands = [
    { lo: r.fan.map((y) => y.p5), hi: r.fan.map((y) => y.p95), cls: 'band2', label: 'P5–P95' },
    { lo: r.fan.map((y) => y.p25), hi: r.fan.map((y) => y.p75), cls: 'band1', label: 'P25–P75' },
  ];
  const y1 = r.fan[0];
  return chart({
    title: t('fin.fanTitle'), subtitle: t('fin.fanSub', { n: num(r.paths) }), testid: 'chart-fan',
    desc: t('fin.fanDesc', { p5: money(y1.p5), p50: money(y1.p50), p95: money(y1.p95), n: r.fan.length }),
    x, series, bands, zero: false, tipY: money, xFormat: (v) => t('fin.yearN', { n: v }),
    table: { cols: [t('fin.year'), ...['P5', 'P25', 'P50', 'P75', 'P95'].map(nc)], rows: r.fan.map((y) => [String(y.year), money(y.p5), money(y.p25), money(y.p50), money(y.p75), money(y.p95)]) },
  });
}

function bridgeChart(b, c) {
  const adj = b.adjustments || [];
  const shown = adj.filter((a) => isNum(a.amount) && Math.abs(a.amount) >= 0.005);
  const steps = [
    { label: 'EBITDA', value: b.ebitda, total: true },
    ...shown.map((a) => ({ label: tk('adj.', a.name), value: a.amount })),
    { label: t('fin.distributableAmount'), value: b.distributable_amount, total: true },
  ];
  const sum = (b.ebitda || 0) + adj.reduce((x, a) => x + (a.amount || 0), 0);
  const balanced = Math.abs(sum - (b.distributable_amount || 0)) < 0.015;
  return chart({
    type: 'waterfall', title: t('fin.bridgeTitle'), subtitle: t('fin.bridgeSub'), testid: 'chart-bridge', steps, format: tick,
    desc: t('fin.bridgeDesc', { e: money(b.ebitda), d: money(b.distributable_amount), n: shown.length }),
    table: { cols: [t('col.item'), nc(t('fin.amount'))], rows: [
      ...(isNum(b.net_profit) ? [[t('fin.netProfit'), money(b.net_profit, 2)], [t('adj.da'), money(b.da, 2)], [t('adj.interest'), money(b.interest, 2)], [t('adj.income_tax'), money(b.income_tax, 2)]] : []),
      ['EBITDA', money(b.ebitda, 2)], ...adj.map((a) => [tk('adj.', a.name), money(a.amount, 2)]), [t('fin.distributableAmount'), money(b.distributable_amount, 2)]] },
    after: h('div', {},
      h('p', { class: 'fine ' + (balanced ? 'ok-text' : 'bad-text'), 'data-testid': 'bridge-check' }, icon(balanced ? 'check' : 'warn'),
        balanced ? t('fin.bridgeBalanced') : t('fin.bridgeUnbalanced', { v: money(sum - b.distributable_amount, 2) })),
      isNum(c?.distribution) ? h('p', { class: 'fine' }, t('fin.bridgePaid', { v: money(c.distribution), r: pct(c.payout_ratio, 1) })) : null),
  });
}

function tranches(list) {
  const c = card(t('fin.tranches'));
  if (!list.length) {
    empty(c);
    return c;
  }
  c.append(table({ caption: t('fin.tranches'), testid: 'tranche-table',
    cols: [t('col.name'), t('fin.kind'), nc(t('fin.balance')), nc(t('fin.rate')), nc('WAL'), nc('IRR'), nc('PD'), nc('EL')],
    rows: list.map((x) => ({ cells: [x.name, tk('kind.', x.kind), money(x.balance), x.kind === 'equity' ? DASH : pct(x.rate, 2), x.wal_years ? t('unit.years', { v: num(x.wal_years, 2) }) : DASH, isNum(x.irr) ? pct(x.irr, 2) : x.irr_note || DASH, x.kind === 'equity' ? DASH : pct(x.pd, 2), x.kind === 'equity' ? DASH : pct(x.el, 4)],
      className: x.base_case_shortfall ? 'neg' : '' })) }));
  c.append(h('p', { class: 'fine' }, t('fin.trancheNote')));
  return c;
}

function checks(list) {
  const c = card(t('fin.checks'));
  if (!list.length) {
    empty(c);
    return c;
  }
  const status = (x) => {
    if (!x.applicable) return h('span', { class: 'badge na' }, icon('info'), t('fin.na'));
    return x.pass ? h('span', { class: 'badge pass' }, icon('check'), t('fin.pass')) : h('span', { class: 'badge fail' }, icon('cross'), t('fin.fail'));
  };
  const passed = list.filter((x) => x.applicable && x.pass).length;
  const applicable = list.filter((x) => x.applicable).length;
  c.append(h('p', { class: 'muted', 'data-testid': 'checks-summary' }, t('fin.checksSummary', { p: passed, n: applicable, total: list.length })));
  c.append(table({ caption: t('fin.checks'), testid: 'creit-checks', className: 'checks',
    cols: [t('fin.rule'), t('fin.source'), nc(t('fin.value')), t('fin.status')],
    rows: list.map((x) => {
      const rl = x.rule || {};
      const thr = rl.op && isNum(rl.threshold) ? `${rl.op} ${fmtMetric(rl.metric, rl.threshold)}` : '';
      return [h('div', {}, h('strong', {}, rl.description || rl.id), h('div', { class: 'fine' }, rl.id, thr ? ` · ${thr}` : '')),
        h('div', { class: 'fine src' }, rl.source || DASH),
        x.applicable ? fmtMetric(rl.metric, x.value) : DASH,
        h('div', {}, status(x), x.note ? h('div', { class: 'fine' }, x.note) : null)];
    }) }));
  return c;
}

function fmtMetric(metric, v) {
  if (!isNum(v)) return DASH;
  if (/ratio|rate|share|irr/.test(metric || '') && !/assets_to/.test(metric || '')) return pct(v, 1);
  return num(v, 3);
}

function projection(proj) {
  const cols = [t('fin.year'), t('fin.revenue'), t('fin.opex'), 'EBITDA', t('fin.capex'), t('fin.debtService'), t('fin.distributableAmount'), t('fin.distribution'), 'DSCR'];
  return h('section', { class: 'card' }, h('details', {}, h('summary', { class: 'h2' }, t('fin.projection', { n: proj.length })),
    table({ caption: t('fin.projectionCaption'), testid: 'projection-table', cols: cols.map((l, i) => (i ? nc(l) : l)),
      rows: proj.map((p) => [String(p.period || p.year), money(p.revenue), money(p.opex), money(p.ebitda), money(p.capex), money(p.debt_service), money(p.distributable), money(p.distribution), isNum(p.dscr) ? num(p.dscr, 2) : DASH]) })));
}
