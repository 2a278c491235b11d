/* Moderator console: every question of one event, live over Socket.IO, with the
 * moderation actions, keyboard shortcuts, the moderation log and event controls.
 * A native ES module (no build step) on lib.js's element helper, formatting and JSON
 * calls. Data comes from #page-data, translated strings from #strings; user text is
 * only ever set with textContent. Actions go over HTTP with the page's CSRF token; the
 * socket keeps the list in sync. */
import { $, h, pageData, fill, formats, intl, ms as isoMs, api as request, errorCodes, NETWORK } from './lib.js';

if ($('page-data')) start();

function start() {
  var DATA = pageData();
  var S = pageData('strings');
  var EVENT = DATA.event || {};
  var CODE = EVENT.code;
  /* Shortcut letters in the language shown (discussion/board.py console_keys): the key
   * on each button is the one that works. J/K, / and ? are the same everywhere. */
  var KEYS = DATA.keys || {};
  var REASONS = DATA.reasons || {};
  /* Statuses, actions and reason codes come from the server's rules table
   * (discussion/rules/enums.py browser_table, `rules` in the page data): the tabs, the
   * counts, the buttons offered and the reason chips follow it. The few values this
   * script gives a behaviour of its own are named once here and checked against it. */
  var RULES = DATA.rules || {};
  function known(list, value) {
    if ((list || []).indexOf(value) < 0) console.error('moderate.js: "' + value + '" is not in the rules table');
    return value;
  }
  var STATUSES = RULES.question_statuses || [];
  var PENDING = known(STATUSES, 'pending');
  var VISIBLE = known(STATUSES, 'visible');
  var HIDDEN = known(STATUSES, 'hidden');
  var PUBLIC = new Set((DATA.public_statuses || []).map(function (st) { return known(STATUSES, st); }));
  var QUESTION_ACTIONS = new Set(RULES.question_actions || []);
  var COMMENT_ACTIONS = new Set(RULES.comment_actions || []);
  function reasonCodes(list) { return (list || []).map(function (c) { return known(RULES.reason_codes, c); }); }
  var HIDE_REASONS = reasonCodes(DATA.hide_reasons);
  var MUTE_REASONS = reasonCodes(DATA.mute_reasons);
  var DUPLICATE = known(RULES.reason_codes, 'duplicate');
  var NO_QUOTE = known(RULES.quotes, 'none');
  var EVENT_LIVE = known(RULES.event_statuses, 'live');
  var EVENT_CLOSED = known(RULES.event_statuses, 'closed');
  var EVENT_DRAFT = known(RULES.event_statuses, 'draft');
  var PUBLIC_LOG = new Set(DATA.public_log_actions || []);
  var ERR = errorCodes(RULES, 'moderate.js');
  // The settings field each refusal of PATCH /events points at.
  var FIELD_OF_ERROR = new Map([[ERR.INVALID_RETENTION, 'retention_days'],
    [ERR.UNKNOWN_USER, 'moderators'], [ERR.INVALID_SLUG, 'topics'], [ERR.DUPLICATE_TOPIC, 'topics']]);
  var LOCALE = String(DATA.locale || document.documentElement.lang || 'en').replace('_', '-');
  var API = '/api/v1';

  /* ---------- state ---------- */
  var questions = new Map();      // id -> staff Question
  var cards = new Map();          // id -> <li>
  var threads = new Map();        // id -> {open, comments, loading, el}
  var filter = 'all';
  var sort = 'top';
  var search = '';                // lower-cased text typed in the search box
  var topicFilter = '';           // a topic slug, or '' for all
  var arrivals = { pending: [], visible: [] };  // ids that arrived since the moderator looked
  var selectedId = null;
  var selIndex = -1;              // where the selection sat in the last render
  var socket = null;

  /* ---------- formatting ---------- */
  var F = formats(LOCALE, S);
  var nf = F.nf;
  var plural = F.plural;
  var timeFmt = intl(Intl.DateTimeFormat, LOCALE, { hour: '2-digit', minute: '2-digit' });
  var fullFmt = intl(Intl.DateTimeFormat, LOCALE, { dateStyle: 'medium', timeStyle: 'short' });
  /* A translated string filled in: a count in the page's number format, ids plain (#1234). */
  function fmt(s, vars) {
    return fill(s, vars && vars.count != null ? Object.assign({}, vars, { count: nf.format(vars.count) }) : vars);
  }
  function parseTime(iso) { var t = isoMs(iso); return t ? new Date(t) : null; }
  function clock(iso) { var d = parseTime(iso); return d ? timeFmt.format(d) : ''; }
  function fullTime(iso) { var d = parseTime(iso); return d ? fullFmt.format(d) : ''; }

  /* ---------- DOM helpers ---------- */
  function tag(text, cls) { return h('span', { class: 'tag' + (cls ? ' ' + cls : ''), text: text }); }
  function kbd(key) { return h('kbd', { 'aria-hidden': 'true', text: key.toUpperCase() }); }
  function say(el, msg) { if (el) el.textContent = msg || ''; }
  var announcer = $('announcer');
  function announce(msg) {
    say(announcer, '');
    window.setTimeout(function () { say(announcer, msg); }, 50);
  }

  /* ---------- HTTP ---------- */
  function errorText(err) {
    if (!err) return S.err_generic;
    if (err.code && S['err_' + err.code]) return S['err_' + err.code];
    return err.message || S.err_generic;
  }
  /* lib.js's api() with a readable sentence: resolves {ok, status, data} or
   * {ok: false, status, error, message}; never rejects. A lost login reads as such. */
  function api(method, url, body) {
    return request(method, url, body).then(function (r) {
      if (r.ok) return r;
      if (r.status === 0) return { ok: false, status: 0, error: r.error, message: S.err_network };
      var err = r.status === 401 ? { code: ERR.LOGIN_REQUIRED, message: r.error.message } : r.error;
      return { ok: false, status: r.status, data: r.data, error: err, message: errorText(err) };
    });
  }

  /* ---------- ranking and filtering ---------- */
  function ms(q) { var d = parseTime(q.created_at); return d ? d.getTime() : 0; }
  /* In "All", what needs a decision comes first (pending, oldest first) and hidden last. */
  function group(status) { return status === PENDING ? 0 : (status === HIDDEN ? 2 : 1); }
  function compare(a, b) {
    if (filter === 'all' && group(a.status) !== group(b.status)) return group(a.status) - group(b.status);
    if (filter === 'all' && a.status === PENDING) return (ms(a) - ms(b)) || (a.id - b.id);
    if (sort === 'new') return (ms(b) - ms(a)) || (b.id - a.id);
    if (a.pinned !== b.pinned) return a.pinned ? -1 : 1;
    return (b.votes - a.votes) || (ms(a) - ms(b)) || (a.id - b.id);
  }
  function matches(q, f) { return f === 'all' || q.status === f; }
  function found(q) {
    if (topicFilter && q.topic !== topicFilter) return false;
    if (!search) return true;
    if (search.charAt(0) === '#' && String(q.id) === search.slice(1)) return true;
    return (q.body + '\n' + (q.author || '') + '\n' + (q.original_body || '')).toLowerCase().indexOf(search) >= 0;
  }
  function shownList() {
    var out = [];
    questions.forEach(function (q) { if (matches(q, filter) && found(q)) out.push(q); });
    return out.sort(compare);
  }

  /* ---------- question cards ---------- */
  /* A button of a card: a question action (data-act), with its shortcut letter. */
  function button(act, label, key, opts) {
    opts = opts || {};
    key = key ? KEYS[key] || null : null;
    var b = h('button', {
      type: 'button', class: 'act' + (opts.cls ? ' ' + opts.cls : ''), 'data-act': act,
      'aria-keyshortcuts': key ? key.toUpperCase() : null,
      'aria-pressed': opts.pressed == null ? null : String(!!opts.pressed)
    }, [h('span', { text: label })]);
    if (key) b.append(kbd(key));
    return b;
  }
  /* The same for a moderation action: none for an action the rules table lacks. */
  function actionButton(act, label, key, opts) {
    return QUESTION_ACTIONS.has(act) ? button(act, label, key, opts) : null;
  }

  function topicName(slug) {
    var t = (EVENT.topics || []).find(function (x) { return x.slug === slug; });
    return t ? t.name : slug;
  }

  /* ---------- possible duplicates ---------- */
  /* The server marks a question that probably repeats an earlier visible one
   * (duplicate_of). The console shows the mark while the original can still take a
   * merge, unless the moderator dismissed it for this session (kept per tab, per
   * question and suggested original: a new suggestion shows again). */
  var DISMISSED_KEY = 'dq:console:dismissed-duplicates:' + CODE;
  var dismissed = new Set();
  try { dismissed = new Set(JSON.parse(sessionStorage.getItem(DISMISSED_KEY) || '[]')); } catch (e) { /* none */ }
  function dupKey(q) { return q.id + '>' + q.duplicate_of; }
  function duplicateOf(q) {
    if (q.duplicate_of == null || q.status === HIDDEN || q.merged_into) return null;
    if (dismissed.has(dupKey(q)) || !QUESTION_ACTIONS.has('merge')) return null;
    var o = questions.get(q.duplicate_of);
    // The server clears a mark when its original is hidden or merged; until that reaches
    // this page, a mark whose original can no longer take a merge is not offered.
    return o && o.id !== q.id && PUBLIC.has(o.status) && !o.merged_into ? o : null;
  }
  function shortText(text, max) {
    text = String(text || '').replace(/\s+/g, ' ').trim();
    return text.length > max ? text.slice(0, max - 1).replace(/\s+\S*$/, '') + '…' : text;
  }
  function duplicateHint(q, o) {
    var labelId = 'mq-dup-' + q.id;
    return h('div', { class: 'mq-dup', role: 'group', 'aria-labelledby': labelId }, [
      h('p', { class: 'mq-dup-text', id: labelId }, [
        h('strong', { class: 'mq-dup-label', text: fmt(S.dup_of, { id: o.id }) }), ' ',
        h('q', { class: 'mq-dup-quote', title: o.body, text: shortText(o.body, 110) })
      ]),
      h('span', { class: 'mq-dup-acts' }, [
        button('merge-duplicate', fmt(S.dup_merge, { id: o.id }), null, { cls: 'act-primary' }),
        h('button', { type: 'button', class: 'link-btn mq-dup-dismiss', 'data-act': 'dismiss-duplicate',
          'aria-label': fmt(S.dup_dismiss_label, { id: q.id }), text: S.dup_dismiss })
      ])
    ]);
  }
  function dismissDuplicate(q) {
    dismissed.add(dupKey(q));
    try { sessionStorage.setItem(DISMISSED_KEY, JSON.stringify(Array.from(dismissed))); } catch (e) { /* this page only */ }
    invalidate(q.id);
    renderNow();
    var li = cards.get(q.id);
    if (li && li.isConnected) li.focus({ preventScroll: true });
    announce(fmt(S.dup_dismissed, { id: q.id }));
  }

  function fillCard(li, q) {
    var thread = threads.get(q.id);
    var threadEl = thread ? thread.el : null;
    if (threadEl && threadEl.parentNode === li) li.removeChild(threadEl);
    while (li.firstChild) li.removeChild(li.firstChild);
    var original = duplicateOf(q);
    li.className = 'card mq is-' + q.status + (q.highlighted ? ' is-now' : '') +
      (q.id === selectedId ? ' is-selected' : '') + (original ? ' is-duplicate' : '');
    if (q.id === selectedId) li.setAttribute('aria-current', 'true');
    else li.removeAttribute('aria-current');

    var tags = h('span', { class: 'tags' }, [
      tag(S['status_' + q.status] || q.status, 'tag-status tag-' + q.status),
      q.highlighted ? tag(S.tag_now, 'tag-now') : null,
      q.pinned ? tag(S.tag_pinned, 'tag-pin') : null,
      q.author_muted ? tag(S.tag_muted, 'tag-muted') : null,
      q.merged_into ? tag(fmt(S.tag_merged, { id: q.merged_into }), 'tag-merged') : null,
      q.seeded ? tag(S.tag_seeded) : null,
      q.edited ? tag(S.tag_edited) : null,
      q.quote === NO_QUOTE ? tag(S.tag_no_quote) : null,
      original ? tag(fmt(S.dup_of, { id: original.id }), 'tag-dup') : null
    ]);
    var votes = h('p', { class: 'mq-votes' }, [h('strong', { text: plural('votes', q.votes) })]);
    var bodyId = 'mq-body-' + q.id;
    var body = h('p', { class: 'mq-body', id: bodyId, text: q.body });
    var head = h('div', { class: 'mq-head' }, [body, votes]);
    var edited = null;
    if (q.original_body && q.original_body !== q.body) {
      edited = h('p', { class: 'mq-original' }, [
        h('span', { class: 'mq-original-label', text: S.original_label + ' ' }),
        h('span', { text: q.original_body })
      ]);
    }
    var meta = h('p', { class: 'mq-meta' }, [
      h('span', { text: '#' + q.id }),
      q.topic ? h('span', { text: topicName(q.topic) }) : null,
      h('span', { text: q.author || (q.seeded ? S.organisers : S.anonymous) }),
      q.created_at ? h('span', {}, [h('time', { datetime: q.created_at, title: fullTime(q.created_at),
        text: clock(q.created_at) })]) : null
    ]);

    var live = PUBLIC.has(q.status);
    var main = [
      q.status === PENDING ? actionButton('approve', S.act_approve, 'approve', { cls: 'act-primary' }) : null,
      live ? actionButton(q.highlighted ? 'unhighlight' : 'highlight', S.act_highlight, 'highlight',
        { pressed: q.highlighted, cls: 'act-now' }) : null,
      q.status === VISIBLE ? actionButton('answer', S.act_answer, 'answer') : null,
      q.status !== HIDDEN ? actionButton(q.pinned ? 'unpin' : 'pin', S.act_pin, 'pin', { pressed: q.pinned }) : null,
      q.status !== HIDDEN ? actionButton('hide', S.act_hide, 'hide', { cls: 'act-danger' })
        : (!q.merged_into ? actionButton('restore', S.act_restore, 'restore')
          : button('goto-target', fmt(S.act_goto, { id: q.merged_into }), null)),
      // Muting is one button (and one key) on the card; the tag says who is muted.
      q.seeded ? null : (q.author_muted
        ? actionButton('unmute', S.act_unmute, 'mute', { pressed: true })
        : actionButton('mute', S.act_mute, 'mute'))
    ];
    var extra = [
      !q.merged_into ? actionButton('edit', S.act_edit, 'edit') : null,
      q.status !== HIDDEN ? actionButton('merge', S.act_merge, 'merge') : null
    ].filter(Boolean);
    if (extra.length) {
      main.push(h('details', { class: 'more' }, [
        h('summary', { class: 'act', text: S.act_more }),
        h('div', { class: 'more-menu' }, extra)
      ]));
    }
    var acts = h('div', { class: 'mq-actions', role: 'group',
      'aria-label': fmt(S.actions_for, { id: q.id }) }, main);
    var toggle = h('button', { type: 'button', class: 'link-btn comments-toggle', 'data-act': 'comments',
      'aria-expanded': String(!!(thread && thread.open)), 'aria-controls': 'thread-' + q.id,
      'aria-keyshortcuts': KEYS.comments || 'C' }, [h('span', { text: plural('comments', q.comments) })]);
    var line = h('div', { class: 'mq-line' }, [tags, meta, toggle]);
    var err = h('p', { class: 'error card-error', role: 'alert', id: 'mq-err-' + q.id });

    [head, original ? duplicateHint(q, original) : null, edited, line,
      h('div', { class: 'mq-foot' }, [acts]), err].forEach(function (el) {
      if (el) li.append(el);
    });
    if (threadEl) li.append(threadEl);
  }

  function cardFor(q) {
    var li = cards.get(q.id);
    if (!li) {
      li = h('li', { id: 'mq-' + q.id, 'data-id': String(q.id), tabindex: '-1',
        'aria-labelledby': 'mq-body-' + q.id });
      cards.set(q.id, li);
    }
    return li;
  }

  /* Render the list: update cards in place, move only what moved, keep focus. */
  var renderQueued = false;
  function render() {
    if (renderQueued) return;
    renderQueued = true;
    window.requestAnimationFrame(function () { renderQueued = false; renderNow(); });
  }
  function renderNow() {
    var active = document.activeElement;
    var activeCard = active && active.closest ? active.closest('.mq') : null;
    var activeAct = active && active.getAttribute ? active.getAttribute('data-act') : null;
    var list = $('q-list');
    var shown = shownList();
    var at0 = shown.findIndex(function (q) { return q.id === selectedId; });
    var refocus = false;
    if (selectedId != null && at0 < 0 && selIndex >= 0 && shown.length) {
      // The selected question left this view (approved, hidden...): select the next one.
      refocus = !!activeCard && activeCard.dataset.id === String(selectedId);
      invalidate(selectedId);
      selectedId = shown[Math.min(selIndex, shown.length - 1)].id;
      invalidate(selectedId);
      at0 = shown.findIndex(function (q) { return q.id === selectedId; });
    }
    selIndex = at0;
    var keep = new Set();
    shown.forEach(function (q, i) {
      var li = cardFor(q);
      if (li.dataset.v !== version(q)) { fillCard(li, q); li.dataset.v = version(q); }
      keep.add(li);
      var at = list.children[i];
      if (at !== li) list.insertBefore(li, at || null);
    });
    Array.prototype.slice.call(list.children).forEach(function (el) { if (!keep.has(el)) list.removeChild(el); });
    if (refocus && cards.get(selectedId)) {
      cards.get(selectedId).focus({ preventScroll: true });
      cards.get(selectedId).scrollIntoView({ block: 'nearest' });
    } else if (activeCard && document.activeElement !== active && document.contains(activeCard)) {
      var target = activeAct ? activeCard.querySelector('[data-act="' + activeAct + '"]') : null;
      (target || activeCard).focus({ preventScroll: true });
    }
    var empty = $('empty');
    empty.hidden = shown.length > 0;
    say(empty, (search || topicFilter) ? S.empty_search : (S['empty_' + filter] || S.empty_all));
    say($('q-search-count'), search || topicFilter ? plural('search_matches', shown.length) : '');
    renderCounts();
    renderNowPanel();
    checkArrivals();
  }
  function version(q) {
    var t = threads.get(q.id);
    var o = duplicateOf(q);
    return JSON.stringify(q) + '|' + (q.id === selectedId) + '|' + (t && t.open) + '|' + (o ? o.id + ':' + o.body : '');
  }
  function invalidate(id) { var li = cards.get(id); if (li) li.dataset.v = ''; }

  function renderCounts() {
    var n = { all: 0 };
    STATUSES.forEach(function (st) { n[st] = 0; });
    questions.forEach(function (q) { n.all += 1; if (n[q.status] != null) n[q.status] += 1; });
    Object.keys(n).forEach(function (k) { say($('n-' + k), nf.format(n[k])); });
    var pendingBtn = document.querySelector('[data-filter="' + PENDING + '"]');
    if (pendingBtn) pendingBtn.classList.toggle('has-items', n[PENDING] > 0);
    // The pending count in the tab's title: seen from another tab or window too.
    document.title = (n[PENDING] ? '(' + nf.format(n[PENDING]) + ') ' : '') + baseTitle;
  }
  var baseTitle = document.title;

  /* ---------- arrivals: a toast (and an optional sound) for what came in out of view ---------- */
  function inView(id) {
    var li = cards.get(id);
    if (!li || !li.isConnected) return false;
    var r = li.getBoundingClientRect();
    var bar = $('list-bar').getBoundingClientRect();
    return r.bottom > bar.bottom && r.top < window.innerHeight;
  }
  function checkArrivals() {
    // Keep only what is still waiting (pending) or still new and visible.
    arrivals.pending = arrivals.pending.filter(function (id) {
      var q = questions.get(id); return q && q.status === PENDING;
    });
    arrivals.visible = arrivals.visible.filter(function (id) {
      var q = questions.get(id); return q && q.status === VISIBLE;
    });
    ['pending', 'visible'].forEach(function (k) {
      if (arrivals[k].every(inView)) arrivals[k] = [];
    });
    var toast = $('toast');
    var kind = arrivals.pending.length ? 'pending' : (arrivals.visible.length ? 'visible' : null);
    if (!kind) { toast.hidden = true; return; }
    var text = plural('arrived_pending', arrivals.pending.length);
    if (kind === 'visible') text = plural('arrived_visible', arrivals.visible.length);
    else if (arrivals.visible.length) text += ' · ' + plural('arrived_visible', arrivals.visible.length);
    say($('toast-text'), text);
    toast.dataset.kind = kind;
    toast.hidden = false;
  }
  function showArrivals() {
    var kind = $('toast').dataset.kind;
    var ids = arrivals[kind] || [];
    search = ''; $('q-search').value = '';
    topicFilter = ''; $('q-topic').value = '';
    if (kind === 'pending') { setSort('top'); setFilter(PENDING); }
    else { setSort('new'); setFilter('all'); }
    // The oldest pending first (the queue order), the newest visible first.
    var target = kind === 'pending' ? ids.slice().sort(function (a, b) { return a - b; })[0] : Math.max.apply(null, ids);
    arrivals.pending = []; arrivals.visible = [];
    $('toast').hidden = true;
    $('q-heading').scrollIntoView({ block: 'start' });
    if (target != null && questions.has(target)) selectQuestion(target, true, true);
  }
  $('toast-go').addEventListener('click', showArrivals);
  $('toast-close').addEventListener('click', function () {
    arrivals.pending = []; arrivals.visible = [];
    $('toast').hidden = true;
  });
  var scrollCheck = false;
  window.addEventListener('scroll', function () {
    if (scrollCheck || $('toast').hidden) return;
    scrollCheck = true;
    window.requestAnimationFrame(function () { scrollCheck = false; checkArrivals(); });
  }, { passive: true });

  /* A short two-note chime made with WebAudio (no sound file); off unless switched on. */
  var SOUND_KEY = 'dq:console:sound';
  var audio = null;
  function soundOn() { try { return localStorage.getItem(SOUND_KEY) === '1'; } catch (e) { return false; } }
  function chime() {
    if (!soundOn()) return;
    try {
      if (!audio) audio = new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === 'suspended') audio.resume();
      var t = audio.currentTime;
      [660, 880].forEach(function (f, i) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.type = 'sine';
        osc.frequency.value = f;
        gain.gain.setValueAtTime(0.0001, t + i * 0.16);
        gain.gain.exponentialRampToValueAtTime(0.2, t + i * 0.16 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.16 + 0.15);
        osc.connect(gain); gain.connect(audio.destination);
        osc.start(t + i * 0.16); osc.stop(t + i * 0.16 + 0.16);
      });
    } catch (e) { /* no audio here: the toast and the title still tell */ }
  }
  var soundBtn = $('sound-toggle');
  soundBtn.setAttribute('aria-pressed', String(soundOn()));
  soundBtn.addEventListener('click', function () {
    var on = !soundOn();
    try { localStorage.setItem(SOUND_KEY, on ? '1' : '0'); } catch (e) { /* not remembered */ }
    soundBtn.setAttribute('aria-pressed', String(on));
    if (on) chime(); // a sample, and the click lets the browser start audio
  });

  /* Compact (the default: a line or two a question, actions on the selected one) or
   * comfortable (every card with its actions). */
  var DENSITY_KEY = 'dq:console:density';
  function applyDensity(compact) {
    document.body.classList.toggle('density-compact', compact);
    $('density-toggle').setAttribute('aria-pressed', String(compact));
  }
  var savedDensity = null;
  try { savedDensity = localStorage.getItem(DENSITY_KEY); } catch (e) { /* default */ }
  applyDensity(savedDensity !== 'comfortable');
  $('density-toggle').addEventListener('click', function () {
    var compact = !document.body.classList.contains('density-compact');
    try { localStorage.setItem(DENSITY_KEY, compact ? 'compact' : 'comfortable'); } catch (e) { /* not remembered */ }
    applyDensity(compact);
  });

  function renderNowPanel() {
    var now = null;
    questions.forEach(function (q) { if (q.highlighted) now = q; });
    $('now-none').hidden = !!now;
    $('now-box').hidden = !now;
    if (now) {
      say($('now-body'), now.body);
      say($('now-meta'), '#' + now.id + ' · ' + plural('votes', now.votes));
      $('now-box').dataset.id = String(now.id);
    }
  }

  /* ---------- comments ---------- */
  function threadFor(id) {
    var t = threads.get(id);
    if (!t) {
      t = { open: false, comments: [], loaded: false, el: h('div', { class: 'thread', id: 'thread-' + id, hidden: true }) };
      threads.set(id, t);
    }
    return t;
  }
  function toggleThread(id, open) {
    var t = threadFor(id);
    t.open = open == null ? !t.open : open;
    t.el.hidden = !t.open;
    invalidate(id);
    if (t.open) loadThread(id);
    renderNow();
  }
  function loadThread(id) {
    var t = threadFor(id);
    t.loading = true;
    if (!t.loaded) renderThread(id, S.loading_comments);
    api('GET', API + '/questions/' + id + '/comments').then(function (r) {
      t.loading = false;
      if (!r.ok) { renderThread(id, r.message); return; }
      t.comments = r.data.comments || [];
      t.loaded = true;
      renderThread(id);
    });
  }
  var reloadTimers = {};
  function reloadThreadSoon(id) {
    var t = threads.get(id);
    if (!t || !t.open) return;
    window.clearTimeout(reloadTimers[id]);
    reloadTimers[id] = window.setTimeout(function () { loadThread(id); }, 150);
  }
  function renderThread(id, message) {
    var t = threadFor(id);
    var el = t.el;
    while (el.firstChild) el.removeChild(el.firstChild);
    if (message) { el.append(h('p', { class: 'muted', text: message })); return; }
    if (!t.comments.length) { el.append(h('p', { class: 'muted', text: S.no_comments })); return; }
    var ol = h('ol', { class: 'comments', 'aria-label': fmt(S.comments_on, { id: id }) });
    t.comments.forEach(function (c) {
      // Only the comment actions of the rules table.
      function cbutton(act, label, cls) {
        return COMMENT_ACTIONS.has(act) ? h('button', { type: 'button', class: 'act' + (cls ? ' ' + cls : ''),
          'data-cact': act, 'data-cid': String(c.id), text: label }) : null;
      }
      var acts = h('div', { class: 'comment-actions', role: 'group',
        'aria-label': fmt(S.comment_actions_for, { id: c.id }) }, [
        c.hidden ? cbutton('restore', S.act_restore) : cbutton('hide', S.act_hide_comment, 'act-danger'),
        cbutton('mute', S.act_mute),
        cbutton('unmute', S.act_unmute)
      ]);
      ol.append(h('li', { class: 'comment' + (c.hidden ? ' is-hidden' : ''), id: 'c-' + c.id }, [
        c.hidden ? h('p', { class: 'tags' }, [tag(S.status_hidden, 'tag-hidden')]) : null,
        h('p', { class: 'comment-body', text: c.body }),
        h('p', { class: 'mq-meta' }, [
          h('span', { text: '#' + c.id }),
          h('span', { text: c.author || S.anonymous }),
          c.created_at ? h('span', {}, [h('time', { datetime: c.created_at, title: fullTime(c.created_at), text: clock(c.created_at) })]) : null
        ]),
        acts,
        h('p', { class: 'error card-error', role: 'alert', id: 'c-err-' + c.id })
      ]));
    });
    el.append(ol);
  }

  /* ---------- actions ---------- */

  function upsert(q, live) {
    if (!q || q.id == null) return;
    var before = questions.get(q.id);
    if (q.status === PENDING && (!before || before.status !== PENDING)) announce(S.new_pending);
    if (live && !before && (q.status === PENDING || q.status === VISIBLE)) {
      arrivals[q.status === PENDING ? 'pending' : 'visible'].push(q.id);
      chime();
    }
    // A mute covers every post of the author: fetch the others' tags too.
    if (before && !!before.author_muted !== !!q.author_muted) refreshMutesSoon();
    if (q.highlighted) {
      questions.forEach(function (o) { if (o.id !== q.id && o.highlighted) o.highlighted = false; });
    }
    questions.set(q.id, q);
    if (before && before.comments !== q.comments) reloadThreadSoon(q.id);
    render();
  }

  var muteTimer = null;
  function refreshMutesSoon() {
    window.clearTimeout(muteTimer);
    muteTimer = window.setTimeout(function () {
      api('GET', API + '/events/' + encodeURIComponent(CODE) + '/questions').then(function (r) {
        if (!r.ok || !r.data) return;
        var changed = false;
        (r.data.questions || []).forEach(function (fresh) {
          var q = questions.get(fresh.id);
          if (q && 'author_muted' in fresh && !!q.author_muted !== !!fresh.author_muted) {
            questions.set(q.id, Object.assign({}, q, { author_muted: fresh.author_muted }));
            changed = true;
          }
        });
        if (changed) render();
      });
    }, 150);
  }

  /* The socket's `moderate` event: the same operation as the HTTP route, answered with
   * the same {ok, data | message} as api(). Without a live socket, HTTP does it. */
  function overSocket(id, body) {
    if (!socket || !socket.connected) return api('POST', API + '/questions/' + id + '/moderate', body);
    return new Promise(function (resolve) {
      socket.timeout(10000).emit('moderate', Object.assign({ question_id: id }, body), function (err, ack) {
        if (err || !ack) resolve({ ok: false, status: 0, error: { code: NETWORK }, message: S.err_network });
        else if (!ack.ok) resolve({ ok: false, status: 0, error: ack.error, message: errorText(ack.error) });
        else resolve({ ok: true, status: 200, data: ack.question });
      });
    });
  }

  function moderate(id, action, extra, opts) {
    var errEl = $('mq-err-' + id);
    say(errEl, '');
    var body = Object.assign({ action: action }, extra || {});
    var sent = opts && opts.socket ? overSocket(id, body)
      : api('POST', API + '/questions/' + id + '/moderate', body);
    return sent.then(function (r) {
      if (!r.ok) {
        if (errEl) say(errEl, r.message); else showListError(r.message);
        if (r.error && r.error.code === ERR.LOGIN_REQUIRED) $('relogin').hidden = false;
        return r;
      }
      upsert(r.data);
      if (action === 'merge' && extra && extra.into) reloadThreadSoon(extra.into);
      announce(fmt(S['done_' + action] || S.done_generic, { id: id }));
      refreshLogSoon(200);
      return r;
    });
  }

  function moderateComment(qid, cid, action, extra) {
    var errEl = $('c-err-' + cid);
    say(errEl, '');
    return api('POST', API + '/comments/' + cid + '/moderate',
      Object.assign({ action: action }, extra || {})).then(function (r) {
      if (!r.ok) { say(errEl, r.message); return r; }
      var t = threads.get(qid);
      if (t) {
        t.comments = t.comments.map(function (c) { return c.id === cid ? Object.assign({}, c, r.data) : c; });
        renderThread(qid);
        var again = document.querySelector('#c-' + cid + ' .comment-actions button');
        if (again) again.focus({ preventScroll: true });
      }
      announce(fmt(S['done_comment_' + action] || S.done_generic, { id: cid }));
      refreshLogSoon(200);
      return r;
    });
  }

  function showListError(msg) { say($('list-error'), msg); }

  /* Refusals known before asking the server (same sentences as its error codes). */
  function refusal(act, q) {
    var live = PUBLIC.has(q.status);
    if (act === 'approve' && q.status !== PENDING) return ERR.NOT_PENDING;
    if (act === 'restore' && (q.status !== HIDDEN || q.merged_into)) return ERR.NOT_HIDDEN;
    if ((act === 'answer' || act === 'highlight') && !live) return ERR.NOT_VISIBLE;
    if ((act === 'hide' || act === 'merge') && q.status === HIDDEN) return q.merged_into ? ERR.ALREADY_MERGED : ERR.ALREADY_HIDDEN;
    if ((act === 'mute' || act === 'unmute') && q.seeded) return ERR.NO_AUTHOR;
    return null;
  }

  /* What a click or a key does for one question. */
  function run(act, id) {
    var q = questions.get(id);
    if (!q) return;
    var refused = refusal(act, q);
    if (refused) {
      var errEl = $('mq-err-' + id);
      say(errEl, '');
      window.setTimeout(function () { say(errEl, S['err_' + refused]); }, 30);
      return;
    }
    switch (act) {
      case 'hide':
        askReason({ title: S.hide_title, quote: q.body, ok: S.confirm_hide, help: S.hide_help,
          reasons: HIDE_REASONS }, function (reason, code) {
          return moderate(id, 'hide', { reason: reason, reason_code: code });
        });
        break;
      case 'mute':
        askReason({ title: S.mute_title, quote: q.body, ok: S.act_mute, help: S.mute_help,
          reasons: MUTE_REASONS, optional: true }, function (reason, code) {
          return moderate(id, 'mute', { reason: reason, reason_code: code });
        });
        break;
      case 'unmute':
        // Giving the floor back needs no reason: one action.
        moderate(id, 'unmute');
        break;
      case 'edit': openEdit(q); break;
      case 'merge': openMerge(q); break;
      case 'merge-duplicate': if (duplicateOf(q)) openDuplicate(q, duplicateOf(q)); break;
      case 'dismiss-duplicate': dismissDuplicate(q); break;
      case 'comments': toggleThread(id); break;
      case 'goto-target': selectQuestion(q.merged_into, true, true); break;
      default: moderate(id, act);
    }
  }

  /* ---------- dialogs ---------- */
  var returnFocus = null;
  function openDialog(d, focusEl) {
    returnFocus = document.activeElement;
    if (typeof d.showModal === 'function') d.showModal(); else d.setAttribute('open', '');
    if (focusEl) focusEl.focus();
  }
  function closeDialog(d) {
    if (d.open) { if (typeof d.close === 'function') d.close(); else d.removeAttribute('open'); }
  }
  ['reason-dialog', 'edit-dialog', 'merge-dialog', 'dup-dialog'].forEach(function (id) {
    var d = $(id);
    if (!d) return;
    d.addEventListener('close', function () {
      var back = returnFocus;
      returnFocus = null;
      if (back && document.contains(back)) back.focus({ preventScroll: true });
      else if (selectedId != null && cards.get(selectedId)) cards.get(selectedId).focus({ preventScroll: true });
    });
    d.querySelectorAll('[data-close]').forEach(function (b) {
      b.addEventListener('click', function () { closeDialog(d); });
    });
  });

  function busy(button, on) { if (button) { button.disabled = on; button.setAttribute('aria-busy', String(on)); } }

  var reasonAction = null;
  var reasonOptional = false;
  var reasonCode = null;
  /* One dialog for every "why": opts.reasons lists the one-click reasons that fit the
   * action (codes the server stores and shows translated in the public log); the text
   * field adds words to a chosen reason, or is the reason itself. */
  function askReason(opts, action) {
    reasonAction = action;
    reasonOptional = !!opts.optional;
    reasonCode = null;
    say($('reason-title'), opts.title);
    say($('reason-quote'), opts.quote || '');
    $('reason-quote').hidden = !opts.quote;
    say($('reason-help'), opts.help || '');
    say($('reason-ok'), opts.ok);
    say($('reason-error'), '');
    var chips = $('reason-chips');
    while (chips.firstChild) chips.removeChild(chips.firstChild);
    (opts.reasons || []).forEach(function (code) {
      chips.append(h('button', { type: 'button', class: 'chip', 'data-code': code, 'aria-pressed': 'false',
        text: REASONS[code] || code }));
    });
    var hasChips = !!(opts.reasons && opts.reasons.length);
    $('reason-chips-box').hidden = !hasChips;
    say($('reason-input-label'), opts.inputLabel || (hasChips ? S.reason_own_words : S.reason_label));
    var input = $('reason-input');
    input.value = opts.value || '';
    input.removeAttribute('aria-invalid');
    // An optional reason (mute, close): Enter in the field confirms at once.
    openDialog($('reason-dialog'), hasChips && !opts.optional ? chips.firstChild : input);
  }
  $('reason-chips').addEventListener('click', function (e) {
    var b = e.target.closest('[data-code]');
    if (!b) return;
    var on = b.getAttribute('aria-pressed') !== 'true';
    $('reason-chips').querySelectorAll('[data-code]').forEach(function (o) { o.setAttribute('aria-pressed', 'false'); });
    b.setAttribute('aria-pressed', String(on));
    reasonCode = on ? b.dataset.code : null;
    say($('reason-input-label'), reasonCode ? S.reason_more_words : S.reason_own_words);
    say($('reason-error'), '');
    $('reason-input').removeAttribute('aria-invalid');
  });
  $('reason-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = $('reason-input');
    var reason = input.value.trim();
    if (!reason && !reasonCode && !reasonOptional) {
      input.setAttribute('aria-invalid', 'true');
      say($('reason-error'), $('reason-chips-box').hidden ? S.reason_required : S.reason_pick);
      input.focus();
      return;
    }
    var ok = $('reason-ok');
    busy(ok, true);
    Promise.resolve(reasonAction(reason || undefined, reasonCode || undefined)).then(function (r) {
      busy(ok, false);
      if (r && !r.ok) { say($('reason-error'), r.message); return; }
      closeDialog($('reason-dialog'));
    });
  });

  var editId = null;
  function openEdit(q) {
    editId = q.id;
    var input = $('edit-body');
    input.value = q.body;
    say($('edit-original'), q.original_body || q.body);
    $('edit-reason').value = '';
    say($('edit-error'), '');
    input.removeAttribute('aria-invalid');
    openDialog($('edit-dialog'), input);
  }
  $('edit-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var input = $('edit-body');
    var text = input.value.trim();
    if (!text) {
      input.setAttribute('aria-invalid', 'true');
      say($('edit-error'), S.err_empty);
      input.focus();
      return;
    }
    var q = questions.get(editId);
    if (q && text === q.body) { closeDialog($('edit-dialog')); return; }
    var ok = $('edit-ok');
    busy(ok, true);
    moderate(editId, 'edit', { body: text, reason: $('edit-reason').value.trim() || undefined }).then(function (r) {
      busy(ok, false);
      if (!r.ok) { say($('edit-error'), r.message); return; }
      closeDialog($('edit-dialog'));
    });
  });

  var mergeId = null;
  var mergeSuggested = null;  // the possible original of the question being merged, if any
  function openMerge(q) {
    mergeId = q.id;
    var o = duplicateOf(q);
    mergeSuggested = o ? o.id : null;
    say($('merge-quote'), q.body);
    $('merge-filter').value = '';
    $('merge-reason').value = S.reason_duplicate;
    say($('merge-error'), '');
    fillMergeTargets('');
    openDialog($('merge-dialog'), $('merge-filter'));
  }
  function fillMergeTargets(text) {
    var select = $('merge-target');
    var needle = text.trim().toLowerCase();
    while (select.firstChild) select.removeChild(select.firstChild);
    var items = [];
    questions.forEach(function (o) {
      if (o.id === mergeId || !PUBLIC.has(o.status)) return;
      if (needle && o.body.toLowerCase().indexOf(needle) < 0 && String(o.id) !== needle.replace('#', '')) return;
      items.push(o);
    });
    // The suggested original first, then the most voted.
    items.sort(function (a, b) {
      return ((b.id === mergeSuggested) - (a.id === mergeSuggested)) || (b.votes - a.votes) || (a.id - b.id);
    });
    items.forEach(function (o) {
      var label = '#' + o.id + ' (' + plural('votes', o.votes) + ') — ' + o.body;
      if (o.id === mergeSuggested) label = S.dup_suggested + ': ' + label;
      select.append(h('option', { value: String(o.id), text: label.length > 160 ? label.slice(0, 157) + '…' : label }));
    });
    // A merge cannot be undone: nothing is chosen for the moderator, unless the server
    // suggested the original or the search leaves exactly one question.
    var suggested = items.length && items[0].id === mergeSuggested;
    select.selectedIndex = items.length === 1 || suggested ? 0 : -1;
    say($('merge-count'), plural('merge_matches', items.length));
  }
  $('merge-filter').addEventListener('input', function (e) { fillMergeTargets(e.target.value); });
  $('merge-filter').addEventListener('keydown', function (e) {
    // A merge cannot be undone: Enter in the search box moves to the list, it never submits.
    if (e.key === 'ArrowDown' || e.key === 'Enter') { e.preventDefault(); $('merge-target').focus(); }
  });
  $('merge-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var into = parseInt($('merge-target').value, 10);
    if (!into) { say($('merge-error'), S.merge_choose); $('merge-target').focus(); return; }
    var ok = $('merge-ok');
    busy(ok, true);
    var from = mergeId;
    moderate(from, 'merge', { into: into, reason: $('merge-reason').value.trim() || undefined }).then(function (r) {
      busy(ok, false);
      if (!r.ok) { say($('merge-error'), r.message); return; }
      closeDialog($('merge-dialog'));
      selectQuestion(into, false, true);
    });
  });

  /* "Merge into #N" of a possible duplicate: one confirmation (a merge cannot be
   * undone) showing both texts, then the ordinary merge over the socket, logged with
   * the "duplicate" reason (and the moderator's words, if any). */
  var dupFrom = null;
  var dupInto = null;
  function openDuplicate(q, o) {
    dupFrom = q.id;
    dupInto = o.id;
    say($('dup-title'), fmt(S.dup_title, { id: q.id, into: o.id }));
    say($('dup-this'), q.body);
    say($('dup-original-label'), fmt(S.dup_original_label, { id: o.id }));
    say($('dup-original'), o.body);
    say($('dup-ok'), fmt(S.dup_merge, { id: o.id }));
    $('dup-reason').value = '';
    say($('dup-error'), '');
    openDialog($('dup-dialog'), $('dup-ok'));
  }
  $('dup-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var from = dupFrom;
    var into = dupInto;
    var ok = $('dup-ok');
    busy(ok, true);
    moderate(from, 'merge', { into: into, reason_code: DUPLICATE,
      reason: $('dup-reason').value.trim() || undefined }, { socket: true }).then(function (r) {
      busy(ok, false);
      if (!r.ok) { say($('dup-error'), r.message); return; }
      closeDialog($('dup-dialog'));
      selectQuestion(into, false, true);
    });
  });

  /* ---------- selection and keyboard ---------- */
  function selectQuestion(id, focus, reveal) {
    var q = questions.get(id);
    if (!q) return;
    if (reveal && !matches(q, filter)) setFilter('all');
    var prev = selectedId;
    selectedId = id;
    if (prev != null) invalidate(prev);
    invalidate(id);
    renderNow();
    var li = cards.get(id);
    if (li) {
      if (focus !== false) li.focus({ preventScroll: true });
      li.scrollIntoView({ block: 'nearest' });
    }
  }
  function move(step) {
    var shown = shownList();
    if (!shown.length) return;
    var i = shown.findIndex(function (q) { return q.id === selectedId; });
    var next = i < 0 ? (step > 0 ? 0 : shown.length - 1) : Math.min(shown.length - 1, Math.max(0, i + step));
    selectQuestion(shown[next].id, true);
  }
  function isTyping(el) {
    if (!el) return false;
    var tagName = el.tagName;
    return tagName === 'INPUT' || tagName === 'TEXTAREA' || tagName === 'SELECT' || el.isContentEditable;
  }
  function toggleHelp(show) {
    var panel = $('help');
    var open = show == null ? panel.hidden : show;
    panel.hidden = !open;
    $('help-toggle').setAttribute('aria-expanded', String(open));
    if (open) panel.scrollIntoView({ block: 'nearest' });
  }
  var KEYMAP = {};
  Object.keys(KEYS).forEach(function (act) { KEYMAP[String(KEYS[act]).toLowerCase()] = act; });
  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (isTyping(e.target) || document.querySelector('dialog[open]')) return;
    var key = e.key;
    if (key === '?') { e.preventDefault(); toggleHelp(); return; }
    if (key === 'Escape' && !$('help').hidden) { toggleHelp(false); return; }
    if (key === 'j' || key === 'k') { e.preventDefault(); move(key === 'j' ? 1 : -1); return; }
    if (key === '/') { e.preventDefault(); $('q-search').focus(); $('q-search').select(); return; }
    var act = KEYMAP[key.toLowerCase()];
    if (!act || key !== key.toLowerCase()) return;
    e.preventDefault();
    if (selectedId == null || !questions.has(selectedId)) { announce(S.select_first); showListError(S.select_first); return; }
    showListError('');
    var q = questions.get(selectedId);
    if (act === 'highlight' && q.highlighted) act = 'unhighlight';
    if (act === 'pin' && q.pinned) act = 'unpin';
    if (act === 'mute' && q.author_muted) act = 'unmute';
    run(act, selectedId);
  });

  /* Clicks inside the list: actions, comment actions, selection. */
  $('q-list').addEventListener('click', function (e) {
    var li = e.target.closest('.mq');
    if (!li) return;
    var id = parseInt(li.dataset.id, 10);
    var cbtn = e.target.closest('[data-cact]');
    if (cbtn) {
      var cid = parseInt(cbtn.dataset.cid, 10);
      var cact = cbtn.dataset.cact;
      var comment = (threads.get(id) || { comments: [] }).comments.find(function (c) { return c.id === cid; });
      if (cact === 'hide' || cact === 'mute') {
        askReason({ title: cact === 'hide' ? S.hide_comment_title : S.mute_title, quote: comment ? comment.body : '',
          ok: cact === 'hide' ? S.confirm_hide_comment : S.act_mute, help: cact === 'hide' ? S.hide_help : S.mute_help,
          reasons: cact === 'hide' ? HIDE_REASONS : MUTE_REASONS, optional: cact === 'mute' },
        function (reason, code) { return moderateComment(id, cid, cact, { reason: reason, reason_code: code }); });
      } else {
        moderateComment(id, cid, cact);
      }
      return;
    }
    var btn = e.target.closest('[data-act]');
    if (selectedId !== id) {
      if (selectedId != null) invalidate(selectedId);
      selectedId = id;
      invalidate(id);
      if (!btn) renderNow();
    }
    if (btn) {
      var details = btn.closest('details');
      if (details) details.open = false;
      run(btn.dataset.act, id);
    }
  });

  /* Disclosure menus (exports, "More") close on a click elsewhere or Escape. */
  function closeMenus(except) {
    document.querySelectorAll('details.menu[open], details.more[open]').forEach(function (d) {
      if (d !== except) d.open = false;
    });
  }
  document.addEventListener('click', function (e) {
    closeMenus(e.target.closest ? e.target.closest('details.menu, details.more') : null);
  });
  /* A menu opens towards the side it fits on, and never wider than the screen. */
  document.addEventListener('toggle', function (e) {
    var d = e.target;
    if (!d.open || !d.classList || !(d.classList.contains('more') || d.classList.contains('menu'))) return;
    var menu = d.querySelector('.more-menu, .menu-list');
    if (!menu) return;
    menu.classList.remove('to-start', 'to-end');
    var r = menu.getBoundingClientRect();
    var margin = 8;
    if (r.right > window.innerWidth - margin) menu.classList.add('to-end');
    else if (r.left < margin) menu.classList.add('to-start');
  }, true);
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape') return;
    var open = document.querySelector('details.menu[open], details.more[open]');
    if (open) { open.open = false; var sum = open.querySelector('summary'); if (sum) sum.focus(); }
  });

  /* ---------- filters and sort ---------- */
  function setFilter(f) {
    filter = f;
    selIndex = -1;
    document.querySelectorAll('[data-filter]').forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.dataset.filter === f));
    });
    renderNow();
  }
  document.querySelectorAll('[data-filter]').forEach(function (b) {
    b.addEventListener('click', function () { setFilter(b.dataset.filter); });
  });
  function setSort(to) {
    sort = to;
    document.querySelectorAll('[data-sort]').forEach(function (o) {
      o.setAttribute('aria-pressed', String(o.dataset.sort === to));
    });
  }
  document.querySelectorAll('[data-sort]').forEach(function (b) {
    b.addEventListener('click', function () { setSort(b.dataset.sort); renderNow(); });
  });
  $('q-search').addEventListener('input', function (e) {
    search = e.target.value.trim().toLowerCase();
    selIndex = -1;
    renderNow();
  });
  $('q-search').addEventListener('keydown', function (e) {
    if (e.key === 'Escape') {
      if (e.target.value) { e.target.value = ''; search = ''; renderNow(); } else e.target.blur();
      e.preventDefault();
    } else if (e.key === 'Enter' || e.key === 'ArrowDown') {
      // Straight from the search to the first match, where the shortcuts act.
      e.preventDefault();
      var first = shownList()[0];
      if (first) selectQuestion(first.id, true);
    }
  });
  $('q-topic').addEventListener('change', function (e) {
    topicFilter = e.target.value;
    selIndex = -1;
    renderNow();
  });
  $('help-toggle').addEventListener('click', function () { toggleHelp(); });
  $('help-close').addEventListener('click', function () { toggleHelp(false); $('help-toggle').focus(); });

  /* ---------- "on the board now" panel ---------- */
  $('now-answer').addEventListener('click', function () {
    var id = parseInt($('now-box').dataset.id, 10);
    if (id) moderate(id, 'answer').then(function (r) { if (!r.ok) say($('now-error'), r.message); else say($('now-error'), ''); });
  });
  $('now-clear').addEventListener('click', function () {
    var id = parseInt($('now-box').dataset.id, 10);
    if (id) moderate(id, 'unhighlight').then(function (r) { if (!r.ok) say($('now-error'), r.message); else say($('now-error'), ''); });
  });
  $('now-select').addEventListener('click', function () {
    var id = parseInt($('now-box').dataset.id, 10);
    if (id) selectQuestion(id, true, true);
  });

  /* ---------- retention: the organiser is told before names and links are removed ---------- */
  /* The day `purge_at` names (an ISO date, or a date and time), as a local calendar day. */
  function calendarDay(iso) {
    var s = String(iso || '');
    var m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(s);
    var d = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : parseTime(s);
    if (!d || isNaN(d.getTime())) return null;
    return new Date(d.getFullYear(), d.getMonth(), d.getDate());
  }
  var dayFmt = intl(Intl.DateTimeFormat, LOCALE, { dateStyle: 'long' });
  function renderRetention() {
    var box = $('purge-warning');  // organisers only
    if (!box) return;
    var day = calendarDay(EVENT.purge_at);
    var now = new Date();
    var today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    var days = day ? Math.round((day - today) / 86400000) : null;
    box.hidden = days == null || days > (DATA.purge_warning_days || 0);
    if (box.hidden) return;
    while (box.firstChild) box.removeChild(box.firstChild);
    box.append(h('strong', { text: fmt(days < 0 ? S.purge_due : S.purge_soon, { date: dayFmt.format(day) }) }), ' ',
      h('a', { href: '/e/' + encodeURIComponent(CODE) + '/export.html', text: S.purge_report }));
  }

  /* ---------- event controls ---------- */
  function renderEvent() {
    say($('event-title'), EVENT.title);
    var status = EVENT.status;
    var badge = $('status-badge');
    badge.dataset.status = status;
    say(badge, S['event_' + status] || status);
    var toggle = $('status-toggle');
    toggle.dataset.to = status === EVENT_LIVE ? EVENT_CLOSED : EVENT_LIVE;
    say(toggle, status === EVENT_LIVE ? S.close_event : (status === EVENT_DRAFT ? S.go_live : S.reopen_event));
    toggle.classList.toggle('btn-danger', status === EVENT_LIVE);
    document.querySelectorAll('[data-mode]').forEach(function (b) {
      b.setAttribute('aria-pressed', String(b.dataset.mode === EVENT.moderation));
    });
    // Closed: no question comes in, whatever the mode; the banner says what else stopped.
    say($('mode-hint'), status === EVENT_CLOSED ? S.mode_closed_hint
      : S['mode_' + EVENT.moderation + '_hint']);
    renderTopicOptions();
    $('closed-banner').hidden = status !== EVENT_CLOSED;
    renderRetention();
  }
  function renderTopicOptions() {
    var select = $('q-topic');
    var topics = EVENT.topics || [];
    var opts = select.options;
    var same = opts.length === topics.length + 1 && topics.every(function (t, i) {
      return opts[i + 1].value === t.slug && opts[i + 1].textContent === t.name;
    });
    if (same) return;
    var all = opts[0];
    while (select.firstChild) select.removeChild(select.firstChild);
    select.append(all);
    topics.forEach(function (t) { select.append(h('option', { value: t.slug, text: t.name })); });
    if (!topics.some(function (t) { return t.slug === topicFilter; })) topicFilter = '';
    select.value = topicFilter;
  }
  function patchEvent(data) {
    say($('event-error'), '');
    return api('PATCH', API + '/events/' + encodeURIComponent(CODE), data).then(function (r) {
      if (!r.ok) { say($('event-error'), r.message); return r; }
      Object.assign(EVENT, r.data);
      renderEvent();
      refreshLogSoon(200);
      return r;
    });
  }
  $('status-toggle').addEventListener('click', function () {
    var to = this.dataset.to;
    if (to === EVENT_CLOSED) {
      // Closing is not hiding: no hide reasons, just an optional word to the room.
      askReason({ title: S.close_title, help: S.close_help, ok: S.close_event, optional: true,
        inputLabel: S.close_message }, function (reason) {
        return patchEvent({ status: EVENT_CLOSED, reason: reason });
      });
    } else {
      patchEvent({ status: EVENT_LIVE }).then(function (r) { if (r.ok) announce(S.done_reopen); });
    }
  });
  document.querySelectorAll('[data-mode]').forEach(function (b) {
    b.addEventListener('click', function () {
      if (b.dataset.mode === EVENT.moderation) return;
      patchEvent({ moderation: b.dataset.mode }).then(function (r) {
        if (r.ok) announce(S['mode_' + EVENT.moderation + '_hint']);
      });
    });
  });

  /* ---------- moderation log ---------- */
  var logTimer = null;
  var logDue = 0;
  var LOG_SHOWN = 40;
  /* Coalesce refreshes; a busy room never postpones one that is already due. */
  function refreshLogSoon(delay) {
    var due = Date.now() + (delay == null ? 1200 : delay);
    if (logTimer && logDue <= due) return;
    window.clearTimeout(logTimer);
    logDue = due;
    logTimer = window.setTimeout(function () { logTimer = null; refreshLog(); }, due - Date.now());
  }
  function refreshLog() {
    api('GET', API + '/events/' + encodeURIComponent(CODE) + '/moderation-log').then(function (r) {
      if (!r.ok) { say($('log-error'), r.message); return; }
      say($('log-error'), '');
      renderLog(r.data.entries || []);
    });
  }
  function renderLog(entries) {
    var ol = $('log-list');
    while (ol.firstChild) ol.removeChild(ol.firstChild);
    $('log-empty').hidden = entries.length > 0;
    var all = $('log-all').getAttribute('aria-expanded') === 'true';
    entries.slice(0, all ? entries.length : LOG_SHOWN).forEach(function (e) {
      var target = null;
      if (e.question_id) {
        target = questions.has(e.question_id)
          ? h('button', { type: 'button', class: 'link-btn log-target', 'data-goto': String(e.question_id),
            'aria-label': fmt(S.show_question, { id: e.question_id }), text: '#' + e.question_id })
          : h('span', { class: 'log-target', text: '#' + e.question_id });
      }
      var isPublic = PUBLIC_LOG.has(e.action);
      ol.append(h('li', { class: 'log-entry' }, [
        h('p', { class: 'log-line' }, [
          h('time', { datetime: e.at, title: fullTime(e.at), text: clock(e.at) }), ' ',
          h('strong', { text: S['log_' + String(e.action).replace(':', '_')] || e.action }), ' ',
          target,
          e.comment_id ? h('span', { class: 'muted', text: ' ' + fmt(S.log_comment_ref, { id: e.comment_id }) }) : null,
          ' ',
          isPublic ? h('span', { class: 'tag tag-public', text: S.log_public }) : null
        ]),
        e.reason || e.reason_code ? h('p', { class: 'log-reason' }, [
          h('span', { class: 'sr-only', text: S.reason_label + ' ' }),
          e.reason_code ? h('strong', { class: 'log-code', text: REASONS[e.reason_code] || e.reason_code }) : null,
          e.reason_code && e.reason ? ' ' : null,
          e.reason ? h('q', { text: e.reason }) : null
        ]) : null,
        h('p', { class: 'log-by muted', text: e.by ? fmt(S.log_by, { who: e.by }) : S.log_by_system })
      ]));
    });
    $('log-all').hidden = entries.length <= LOG_SHOWN;
  }
  $('log-list').addEventListener('click', function (e) {
    var b = e.target.closest('[data-goto]');
    if (b) selectQuestion(parseInt(b.dataset.goto, 10), true, true);
  });
  $('log-refresh').addEventListener('click', refreshLog);
  $('log-all').addEventListener('click', function () {
    var b = $('log-all');
    var open = b.getAttribute('aria-expanded') !== 'true';
    b.setAttribute('aria-expanded', String(open));
    say(b, open ? S.log_fewer : S.log_all);
    refreshLog();
  });

  /* ---------- organiser settings ---------- */
  var settings = $('settings-form');
  var initial = {};
  function lines(text) {
    return text.split('\n').map(function (s) { return s.trim(); }).filter(Boolean);
  }
  // The texts as written ('' here), or in one language: never as shown in the console's.
  var textLang = '';
  function topicNames(slug) {
    var t = (EVENT.topics || []).find(function (x) { return x.slug === slug; });
    return (t && t.translations) || {};
  }
  function fillSettings() {
    if (!settings) return;
    var f = settings.elements;
    var O = EVENT.original || EVENT;
    var T = textLang ? ((EVENT.translations || {})[textLang] || {}) : O;
    f.title.value = T.title || '';
    f.title.required = !textLang;
    f.description.value = T.description || '';
    f.licence.value = EVENT.licence || '';
    f.topics.value = (O.topics || []).map(function (t) {
      return textLang ? (topicNames(t.slug)[textLang] || '') : t.name;
    }).join('\n');
    $('set-topics-lang-hint').hidden = !textLang;
    if (T.policy != null) f.policy.value = T.policy;
    if (EVENT.retention_days != null) f.retention_days.value = EVENT.retention_days;
    if (EVENT.moderators != null) f.moderators.value = EVENT.moderators.join('\n');
    ['title', 'description', 'licence', 'topics', 'policy', 'retention_days', 'moderators'].forEach(function (k) {
      initial[k] = f[k].value;
    });
  }
  function translatedData(f) {
    // One language's texts and topic names, as PATCH /events takes them.
    var data = {};
    var O = EVENT.original || EVENT;
    var texts = Object.assign({}, (EVENT.translations || {})[textLang] || {});
    var changed = false;
    ['title', 'description', 'policy'].forEach(function (k) {
      if (f[k].value === initial[k]) return;
      changed = true;
      if (f[k].value.trim()) texts[k] = f[k].value.trim(); else delete texts[k];
    });
    if (changed) { data.translations = {}; data.translations[textLang] = texts; }
    if (f.topics.value !== initial.topics) {
      var given = f.topics.value.split('\n');
      data.topics = (O.topics || []).map(function (t, i) {
        var names = Object.assign({}, topicNames(t.slug));
        var name = (given[i] || '').trim();
        if (name) names[textLang] = name; else delete names[textLang];
        return { slug: t.slug, name: t.name, translations: names };
      });
    }
    return data;
  }
  if (settings) {
    fillSettings();
    $('set-lang').addEventListener('change', function () {
      textLang = this.value;
      say($('settings-status'), '');
      fillSettings();
    });
    if (EVENT.policy == null) {
      // The public side of moderation carries the policy text.
      api('GET', API + '/events/' + encodeURIComponent(CODE) + '/moderation').then(function (r) {
        if (r.ok && settings.elements.policy.value === initial.policy) {
          settings.elements.policy.value = r.data.policy || '';
          initial.policy = settings.elements.policy.value;
        }
      });
    }
    settings.addEventListener('submit', function (e) {
      e.preventDefault();
      var f = settings.elements;
      var data = {};
      say($('settings-error'), '');
      say($('settings-status'), '');
      Array.prototype.forEach.call(settings.querySelectorAll('[aria-invalid]'), function (el) { el.removeAttribute('aria-invalid'); });
      if (textLang) data = translatedData(f);
      (textLang ? ['licence'] : ['title', 'description', 'policy', 'licence']).forEach(function (k) {
        if (f[k].value !== initial[k]) data[k] = f[k].value.trim();
      });
      if (!textLang && !f.title.value.trim()) { f.title.setAttribute('aria-invalid', 'true'); say($('settings-error'), S.err_title_required); f.title.focus(); return; }
      if (f.retention_days.value !== initial.retention_days && f.retention_days.value.trim() !== '') {
        var days = Number(f.retention_days.value);
        if (!Number.isInteger(days) || days < 1 || days > 3650) {
          f.retention_days.setAttribute('aria-invalid', 'true');
          say($('settings-error'), S.err_invalid_retention);
          f.retention_days.focus();
          return;
        }
        data.retention_days = days;
      }
      if (!textLang && f.topics.value !== initial.topics) {
        data.topics = lines(f.topics.value).map(function (name) {
          var known = ((EVENT.original || EVENT).topics || []).find(function (t) { return t.name === name; });
          return known ? { slug: known.slug, name: name } : name;
        });
      }
      // Without the current list, an empty box means "keep"; a filled one replaces it.
      if (f.moderators.value !== initial.moderators && (EVENT.moderators != null || f.moderators.value.trim())) {
        data.moderators = lines(f.moderators.value.replace(/[,;]/g, '\n')).map(function (s) { return s.toLowerCase(); });
      }
      if (!Object.keys(data).length) { say($('settings-status'), S.settings_unchanged); return; }
      var ok = $('settings-save');
      busy(ok, true);
      patchEvent(data).then(function (r) {
        busy(ok, false);
        if (!r.ok) {
          say($('settings-error'), r.message);
          var field = FIELD_OF_ERROR.get(r.error.code);
          if (field) { f[field].setAttribute('aria-invalid', 'true'); f[field].focus(); }
          return;
        }
        if ('policy' in data && !EVENT.original) EVENT.policy = data.policy;
        if ('retention_days' in data) EVENT.retention_days = data.retention_days;
        if ('moderators' in data) EVENT.moderators = data.moderators;
        fillSettings();
        render();
        say($('settings-status'), S.settings_saved);
      });
    });
  }

  /* ---------- live ---------- */
  function setConn(state) {
    var el = $('conn');
    el.dataset.state = state;
    say(el, S['conn_' + state] || state);
  }
  function rebuild(list) {
    questions.clear();
    (list || []).forEach(function (q) { questions.set(q.id, q); });
    cards.forEach(function (_li, id) { if (!questions.has(id)) { cards.delete(id); } else invalidate(id); });
    threads.forEach(function (t, id) { if (t.open) loadThread(id); });
    renderNow();
  }
  function join() {
    socket.timeout(10000).emit('join', { event: CODE, staff: true }, function (err, ack) {
      if (err || !ack) { setConn('reconnecting'); window.setTimeout(function () { if (socket.connected) join(); }, 3000); return; }
      if (!ack.ok) {
        setConn('offline');
        showListError(errorText(ack.error));
        if (ack.error && ack.error.code === ERR.LOGIN_REQUIRED) $('relogin').hidden = false;
        return;
      }
      setConn('connected');
      showListError('');
      if (ack.event) { Object.assign(EVENT, ack.event); renderEvent(); }
      rebuild(ack.questions);
      say($('online'), plural('online', ack.online || 0));
      refreshLog();
    });
  }
  function connect() {
    if (typeof window.io !== 'function') { setConn('offline'); return; }
    socket = window.io();
    socket.on('connect', join);
    socket.on('disconnect', function () { setConn('reconnecting'); });
    socket.on('connect_error', function () { setConn('reconnecting'); });
    socket.on('question', function (q) { upsert(q, true); refreshLogSoon(); });
    socket.on('question_removed', function (m) {
      if (!m || m.id == null) return;
      questions.delete(m.id);
      var li = cards.get(m.id);
      if (li && li.parentNode) li.parentNode.removeChild(li);
      cards.delete(m.id);
      if (selectedId === m.id) selectedId = null;
      render();
      refreshLogSoon();
    });
    socket.on('votes', function (counts) {
      Object.keys(counts || {}).forEach(function (k) {
        var q = questions.get(Number(k));
        if (q) { questions.set(q.id, Object.assign({}, q, { votes: counts[k] })); }
      });
      render();
    });
    socket.on('comment', function (c) { if (c && c.question_id != null) reloadThreadSoon(c.question_id); });
    socket.on('comment_removed', function (c) { if (c && c.question_id != null) reloadThreadSoon(c.question_id); });
    socket.on('presence', function (m) { say($('online'), plural('online', (m && m.online) || 0)); });
    socket.on('event', function (ev) { if (ev) { Object.assign(EVENT, ev); renderEvent(); refreshLogSoon(); } });
  }

  /* ---------- start ---------- */
  document.documentElement.classList.add('js');
  document.querySelectorAll('.ctl-js').forEach(function (el) { el.hidden = false; });
  var noJs = $('q-list-static');
  if (noJs) noJs.parentNode.removeChild(noJs);
  renderEvent();
  rebuild(DATA.questions);
  refreshLog();
  connect();
}
