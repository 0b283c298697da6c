// Scenarios: levers → a scenario job → progress over server-sent events → base vs
// scenario. The job outlives the page: leaving and coming back shows where it is.

import { t, tk, money, pct, num, unit, DASH } from './i18n.js';
import { h, clear, table, icon, nc } from './dom.js';
import { api, watchJob } from './api.js';
import { card, policyName, stageLabel } from './ui.js';

const x1 = (v) => `×${v.toFixed(1)}`;
const LEVERS = [
  { key: 'battery_scale', min: 0, max: 3, step: 0.1, def: 1, fmt: x1, label: () => t('sc.battery'), hint: () => t('sc.batteryHint') },
  { key: 'pv_scale', min: 0, max: 3, step: 0.1, def: 1, fmt: x1, label: () => t('sc.pv'), hint: () => t('sc.pvHint') },
  { key: 'discount_rate', min: 0.03, max: 0.12, step: 0.005, def: 0.06, fmt: (v) => pct(v, 1), label: () => t('sc.discount'), hint: () => t('sc.discountHint') },
  { key: 'payout_ratio', min: 0.9, max: 1, step: 0.01, def: 0.95, fmt: (v) => pct(v, 0), label: () => t('sc.payout'), hint: () => t('sc.payoutHint') },
];

const params = Object.fromEntries(LEVERS.map((l) => [l.key, l.def]));
let job = null; // the latest job: {id, status, progress, result, error, params}
let view = null; // redraws the page on screen, if it is
const notify = () => view?.();

async function start() {
  const p = { ...params };
  job = { id: '', status: 'queued', progress: { stage: '', done: 0, total: 0 }, params: p };
  notify();
  try {
    const j = await api('/jobs', { method: 'POST', body: { kind: 'scenario', params: p } });
    job = { ...j, params: p };
    notify();
    const fin = await watchJob(j.id, (pr) => {
      if (job?.id !== j.id) return;
      job = { ...job, status: 'running', progress: pr };
      notify();
    });
    if (job?.id !== j.id) return;
    job = { ...fin, params: p };
  } catch (e) {
    job = { ...job, status: 'failed', error: e.status === 403 ? t('err.forbidden') : e.message || String(e) };
  }
  notify();
}

async function cancel() {
  if (!job?.id) return;
  try {
    const j = await api(`/jobs/${encodeURIComponent(job.id)}`, { method: 'DELETE' });
    job = { ...j, params: job.params };
  } catch (e) {
    job = { ...job, error: e.message };
  }
  notify();
}

const running = () => job && (job.status === 'queued' || job.status === 'running');

