// Ledger & audit: the latest signed checkpoint, and an inclusion proof checked in this
// browser (SHA-256 with WebCrypto, RFC 9162 §2.1.3.2) against the signed root.

import { t, num, date, DASH } from './i18n.js';
import { h, clear, table, stat, icon, id, nc } from './dom.js';
import { api } from './api.js';
import { whenReady, errorState, card, loading, health } from './ui.js';
import { verifyInclusion, verifyNote, fromBase64, toHex, selfTest } from './merkle.js';

let selfTestResult = null;

// noteRoot reads the root hash from a checkpoint note's body (origin, size, root).
function parseNote(note) {
  const lines = String(note || '').split('\n');
  const sigs = lines.filter((l) => l.startsWith('— ')).map((l) => l.slice(2).split(' ')[0]);
  return { origin: lines[0] || '', size: Number(lines[1]), root: lines[2] || '', signers: sigs };
}

export async function ledger(ctx) {
  const { el, signal } = ctx;
  loading(el);
  let cp;
  try {
    // An empty log answers 404; /healthz says so without a failed request.
    const hz = await health();
    if (hz && hz.tree_size === 0) throw Object.assign(new Error('empty'), { status: 404 });
    cp = await whenReady(el, () => api('/ledger/checkpoint', { signal }), signal);
  } catch (e) {
    if (e.name === 'AbortError') return;
    if (e.status === 404) {
      clear(el);
      el.append(card(t('ledger.checkpoint'), h('div', { class: 'state empty', 'data-testid': 'ledger-empty' }, icon('info'), h('p', {}, t('ledger.empty')))));
      el.append(selfTestCard());
      return;
    }
    errorState(el, e, ctx.rerender);
    return;
  }
  if (signal.aborted) return;
  clear(el);
  const rootHex = safeHex(cp.root);
  const note = parseNote(cp.note);
  el.append(card(t('ledger.checkpoint'),
    h('dl', { class: 'kv-grid', 'data-testid': 'ledger-checkpoint' },
      stat(t('ledger.origin'), cp.origin || note.origin || DASH),
      stat(t('ledger.size'), num(cp.size), { testid: 'checkpoint-size', note: t('ledger.sizeNote') }),
      stat(t('ledger.signers'), note.signers.length ? note.signers.join(', ') : DASH)),
    h('div', { class: 'hash-row' }, h('span', {}, t('ledger.root')),
      h('code', { class: 'hash', 'data-testid': 'checkpoint-root', title: 'base64: ' + cp.root }, rootHex || cp.root)),
    h('details', { class: 'note' }, h('summary', {}, t('ledger.noteText')), h('pre', { 'data-testid': 'checkpoint-note' }, cp.note || ''))));

  const input = h('input', { id: 'leaf-index', name: 'index', type: 'number', inputmode: 'numeric', min: 0, max: Math.max(0, cp.size - 1), step: 1, required: true, value: Math.max(0, cp.size - 1), 'data-testid': 'leaf-index', 'aria-describedby': 'leaf-index-hint' });
  const result = h('div', { class: 'verify-result', 'data-testid': 'verify-result', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn primary', 'data-testid': 'verify-submit' }, t('ledger.verify'));
  const form = h('form', { class: 'verify-form', 'data-testid': 'proof-form', novalidate: true },
    h('label', { for: 'leaf-index' }, t('ledger.leafIndex')),
    h('div', { class: 'row' }, input, submit,
      h('button', { type: 'button', class: 'btn ghost', onclick: () => { input.value = Math.max(0, cp.size - 1); form.requestSubmit(); } }, t('ledger.latest'))),
    h('p', { id: 'leaf-index-hint', class: 'fine' }, t('ledger.indexHint', { max: num(Math.max(0, cp.size - 1)) })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const idx = Number(input.value);
    if (!Number.isInteger(idx) || idx < 0 || idx >= cp.size) {
      result.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, t('ledger.badIndex', { max: num(cp.size - 1) })));
      input.focus();
      return;
    }
    submit.disabled = true;
    result.replaceChildren(h('p', { class: 'muted' }, t('ledger.checking')));
    try {
      const p = await api(`/ledger/proof?index=${idx}`, { signal });
      result.replaceChildren(await verdict(p, cp));
    } catch (err) {
      if (err.name !== 'AbortError') errorState(result, err);
    } finally {
      submit.disabled = false;
    }
  });
  el.append(card(t('ledger.verifyTitle'), h('p', { class: 'muted' }, t('ledger.verifyHint')), form, result));
  el.append(selfTestCard());
}

function safeHex(b64) {
  try {
    return toHex(fromBase64(b64));
  } catch {
    return '';
  }
}

