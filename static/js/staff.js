/* Staff home: the events list, and for organisers "Create event" and "Load a seed file".
 * An ES module (see lib.js). Strings come from #strings; user text is set with textContent only. */
import { $, api, h, pageData, errorCodes, NETWORK } from './lib.js';

(function () {
  if (!$('page-data')) return;
  var DATA = pageData();
  var S = pageData('strings');
  var events = (DATA.events || []).slice();
  var LOCALE = String(DATA.locale || document.documentElement.lang || 'en').replace('_', '-');
  /* Statuses come from the server's rules table (discussion/rules/enums.py, `rules` in
   * the page data), never from a list of our own. */
  var RULES = DATA.rules || {};
  var ERR = errorCodes(RULES, 'staff.js');
  function statusLabel(status) {
    return (RULES.event_statuses || []).indexOf(status) >= 0 ? S['status_' + status] || status : status;
  }

  function say(el, msg) { if (el) el.textContent = msg || ''; }
  function fmt(s, vars) {
    return String(s || '').replace(/%\((\w+)\)s/g, function (m, k) { return vars && vars[k] != null ? String(vars[k]) : m; });
  }
  function errorText(err) {
    if (!err) return S.err_generic;
    if (err.code === ERR.INVALID_SEED) return S.err_invalid_seed + ' ' + err.message;
    if (err.code === ERR.EMPTY && /title/.test(err.message || '')) return S.err_title_required;
    return S['err_' + err.code] || err.message || S.err_generic;
  }
  function post(url, body) {
    return api('POST', url, body).then(function (r) {
      if (r.ok) return { ok: true, data: r.data };
      if (r.status === 0) return { ok: false, error: { code: NETWORK }, message: S.err_network };
      var err = r.error;
      if (r.status === 401) err = { code: ERR.LOGIN_REQUIRED, message: err.message };
      return { ok: false, error: err, message: errorText(err) };
    });
  }
  function busy(b, on) { b.disabled = on; b.setAttribute('aria-busy', String(on)); }

  /* ---------- the list ---------- */
  function eventItem(e, fresh) {
    return h('li', { class: 'card staff-event' + (fresh ? ' is-new' : ''), id: 'ev-' + e.code }, [
      h('h3', { text: e.title }),
      h('p', { class: 'mq-meta' }, [
        h('span', {}, [S.code + ' ', h('span', { class: 'code', text: e.code })]),
        e.date ? h('span', {}, [h('time', { datetime: e.date, text: e.date })]) : null,
        e.place ? h('span', { text: e.place }) : null
      ]),
      h('p', { class: 'badges' }, [
        h('span', { class: 'badge', 'data-status': e.status, text: statusLabel(e.status) }),
        h('span', { class: 'tag', text: S['mode_' + e.moderation] || e.moderation })
      ]),
      purgeWarning(e),
      h('p', { class: 'links' }, [
        h('a', { href: '/e/' + e.code + '/moderate', text: S.console }),
        h('a', { href: '/e/' + e.code + '/board', target: '_blank', rel: 'noopener' }, [
          S.board + ' ', h('span', { 'aria-hidden': 'true', text: '↗' }), h('span', { class: 'sr-only', text: ' ' + S.new_window })
        ]),
        h('a', { href: '/e/' + e.code, text: S.participant })
      ])
    ]);
  }
  /* ---------- retention: organisers are told before names and links are removed ---------- */
  function intl(Ctor, opts) {
    try { return new Ctor(LOCALE, opts); } catch (err) { return new Ctor('en', opts); }
  }
  var dayFmt = intl(Intl.DateTimeFormat, { dateStyle: 'long' });
  /* The day `purge_at` names (an ISO date, or a date and time), as a local calendar day. */
  function calendarDay(iso) {
    var s = String(iso || '');
    var m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(s);
    var d = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
      : new Date(/(Z|[+-]\d\d:?\d\d)$/i.test(s) ? s : s + 'Z');
    if (!s || isNaN(d.getTime())) return null;
    return new Date(d.getFullYear(), d.getMonth(), d.getDate());
  }
  /* The warning of one event's card, or null: only for organisers, only when the staff
   * data carries `purge_at` and it is at most purge_warning_days away (or past). */
  function purgeWarning(e) {
    if (!DATA.is_organiser) return null;
    var day = calendarDay(e.purge_at);
    if (!day) return null;
    var now = new Date();
    var days = Math.round((day - new Date(now.getFullYear(), now.getMonth(), now.getDate())) / 86400000);
    if (days > (DATA.purge_warning_days || 0)) return null;
    return h('p', { class: 'notice purge-warning', id: 'purge-' + e.code }, [
      h('strong', { text: fmt(days < 0 ? S.purge_due : S.purge_soon, { date: dayFmt.format(day) }) }), ' ',
      h('a', { href: '/e/' + encodeURIComponent(e.code) + '/export.html', text: S.purge_report })
    ]);
  }
  // The server-rendered cards get theirs too.
  events.forEach(function (e) {
    var li = $('ev-' + e.code);
    var warning = li ? purgeWarning(e) : null;
    if (warning) li.insertBefore(warning, li.querySelector('.links'));
  });

  function upsertEvent(e) {
    events = events.filter(function (o) { return o.code !== e.code; });
    events.unshift(e);
    var list = $('event-list');
    var old = $('ev-' + e.code);
    if (old) old.parentNode.removeChild(old);
    list.querySelectorAll('.is-new').forEach(function (el) { el.classList.remove('is-new'); });
    list.insertBefore(eventItem(e, true), list.firstChild);
    $('no-events').hidden = true;
  }
  function consoleLink(e) {
    return h('a', { href: '/e/' + e.code + '/moderate', text: S.open_console });
  }

  /* ---------- create ---------- */
  var create = $('create-form');
  if (create) {
    create.hidden = false;
    var f = create.elements;
    f.code.addEventListener('input', function () {
      var v = f.code.value.toLowerCase().replace(/\s+/g, '-');
      if (v !== f.code.value) f.code.value = v;
    });
    create.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var errEl = $('create-error');
      say(errEl, '');
      say($('create-status'), '');
      create.querySelectorAll('[aria-invalid]').forEach(function (el) { el.removeAttribute('aria-invalid'); });
      function fail(field, msg) {
        say(errEl, msg);
        if (field) { field.setAttribute('aria-invalid', 'true'); field.focus(); }
      }
      var title = f.title.value.trim();
      var code = f.code.value.trim().toLowerCase();
      if (!title) return fail(f.title, S.err_title_required);
      if (!/^[a-z0-9][a-z0-9-]{1,31}$/.test(code)) return fail(f.code, S.err_invalid_code);
      if (events.some(function (e) { return e.code === code; })) return fail(f.code, S.err_code_taken);
      var body = { code: code, title: title, moderation: f.moderation.value, status: f.status.value };
      if (f.date.value) body.date = f.date.value;
      if (f.place.value.trim()) body.place = f.place.value.trim();
      var topics = f.topics.value.split('\n').map(function (s) { return s.trim(); }).filter(Boolean);
      if (topics.length) body.topics = topics;
      var button = $('create-submit');
      busy(button, true);
      post('/api/v1/events', body).then(function (r) {
        busy(button, false);
        if (!r.ok) {
          var field = new Map([[ERR.CODE_TAKEN, f.code], [ERR.INVALID_CODE, f.code], [ERR.INVALID_DATE, f.date],
            [ERR.DUPLICATE_TOPIC, f.topics], [ERR.INVALID_SLUG, f.topics], [ERR.EMPTY, f.title]]).get(r.error.code);
          return fail(field, r.message);
        }
        upsertEvent(r.data);
        var status = $('create-status');
        say(status, fmt(S.created, { title: r.data.title }) + ' ');
        status.append(consoleLink(r.data));
        create.reset();
      });
    });
  }

  /* ---------- seed ---------- */
  var seed = $('seed-form');
  if (seed) {
    seed.hidden = false;
    seed.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var errEl = $('seed-error');
      var input = $('seed-file');
      say(errEl, '');
      say($('seed-status'), '');
      input.removeAttribute('aria-invalid');
      function fail(msg) { say(errEl, msg); input.setAttribute('aria-invalid', 'true'); input.focus(); }
      var file = input.files && input.files[0];
      if (!file) return fail(S.err_no_file);
      if (file.size > 1000000) return fail(S.err_file_too_big);
      var button = $('seed-submit');
      busy(button, true);
      file.text().then(function (text) {
        return post('/api/v1/events/seed', { toml: text });
      }, function () {
        return { ok: false, error: { code: 'file_unreadable' }, message: S.err_file_unreadable };
      }).then(function (r) {
        busy(button, false);
        if (!r.ok) return fail(r.message);
        upsertEvent(r.data.event);
        var status = $('seed-status');
        say(status, fmt(S.seeded, { title: r.data.event.title, added: r.data.added }) + ' ');
        status.append(consoleLink(r.data.event));
        seed.reset();
      });
    });
  }
})();
