// Shared page state and the states every page has: loading, empty, error, not ready.

import { api } from './api.js';
import { h, icon, clear, table, nc } from './dom.js';
import { t, tk } from './i18n.js';

// Grants mirrors auth.Grants, used when /me lists no permissions.
const GRANTS = {
  admin: ['read:operations', 'read:aggregates', 'read:finance', 'read:ledger', 'ingest', 'configure', 'run', 'export', 'admin:tokens'],
  operator: ['read:operations', 'read:aggregates', 'read:finance', 'read:ledger', 'ingest', 'configure', 'run'],
  investor: ['read:finance', 'read:aggregates'],
  auditor: ['read:ledger', 'export', 'read:operations', 'read:aggregates'],
};

export const state = {
  me: null, // {name, role, permissions}
  policy: '', // operated policy shown against the baseline
  cache: new Map(),
};

export const BASELINE = 'business_as_usual';

// can reports whether the signed-in role has perm; with nobody signed in it is true, so
// that pages prompt to sign in rather than say "forbidden".
export function can(perm) {
  const me = state.me;
  return !perm || !me || (Array.isArray(me.permissions) ? me.permissions : GRANTS[me.role] || []).includes(perm);
}

export const roleName = (r) => tk('role.', r || '', r || t('role.unknown'));

// cached fetches path once per session (or until refresh), sharing in-flight requests.
export function cached(path) {
  if (!state.cache.has(path)) state.cache.set(path, api(path).catch((e) => {
    state.cache.delete(path);
    throw e;
  }));
  return state.cache.get(path);
}

const sleep = (ms, signal) => new Promise((res, rej) => {
  const tm = setTimeout(res, ms);
  signal?.addEventListener('abort', () => {
    clearTimeout(tm);
    rej(new DOMException('aborted', 'AbortError'));
  });
});