async function verdict(p, cp) {
  const v = await verifyInclusion(p.leaf_index, p.tree_size, p.leaf || '', p.proof || [], p.root);
  const serverLeaf = safeHex(p.leaf_hash);
  const leafMatches = !p.leaf_hash || serverLeaf === v.leafHash;
  const noteRoot = parseNote(p.checkpoint_note).root;
  const noteRootHex = noteRoot ? safeHex(noteRoot) : '';
  const noteMatches = !noteRootHex || noteRootHex === v.computedRoot;
  // The note's Ed25519 signature, checked here against the log's public keys.
  const keys = p.public_keys || [];
  const signers = keys.length ? await verifyNote(p.checkpoint_note || '', keys) : [];
  const sigOk = !keys.length || signers.length > 0;
  const ok = v.ok && leafMatches && noteMatches && sigOk;
  const problems = [];
  if (v.error && !v.ok) problems.push(v.error === 'computed root does not match' ? t('ledger.rootMismatch') : v.error);
  if (!leafMatches) problems.push(t('ledger.leafMismatch'));
  if (!noteMatches) problems.push(t('ledger.noteMismatch'));
  if (!sigOk) problems.push(t('ledger.sigBad'));
  const advanced = p.tree_size !== cp.size;
  const box = h('div', { class: 'verdict ' + (ok ? 'ok' : 'fail'), role: 'status', 'data-testid': 'verdict', 'data-status': ok ? 'verified' : 'failed',
    'data-signature': signers.length ? 'verified' : keys.length ? 'failed' : 'unchecked' },
    icon(ok ? 'check' : 'cross'),
    h('div', {}, h('p', { class: 'verdict-title' }, ok ? t('ledger.verified') : t('ledger.failed')),
      h('p', {}, ok ? t('ledger.verifiedHint', { i: num(p.leaf_index), n: num(p.tree_size) }) : problems.join(' · ')),
      signers.length ? h('p', { class: 'fine' }, t('ledger.sigOk', { who: signers.join(', ') })) : null,
      advanced ? h('p', { class: 'fine' }, t('ledger.advanced', { n: num(p.tree_size) })) : null));
  const hashes = h('dl', { class: 'hashes' },
    h('dt', {}, t('ledger.leafHash')), h('dd', {}, h('code', { class: 'hash', 'data-testid': 'computed-leaf-hash' }, v.leafHash || DASH)),
    h('dt', {}, t('ledger.computedRoot')), h('dd', {}, h('code', { class: 'hash', 'data-testid': 'computed-root' }, v.computedRoot || DASH)),
    h('dt', {}, t('ledger.signedRoot')), h('dd', {}, h('code', { class: 'hash' }, noteRootHex || safeHex(p.root) || DASH)));
  const proofList = h('details', {}, h('summary', {}, t('ledger.proofPath', { n: (p.proof || []).length })),
    h('ol', { class: 'proof-list' }, (p.proof || []).map((x) => h('li', {}, h('code', { class: 'hash' }, safeHex(x))))));
  return h('div', {}, box, hashes, proofList, leafContents(p));
}

// leafContents shows the batch the leaf commits to: the header lines, the readings as a
// table (tab-separated: point, time, value, unit, quality), and the rest (events) as is.
function leafContents(p) {
  let text = '';
  try {
    text = new TextDecoder().decode(fromBase64(p.leaf || ''));
  } catch {
    /* not base64: shown as no text */
  }
  const lines = text.replace(/\n$/, '').split('\n');
  const at = lines.findIndex((l) => /^readings \d+$/.test(l)) + 1;
  const n = at ? Number(lines[at - 1].slice(9)) : 0;
  const readings = lines.slice(at, at + n).map((l) => l.split('\t'));
  const hid = id('leaf');
  return h('section', { class: 'leaf', 'aria-labelledby': hid, 'data-testid': 'leaf-lines' },
    h('h3', { id: hid }, t('ledger.leafTitle', { i: num(p.leaf_index) })),
    text ? h('pre', {}, lines.slice(0, at || lines.length).join('\n')) : h('p', { class: 'muted' }, t('ledger.noLeafText')),
    n ? table({ caption: t('ledger.readings', { n: num(n) }), showCaption: true, testid: 'leaf-readings',
      cols: [t('ledger.col.point'), t('ledger.col.time'), nc(t('ledger.col.value')), t('ledger.col.unit'), t('ledger.col.quality')],
      rows: readings.map((r) => [r[0], r[1] ? `${date(r[1])} (${r[1]})` : DASH, r[2] ?? '', r[3] ?? '', r[4] ?? '']) }) : null,
    at && lines.length > at + n ? h('pre', {}, lines.slice(at + n).join('\n')) : null);
}

function selfTestCard() {
  const out = h('p', { 'data-testid': 'selftest', role: 'status' }, t('ledger.selfTestRunning'));
  const show = (r) => {
    out.className = r.ok ? 'selftest ok' : 'selftest fail';
    out.replaceChildren(icon(r.ok ? 'check' : 'cross'), r.ok ? t('ledger.selfTestOk', { n: r.checked }) : t('ledger.selfTestFail', { e: r.errors.join('; ') }));
  };
  if (!selfTestResult) selfTestResult = selfTest().catch((e) => ({ ok: false, checked: 0, errors: [String(e)] }));
  selfTestResult.then(show);
  return card(t('ledger.selfTest'), h('p', { class: 'muted' }, t('ledger.selfTestHint')), out);
}
