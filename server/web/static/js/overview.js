// Overview: the four KPI families (their labels are static in index.html), the policy
// comparison, monthly NOI and the privacy-protected household aggregate.

import { t, tk, money, signedMoney, pct, num, big, unit, DASH } from './i18n.js';
import { h, clear, stat, nc } from './dom.js';
import { chart } from './charts.js';
import { cached, can, whenReady, errorState, card, policySelect, currentPolicy, policyName, policyTable, BASELINE, get } from './ui.js';
import { setUnitHeader } from './operations.js';
import { getToken } from './api.js';

const fin = (v) => (typeof v === 'number' ? v : undefined);

// fill sets a KPI card figure (data-testid="kpi-<key>" in index.html) and its note.
function fill(key, value, note) {
  const el = document.querySelector(`[data-testid="kpi-${key}"]`);
  el.textContent = value ?? DASH;
  el.nextElementSibling.textContent = note || '';
}

function resetCards(note) {
  for (const k of ['noi-gain', 'grid-savings', 'peak-reduction', 'outage-hours', 'parking-availability', 'ev-short', 'distribution-rate', 'cfar95', 'nav-per-unit']) fill(k, DASH);
  if (note) for (const k of ['noi-gain', 'peak-reduction', 'parking-availability', 'distribution-rate']) fill(k, DASH, note);
}

function fillOperations(sum) {
  const pol = currentPolicy(sum);
  const p = sum.policies[pol] || {};
  const base = sum.policies[BASELINE] || {};
  const cmp = sum.comparison_vs_baseline?.[pol] || {};
  const k = p.kpi || {};
  const vs = t('kpi.vsPolicy', { policy: policyName(pol) });
  fill('noi-gain', signedMoney(fin(cmp.noi_gain_cny) ?? fin(get(k, 'economic', 'noi_gain_vs_baseline_cny'))), `${vs} · ${t('kpi.annualNoi')} ${money(p.noi_cny)}`);
  fill('grid-savings', money(fin(cmp.grid_savings_cny) ?? fin(get(k, 'economic', 'grid_savings_vs_baseline_cny'))),
    t('kpi.selfSufficiency', { v: pct(get(k, 'economic', 'self_sufficiency')) }));
  const peak = fin(cmp.peak_reduction) ?? fin(get(k, 'resilience', 'peak_reduction_vs_baseline'));
  fill('peak-reduction', pct(peak), t('kpi.peakFromTo', { from: unit(get(base, 'energy', 'peak_import_kw'), 'kW'), to: unit(get(p, 'energy', 'peak_import_kw'), 'kW') }));
  const out = get(k, 'resilience', 'outage') || {};
  const s24 = get(out, 'survival_probability', '24');
  fill('outage-hours', out.mean_hours === undefined ? DASH : t('unit.hours', { v: num(out.mean_hours, 1) }),
    [out.max_hours !== undefined ? t('kpi.outageMax', { v: num(out.max_hours, 1) }) : '', s24 !== undefined ? t('kpi.outage24', { v: pct(s24) }) : ''].filter(Boolean).join(' · '));
  fill('parking-availability', pct(get(k, 'social', 'resident_parking_availability')),
    t('kpi.ownerIncome', { v: money(get(k, 'social', 'resident_parking_income_cny')) }));
  const share = get(k, 'social', 'ev_sessions_unmet_share');
  const ev = p.ev || {};
  fill('ev-short', pct(share, 2), ev.sessions ? t('kpi.evSessions', { n: num(ev.sessions_unmet), total: num(ev.sessions), kwh: big(ev.unmet_kwh) }) : '');
}

function fillFinance(f) {
  if (!f) return;
  const c = f.creit || {};
  const r = f.risk || {};
  fill('distribution-rate', pct(c.distribution_rate, 2), c.distribution_rate_on_nav !== undefined ? t('kpi.onNav', { v: pct(c.distribution_rate_on_nav, 2) }) : '');
  fill('cfar95', money(r.cfar95), r.expected_distributable !== undefined ? t('kpi.cfarOf', { v: money(r.expected_distributable) }) : '');
  const nav = fin(get(f, 'valuation', 'nav_per_unit')) ?? fin(c.nav_per_unit);
  fill('nav-per-unit', nav === undefined ? DASH : (nav.toFixed(4) + ' ' + t('unit.yuanPerUnit')), c.issue_price ? t('kpi.issuePrice', { v: c.issue_price.toFixed(2) }) : '');
}

