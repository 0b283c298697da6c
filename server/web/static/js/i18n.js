// Language and number formatting. The dictionaries are ../i18n.json: {"languages": ["zh-CN",
// "en"], "messages": {"key": ["中文", "English"], …}}, each key's translations side by side
// (the Go tests check that every key the HTML and the scripts use is there).

const LANGS = ['zh-CN', 'en'];
let dicts = {};
let lang = 'zh-CN';
let timeZone = 'Asia/Shanghai';

const stored = (v) => {
  try {
    if (v) localStorage.setItem('lifang.lang', v);
    return localStorage.getItem('lifang.lang');
  } catch {
    return null; // storage disabled
  }
};

export async function loadI18n() {
  const res = await fetch(new URL('../i18n.json', import.meta.url));
  if (!res.ok) throw new Error('i18n.json: HTTP ' + res.status);
  const j = await res.json();
  dicts = Object.fromEntries(j.languages.map((l, i) => [l, Object.fromEntries(Object.entries(j.messages).map(([k, v]) => [k, v[i]]))]));
  lang = LANGS.includes(stored()) ? stored() : 'zh-CN';
}

export const getLang = () => lang;
export const getTimeZone = () => timeZone;

export function setLang(l) {
  lang = LANGS.includes(l) ? l : 'zh-CN';
  document.documentElement.lang = lang;
  stored(lang);
}

export function setTimeZone(tz) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    timeZone = tz || timeZone;
  } catch {
    /* unknown zone: keep the default */
  }
}

// t looks key up in the current language, then in zh-CN, and fills {name} from vars.
export function t(key, vars) {
  const s = dicts[lang]?.[key] ?? dicts['zh-CN']?.[key] ?? key;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

// tk translates prefix+name when the dictionary has it, else shows fallback (or name):
// for names that come from data (adjustments, stages, roles).
export const tk = (prefix, name, fallback) => dicts[lang]?.[prefix + name] ?? fallback ?? String(name).replace(/_/g, ' ');

// applyStatic translates index.html: data-i18n (text), data-i18n-placeholder,
// data-i18n-aria-label and data-i18n-title.
export function applyStatic() {
  document.querySelectorAll('[data-i18n]').forEach((el) => (el.textContent = t(el.dataset.i18n)));
  for (const a of ['placeholder', 'aria-label', 'title']) {
    document.querySelectorAll(`[data-i18n-${a}]`).forEach((el) => el.setAttribute(a, t(el.getAttribute(`data-i18n-${a}`))));
  }
}

const cache = new Map();
const memo = (k, make) => cache.get(k) || cache.set(k, make()).get(k);
const nf = (max, min = 0, compact) => memo(`n${lang}${max}${min}${compact}`, () =>
  new Intl.NumberFormat(lang === 'en' ? 'en-US' : 'zh-CN', { maximumFractionDigits: max, minimumFractionDigits: min, notation: compact ? 'compact' : 'standard' }));

export const DASH = '—';
const ok = (v) => typeof v === 'number' && Number.isFinite(v);

// num formats with grouping and at most d decimals.
export const num = (v, d = 0) => (ok(v) ? nf(d).format(v) : DASH);

// big is num with 万/亿 in Chinese (1.23亿, 4,560.1万) and plain grouping in English.
export function big(v, d = 0) {
  if (!ok(v)) return DASH;
  const a = Math.abs(v);
  if (lang !== 'en' && a >= 1e8) return nf(2, 2).format(v / 1e8) + '亿';
  if (lang !== 'en' && a >= 1e4) return nf(1, 1).format(v / 1e4) + '万';
  return nf(d).format(v);
}

// money is an amount in yuan: "1.23亿元", "4,560.1万元" / "¥123,456,789".
export function money(v, d) {
  if (!ok(v)) return DASH;
  d ??= Math.abs(v) >= 1000 ? 0 : 2;
  return lang === 'en' ? (v < 0 ? '−¥' : '¥') + nf(d, Math.min(d, 2)).format(Math.abs(v)) : big(v, d) + '元';
}

export const signedMoney = (v) => (ok(v) && v > 0 ? '+' : '') + money(v);

export const pct = (v, d = 1, signed = false) => (ok(v) ? (signed && v > 0 ? '+' : '') + nf(d, d).format(v * 100) + '%' : DASH);

// unit appends a unit: "966.7 kW".
export const unit = (v, u, d = 0) => (ok(v) ? `${big(v, d)} ${u}` : DASH);

// tick is a short axis label.
export function tick(v) {
  if (!ok(v)) return '';
  const a = Math.abs(v);
  if (lang !== 'en' && a >= 1e4) return nf(1).format(v / (a >= 1e8 ? 1e8 : 1e4)) + (a >= 1e8 ? '亿' : '万');
  return nf(a < 10 ? 2 : a >= 1e4 ? 1 : 0, 0, a >= 1e4).format(v);
}

const STYLES = {
  day: { month: 'short', day: 'numeric' },
  hour: { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  date: { year: 'numeric', month: 'short', day: 'numeric' },
  full: { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
};

// date formats a time (ms or ISO) in the unit's time zone.
export function date(v, style = 'full') {
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) return DASH;
  return memo(`d${lang}${style}${timeZone}`, () => new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'zh-CN', { timeZone, ...STYLES[style] })).format(ms);
}
