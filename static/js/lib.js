/* What every page script needs, once. A native ES module (no build step), loaded under
 * the pages' CSP (script-src 'self') by `<script type="module">` or `import`.
 *
 *   $(id)                       document.getElementById
 *   h(tag, props, kids)         an element: props.class, props.text (textContent), other
 *                               props as attributes (true -> "", null/false -> left out);
 *                               kids are nodes or strings, falsy ones skipped
 *   pageData(id = 'page-data')  the JSON of a <script type="application/json"> block, or {}
 *   fill(s, vars)               "%(name)s" placeholders of a translated string filled in
 *   formats(locale, strings)    { nf, fmt(s, n), plural(key, n), pattern(key, n), ms(iso),
 *                               ago(iso), date(iso) }: numbers, plural forms (Intl.PluralRules
 *                               picks "<key>_one" or "<key>_other" in strings; pattern() is
 *                               that string before the number is filled in) and relative
 *                               dates in that locale
 *   ms(iso)                     one of our UTC timestamps in epoch milliseconds (0 if none)
 *   intl(Ctor, locale, opts)    new Intl.<Ctor>(locale, opts), in English if the locale is
 *                               refused (for the formats a page needs beyond formats())
 *   csrfToken()                 the page's <meta name="csrf-token">
 *   api(method, url, body)      fetch JSON with the X-CSRFToken header; resolves (never
 *                               rejects) to { ok, status, data, error: {code, message} };
 *                               a network failure is status 0 with error.code NETWORK
 *   errorCodes(rules, who)      the server's error codes by name from the page's rules
 *                               table: ERR.LOGIN_REQUIRED is 'login_required' (a name the
 *                               table lacks is reported on the console)
 *   retryLater(rules)           the Set of error codes worth sending again later
 *   store                       localStorage that survives private mode and a full disk:
 *                               get(key, fallback), set(key, value), del(key), keys()
 *
 * Strings shown to people are never written here: they come from the page (Flask-Babel). */

export const $ = (id) => document.getElementById(id);

/* The one error code made here, not by the server: no answer came at all. */
export const NETWORK = 'network';

/* The error codes the server answers with (discussion/rules/enums.py ErrorCode, shipped
 * as `rules.errors` in the page data), so a script names a code without spelling it:
 * each is named after its value, ERR.LOGIN_REQUIRED is 'login_required'. */
export function errorCodes(rules, who) {
  const codes = new Set((rules && rules.errors) || []);
  return new Proxy({}, {
    get(_t, name) {
      if (typeof name !== 'string') return undefined;
      const code = name.toLowerCase();
      if (name === code.toUpperCase() && codes.has(code)) return code;
      console.error(who + ': "' + name + '" is not an error code of the rules table');
      return undefined;
    }
  });
}

/* The codes a client sends again later instead of showing them (the server was busy,
 * failed or had not joined the socket yet): `rules.retry_later`, declared in Python. */
export function retryLater(rules) {
  return new Set((rules && rules.retry_later) || []);
}

export function h(tag, props, kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids || []) if (c) el.append(c);
  return el;
}

export function pageData(id = 'page-data') {
  const el = document.getElementById(id);
  try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
}

export function fill(s, vars) {
  return String(s || '').replace(/%\((\w+)\)s/g, (m, k) => (vars && vars[k] != null ? String(vars[k]) : m));
}

export const intl = (Ctor, locale, opts) => {
  try { return new Ctor(locale, opts); } catch (e) { return new Ctor('en', opts); }
};

/* Our timestamps are ISO 8601 in UTC, sometimes without the zone: read them as UTC. */
export function ms(iso) {
  if (!iso) return 0;
  const s = String(iso);
  const v = Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(s) || !s.includes('T') ? s : s + 'Z');
  return Number.isNaN(v) ? 0 : v;
}

export function formats(locale, strings) {
  const S = strings || {};
  const loc = String(locale || document.documentElement.lang || 'en').replace('_', '-');
  const nf = intl(Intl.NumberFormat, loc);
  const pr = intl(Intl.PluralRules, loc);
  const rtf = Intl.RelativeTimeFormat && intl(Intl.RelativeTimeFormat, loc, { numeric: 'auto', style: 'short' });
  const fmt = (s, n) => String(s || '').replace(/%\((num|count)\)s/g, nf.format(n));
  const pattern = (key, n) => S[key + (pr.select(n) === 'one' ? '_one' : '_other')] || S[key + '_other'] || '';
  const plural = (key, n) => fmt(pattern(key, n), n);
  const ago = (iso) => {
    const t = ms(iso);
    if (!t || !rtf) return '';
    const s = Math.round((t - Date.now()) / 1000), a = Math.abs(s);
    if (a < 45) return rtf.format(0, 'second');
    if (a < 2700) return rtf.format(Math.round(s / 60), 'minute');
    if (a < 79200) return rtf.format(Math.round(s / 3600), 'hour');
    return rtf.format(Math.round(s / 86400), 'day');
  };
  const date = (iso) => {
    const timed = String(iso || '').includes('T'), t = ms(iso);
    if (!t) return '';
    return intl(Intl.DateTimeFormat, loc, timed ? { dateStyle: 'long', timeStyle: 'short' } : { dateStyle: 'long', timeZone: 'UTC' }).format(t);
  };
  return { nf, fmt, plural, pattern, ms, ago, date };
}

export function csrfToken() {
  const m = document.querySelector('meta[name="csrf-token"]');
  return m ? m.content : '';
}

export async function api(method, url, body) {
  const headers = { Accept: 'application/json', 'X-CSRFToken': csrfToken() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body)
    });
  } catch (e) {
    return { ok: false, status: 0, data: null, error: { code: NETWORK, message: '' } };
  }
  let data = null;
  try { data = res.status === 204 ? null : await res.json(); } catch (e) { data = null; }
  if (res.ok) return { ok: true, status: res.status, data, error: null };
  const error = (data && data.error) || { code: 'http_' + res.status, message: '' };
  return { ok: false, status: res.status, data, error };
}

export const store = {
  get(key, fallback) {
    try { const v = localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); } catch (e) { return fallback; }
  },
  set(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* full or private */ } },
  del(key) { try { localStorage.removeItem(key); } catch (e) { /* unavailable */ } },
  keys() { try { return Object.keys(localStorage); } catch (e) { return []; } }
};