export async function overview(ctx) {
  const { el, signal } = ctx;
  clear(el);
  resetCards();
  if (!getToken()) return; // the sign-in card is showing
  let sum = null;
  let finBlock = null;
  const sections = [];
  if (can('read:operations')) {
    try {
      sum = await whenReady(el, () => cached('/summary'), signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (e.status !== 403) return errorState(el, e, ctx.rerender);
    }
  }
  if (signal.aborted) return;
  clear(el);
  if (sum) {
    setUnitHeader(sum);
    fillOperations(sum);
    // Summaries carry the finance block; show it only to roles that may read finance.
    finBlock = can('read:finance') ? sum.finance || null : null;
    const sel = policySelect(sum, () => overview(ctx));
    if (sel) ctx.tools.replaceChildren(sel);
  } else {
    resetCards(t('kpi.noAccess'));
  }
  if (!finBlock && can('read:finance')) {
    try {
      finBlock = await whenReady(el, () => cached('/finance'), signal);
    } catch (e) {
      if (e.name === 'AbortError') return;
      if (e.status !== 403) sections.push(card(t('family.financial'), h('p', { class: 'muted' }, e.message)));
    }
  }
  if (signal.aborted) return;
  clear(el);
  if (finBlock) fillFinance(finBlock);
  else if (sum?.finance_error) fill('distribution-rate', DASH, sum.finance_error);
  else if (!can('read:finance')) fill('distribution-rate', DASH, t('kpi.noAccess'));
  if (sum) {
    sections.push(comparison(sum));
    sections.push(monthly(sum));
  }
  el.append(...sections.filter(Boolean));
  if (can('read:aggregates')) {
    const slot = h('div');
    el.append(slot);
    aggregate(slot, signal);
  }
}

function comparison(sum) {
  const P = (p) => sum.policies[p] || {};
  const econ = (p, k) => get(P(p), 'kpi', 'economic', k);
  return policyTable(sum, t('cmp.title'), [
    [t('cmp.noi'), (p) => money(P(p).noi_cny)],
    [t('cmp.revenue'), (p) => money(get(P(p), 'revenue_cny', 'total'))],
    [t('cmp.import'), (p) => unit(get(P(p), 'energy', 'import_kwh'), 'kWh')],
    [t('cmp.peak'), (p) => unit(get(P(p), 'energy', 'peak_import_kw'), 'kW', 1)],
    [t('cmp.selfSufficiency'), (p) => pct(econ(p, 'self_sufficiency'))],
    [t('cmp.gridCost'), (p) => money(econ(p, 'grid_cost_cny'))],
    [t('cmp.evUnmet'), (p) => unit(get(P(p), 'ev', 'unmet_kwh'), 'kWh')],
    [t('cmp.parkingRevenue'), (p) => money((P(p).parking || []).reduce((a, l) => a + (l.revenue_cny || 0), 0))],
    [t('cmp.carbon'), (p) => unit(econ(p, 'carbon_t'), 't')],
  ], 'policy-comparison');
}

function monthly(sum) {
  const pol = currentPolicy(sum);
  const base = sum.policies[BASELINE]?.monthly || [];
  const op = sum.policies[pol]?.monthly || [];
  if (!op.length) return null;
  const series = [
    { label: policyName(BASELINE), values: op.map((m, i) => base[i]?.noi_cny), cls: 's2' },
    { label: policyName(pol), values: op.map((m) => m.noi_cny), cls: 's1' },
  ];
  return chart({
    type: 'bar', title: t('monthly.title'), categories: op.map((m) => m.month.slice(5) || m.month), series, testid: 'chart-monthly-noi',
    desc: t('monthly.desc', { policy: policyName(pol), total: money(sum.policies[pol]?.noi_cny), base: money(sum.policies[BASELINE]?.noi_cny) }),
    table: { cols: [t('monthly.month'), ...series.map((x) => nc(x.label))], rows: op.map((m, i) => [m.month, ...series.map((x) => money(x.values[i]))]) },
  });
}

async function aggregate(slot, signal) {
  slot.replaceChildren(card(t('agg.title'), h('p', { class: 'muted', role: 'status' }, t('state.loading'))));
  let a;
  try {
    a = await whenReady(slot, () => cached('/aggregates/household-energy'), signal);
  } catch (e) {
    if (e.name === 'AbortError') return;
    const box = h('div');
    errorState(box, e); // e.g. 429 when the privacy budget is spent
    slot.replaceChildren(card(t('agg.title'), box));
    return;
  }
  const b = a.budget || {};
  const spent = b.epsilon_spent ?? 0;
  const total = b.epsilon_total || 0;
  slot.replaceChildren(card(t('agg.title'),
    h('p', { class: 'muted' }, t('agg.hint')),
    h('dl', { class: 'kv-grid' },
      stat(t('agg.value'), `${num(a.value, 1)} ${t('unit.kwhPerHousehold')}`, { testid: 'aggregate-value', note: a.aggregate ? tk('agg.kind.', a.aggregate) : '' }),
      stat(t('agg.mechanism'), tk('agg.mech.', a.mechanism || '', a.mechanism || DASH), { note: `ε = ${num(a.epsilon, 3)} · δ = ${a.delta ?? 0}` }),
      stat(t('agg.budget'), total ? `${num(spent, 2)} / ${num(total, 2)}` : DASH, { note: t('agg.remaining', { v: num(b.epsilon_remaining, 2) }) })),
    total ? h('div', { class: 'meter' }, h('meter', { min: 0, max: total, value: spent, 'aria-label': t('agg.budget') })) : null,
    a.source ? h('p', { class: 'fine' }, a.source) : null));
}