export async function scenarios(ctx) {
  const { el } = ctx;
  clear(el);
  const inputs = {};
  const levers = LEVERS.map((l) => {
    const idR = `lever-${l.key}`;
    const out = h('output', { for: idR, class: 'lever-value', 'data-testid': `lever-${l.key}-value` }, l.fmt(params[l.key]));
    const range = h('input', { id: idR, type: 'range', min: l.min, max: l.max, step: l.step, value: params[l.key], 'data-testid': `lever-${l.key}`, 'aria-describedby': `${idR}-hint`, 'aria-valuetext': l.fmt(params[l.key]) });
    range.addEventListener('input', () => {
      params[l.key] = +(+range.value).toFixed(4);
      out.textContent = l.fmt(params[l.key]);
      range.setAttribute('aria-valuetext', l.fmt(params[l.key]));
    });
    inputs[l.key] = range;
    return h('div', { class: 'lever' },
      h('div', { class: 'lever-head' }, h('label', { for: idR }, l.label()), out),
      range,
      h('p', { class: 'fine', id: `${idR}-hint` }, `${l.hint()} (${l.fmt(l.min)} – ${l.fmt(l.max)})`));
  });
  const runBtn = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'scenario-run' }, t('sc.run'));
  const resetBtn = h('button', { type: 'button', class: 'btn ghost', 'data-testid': 'scenario-reset', onclick: () => {
    for (const l of LEVERS) {
      params[l.key] = l.def;
      inputs[l.key].value = l.def;
      inputs[l.key].dispatchEvent(new Event('input'));
    }
  } }, t('sc.reset'));
  const form = h('form', { class: 'levers', 'data-testid': 'scenario-form' }, h('div', { class: 'lever-grid' }, levers), h('div', { class: 'row' }, runBtn, resetBtn));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!running()) start();
  });
  el.append(card(t('sc.levers'), h('p', { class: 'muted' }, t('sc.leversHint')), form));

  const status = h('div', { class: 'job', 'data-testid': 'job-progress' });
  const live = h('p', { class: 'visually-hidden', 'aria-live': 'polite', 'data-testid': 'job-live' });
  const result = h('div', { 'data-testid': 'scenario-result-slot' });
  el.append(card(t('sc.job'), status, live), result);

  let lastStage = '';
  let lastQuarter = -1;
  view = () => {
    if (!status.isConnected) {
      view = null;
      return;
    }
    runBtn.disabled = !!running();
    clear(status);
    if (!job) {
      status.append(h('p', { class: 'muted' }, t('sc.idle')));
    } else {
      const pr = job.progress || {};
      const frac = pr.total ? pr.done / pr.total : 0;
      const statusText = tk('job.', job.status, job.status);
      status.append(...[
        h('div', { class: 'job-head' }, h('span', { class: `badge ${job.status}`, 'data-testid': 'job-status' }, statusText),
          job.id ? h('code', { class: 'fine' }, job.id) : null,
          running() && job.id ? h('button', { type: 'button', class: 'btn small ghost', 'data-testid': 'scenario-cancel', onclick: cancel }, t('sc.cancel')) : null),
        running() ? h('progress', { max: pr.total || null, value: pr.total ? pr.done : null, 'aria-label': t('sc.progress'), 'data-testid': 'job-progress-bar' }) : null,
        running() ? h('p', { class: 'fine' }, pr.stage ? `${stageLabel(pr.stage)} — ${pr.total ? pct(frac, 0) : ''}` : t('sc.queued')) : null,
        job.error ? h('p', { class: 'form-error', role: 'alert' }, job.error) : null].filter(Boolean));
      const q = Math.floor(frac * 4);
      if (running() && (pr.stage !== lastStage || q !== lastQuarter)) {
        live.textContent = `${stageLabel(pr.stage) || t('sc.queued')} ${pr.total ? pct(frac, 0) : ''}`;
        lastStage = pr.stage;
        lastQuarter = q;
      } else if (!running()) {
        live.textContent = statusText;
        lastStage = '';
        lastQuarter = -1;
      }
    }
    clear(result);
    if (job?.status === 'done' && job.result) result.append(compare(job.result, job.params));
  };
  view();
}

function compare(res, p) {
  const b = res.base || {};
  const s = res.scenario || {};
  // higher: true when more is better.
  const rows = [
    { label: t('sc.noi'), k: 'noi_cny', f: money, higher: true },
    { label: t('sc.peak'), k: 'peak_import_kw', f: (v) => unit(v, 'kW', 1), higher: false },
    { label: t('kpi.distributionRate'), k: 'distribution_rate', f: (v) => pct(v, 2), higher: true, pp: true },
    { label: 'CFaR95', k: 'cfar95', f: money, higher: false },
  ];
  if ('asset_value' in b) rows.push({ label: t('fin.assetValue'), k: 'asset_value', f: money, higher: true });
  const cells = rows.map((r) => {
    const bv = b[r.k];
    const sv = s[r.k];
    const ok = typeof bv === 'number' && typeof sv === 'number';
    const d = ok ? sv - bv : NaN;
    const rel = ok && bv ? d / Math.abs(bv) : NaN;
    const better = ok && Math.abs(d) > 1e-9 ? (d > 0) === r.higher : null;
    const dText = !ok ? DASH : d === 0 ? '0' : r.pp ? `${d >= 0 ? '+' : ''}${num(d * 100, 2)} ${t('unit.pp')}` : `${d >= 0 ? '+' : ''}${r.f(d).replace(/^\+/, '')}`;
    return { cells: [r.label, r.f(bv), r.f(sv), h('span', {}, dText, Number.isFinite(rel) && !r.pp ? h('span', { class: 'fine' }, ` (${pct(rel, 1, true)})`) : null),
      better === null ? h('span', { class: 'badge na' }, t('sc.same')) : h('span', { class: `badge ${better ? 'pass' : 'fail'}` }, icon(better ? 'up' : 'down'), better ? t('sc.better') : t('sc.worse'))] };
  });
  return card(t('sc.result'),
    h('p', { class: 'muted' }, t('sc.resultHint', { policy: policyName(res.policy || 'rule_based') }), ' ', paramsText(p)),
    table({ caption: t('sc.result'), testid: 'scenario-result', cols: [t('cmp.metric'), nc(t('sc.base')), nc(t('sc.scenario')), nc('Δ'), t('sc.assessment')], rows: cells }));
}

const paramsText = (p) => LEVERS.map((l) => `${l.label()} ${l.fmt(p[l.key])}`).join(' · ');
