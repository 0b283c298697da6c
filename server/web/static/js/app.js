// The dashboard shell: language, sign-in, role-aware navigation and hash routing. Each
// page renders into #view; the overview fills the KPI cards already in index.html.

import { loadI18n, t, tk, setLang, getLang, applyStatic, money, big, pct } from './i18n.js';
import { api, getToken, setToken, takeTokenFromHash } from './api.js';
import { state, can, roleName, forbidden, errorState } from './ui.js';
import { clear } from './dom.js';
import * as merkle from './merkle.js';
import { overview } from './overview.js';
import { energy, forecasts, parking, water, rentals } from './operations.js';
import { ledger } from './ledger.js';
import { finance } from './finance.js';
import { scenarios } from './scenarios.js';
import { site } from './site.js';

const OPS = 'read:operations';
const ROUTES = {
  overview: [null, overview, () => t('sub.overview')],
  energy: [OPS, energy, () => t('sub.energy')],
  site: [OPS, site, () => t('sub.site')],
  forecasts: [OPS, forecasts, () => t('sub.forecasts')],
  parking: [OPS, parking, () => t('sub.parking')],
  water: [OPS, water, () => t('sub.water')],
  rentals: [OPS, rentals, () => t('sub.rentals')],
  ledger: ['read:ledger', ledger, () => t('sub.ledger')],
  finance: ['read:finance', finance, () => t('sub.finance')],
  scenarios: ['run', scenarios, () => t('sub.scenarios')],
};

const $ = (sel) => document.querySelector(sel);
let current = { name: '', ctl: null };
let markReady;
const ready = new Promise((r) => (markReady = r));

function updateShell() {
  document.querySelectorAll('#nav a[data-route]').forEach((a) => {
    a.parentElement.hidden = !can(ROUTES[a.dataset.route][0]);
    if (a.dataset.route !== current.name) return a.removeAttribute('aria-current');
    a.setAttribute('aria-current', 'page');
    a.scrollIntoView({ block: 'nearest', inline: 'nearest' }); // the phone nav scrolls sideways
  });
  const badge = $('#role-badge');
  badge.hidden = !state.me;
  if (state.me) {
    badge.textContent = [state.me.name, roleName(state.me.role)].filter(Boolean).join(' · ');
    badge.title = t('auth.role', { role: roleName(state.me.role) });
  }
  $('#signout').hidden = !getToken();
  if (!state.me) $('#unit-name').textContent = '';
  const tgl = $('#lang-toggle');
  tgl.setAttribute('lang', getLang() === 'en' ? 'zh-CN' : 'en');
  tgl.setAttribute('aria-label', t('lang.toggleLabel'));
}

function showSignIn(show, message = '') {
  $('#signin').hidden = !show;
  $('#signin-error').hidden = !message;
  $('#signin-error').textContent = message;
}

// render shows the current route. focus moves keyboard and screen-reader users to the
// new page's heading when they navigate (not on first load).
async function render({ focus = false } = {}) {
  const m = /^#\/([a-z]+)/.exec(location.hash);
  const name = m && ROUTES[m[1]] ? m[1] : 'overview';
  const [perm, page, sub] = ROUTES[name];
  current.ctl?.abort();
  const ctl = new AbortController();
  current = { name, ctl };
  updateShell();
  const title = tk('nav.', name);
  $('#page-title').textContent = title;
  $('#page-sub').textContent = sub();
  document.title = `${title} · ${t('app.name')}`;
  const home = name === 'overview';
  $('#view-overview').hidden = !home;
  const view = $('#view');
  view.hidden = home;
  view.setAttribute('aria-label', title);
  if (!home) clear(view);
  if (focus) $('#page-title').focus();
  const ctx = { el: home ? $('#overview-more') : view, tools: clear($('#page-tools')), signal: ctl.signal, rerender: () => render() };
  if (!getToken()) {
    $('#signin').hidden = false;
    if (!home) return errorState(view, { status: 401 });
  }
  if (!can(perm)) return forbidden(view);
  try {
    await page(ctx);
  } catch (e) {
    if (!ctl.signal.aborted) errorState(ctx.el, e, () => render());
  }
}

async function loadMe() {
  state.me = null;
  if (getToken()) {
    try {
      state.me = await api('/me');
      showSignIn(false);
    } catch (e) {
      if (e.status === 401) setToken('');
      showSignIn(e.status === 401, e.status === 401 ? t('auth.invalid') : '');
    }
  }
  updateShell();
}

function relang(lang) {
  setLang(lang);
  applyStatic();
  return render();
}

function bind() {
  $('#lang-toggle').addEventListener('click', () => relang(getLang() === 'en' ? 'zh-CN' : 'en'));
  $('#refresh').addEventListener('click', () => {
    state.cache.clear();
    render();
  });
  $('#signout').addEventListener('click', () => {
    setToken('');
    state.cache.clear();
    state.me = null;
    showSignIn(true);
    location.hash = '#/overview';
    render();
    $('#signin-token').focus();
  });
  $('#signin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const tok = $('#signin-token').value.trim();
    if (!tok) return;
    setToken(tok);
    $('#signin-token').value = '';
    state.cache.clear();
    await loadMe();
    if (getToken()) render({ focus: !!state.me });
  });
  document.addEventListener('lifang:unauthorized', () => showSignIn(true, getToken() ? t('auth.expired') : ''));
  // The skip link moves focus without touching the route in the fragment.
  $('.skip').addEventListener('click', (e) => {
    e.preventDefault();
    $('#main').focus();
  });
  window.addEventListener('hashchange', async () => {
    if (takeTokenFromHash() === null) return /^#[^/]/.test(location.hash) ? undefined : render({ focus: true }); // #main: the skip target
    state.cache.clear();
    await loadMe();
    render();
  });
}

// Hooks for browser tests, and for auditors who check a proof by hand in the console:
// await lifang.verifyInclusion(index, size, leafBase64, [proofBase64, …], rootBase64).
window.lifang = Object.freeze({
  ready,
  ...merkle,
  setLang: relang,
  getLang,
  format: { money, big, pct },
  route: () => current.name,
});

(async () => {
  try {
    await loadI18n();
  } catch (e) {
    console.warn('lifang: no dictionaries, showing the built-in Chinese text', e);
  }
  setLang(getLang());
  applyStatic();
  takeTokenFromHash();
  bind();
  await loadMe();
  await render();
  markReady();
})();
