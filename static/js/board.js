/* Projector board: keeps the server-rendered board live over Socket.IO.
 *
 * A native ES module (no build step, no inline anything: strict CSP) on lib.js's
 * element helper and formatting. board-theme.js has applied the remembered theme before
 * the first paint; modules run once the document is parsed, after the deferred
 * Socket.IO client. Reads its data and strings from the #page-data JSON block; every
 * user text is set with textContent. On every (re)connect it joins the event and
 * rebuilds from the join acknowledgement, so a board that lost the Wi-Fi
 * resynchronises by itself.
 *
 * A room may hold hundreds of questions, and the wall shows a handful: only the cards
 * that can be shown exist. The ranked list is built from the top until one card does
 * not fit (that one is dropped again), so nothing beyond the fold is ever built, fitted
 * or measured. A vote changes the count of its own card in place, at once; the order
 * settles at most every 1.6 s.
 *
 * Re-ranking moves the cards with a FLIP animation (measure, reorder, invert, play):
 * positions are read in one pass before and one pass after the change, and a card
 * moving up slides on a raised layer over those it overtakes. Long questions are fitted
 * by stepping their size down, never cut. Zero-vote questions the list has no room for
 * take turns in "Just asked". The operator's controls and the cursor hide when idle; F
 * toggles full screen. */
import { $, h, pageData, formats, ms } from './lib.js';

const root = document.documentElement;
root.classList.add('js');

/* ---------- theme: ?theme= > remembered > prefers-color-scheme (CSS) > dark (CSS) ---------- */
const THEME_KEY = 'dq:board:theme';
let chosenTheme = root.classList.contains('theme-light') ? 'light'
  : root.classList.contains('theme-dark') ? 'dark' : null;
function saveTheme(t) {
  // A plain string, as board-theme.js reads it before the first paint.
  try { localStorage.setItem(THEME_KEY, t); } catch (e) { /* private mode: not remembered */ }
}
function applyTheme(t) {
  root.classList.remove('theme-dark', 'theme-light');
  if (t) root.classList.add('theme-' + t);
  document.body.classList.remove('theme-dark', 'theme-light');
}
const lightQuery = window.matchMedia ? window.matchMedia('(prefers-color-scheme: light)') : null;
function effectiveTheme() {
  return chosenTheme || (lightQuery && lightQuery.matches ? 'light' : 'dark');
}

if ($('page-data')) start();

