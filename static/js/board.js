/* Projector board: keeps the server-rendered board live over Socket.IO.
 *
 * Plain ES2019, no build step, no inline anything (strict CSP). Loaded in <head>
 * without defer so the remembered theme applies before the first paint; the rest
 * waits for DOMContentLoaded (by then the deferred Socket.IO client has run).
 * Reads its data and strings from the #page-data JSON block; every user text is set
 * with textContent. On every (re)connect it joins the event and rebuilds from the
 * join acknowledgement, so a board that lost the Wi-Fi resynchronises by itself.
 *
 * Re-ranking moves the cards with a FLIP animation (measure, reorder, invert, play):
 * positions are read in one pass before and one pass after the change, and a card
 * moving up slides on a raised layer over those it overtakes. Votes change the counts
 * at once but re-rank at most every 1.6 s. Long questions are fitted by stepping their
 * size down, never cut. Zero-vote questions the list has no room for take turns in
 * "Just asked". The operator's controls and the cursor hide when idle; F toggles full
 * screen. */
(function () {
  'use strict';
  var root = document.documentElement;
  root.classList.add('js');

  /* ---------- theme: ?theme= > remembered > prefers-color-scheme (CSS) > dark (CSS) ---------- */
  var THEME_KEY = 'dq:board:theme';
  var THEMES = ['dark', 'light'];
  function readTheme() {
    try { return localStorage.getItem(THEME_KEY); } catch (e) { return null; }
  }
  function saveTheme(t) {
    try { localStorage.setItem(THEME_KEY, t); } catch (e) { /* private mode: not remembered */ }
  }
  var params = new URLSearchParams(window.location.search);
  var chosenTheme = params.get('theme');
  if (THEMES.indexOf(chosenTheme) >= 0) saveTheme(chosenTheme);
  else chosenTheme = THEMES.indexOf(readTheme()) >= 0 ? readTheme() : null;
  function applyTheme(t) {
    root.classList.remove('theme-dark', 'theme-light');
    if (t) root.classList.add('theme-' + t);
    if (document.body) document.body.classList.remove('theme-dark', 'theme-light');
  }
  applyTheme(chosenTheme);
  var lightQuery = window.matchMedia ? window.matchMedia('(prefers-color-scheme: light)') : null;
  function effectiveTheme() {
    return chosenTheme || (lightQuery && lightQuery.matches ? 'light' : 'dark');
  }

  document.addEventListener('DOMContentLoaded', start);

  function start() {
    var dataEl = document.getElementById('page-data');
    if (!dataEl) return;
    var DATA = JSON.parse(dataEl.textContent);
    var S = DATA.strings || {};
    var EVENT = DATA.event || {};
    var CODE = EVENT.code;
    var LOCALE = String(DATA.locale || root.lang || 'en').replace('_', '-');
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
    var $ = function (id) { return document.getElementById(id); };

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

    /* ---------- formatting ---------- */
    function intl(Ctor, opts) {
      try { return new Ctor(LOCALE, opts); } catch (e) { return new Ctor('en', opts); }
    }
    var nf = intl(Intl.NumberFormat);
    var pr = intl(Intl.PluralRules);
    function pattern(key, n) {
      return S[key + (pr.select(n) === 'one' ? '_one' : '_other')] || S[key + '_other'] || '%(count)s';
    }
    function plural(key, n) { return pattern(key, n).replace('%(count)s', nf.format(n)); }
    function ms(s) {
      if (!s) return 0;
      s = String(s);
      var v = Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(s) ? s : s + 'Z');
      return isNaN(v) ? 0 : v;
    }
    /* The "top" rule of discussion/queries.py: pinned first, most votes, oldest, lowest id. */
    function byRank(a, b) {
      return ((b.pinned ? 1 : 0) - (a.pinned ? 1 : 0)) || (b.votes - a.votes) ||
        (ms(a.created_at) - ms(b.created_at)) || (a.id - b.id);
    }

    /* ---------- DOM builders (the same markup as templates/board.html) ---------- */
    function h(tag, cls, text) {
      var node = document.createElement(tag);
      if (cls) node.className = cls;
      if (text != null) node.textContent = text;
      return node;
    }
    function setText(node, text) {
      text = text == null ? '' : String(text);
      if (node.textContent !== text) node.textContent = text;
    }
    function pill(q) {
      var p = h('span', 'b-pill');
      var arrow = h('span', 'b-pill-arrow', '▲');
      arrow.setAttribute('aria-hidden', 'true');
      p.append(arrow, h('span', 'b-pill-n', nf.format(q.votes)), h('span', 'sr-only', ' ' + (S.votes_label || '')));
      return p;
    }
    function metaParts(q) {
      var parts = [];
      if (q.pinned) parts.push(h('span', 'b-tag', S.pinned));
      if (q.topic && topicNames[q.topic]) parts.push(h('span', null, topicNames[q.topic]));
      if (q.seeded) parts.push(h('span', null, S.seeded));
      else if (q.author) parts.push(h('span', null, q.author));
      if (q.comments) parts.push(h('span', null, plural('comments', q.comments)));
      if (q.edited) parts.push(h('span', null, S.edited));
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
      var li = h('li', 'b-card');
      li.setAttribute('data-id', String(q.id));
      var main = h('div', 'b-card-main');
      main.append(h('p', 'b-body'), h('p', 'b-meta'));
      li.append(pill(q), main);
      return li;
    }
    function updateCard(li, q) {
      li.classList.toggle('is-pinned', !!q.pinned);
      var p = li.querySelector('.b-pill');
      if (!p.hasAttribute('data-votes')) p.setAttribute('data-votes', String(q.votes));
      setVotes(p, q.votes);
      setText(li.querySelector('.b-body'), q.body);
      var meta = li.querySelector('.b-meta');
      var key = metaKey(q);
      if (meta.getAttribute('data-key') !== key) {
        meta.replaceChildren.apply(meta, metaParts(q));
        meta.setAttribute('data-key', key);
      }
    }
    function buildAnswered(q) {
      var li = h('li', 'b-acard');
      li.setAttribute('data-id', String(q.id));
      li.append(h('p', 'b-abody'), h('p', 'b-ameta'));
      return li;
    }
    function updateAnswered(li, q) {
      setText(li.querySelector('.b-abody'), q.body);
      setText(li.querySelector('.b-ameta'), plural('votes', q.votes));
    }

    /* ---------- rendering ---------- */
    var reduceMotion = window.matchMedia ? window.matchMedia('(prefers-reduced-motion: reduce)') : { matches: false };
    var narrow = window.matchMedia ? window.matchMedia('(max-width: 900px), (max-aspect-ratio: 1/1)') : { matches: false };
    var MOVE_MS = 550;        // one re-ranking slide
    var RERANK_MS = 1600;     // votes re-rank at most this often; counts change in place meanwhile
    var ROTATE_MS = 8000;     // "just asked" shows its next questions after this long
    var RECENT_MAX = 6;       // how many of the newest zero-vote questions take turns there

    function sync(container, items, build, update) {
      var existing = new Map();
      Array.prototype.forEach.call(container.children, function (child) {
        existing.set(child.getAttribute('data-id'), child);
      });
      var wanted = items.map(function (q) {
        var key = String(q.id);
        var node = existing.get(key);
        if (node) existing.delete(key);
        else { node = build(q); node.classList.add('is-new'); }
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
        var parts = [pill(now)];
        if (now.status === 'answered') parts.push(h('span', 'b-tag', S.answered));
        var key = JSON.stringify([now.votes, now.status, metaKey(now)]);
        if (el.nowMeta.getAttribute('data-key') !== key) {
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
      var parts = pattern(key, n).split('%(count)s');
      var b = h('b', 'b-stat-n', nf.format(n));
      node.replaceChildren(document.createTextNode(parts[0] || ''), b, document.createTextNode(parts.slice(1).join('') || ''));
      node.setAttribute('data-sig', sig);
    }
    function renderStats(pub) {
      renderStat(el.stats.online, 'here', online);
      if (pub) {
        renderStat(el.stats.questions, 'questions', pub.length);
        renderStat(el.stats.votes, 'votes', pub.reduce(function (sum, q) { return sum + (q.votes || 0); }, 0));
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
    function fitNow() {
      el.board.classList.remove('now-long');
      el.nowBody.style.fontSize = '';
      if (el.now.hidden || narrow.matches) return;
      var u = unit();
      var gap = parseFloat(getComputedStyle(el.main).rowGap) || 0;
      var avail = el.main.clientHeight - el.head.offsetHeight - gap;
      largestFitting(4 * u, 5 * u, avail * 0.5);
      var roomForList = avail - el.now.offsetHeight - gap - el.topLabel.offsetHeight - 9.5 * u;
      if (roomForList < 0 && el.list.children.length) el.board.classList.add('now-long');
      if (el.now.offsetHeight > avail) largestFitting(2.5 * u, 4 * u, avail);
    }

    /* A long question is fitted, never cut: its size steps down until it holds in
     * `lines` lines of its full size; if even the smallest step needs more, the card
     * grows. Steps are in u (2.25u is 36 px at 1080p, the smallest question text), and
     * never under 20 px. Sizes are remembered per text, so a re-render measures nothing
     * that has not changed. */
    function fitText(node, steps, lines) {
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
    function fitBodies() {
      var cardSteps = [2.5, 2.375, 2.25];
      Array.prototype.forEach.call(el.list.querySelectorAll('.b-body'), function (b) {
        if (narrow.matches) { b.style.fontSize = ''; b.removeAttribute('data-fit'); } else fitText(b, cardSteps, 3);
      });
      Array.prototype.forEach.call(el.recent.querySelectorAll('.b-body'), function (b) {
        if (narrow.matches) { b.style.fontSize = ''; b.removeAttribute('data-fit'); } else fitText(b, [2.25], 2);
      });
      Array.prototype.forEach.call(el.answered.querySelectorAll('.b-abody'), function (b) {
        if (narrow.matches) { b.style.fontSize = ''; b.removeAttribute('data-fit'); } else fitText(b, [1.625, 1.5, 1.375, 1.25], 3);
      });
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
    function fitList() {
      // Say how many more there are; the line takes room, so it is shown while fitting.
      el.more.hidden = el.board.classList.contains('now-long') || el.list.children.length === 0;
      var hidden = el.more.hidden ? 0 : clip(el.list);
      if (hidden && !narrow.matches) {
        for (var i = 0; i < 3 && squeezeNext(); i++) hidden -= 1;
      }
      el.more.hidden = hidden === 0;
      setText(el.more, hidden ? plural('more', hidden) : '');
    }

    /* ---------- just asked ---------- */
    var recentOffset = 0;
    var recentSeen = new Set();   // ids that were ever candidates: a new one is shown at once
    var recentTimer = null;
    var recentCount = 0;          // how many candidates the last render had
    function buildRecent(q) {
      var li = h('li', 'b-rcard');
      li.setAttribute('data-id', String(q.id));
      li.append(h('p', 'b-body'), h('p', 'b-meta'));
      return li;
    }
    function updateRecent(li, q) {
      setText(li.querySelector('.b-body'), q.body);
      var meta = li.querySelector('.b-meta');
      var key = metaKey(q);
      if (meta.getAttribute('data-key') !== key) {
        meta.replaceChildren.apply(meta, metaParts(q));
        meta.setAttribute('data-key', key);
      }
    }
    function shownIds() {
      var ids = new Set();
      if (el.board.classList.contains('now-long')) return ids;
      Array.prototype.forEach.call(el.list.children, function (c) {
        if (!c.classList.contains('is-clipped')) ids.add(Number(c.getAttribute('data-id')));
      });
      return ids;
    }
    function recentCandidates(ranked) {
      var on = shownIds();
      return ranked.filter(function (q) { return !q.votes && !q.pinned && !on.has(q.id); })
        .sort(function (a, b) { return (ms(b.created_at) - ms(a.created_at)) || (b.id - a.id); })
        .slice(0, RECENT_MAX);
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
        var shown = Array.prototype.filter.call(el.recent.children, function (c) {
          return !c.classList.contains('is-clipped');
        }).length;
        // Only when some are waiting for their turn.
        if (shown && recentCount > shown) {
          recentOffset = (recentOffset + shown) % recentCount;
          render(true);
        }
        rotateRecent();
      }, ROTATE_MS);
    }

    function allCards() {
      return Array.prototype.slice.call(el.board.querySelectorAll('.b-card, .b-acard, .b-rcard'));
    }
    function onScreen(c) { return !c.classList.contains('is-clipped') && c.offsetParent !== null; }

    var current = { ranked: [] };
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
      current.ranked = ranked;

      // FLIP, first: where every card is now (one read pass, nothing written in between;
      // a card still sliding is measured where it is seen).
      var flip = animate && !reduceMotion.matches;
      var first = new Map();
      if (flip) allCards().forEach(function (c) { if (onScreen(c)) first.set(c, c.getBoundingClientRect()); });

      renderNow(now);
      sync(el.list, ranked, buildCard, updateCard);
      sync(el.answered, answered, buildAnswered, updateAnswered);
      var closed = EVENT.status === CLOSED;
      setText(el.empty, topic ? (closed ? S.no_questions_topic_closed : S.no_questions_topic)
        : (closed ? S.no_questions_closed : S.no_questions));
      el.empty.hidden = ranked.length > 0;
      el.aempty.hidden = answered.length > 0;
      setText(el.topTopic, topic && topicNames[topic] ? ' · ' + topicNames[topic] : '');
      renderStats(pub);

      // Layout: sizes first, then what fits. "Just asked" takes its room from the list,
      // and what it shows depends on what the list shows, so it is settled in two passes.
      fitNow();
      el.recentBox.hidden = true;
      fitBodies();
      fitList();
      if (renderRecent(ranked)) {
        fitBodies();
        fitList();
        renderRecent(ranked);
        fitBodies();
        fitList();
        clip(el.recent);
        // "N more on your phones" does not count what "just asked" shows.
        var inRecent = new Set();
        Array.prototype.forEach.call(el.recent.children, function (c) {
          if (!c.classList.contains('is-clipped')) inRecent.add(c.getAttribute('data-id'));
        });
        var more = Array.prototype.filter.call(el.list.children, function (c) {
          return c.classList.contains('is-clipped') && !inRecent.has(c.getAttribute('data-id'));
        }).length;
        if (!el.more.hidden) {
          setText(el.more, more ? plural('more', more) : '');
          el.more.hidden = more === 0;
        }
      }
      clip(el.answered);

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

    /* Counts change in place at once; the order settles at most every RERANK_MS, so a
     * busy room sees one calm move instead of a hop on every vote. Anything else (a new
     * question, a status, a highlight, an edit) re-renders at once. */
    function updateCounts() {
      Array.prototype.forEach.call(el.list.children, function (li) {
        var q = questions.get(Number(li.getAttribute('data-id')));
        if (q) setVotes(li.querySelector('.b-pill'), q.votes);
      });
      Array.prototype.forEach.call(el.answered.children, function (li) {
        var q = questions.get(Number(li.getAttribute('data-id')));
        if (q) updateAnswered(li, q);
      });
      var nowQ = shownNowId != null ? questions.get(shownNowId) : null;
      var nowPill = el.nowMeta.querySelector('.b-pill');
      if (nowQ && nowPill) setVotes(nowPill, nowQ.votes);
      var pub = [];
      questions.forEach(function (q) { if (PUBLIC[q.status]) pub.push(q); });
      renderStats(pub);
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
    function scheduleRank() {
      updateCounts();
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
            var o = h('option', null, t.name);
            o.value = t.slug;
            el.topicSelect.append(o);
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
      Object.keys(counts).forEach(function (k) {
        var q = questions.get(Number(k));
        if (q && typeof counts[k] === 'number') q.votes = counts[k];
      });
      scheduleRank();
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
})();