// health reads /healthz (anonymous): {ready, tree_size}. null when unavailable.
export async function health() {
  try {
    const r = await fetch('/healthz', { cache: 'no-store', headers: { Accept: 'application/json' } });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

let ready = false;

// notReady shows that the start-up simulation is running, with the boot job's progress
// when the role may see jobs.
async function notReady(el, message) {
  let pr = null;
  if (can('run')) {
    try {
      const jobs = (await api('/jobs')).jobs || [];
      pr = jobs.find((j) => j.kind === 'simulate' && (j.status === 'running' || j.status === 'queued'))?.progress || null;
    } catch {
      /* progress is a nicety */
    }
  }
  const frac = pr?.total ? pr.done / pr.total : null;
  clear(el).append(h('div', { class: 'state busy', role: 'status', 'data-testid': 'not-ready' },
    h('div', { class: 'spinner', 'aria-hidden': 'true' }),
    h('div', {}, h('p', { class: 'state-title' }, t('state.notReady')),
      h('p', {}, t('state.notReadyHint')),
      h('progress', { max: pr?.total || null, value: pr?.total ? pr.done : null, 'aria-label': t('state.notReady') }),
      pr?.stage ? h('p', { class: 'fine' }, `${stageLabel(pr.stage)} · ${Math.round(frac * 100)}%`) : message ? h('p', { class: 'fine' }, message) : null)));
}

// stageLabel turns "scenario: finance monte_carlo" into words.
export function stageLabel(stage) {
  if (!stage) return '';
  const [, side, rest] = /^(?:(\w+): )?(.*)$/.exec(stage);
  const s = rest.startsWith('simulate ') ? t('stage.simulate', { policy: policyName(rest.slice(9)) })
    : rest.startsWith('finance ') ? t('stage.finance', { step: tk('stage.fin.', rest.replace(/^(finance )+/, '')) })
      : tk('stage.', rest.replace(/ /g, '_'), rest);
  return side ? `${tk('sc.side.', side)} · ${s}` : s;
}

// whenReady waits while the server's first simulation runs (asking /healthz, so that no
// request fails meanwhile), then calls fn; a 503 from fn is waited out the same way.
export async function whenReady(el, fn, signal) {
  for (let attempt = 0; ; attempt++) {
    if (!ready) {
      const hz = await health();
      if (hz && hz.ready === false) {
        await notReady(el);
        await sleep(2000, signal);
        continue;
      }
      ready = !!hz?.ready;
    }
    try {
      return await fn();
    } catch (e) {
      if (e.status !== 503 || signal?.aborted) throw e;
      await notReady(el, e.message);
      await sleep((e.retryAfter || Math.min(2 + attempt, 5)) * 1000, signal);
      state.cache.clear();
    }
  }
}

export function loading(el) {
  clear(el).append(h('div', { class: 'state busy', role: 'status', 'aria-live': 'polite' },
    h('div', { class: 'spinner', 'aria-hidden': 'true' }), h('p', {}, t('state.loading'))));
}

export function empty(el, msg) {
  el.append(h('div', { class: 'state empty' }, icon('info'), h('p', {}, msg || t('state.empty'))));
}

// errorState says what went wrong and what the user can do: sign in (401), ask for
// access (403), retry (anything else).
export function errorState(el, err, retry) {
  if (err?.name === 'AbortError') return;
  const st = err?.status;
  if (st === 401) document.dispatchEvent(new CustomEvent('lifang:unauthorized'));
  const [title, body] = {
    401: [t('err.unauthorized'), t('err.unauthorizedHint')],
    403: [t('err.forbidden'), t('err.forbiddenHint', { role: roleName(state.me?.role) })],
    0: [t('err.network'), t('err.networkHint')],
    404: [t('err.notFound'), err?.message],
  }[st] || [t('err.generic'), err?.message || String(err)];
  const btn = (label, onclick) => h('button', { class: 'btn', type: 'button', onclick }, label);
  clear(el).append(h('div', { class: 'state error', role: 'alert', 'data-testid': st === 401 || st === 403 ? `error-${st}` : 'error' },
    icon(st === 403 ? 'lock' : 'warn'),
    h('div', {}, h('p', { class: 'state-title' }, title), body ? h('p', {}, body) : null,
      st === 401 ? btn(t('auth.signIn'), focusSignIn) : retry && st !== 403 ? btn(t('action.retry'), retry) : null)));
}

function focusSignIn() {
  const box = document.getElementById('signin');
  if (box) box.hidden = false;
  const input = document.getElementById('signin-token');
  input?.scrollIntoView({ block: 'center' });
  input?.focus();
}

// forbidden is shown for a page the role may not use, without asking the server.
export function forbidden(el) {
  errorState(el, { status: 403 });
}

export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, ...children);
}

// policyTable compares the policies, baseline first: rows are [label, policy → text].
export function policyTable(sum, title, rows, testid) {
  const pols = policyOrder(sum);
  return card(title, table({ caption: title, testid, cols: [t('cmp.metric'), ...pols.map((p) => nc(policyName(p)))], rows: rows.map(([l, f]) => [l, ...pols.map(f)]) }));
}

export const policyName = (p) => tk('policy.', p, p);

// operatedPolicies are the summary's policies other than the baseline, MPC first.
export function operatedPolicies(summary) {
  const rank = (p) => ['mpc', 'rule_based'].indexOf(p) + 1 || 99;
  return Object.keys(summary?.policies || {}).filter((p) => p !== BASELINE).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export function currentPolicy(summary) {
  const ops = operatedPolicies(summary);
  if (!ops.includes(state.policy)) state.policy = ops[0] || BASELINE;
  return state.policy;
}

// policySelect lets the user pick which operated policy is compared with the baseline.
export function policySelect(summary, onChange) {
  const ops = operatedPolicies(summary);
  if (ops.length < 2) return null;
  return h('label', { class: 'inline-field' }, h('span', {}, t('policy.label')),
    h('select', { id: 'policy-select', 'data-testid': 'policy-select', onchange: (e) => ((state.policy = e.target.value), onChange()) },
      ops.map((p) => h('option', { value: p, selected: p === currentPolicy(summary) }, policyName(p)))));
}

// policyOrder lists all policies, baseline first.
export const policyOrder = (summary) => [BASELINE, ...operatedPolicies(summary)].filter((k) => k in (summary?.policies || {}));

export const get = (o, ...path) => path.reduce((v, k) => (v == null ? undefined : v[k]), o);