function start() {
  var DATA = pageData();
  var S = DATA.strings || {};
  var EVENT = DATA.event || {};
  var CODE = EVENT.code;
  var F = formats(DATA.locale, S);
  var nf = F.nf;
  var plural = F.plural;
  /* Statuses come from the server's rules table (discussion/rules/enums.py); the few
   * this script gives a meaning of its own are named once here and checked against it. */
  var RULES = DATA.rules || {};
  function known(list, value) {
    if ((list || []).indexOf(value) < 0) console.error('board.js: "' + value + '" is not in the rules table');
    return value;
  }
  var VISIBLE = known(RULES.question_statuses, 'visible');
  var ANSWERED = known(RULES.question_statuses, 'answered');
  var CLOSED = known(RULES.event_statuses, 'closed');
  var PUBLIC = {};  // what the board may show, as the access policy says
  (DATA.public_statuses || []).forEach(function (st) { PUBLIC[known(RULES.question_statuses, st)] = true; });

  var el = {
    board: $('board'), main: document.querySelector('.b-main'), head: document.querySelector('.b-head'),
    title: $('b-title'), closed: $('b-closed'), joinLabel: $('b-join-label'), recentLabel: $('recent-label'),
    now: $('now'), nowBody: $('now-body'), nowMeta: $('now-meta'),
    top: document.querySelector('.b-top'), topLabel: document.querySelector('#top-label'),
    topTopic: $('top-topic'), list: $('b-list'), empty: $('b-empty'), more: $('b-more'),
    answered: $('b-answered'), aempty: $('b-aempty'),
    recent: $('b-recent'), recentBox: $('b-recent-box'),
    conn: $('b-conn'), announce: $('b-announce'),
    controls: $('b-controls'), fullscreen: $('b-fullscreen'), fullscreenLabel: $('b-fullscreen-label'),
    topicSelect: $('b-topic'), themeToggle: $('theme-toggle'),
    stats: { online: $('stat-online'), questions: $('stat-questions'), votes: $('stat-votes') }
  };

  /* ---------- state ---------- */
  var questions = new Map();
  (DATA.questions || []).forEach(function (q) { if (PUBLIC[q.status]) questions.set(q.id, q); });
  var online = DATA.online || 0;
  var topic = DATA.topic || null;
  var topicNames = {};
  function setTopics(list) {
    topicNames = {};
    (list || []).forEach(function (t) { topicNames[t.slug] = t.name; });
  }
  setTopics(EVENT.topics);
  var shownNowId = el.now && el.now.hasAttribute('data-id') ? Number(el.now.getAttribute('data-id')) : null;
  var titleSuffix = document.title.indexOf(EVENT.title) === 0 ? document.title.slice(EVENT.title.length) : '';

  /* ---------- ranking ---------- */
  /* Creation times parsed once per question object (a sort compares each many times). */
  var created = new WeakMap();
  function createdMs(q) {
    var t = created.get(q);
    if (t === undefined) { t = ms(q.created_at); created.set(q, t); }
    return t;
  }
  /* The "top" rule of discussion/queries.py: pinned first, most votes, oldest, lowest id. */
  function byRank(a, b) {
    return ((b.pinned ? 1 : 0) - (a.pinned ? 1 : 0)) || (b.votes - a.votes) ||
      (createdMs(a) - createdMs(b)) || (a.id - b.id);
  }

  /* ---------- DOM builders (the same markup as templates/board.html) ---------- */
  function span(cls, text) { return h('span', { class: cls, text: text }); }
  function setText(node, text) {
    text = text == null ? '' : String(text);
    if (node.textContent !== text) node.textContent = text;
  }
  function pill(q) {
    return h('span', { class: 'b-pill' }, [
      h('span', { class: 'b-pill-arrow', 'aria-hidden': 'true', text: '▲' }),
      span('b-pill-n', nf.format(q.votes)), span('sr-only', ' ' + (S.votes_label || ''))
    ]);
  }
  function metaParts(q) {
    var parts = [];
    if (q.pinned) parts.push(span('b-tag', S.pinned));
    if (q.topic && topicNames[q.topic]) parts.push(span(null, topicNames[q.topic]));
    if (q.seeded) parts.push(span(null, S.seeded));
    else if (q.author) parts.push(span(null, q.author));
    if (q.comments) parts.push(span(null, plural('comments', q.comments)));
    if (q.edited) parts.push(span(null, S.edited));
    return parts;
  }
  function metaKey(q) {
    return JSON.stringify([q.pinned, q.topic, q.seeded, q.author, q.comments, q.edited, topicNames[q.topic]]);
  }
  function setVotes(pillEl, votes) {
    var n = pillEl.querySelector('.b-pill-n');
    var text = nf.format(votes);
    if (n.textContent === text) return;
    var before = Number(pillEl.getAttribute('data-votes'));
    n.textContent = text;
    pillEl.setAttribute('data-votes', String(votes));
    if (!isNaN(before) && votes > before) {
      pillEl.classList.remove('bump');
      void pillEl.offsetWidth; // restart the animation
      pillEl.classList.add('bump');
    }
  }
  function buildCard(q) {
    return h('li', { class: 'b-card', 'data-id': String(q.id) }, [
      pill(q), h('div', { class: 'b-card-main' }, [h('p', { class: 'b-body' }), h('p', { class: 'b-meta' })])
    ]);
  }
  function updateMeta(meta, q) {
    var key = metaKey(q);
    if (meta.getAttribute('data-key') !== key) {
      meta.replaceChildren.apply(meta, metaParts(q));
      meta.setAttribute('data-key', key);
    }
  }
  function updateCard(li, q) {
    li.classList.toggle('is-pinned', !!q.pinned);
    var p = li.querySelector('.b-pill');
    if (!p.hasAttribute('data-votes')) p.setAttribute('data-votes', String(q.votes));
    setVotes(p, q.votes);
    setText(li.querySelector('.b-body'), q.body);
    updateMeta(li.querySelector('.b-meta'), q);
  }
  function buildAnswered(q) {
    return h('li', { class: 'b-acard', 'data-id': String(q.id) }, [h('p', { class: 'b-abody' }), h('p', { class: 'b-ameta' })]);
  }
  function updateAnswered(li, q) {
    setText(li.querySelector('.b-abody'), q.body);
    setText(li.querySelector('.b-ameta'), plural('votes', q.votes));
  }
  function buildRecent(q) {
    return h('li', { class: 'b-rcard', 'data-id': String(q.id) }, [h('p', { class: 'b-body' }), h('p', { class: 'b-meta' })]);
  }
  function updateRecent(li, q) {
    setText(li.querySelector('.b-body'), q.body);
    updateMeta(li.querySelector('.b-meta'), q);
  }

  /* ---------- rendering ---------- */
  var reduceMotion = window.matchMedia ? window.matchMedia('(prefers-reduced-motion: reduce)') : { matches: false };
  var narrow = window.matchMedia ? window.matchMedia('(max-width: 900px), (max-aspect-ratio: 1/1)') : { matches: false };
  var MOVE_MS = 550;        // one re-ranking slide
  var RERANK_MS = 1600;     // votes re-rank at most this often; counts change in place meanwhile
  var ROTATE_MS = 8000;     // "just asked" shows its next questions after this long
  var RECENT_MAX = 6;       // how many of the newest zero-vote questions take turns there
  /* A narrow window (a laptop split screen, a portrait screen) scrolls instead of
   * fitting: it shows this many of the top, which is more than a wall ever fits. */
  var NARROW_MAX = 50;

  /* The container's children become the cards of `items`, in that order: existing cards
   * are kept (and updated), missing ones built, the others removed. A card built for a
   * question that was not among `before` fades in (is-new). */
  function sync(container, items, build, update, before) {
    var existing = new Map();
    Array.prototype.forEach.call(container.children, function (child) {
      existing.set(child.getAttribute('data-id'), child);
    });
    var wanted = items.map(function (q) {
      var key = String(q.id);
      var node = existing.get(key);
      if (node) existing.delete(key);
      else {
        node = build(q);
        if (!before || !before.has(q.id)) node.classList.add('is-new');
      }
      update(node, q);
      return node;
    });
    existing.forEach(function (node) { node.remove(); });
    wanted.forEach(function (node, i) {
      if (container.children[i] !== node) container.insertBefore(node, container.children[i] || null);
    });
  }

  function renderNow(now) {
    var id = now ? now.id : null;
    el.board.classList.toggle('has-now', !!now);
    el.now.hidden = !now;
    if (now) {
      el.now.setAttribute('data-id', String(id));
      setText(el.nowBody, now.body);
      var key = JSON.stringify([now.votes, now.status, metaKey(now)]);
      if (el.nowMeta.getAttribute('data-key') !== key) {
        var parts = [pill(now)];
        if (now.status === 'answered') parts.push(span('b-tag', S.answered));
        el.nowMeta.replaceChildren.apply(el.nowMeta, parts.concat(metaParts(now)));
        el.nowMeta.setAttribute('data-key', key);
      }
    } else {
      el.now.removeAttribute('data-id');
      setText(el.nowBody, '');
    }
    if (id !== shownNowId) {
      el.now.classList.remove('is-changed');
      if (now) { void el.now.offsetWidth; el.now.classList.add('is-changed'); }
      setText(el.announce, now ? String(S.announce_now || '').replace('%(body)s', now.body) : S.announce_none);
      shownNowId = id;
    }
  }

  /* A zero is not projected: "0 people here" only tells the room the board is alone. */
  function renderStat(node, key, n) {
    if (!node) return;
    node.hidden = !n;
    var sig = key + ':' + n;
    if (node.getAttribute('data-sig') === sig) return;
    var parts = (F.pattern(key, n) || '%(count)s').split('%(count)s');
    node.replaceChildren(document.createTextNode(parts[0] || ''), h('b', { class: 'b-stat-n', text: nf.format(n) }),
      document.createTextNode(parts.slice(1).join('') || ''));
    node.setAttribute('data-sig', sig);
  }
  function renderStats(all) {
    renderStat(el.stats.online, 'here', online);
    if (all) {
      var count = 0, votes = 0;
      questions.forEach(function (q) { if (PUBLIC[q.status]) { count += 1; votes += q.votes || 0; } });
      renderStat(el.stats.questions, 'questions', count);
      renderStat(el.stats.votes, 'votes', votes);
    }
  }

  /* The highlighted question gets the most room it can use: between 4u (64 px at 1080p)
   * and 5u while the list keeps half the column; if even 4u leaves no room for one card,
   * it takes the whole column, and only a question too long for that at 4u goes smaller,
   * so that it is never cut. */
  function unit() { return parseFloat(getComputedStyle(document.body).fontSize) / 1.25 || 16; }
  function setNowSize(px) { el.nowBody.style.fontSize = px + 'px'; }
  function largestFitting(lo, hi, limit) {
    // The largest font size in [lo, hi] px whose block is at most limit px high (else lo).
    setNowSize(hi);
    if (el.now.offsetHeight <= limit) return hi;
    for (var i = 0; i < 10 && hi - lo > 0.5; i++) {
      var mid = (lo + hi) / 2;
      setNowSize(mid);
      if (el.now.offsetHeight <= limit) lo = mid; else hi = mid;
    }
    setNowSize(lo);
    return lo;
  }
  /* Fitted once per text and column height: a vote or a re-rank measures nothing here. */
  var nowFit = '';
  function fitNow(hasList) {
    if (el.now.hidden || narrow.matches) {
      nowFit = '';
      el.board.classList.remove('now-long');
      el.nowBody.style.fontSize = '';
      return;
    }
    var key = [el.nowBody.textContent, el.nowMeta.textContent, el.main.clientHeight, el.main.clientWidth, hasList].join('\n');
    if (key === nowFit) return;
    el.board.classList.remove('now-long');
    el.nowBody.style.fontSize = '';
    var u = unit();
    var gap = parseFloat(getComputedStyle(el.main).rowGap) || 0;
    var avail = el.main.clientHeight - el.head.offsetHeight - gap;
    largestFitting(4 * u, 5 * u, avail * 0.5);
    var roomForList = avail - el.now.offsetHeight - gap - el.topLabel.offsetHeight - 9.5 * u;
    if (roomForList < 0 && hasList) el.board.classList.add('now-long');
    if (el.now.offsetHeight > avail) largestFitting(2.5 * u, 4 * u, avail);
    nowFit = key;
  }

  /* A long question is fitted, never cut: its size steps down until it holds in
   * `lines` lines of its full size; if even the smallest step needs more, the card
   * grows. Steps are in u (2.25u is 36 px at 1080p, the smallest question text), and
   * never under 20 px. Sizes are remembered per text, so a re-render measures nothing
   * that has not changed. */
  function fitText(node, steps, lines) {
    if (narrow.matches) { node.style.fontSize = ''; node.removeAttribute('data-fit'); return; }
    var u = unit();
    var sizes = steps.map(function (k) { return Math.max(20, k * u); });
    var key = node.textContent.length + ':' + node.clientWidth + ':' + sizes[0];
    if (node.getAttribute('data-fit') === key) return;
    node.style.fontSize = sizes[0] + 'px';
    var lineHeight = parseFloat(getComputedStyle(node).lineHeight) || sizes[0] * 1.22;
    var limit = lines * lineHeight + 1;
    for (var i = 0; i < sizes.length && node.scrollHeight > limit; i++) {
      node.style.fontSize = sizes[i] + 'px';
    }
    node.setAttribute('data-fit', key);
  }
  var CARD_STEPS = [2.5, 2.375, 2.25];
  var RECENT_STEPS = [2.25];
  var ANSWERED_STEPS = [1.625, 1.5, 1.375, 1.25];
  function fitAll(container, selector, steps, lines) {
    Array.prototype.forEach.call(container.querySelectorAll(selector), function (b) { fitText(b, steps, lines); });
  }
  /* Whole cards that do not fit are left out (and counted), never cut. */
  function clip(container) {
    var children = Array.prototype.slice.call(container.children);
    children.forEach(function (child) { child.classList.remove('is-clipped'); });
    if (narrow.matches) return 0;
    var limit = container.clientHeight + 1;
    var cut = children.findIndex(function (child) { return child.offsetTop + child.offsetHeight > limit; });
    if (cut < 0) return 0;
    // The first card always shows (the column is sized so that it fits).
    children.slice(Math.max(cut, 1)).forEach(function (child) { child.classList.add('is-clipped'); });
    return children.length - Math.max(cut, 1);
  }
  function shownCount(container) {
    var n = 0;
    Array.prototype.forEach.call(container.children, function (c) { if (!c.classList.contains('is-clipped')) n += 1; });
    return n;
  }

  var lastShown = new Map();    // container -> how many of its cards showed last time
  /* The top of `items` that fits in `container`, and no more: cards are built (and
   * fitted) from the top, a few at a time, until one is left out; the cards left out
   * are dropped again (`keep` of them stay, for squeezeNext). Returns how many show. */
  function fillColumn(container, items, build, update, before, steps, lines, selector, keep) {
    if (narrow.matches) {
      sync(container, items.slice(0, NARROW_MAX), build, update, before);
      fitAll(container, selector, steps, lines);
      clip(container);
      return Math.min(items.length, NARROW_MAX);
    }
    // Start from what showed last time, and one more: usually a single pass.
    var n = Math.min(items.length, (lastShown.get(container) || 3) + 1);
    for (;;) {
      sync(container, items.slice(0, n), build, update, before);
      fitAll(container, selector, steps, lines);
      var hidden = clip(container);
      if (hidden || n >= items.length) break;
      n = Math.min(items.length, n + 2);
    }
    var shown = shownCount(container);
    lastShown.set(container, shown);
    // Keep the first `keep` left out (a squeeze may take them in); drop the rest.
    Array.prototype.slice.call(container.children, shown + keep).forEach(function (c) { c.remove(); });
    return shown;
  }

  /* The first card left out may fit with its text at the smallest question size
   * (2.25u): then it is taken in rather than leaving the room empty. */
  function squeezeNext() {
    var next = Array.prototype.find.call(el.list.children, function (c) { return c.classList.contains('is-clipped'); });
    if (!next) return false;
    var body = next.querySelector('.b-body');
    var min = Math.max(20, 2.25 * unit());
    var before = body.style.fontSize;
    if (parseFloat(before) <= min + 0.1) return false;
    next.classList.remove('is-clipped');
    body.style.fontSize = min + 'px';
    if (next.offsetTop + next.offsetHeight <= el.list.clientHeight + 1) {
      body.setAttribute('data-fit', 'squeezed');
      return true;
    }
    body.style.fontSize = before;
    next.classList.add('is-clipped');
    return false;
  }
  var SQUEEZES = 3;
  /* The ranked list: what fits, then up to SQUEEZES more squeezed in. The "N more" line
   * takes room, so it is shown while fitting. Returns how many cards show. */
  function fitList(ranked, before) {
    el.more.hidden = el.board.classList.contains('now-long') || ranked.length === 0;
    if (el.more.hidden) {
      // A highlighted question that needs the whole column: the list is not shown.
      sync(el.list, [], buildCard, updateCard, before);
      return 0;
    }
    var shown = fillColumn(el.list, ranked, buildCard, updateCard, before, CARD_STEPS, 3, '.b-body', SQUEEZES + 1);
    if (!narrow.matches) {
      for (var i = 0; i < SQUEEZES && shown < ranked.length && squeezeNext(); i++) {
        shown += 1;
        // The next one to try, if the cards kept for this have run out.
        if (el.list.children.length <= shown && shown < ranked.length) {
          var next = buildCard(ranked[shown]);
          if (!before || !before.has(ranked[shown].id)) next.classList.add('is-new');
          updateCard(next, ranked[shown]);
          next.classList.add('is-clipped');
          el.list.append(next);
          fitText(next.querySelector('.b-body'), CARD_STEPS, 3);
        }
      }
      // What is left out is not kept.
      Array.prototype.slice.call(el.list.children, shown).forEach(function (c) { c.remove(); });
    }
    return shown;
  }
  function setMore(more) {
    el.more.hidden = more === 0;
    setText(el.more, more ? plural('more', more) : '');
  }

  /* ---------- just asked ---------- */
  var recentOffset = 0;
  var recentSeen = new Set();   // ids that were ever candidates: a new one is shown at once
  var recentTimer = null;
  var recentCount = 0;          // how many candidates the last render had
  function shownIds() {
    var ids = new Set();
    if (el.board.classList.contains('now-long')) return ids;
    Array.prototype.forEach.call(el.list.children, function (c) {
      if (!c.classList.contains('is-clipped')) ids.add(Number(c.getAttribute('data-id')));
    });
    return ids;
  }
  /* The RECENT_MAX newest zero-vote questions the list does not show, newest first
   * (one pass over the room, no sort of it). */
  function recentCandidates(ranked) {
    var on = shownIds();
    var newer = function (a, b) { return (createdMs(b) - createdMs(a)) || (b.id - a.id); };
    var best = [];
    ranked.forEach(function (q) {
      if (q.votes || q.pinned || on.has(q.id)) return;
      if (best.length === RECENT_MAX && newer(q, best[RECENT_MAX - 1]) >= 0) return;
      best.push(q);
      best.sort(newer);
      if (best.length > RECENT_MAX) best.pop();
    });
    return best;
  }
  function renderRecent(ranked) {
    var all = narrow.matches ? [] : recentCandidates(ranked);
    var fresh = all.some(function (q) { return !recentSeen.has(q.id); });
    all.forEach(function (q) { recentSeen.add(q.id); });
    if (fresh) recentOffset = 0; // a question just asked goes on the wall at once
    if (recentOffset >= all.length) recentOffset = 0;
    var page = all.slice(recentOffset).concat(all.slice(0, recentOffset));
    recentCount = all.length;
    el.recentBox.hidden = all.length === 0;
    sync(el.recent, page, buildRecent, updateRecent);
    return all.length;
  }
  function rotateRecent() {
    clearTimeout(recentTimer);
    recentTimer = setTimeout(function () {
      var shown = shownCount(el.recent);
      // Only when some are waiting for their turn.
      if (shown && recentCount > shown) {
        recentOffset = (recentOffset + shown) % recentCount;
        render(true);
      }
      rotateRecent();
    }, ROTATE_MS);
  }

  /* Every card on the board: only the ones that can be shown exist. */
  function allCards() {
    return Array.prototype.slice.call(el.board.querySelectorAll('.b-card, .b-acard, .b-rcard'));
  }
  function onScreen(c) { return !c.classList.contains('is-clipped') && c.offsetParent !== null; }
  function idsOf(container) {
    var ids = new Set();
    Array.prototype.forEach.call(container.children, function (c) { ids.add(Number(c.getAttribute('data-id'))); });
    return ids;
  }

  var lastRanked = new Set();     // ids in the ranked list at the last render
  var lastAnswered = new Set();
  function render(animate) {
    lastRank = Date.now();
    var pub = [];
    questions.forEach(function (q) { if (PUBLIC[q.status]) pub.push(q); });
    pub.sort(byRank);
    var now = null;
    pub.forEach(function (q) { if (!now && q.highlighted) now = q; });
    var inTopic = pub.filter(function (q) { return !topic || q.topic === topic; });
    var ranked = inTopic.filter(function (q) { return q.status === VISIBLE && q !== now; });
    var answered = inTopic.filter(function (q) { return q.status === ANSWERED && q !== now; });
    // A card coming into view for a question already in its list (up from beyond the
    // fold) is not new: it slides up instead of fading in.
    var beforeRanked = lastRanked, beforeAnswered = lastAnswered;
    lastRanked = new Set(ranked.map(function (q) { return q.id; }));
    lastAnswered = new Set(answered.map(function (q) { return q.id; }));

    // FLIP, first: where every card is now (one read pass, nothing written in between;
    // a card still sliding is measured where it is seen).
    var flip = animate && !reduceMotion.matches;
    var first = new Map();
    if (flip) allCards().forEach(function (c) { if (onScreen(c)) first.set(c, c.getBoundingClientRect()); });

    renderNow(now);
    var closed = EVENT.status === CLOSED;
    setText(el.empty, topic ? (closed ? S.no_questions_topic_closed : S.no_questions_topic)
      : (closed ? S.no_questions_closed : S.no_questions));
    el.empty.hidden = ranked.length > 0;
    el.aempty.hidden = answered.length > 0;
    setText(el.topTopic, topic && topicNames[topic] ? ' · ' + topicNames[topic] : '');
    renderStats(true);

    // Layout: sizes first, then what fits. "Just asked" takes its room from the list,
    // and what it shows depends on what the list shows, so it is settled in two passes.
    fitNow(ranked.length > 0);
    el.recentBox.hidden = true;
    var shown = fitList(ranked, beforeRanked);
    var more = ranked.length;
    if (!renderRecent(ranked)) more -= shown;
    else {
      fitAll(el.recent, '.b-body', RECENT_STEPS, 2);
      shown = fitList(ranked, beforeRanked);
      renderRecent(ranked);
      fitAll(el.recent, '.b-body', RECENT_STEPS, 2);
      shown = fitList(ranked, beforeRanked);
      clip(el.recent);
      // "N more on your phones" does not count what "just asked" shows.
      var listIds = shownIds();
      Array.prototype.forEach.call(el.recent.children, function (c) {
        if (!c.classList.contains('is-clipped') && !listIds.has(Number(c.getAttribute('data-id')))) more -= 1;
      });
      more -= shown;
    }
    if (!el.board.classList.contains('now-long')) setMore(Math.max(0, more));
    fillColumn(el.answered, answered, buildAnswered, updateAnswered, beforeAnswered, ANSWERED_STEPS, 3, '.b-abody', 0);

    var cards = allCards();
    if (!flip) {
      cards.forEach(function (c) {
        c.classList.remove('is-new', 'is-rising', 'is-falling');
        c.style.transform = ''; c.style.transition = '';
      });
      return;
    }
    // Last: clear what an unfinished slide left, then read every new position in one
    // pass (the first read lays out once; nothing is written until the pass is over).
    cards.forEach(function (c) { c.style.transition = 'none'; c.style.transform = ''; });
    var listBox = el.list.getBoundingClientRect();
    var lastOnScreen = null;
    Array.prototype.forEach.call(el.list.children, function (c) { if (!c.classList.contains('is-clipped')) lastOnScreen = c; });
    var plan = cards.map(function (c) {
      return { c: c, was: first.get(c), r: onScreen(c) ? c.getBoundingClientRect() : null };
    });
    // Invert: every card starts where it was seen. One that was not on screen (new, or
    // up from beyond the fold) comes up from the bottom of the list on the raised
    // layer, so that nothing ever fades over a gap.
    var moved = [];
    plan.forEach(function (p) {
      var c = p.c;
      c.classList.remove('is-rising', 'is-falling');
      if (!p.r) return;
      var inList = c.parentNode === el.list;
      var dx = 0, dy = 0;
      if (p.was) {
        dx = p.was.left - p.r.left;
        dy = p.was.top - p.r.top;
      } else if (inList && c !== lastOnScreen) {
        dy = Math.max(listBox.bottom - p.r.top, 0);
      } else {
        return; // a new card fades in where it lands (is-new), at the end of its list
      }
      if (Math.abs(dx) <= 0.5 && Math.abs(dy) <= 0.5) return;
      c.classList.remove('is-new'); // a fade-in's own transform would fight the slide
      c.classList.add(dy > 0 ? 'is-rising' : 'is-falling');
      c.style.transform = 'translate(' + dx + 'px,' + dy + 'px)';
      moved.push(c);
    });
    void el.board.offsetHeight; // commit the inverted positions before playing
    moved.forEach(function (c) {
      c.style.transition = 'transform ' + MOVE_MS + 'ms cubic-bezier(0.25, 0.8, 0.25, 1)';
      c.style.transform = '';
    });
    clearTimeout(settleTimer);
    settleTimer = setTimeout(settle, MOVE_MS + 100);
  }
  var settleTimer = null;
  function settle() {
    allCards().forEach(function (c) {
      if (c.style.transform) return;
      c.style.transition = '';
      c.classList.remove('is-rising', 'is-falling');
    });
  }

  el.board.addEventListener('transitionend', function (e) {
    var t = e.target;
    if (t.classList && (t.classList.contains('b-card') || t.classList.contains('b-acard') || t.classList.contains('b-rcard'))) {
      t.style.transition = '';
      t.classList.remove('is-rising', 'is-falling');
    }
  });
  el.board.addEventListener('animationend', function (e) {
    var t = e.target;
    if (t.classList) { t.classList.remove('is-new'); t.classList.remove('bump'); }
    if (t === el.nowBody) el.now.classList.remove('is-changed');
  });

  /* Counts change in place at once, on the cards of the questions voted on (if shown);
   * the order settles at most every RERANK_MS, so a busy room sees one calm move instead
   * of a hop on every vote. Anything else (a new question, a status, a highlight, an
   * edit) re-renders at once. */
  function cardOf(container, id) {
    return Array.prototype.find.call(container.children, function (c) { return c.getAttribute('data-id') === String(id); });
  }
  function updateCounts(ids) {
    ids.forEach(function (id) {
      var q = questions.get(id);
      if (!q) return;
      var card = cardOf(el.list, id);
      if (card) setVotes(card.querySelector('.b-pill'), q.votes);
      var acard = cardOf(el.answered, id);
      if (acard) updateAnswered(acard, q);
      var nowPill = id === shownNowId ? el.nowMeta.querySelector('.b-pill') : null;
      if (nowPill) setVotes(nowPill, q.votes);
    });
    renderStats(true);
  }
  var lastRank = 0;
  var pending = null;
  var pendingRank = null;
  function schedule() {
    clearTimeout(pendingRank);
    pendingRank = null;
    if (pending) return;
    pending = setTimeout(function () { pending = null; render(true); }, 40);
  }
  function scheduleRank(ids) {
    updateCounts(ids);
    if (pending || pendingRank) return;
    var wait = Math.max(40, lastRank + RERANK_MS - Date.now());
    pendingRank = setTimeout(function () { pendingRank = null; render(true); }, wait);
  }

  /* ---------- event (title, status, topics) ---------- */
  function applyEvent(ev) {
    if (!ev) return;
    if (ev.title && ev.title !== EVENT.title) {
      setText(el.title, ev.title);
      document.title = ev.title + titleSuffix;
    }
    // Closed: say what the room can no longer do, and stop inviting it.
    var closed = ev.status === CLOSED;
    el.closed.hidden = !closed;
    setText(el.joinLabel, closed ? S.join_closed : S.join);
    setText(el.recentLabel, closed ? S.recent_closed : S.recent);
    if (ev.topics) {
      setTopics(ev.topics);
      var opts = el.topicSelect.options;
      var same = opts.length === ev.topics.length + 1 && ev.topics.every(function (t, i) {
        return opts[i + 1].value === t.slug && opts[i + 1].textContent === t.name;
      });
      if (!same) {
        var first = opts[0];
        el.topicSelect.replaceChildren(first);
        ev.topics.forEach(function (t) {
          el.topicSelect.append(h('option', { value: t.slug, text: t.name }));
        });
        if (topic && !topicNames[topic]) topic = null;
        el.topicSelect.value = topic || '';
      }
    }
    EVENT = ev;
  }

  /* ---------- controls: topic filter and theme ---------- */
  function updateUrl(mutate) {
    var url = new URL(window.location.href);
    mutate(url.searchParams);
    window.history.replaceState(null, '', url.pathname + (url.search || '') + url.hash);
  }
  function updateThemeToggle() {
    var next = effectiveTheme() === 'light' ? 'dark' : 'light';
    setText(el.themeToggle, next === 'light' ? S.theme_to_light : S.theme_to_dark);
    var href = '?theme=' + next + (topic ? '&topic=' + encodeURIComponent(topic) : '');
    el.themeToggle.setAttribute('href', href);
  }
  el.topicSelect.addEventListener('change', function () {
    topic = el.topicSelect.value || null;
    if (topic && !topicNames[topic]) topic = null;
    updateUrl(function (p) { if (topic) p.set('topic', topic); else p.delete('topic'); });
    updateThemeToggle();
    render(true);
  });
  el.themeToggle.addEventListener('click', function (e) {
    e.preventDefault();
    chosenTheme = effectiveTheme() === 'light' ? 'dark' : 'light';
    saveTheme(chosenTheme);
    applyTheme(chosenTheme);
    updateUrl(function (p) { p.delete('theme'); });
    updateThemeToggle();
  });
  if (lightQuery && lightQuery.addEventListener) lightQuery.addEventListener('change', updateThemeToggle);
  updateThemeToggle();

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { render(false); }, 100);
  });

  /* ---------- idle: controls and cursor leave the projected image ---------- */
  var IDLE_MS = Number(el.board.getAttribute('data-idle-ms')) || 4000;
  var idleTimer = null;
  function sleep() {
    var active = document.activeElement;
    // An open topic list is being used: wait for it.
    if (active === el.topicSelect) { idleTimer = setTimeout(sleep, IDLE_MS); return; }
    if (active && active !== document.body && el.controls.contains(active)) active.blur();
    document.body.classList.add('is-idle');
  }
  function wake() {
    document.body.classList.remove('is-idle');
    clearTimeout(idleTimer);
    idleTimer = setTimeout(sleep, IDLE_MS);
  }
  ['mousemove', 'mousedown', 'keydown', 'touchstart', 'wheel'].forEach(function (type) {
    document.addEventListener(type, wake, { passive: true });
  });
  wake();

  /* ---------- full screen: F, or the button shown with the controls ---------- */
  var canFullscreen = !!(root.requestFullscreen && document.fullscreenEnabled !== false);
  function updateFullscreen() {
    setText(el.fullscreenLabel, document.fullscreenElement ? S.fullscreen_exit : S.fullscreen);
  }
  function toggleFullscreen() {
    if (document.fullscreenElement) {
      if (document.exitFullscreen) document.exitFullscreen().catch(function () { /* already out */ });
    } else if (canFullscreen) {
      root.requestFullscreen().catch(function () { /* refused (no gesture, policy): stay */ });
    }
  }
  if (canFullscreen) {
    el.fullscreen.hidden = false;
    el.fullscreen.addEventListener('click', toggleFullscreen);
    document.addEventListener('fullscreenchange', updateFullscreen);
    updateFullscreen();
  }
  document.addEventListener('keydown', function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    var t = e.target;
    if (t && (t.tagName === 'SELECT' || t.tagName === 'INPUT' || t.tagName === 'TEXTAREA')) return;
    if (e.key === 'f' || e.key === 'F') { e.preventDefault(); toggleFullscreen(); }
  });

  /* ---------- connection ---------- */
  function setConn(state) {
    el.conn.hidden = false;
    el.conn.setAttribute('data-state', state);
    setText(el.conn, state === 'live' ? S.live : state === 'connecting' ? S.connecting : S.reconnecting);
  }

  render(false);
  rotateRecent();

  if (typeof window.io !== 'function') { setConn('offline'); return; }
  setConn('connecting');
  var socket = window.io();
  var joinRetry = null;
  function join() {
    clearTimeout(joinRetry);
    // board: true is an optional hint (ignored by servers that do not know it) that this
    // socket is a projector, which should not count among the people here.
    socket.timeout(10000).emit('join', { event: CODE, board: true }, function (err, ack) {
      if (err || !ack || !ack.ok) {
        setConn('reconnecting');
        joinRetry = setTimeout(function () { if (socket.connected) join(); }, 5000);
        return;
      }
      applyEvent(ack.event);
      questions = new Map();
      (ack.questions || []).forEach(function (q) { if (PUBLIC[q.status]) questions.set(q.id, q); });
      if (typeof ack.online === 'number') online = ack.online;
      setConn('live');
      render(true);
      rotateRecent();
    });
  }
  socket.on('connect', join);
  socket.on('disconnect', function () { setConn('reconnecting'); });
  socket.on('connect_error', function () { setConn('reconnecting'); });
  socket.on('question', function (q) {
    if (!q || q.id == null) return;
    if (PUBLIC[q.status]) questions.set(q.id, q); else questions.delete(q.id);
    schedule();
  });
  socket.on('votes', function (counts) {
    if (!counts) return;
    var changed = [];
    Object.keys(counts).forEach(function (k) {
      var q = questions.get(Number(k));
      if (q && typeof counts[k] === 'number' && q.votes !== counts[k]) { q.votes = counts[k]; changed.push(q.id); }
    });
    if (changed.length) scheduleRank(changed);
  });
  socket.on('question_removed', function (m) {
    if (m && questions.delete(Number(m.id))) schedule();
  });
  socket.on('comment', function (c) {
    var q = c && questions.get(Number(c.question_id));
    if (q) { q.comments = (q.comments || 0) + 1; schedule(); }
  });
  socket.on('comment_removed', function (c) {
    var q = c && questions.get(Number(c.question_id));
    if (q) { q.comments = Math.max(0, (q.comments || 0) - 1); schedule(); }
  });
  socket.on('presence', function (m) {
    if (m && typeof m.online === 'number') { online = m.online; renderStats(null); }
  });
  socket.on('event', function (ev) { applyEvent(ev); schedule(); });
}
