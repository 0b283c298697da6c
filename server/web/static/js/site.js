// Site: the live loop as ledgered: devices, alarms, plan vs actual, overrides (configure).

import { t, tk, num, date, setTimeZone, DASH } from './i18n.js';
import { h, table, icon } from './dom.js';
import { chart } from './charts.js';
import { api } from './api.js';
import { can, card, loading } from './ui.js';

const when = (v) => (v ? date(v) : DASH);
const ICON = { online: 'check', stale: 'warn', offline: 'cross' };
const kw = (v) => `${num(v, 1)} kW`;
const col = (k) => t(`site.col.${k}`);
let notice = ''; // shown after a redraw

export async function site(ctx) {
  const { el, signal } = ctx;
  loading(el);
  let v;
  try {
    v = await api('/site', { signal });
  } catch (e) {
    if (e.status !== 404) throw e;
    return el.replaceChildren(h('div', { class: 'state empty', 'data-testid': 'site-none' }, icon('info'), h('p', {}, t('site.none'))));
  }
  const p = await api('/site/plan?hours=24', { signal }).catch(() => null);
  if (signal.aborted) return;
  setTimeZone(v.time_zone);
  document.getElementById('unit-name').textContent = v.unit;
  const d = v.decision;
  const al = v.alarms;
  const ans = (a) => (a ? tk('site.ans.', a.status) + (a.detail ? ` · ${a.detail}` : '') : DASH);
  const cmd = (c) => (c ? [h('span', { title: c.clamp }, `${c.action} ${c.value}${c.clamp ? ' *' : ''}`), h('br'), ans(c.answer)] : DASH);
  const rd = (r) => (r ? h('span', { title: r.point }, `${num(r.value, 2)} ${r.unit} · ${date(r.time, 'hour')}`) : DASH);
  const tab = (title, testid, cols, rows) => card(title, rows.length ? table({ caption: title, testid, cols: cols.map(col), rows }) : h('p', { class: 'muted' }, t('site.nothing')));
  const head = h('p', { class: 'fine', 'data-testid': 'site-as-of' }, d ? t('site.asOf', { n: d.step, time: when(d.time), policy: `${d.policy} ${d.version}`, sha: d.inputs_sha256.slice(0, 12), fb: d.fallbacks.join(', ') || DASH }) : t('site.noStep', { time: when(v.as_of) }));
  el.replaceChildren(tab(t('site.devices'), 'site-devices', ['device', 'kind', 'status', 'reading', 'command'], v.devices.map((x) => [x.id, tk('site.kind.', x.kind),
    h('span', { class: `badge ${x.status}`, 'data-status': x.status, title: x.reason }, icon(ICON[x.status]), tk('site.st.', x.status)),
    rd(x.last_reading), cmd(x.last_command)])),
  tab(t('site.open'), 'site-open', ['alarm', 'raised'], al.open.map((a) => [a.message ? `${a.alarm} — ${a.message}` : a.alarm, when(a.raised_at)])),
  tab(t('site.cleared'), 'site-cleared', ['alarm', 'raised', 'cleared'], al.cleared.map((a) => [a.alarm, when(a.raised_at), when(a.cleared_at)])));
  el.firstChild.append(head);

  if (p?.time.length) {
    const x = p.time.map(Date.parse);
    const sub = t('site.now', { now: when(p.as_of) });
    const per = (a, f = 1) => a.map((y) => (y == null ? NaN : y / f));
    const hh = p.step_minutes / 60;
    el.append(chart({ title: t('site.plan'), subtitle: sub, desc: sub, testid: 'chart-site-plan', x, xType: 'time', tipY: kw, series: [
      { label: t('site.planned'), values: per(p.battery_planned_kw), cls: 's2', dash: true, step: true },
      { label: t('site.commanded'), values: per(p.battery_commanded_kw), cls: 's4', step: true },
      { label: t('site.actual'), values: per(p.battery_actual_kw), cls: 's1' },
      { label: t('site.grid'), values: per(p.grid_import_kwh, hh), cls: 's3' },
      { label: t('site.evLimit'), values: per(p.ev_limit_kw), cls: 's6', dash: true, step: true },
      { label: t('site.evDelivered'), values: per(p.ev_delivered_kwh, hh), cls: 's6' }] }));
  }

  const c = tab(t('site.overrides'), 'site-overrides', ['device', 'power', 'until', 'by', 'status'],
    [...v.overrides.active, ...v.overrides.past].map((o) => [o.device, kw(o.value_kw), when(o.until), o.by, tk('site.ov.', o.state)]));
  el.append(c);
  const devs = v.devices.filter((x) => x.override);
  if (!can('configure') || !devs.length) return;
  const msg = h('p', { role: 'status', 'data-testid': 'override-msg', class: 'ok-text' }, notice);
  notice = '';
  const field = (id, label, tag, a, ...kids) => h('div', { class: 'field' }, h('label', { for: `ov-${id}` }, label), h(tag, { id: `ov-${id}`, required: true, ...a }, ...kids));
  const f = h('form', { class: 'row', 'data-testid': 'override-form' },
    field('device', col('device'), 'select', {}, devs.map((x) => h('option', { value: x.id }, `${x.id} (${num(x.override.min_kw)} – ${num(x.override.max_kw)} kW)`))),
    field('kw', t('site.ovValue'), 'input', { type: 'number', step: 'any' }),
    field('hours', t('site.ovHours'), 'input', { type: 'number', min: 1, max: 167, value: 4 }),
    field('reason', t('site.ovReason'), 'input', { type: 'text', maxlength: 500 }),
    h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'override-submit' }, t('site.ovSubmit')));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = (id) => f.querySelector(`#ov-${id}`).value;
    // From the next step by the site's clock, not the browser's.
    const until = new Date(Date.parse(v.next_step) + q('hours') * 3600e3).toISOString();
    try {
      const r = await api('/site/overrides', { method: 'POST', body: { device: q('device'), value_kw: Number(q('kw')), until, reason: q('reason').trim() } });
      notice = t('site.ovDone', { n: r.leaf_index });
      ctx.rerender();
    } catch (err) {
      msg.className = 'form-error';
      msg.textContent = err.message;
    }
  });
  c.append(h('p', { class: 'fine' }, t('site.ovHint')), f, msg);
}
