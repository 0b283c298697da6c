// The API client: the bearer token (localStorage, or a #token=… fragment), JSON requests
// with the one error shape, and job progress over server-sent events.

const KEY = 'lifang.token';
const BASE = '/api/v1';
let memoryToken = ''; // when storage is disabled the token lives for the page only

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message || code || `HTTP ${status}`);
    Object.assign(this, { status, code: code || '', body, retryAfter: 0 });
  }
}

const storage = () => {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
};

export const getToken = () => storage()?.getItem(KEY) || memoryToken;

export function setToken(tok) {
  memoryToken = tok || '';
  if (tok) storage()?.setItem(KEY, tok);
  else storage()?.removeItem(KEY);
}

// takeTokenFromHash accepts "#token=…" (also "#/page?token=…"), stores the token and
// strips it from the address bar so that it stays out of history and copied links.
export function takeTokenFromHash() {
  const m = /(?:^#|[?&])token=([^&]*)/.exec(location.hash);
  if (!m) return null;
  const tok = decodeURIComponent(m[1]).trim();
  if (tok) setToken(tok);
  const rest = location.hash.slice(0, m.index).replace(/[?&]$/, '');
  history.replaceState(null, '', location.pathname + location.search + (rest.length > 1 ? rest : '#/overview'));
  return tok;
}

export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (getToken()) headers.Authorization = 'Bearer ' + getToken();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', e.message);
  }
  let data = null;
  try {
    data = JSON.parse(await res.text());
  } catch {
    /* an empty or non-JSON body */
  }
  if (res.ok) return data;
  const d = data?.error || {};
  const err = new ApiError(res.status, d.code || { 401: 'unauthorized', 403: 'forbidden' }[res.status], d.message || res.statusText, data);
  err.retryAfter = Number(res.headers.get('Retry-After')) || 0;
  throw err;
}

// watchJob follows a job's events and resolves with the finished job; onProgress gets
// {stage, done, total}. EventSource cannot send headers, so the token goes in
// ?access_token= on this URL only. If the stream fails it polls GET /jobs/{id}.
export function watchJob(id, onProgress) {
  return new Promise((resolve, reject) => {
    const path = `/jobs/${encodeURIComponent(id)}`;
    const final = (j) => ['done', 'failed', 'cancelled'].includes(j?.status);
    let es = null;
    let settled = false;
    const finish = (fn, v) => {
      if (settled) return;
      settled = true;
      es?.close();
      fn(v);
    };
    const poll = async () => {
      try {
        const j = await api(path);
        if (final(j)) return finish(resolve, j);
        if (j.progress) onProgress(j.progress);
      } catch (e) {
        if (e.status !== 503) return finish(reject, e);
      }
      setTimeout(poll, 1000);
    };
    if (typeof EventSource === 'undefined') return void poll();
    es = new EventSource(`${BASE}${path}/events?access_token=${encodeURIComponent(getToken())}`);
    es.addEventListener('progress', (ev) => {
      try {
        onProgress(JSON.parse(ev.data));
      } catch {
        /* skip a malformed event: the final one carries the job */
      }
    });
    const fallback = () => {
      es.close(); // no EventSource reconnects: polling takes over
      if (!settled) poll();
    };
    es.addEventListener('done', (ev) => {
      try {
        const j = JSON.parse(ev.data);
        if (final(j)) return finish(resolve, j);
      } catch {
        /* fall back to polling */
      }
      fallback();
    });
    es.addEventListener('error', fallback);
  });
}
