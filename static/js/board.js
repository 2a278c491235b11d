/* Projector board: keeps the server-rendered board live over Socket.IO.
 *
 * Plain ES2019, no build step, no inline anything (strict CSP). Loaded in <head>
 * without defer so the remembered theme applies before the first paint; the rest
 * waits for DOMContentLoaded (by then the vendored Socket.IO client has run).
 * Reads its data and strings from the #page-data JSON block; every user text is set
 * with textContent. On every (re)connect it joins the event and rebuilds from the
 * join acknowledgement, so a board that lost the Wi-Fi resynchronises by itself.
 * Re-ranking moves the cards with a FLIP animation (measure, reorder, invert, play). */
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
    var PUBLIC = { visible: true, answered: true };
    var $ = function (id) { return document.getElementById(id); };

    var el = {
      board: $('board'), main: document.querySelector('.b-main'), head: document.querySelector('.b-head'),
      title: $('b-title'), closed: $('b-closed'),
      now: $('now'), nowBody: $('now-body'), nowMeta: $('now-meta'),
      top: document.querySelector('.b-top'), topLabel: document.querySelector('#top-label'),
      topTopic: $('top-topic'), list: $('b-list'), empty: $('b-empty'), more: $('b-more'),
      answered: $('b-answered'), aempty: $('b-aempty'),
      conn: $('b-conn'), announce: $('b-announce'),
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

    function renderStat(node, key, n) {
      if (!node) return;
      var parts = pattern(key, n).split('%(count)s');
      var b = h('b', 'b-stat-n', nf.format(n));
      var sig = key + ':' + n;
      if (node.getAttribute('data-sig') === sig) return;
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
    function clip(container) {
      var children = Array.prototype.slice.call(container.children);
      children.forEach(function (child) { child.classList.remove('is-clipped'); });
      if (narrow.matches) return 0;
      var limit = container.clientHeight + 1;
      var cut = children.findIndex(function (child) { return child.offsetTop + child.offsetHeight > limit; });
      if (cut < 0) return 0;
      children.slice(cut).forEach(function (child) { child.classList.add('is-clipped'); });
      return children.length - cut;
    }
    function fit() {
      fitNow();
      // Say how many more there are; the line takes room, so it is shown while fitting.
      el.more.hidden = el.board.classList.contains('now-long') || el.list.children.length === 0;
      var hidden = el.more.hidden ? 0 : clip(el.list);
      el.more.hidden = hidden === 0;
      setText(el.more, hidden ? plural('more', hidden) : '');
      clip(el.answered);
    }

    function allCards() {
      return Array.prototype.slice.call(el.board.querySelectorAll('.b-card, .b-acard'));
    }

    function render(animate) {
      var pub = [];
      questions.forEach(function (q) { if (PUBLIC[q.status]) pub.push(q); });
      pub.sort(byRank);
      var now = null;
      pub.forEach(function (q) { if (!now && q.highlighted) now = q; });
      var inTopic = pub.filter(function (q) { return !topic || q.topic === topic; });
      var ranked = inTopic.filter(function (q) { return q.status === 'visible' && q !== now; });
      var answered = inTopic.filter(function (q) { return q.status === 'answered' && q !== now; });

      var flip = animate && !reduceMotion.matches;
      var first = new Map();
      if (flip) {
        allCards().forEach(function (c) {
          if (!c.classList.contains('is-clipped') && c.offsetParent) first.set(c, c.getBoundingClientRect());
        });
      }

      renderNow(now);
      sync(el.list, ranked, buildCard, updateCard);
      sync(el.answered, answered, buildAnswered, updateAnswered);
      setText(el.empty, topic ? S.no_questions_topic : S.no_questions);
      el.empty.hidden = ranked.length > 0;
      el.aempty.hidden = answered.length > 0;
      setText(el.topTopic, topic && topicNames[topic] ? ' · ' + topicNames[topic] : '');
      renderStats(pub);
      fit();

      var cards = allCards();
      if (!flip) {
        cards.forEach(function (c) { c.classList.remove('is-new'); c.style.transform = ''; c.style.transition = ''; });
        return;
      }
      // Invert: every card that was on screen starts where it was and slides to its place.
      cards.forEach(function (c) { c.style.transition = 'none'; c.style.transform = ''; });
      var moved = [];
      cards.forEach(function (c) {
        var was = first.get(c);
        if (!was) {
          // Not on screen before (new, or moved up from beyond the fold): fade in.
          if (!c.classList.contains('is-clipped')) c.classList.add('is-new');
          return;
        }
        var r = c.getBoundingClientRect();
        var dx = was.left - r.left;
        var dy = was.top - r.top;
        if (Math.abs(dx) > 0.5 || Math.abs(dy) > 0.5) {
          c.classList.remove('is-new'); // a fade-in's own transform would fight the slide
          c.style.transform = 'translate(' + dx + 'px,' + dy + 'px)';
          moved.push(c);
        }
      });
      void el.board.offsetHeight; // commit the inverted positions before playing
      moved.forEach(function (c) {
        c.style.transition = 'transform 300ms cubic-bezier(0.2, 0.7, 0.2, 1)';
        c.style.transform = '';
      });
    }

    el.board.addEventListener('transitionend', function (e) {
      var t = e.target;
      if (t.classList && (t.classList.contains('b-card') || t.classList.contains('b-acard'))) t.style.transition = '';
    });
    el.board.addEventListener('animationend', function (e) {
      var t = e.target;
      if (t.classList) { t.classList.remove('is-new'); t.classList.remove('bump'); }
      if (t === el.nowBody) el.now.classList.remove('is-changed');
    });

    var pending = null;
    function schedule() {
      if (pending) return;
      pending = setTimeout(function () { pending = null; render(true); }, 40);
    }

    /* ---------- event (title, status, topics) ---------- */
    function applyEvent(ev) {
      if (!ev) return;
      if (ev.title && ev.title !== EVENT.title) {
        setText(el.title, ev.title);
        document.title = ev.title + titleSuffix;
      }
      el.closed.hidden = ev.status !== 'closed';
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
      resizeTimer = setTimeout(fit, 100);
    });

    /* ---------- connection ---------- */
    function setConn(state) {
      el.conn.hidden = false;
      el.conn.setAttribute('data-state', state);
      setText(el.conn, state === 'live' ? S.live : state === 'connecting' ? S.connecting : S.reconnecting);
    }

    render(false);

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
      schedule();
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
