/* Participant page: ask, upvote and comment live over Socket.IO. Plain ES2019, no build.
 * Everything comes from the #page-data JSON block; user text is set with textContent only.
 * Posts go through a localStorage outbox (per event) and are resent with the same client_id
 * until acknowledged, so nothing typed is lost on poor Wi-Fi. */
(() => {
  'use strict';
  const dataEl = document.getElementById('page-data');
  if (!dataEl) return;
  const DATA = JSON.parse(dataEl.textContent);
  const S = DATA.strings || {};
  const EVENT = DATA.event || {};
  const CODE = EVENT.code;
  const LOCALE = String(DATA.locale || document.documentElement.lang || 'en').replace('_', '-');
  const $ = (id) => document.getElementById(id);

  /* ---- formatting ---- */
  const intl = (Ctor, opts) => { try { return new Ctor(LOCALE, opts); } catch (e) { return new Ctor('en', opts); } };
  const nf = intl(Intl.NumberFormat);
  const pr = intl(Intl.PluralRules);
  const rtf = Intl.RelativeTimeFormat && intl(Intl.RelativeTimeFormat, { numeric: 'auto', style: 'short' });
  const fmt = (s, n) => String(s || '').replace(/%\((num|count)\)s/, nf.format(n));
  const plural = (key, n) => fmt(S[key + (pr.select(n) === 'one' ? '_one' : '_other')] || S[key + '_other'], n);
  const ms = (s) => {
    if (!s) return 0;
    s = String(s);
    const v = Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(s) ? s : s + 'Z');
    return isNaN(v) ? 0 : v;
  };
  const ago = (iso) => {
    const t = ms(iso);
    if (!t || !rtf) return '';
    const s = Math.round((t - Date.now()) / 1000), a = Math.abs(s);
    if (a < 45) return rtf.format(0, 'second');
    if (a < 2700) return rtf.format(Math.round(s / 60), 'minute');
    if (a < 79200) return rtf.format(Math.round(s / 3600), 'hour');
    return rtf.format(Math.round(s / 86400), 'day');
  };

  /* ---- storage (private mode or a full disk must not break the page) ---- */
  const store = {
    get(k, d) { try { const v = localStorage.getItem(k); return v === null ? d : JSON.parse(v); } catch (e) { return d; } },
    set(k, v) { try { localStorage.setItem(k, JSON.stringify(v)); } catch (e) { /* ignore */ } },
    del(k) { try { localStorage.removeItem(k); } catch (e) { /* ignore */ } }
  };
  const K = { outbox: 'dq:outbox:' + CODE, draft: 'dq:draft:' + CODE + ':', name: 'dq:name', consent: 'dq:consent' };

  /* ---- DOM helpers ---- */
  const h = (tagName, props, kids) => {
    const el = document.createElement(tagName);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of kids || []) if (c) el.append(c);
    return el;
  };
  const arrow = () => {
    const ns = 'http://www.w3.org/2000/svg', svg = document.createElementNS(ns, 'svg'), p = document.createElementNS(ns, 'path');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    p.setAttribute('d', 'M12 3 3 13h5.5v8h7v-8H21z');
    svg.append(p);
    return svg;
  };
  const tag = (text, cls) => h('span', { class: 'tag' + (cls ? ' ' + cls : ''), text });
  const say = (el, msg) => { el.textContent = msg || ''; };
  const csrf = () => { const m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ''; };
  const errMsg = (ack) => (ack && ack.error && ack.error.message) || S.send_failed;
  const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (x) => x.toString(16).padStart(2, '0')).join('');
  const isField = (el) => !!el && /^(TEXTAREA|INPUT|SELECT)$/.test(el.tagName);
  let topicNames = {};
  const setTopics = (list) => { topicNames = {}; for (const t of list || []) topicNames[t.slug] = t.name; };
  setTopics(EVENT.topics);

  /* ---- elements ---- */
  const list = $('q-list'), bar = $('new-bar'), empty = $('empty'), heading = $('questions-title');
  const form = $('ask-form'), askBody = $('ask-body'), askTopic = $('ask-topic'), askQuote = $('ask-quote');
  const askAuthor = $('ask-author'), askErr = $('ask-error'), askStatus = $('ask-status'), askCount = $('ask-count');
  const conn = $('conn'), announcer = $('announcer'), toAsk = $('to-ask'), dlg = $('consent');

  /* ---- state (question ids are kept as strings) ---- */
  const qs = new Map();
  const mine = new Set(), voted = new Set(), myComments = new Set(), seenComments = new Set();
  const incoming = new Set(); // arrivals held behind the "new questions" bar
  const cards = new Map(), waitCards = new Map(), inflight = new Set();
  let order = [], sort = 'top', topic = '';
  let socket = null, joined = false, everJoined = false, closed = EVENT.status === 'closed';
  let orderDirty = false, lastTouch = Date.now();
  let outbox = store.get(K.outbox, []);
  if (!Array.isArray(outbox)) outbox = [];

  const canSee = (q) => q.status !== 'hidden' && (q.status !== 'pending' || mine.has(String(q.id)));
  const listed = (q) => canSee(q) && (!topic || q.topic === topic);
  const idc = (a, b) => (+a.id - +b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const cmp = (a, b) => sort === 'new'
    ? (ms(b.created_at) - ms(a.created_at)) || idc(b, a)
    : ((b.pinned ? 1 : 0) - (a.pinned ? 1 : 0)) || (b.votes - a.votes) || (ms(a.created_at) - ms(b.created_at)) || idc(a, b);
  const ingest = (q, own) => {
    const id = String(q.id);
    if (own || q.mine) mine.add(id);
    if (q.voted) voted.add(id); // broadcasts carry voted:false; only acks teach us
    qs.set(id, Object.assign({}, qs.get(id), q));
    return id;
  };
  const saveOutbox = () => store.set(K.outbox, outbox);
  const dropItem = (item) => { outbox = outbox.filter((o) => o.client_id !== item.client_id); saveOutbox(); };

  /* ---- cards ---- */
  const metaParts = (q) => [
    q.topic && topicNames[q.topic] ? h('span', { text: topicNames[q.topic] }) : null,
    // The organisers' seeded questions carry their tag; "Anonymous" beside it would contradict it.
    q.author || !q.seeded ? h('span', { text: q.author || S.anonymous }) : null,
    q.created_at ? h('span', null, [h('time', { class: 'ago', datetime: q.created_at, text: ago(q.created_at) })]) : null,
    q.edited ? h('span', { text: S.edited }) : null
  ].filter(Boolean);

  function card(id) {
    let c = cards.get(id);
    if (!c) {
      const base = 'q-' + id;
      c = {
        el: h('li', { id: base }),
        tags: h('p', { class: 'tags' }),
        body: h('p', { class: 'q-body' }),
        meta: h('p', { class: 'q-meta' }),
        up: h('button', { type: 'button', class: 'upvote', 'aria-label': S.upvote, 'aria-pressed': 'false', 'aria-describedby': base + '-votes' }, [arrow()]),
        count: h('span', { class: 'count', 'aria-hidden': 'true' }),
        votesSr: h('span', { class: 'sr-only', id: base + '-votes' }),
        votedEl: h('span', { class: 'voted', 'aria-hidden': 'true', text: S.voted }),
        tog: h('button', { type: 'button', class: 'link-btn', 'aria-expanded': 'false', 'aria-controls': base + '-thread' }),
        del: h('button', { type: 'button', class: 'link-btn danger', text: S.delete }),
        err: h('p', { class: 'error card-error', role: 'alert' }),
        thread: h('div', { class: 'thread', id: base + '-thread', hidden: true }),
        comments: new Map()
      };
      c.el.append(
        h('div', { class: 'q-main' }, [c.tags, c.body, c.meta]),
        h('div', { class: 'q-vote' }, [c.up, c.count, c.votesSr, c.votedEl]),
        h('div', { class: 'q-actions' }, [c.tog, c.del]),
        c.err, c.thread);
      c.up.addEventListener('click', () => vote(id));
      c.tog.addEventListener('click', () => toggleThread(id));
      c.del.addEventListener('click', () => remove(id));
      cards.set(id, c);
    }
    updateCard(id);
    return c.el;
  }

  function updateCard(id) {
    const c = cards.get(id), q = qs.get(id);
    if (!c || !q) return;
    const isMine = mine.has(id), isVoted = voted.has(id);
    c.el.className = 'card q' + (q.highlighted ? ' is-now' : '') + (q.status === 'answered' ? ' is-answered' : '') + (isMine ? ' is-mine' : '');
    const t = [
      q.highlighted && tag(S.now_discussing, 'tag-now'),
      q.pinned && tag(S.pinned),
      q.status === 'answered' && tag('✓ ' + S.answered, 'tag-done'),
      q.status === 'pending' && tag(S.pending, 'tag-wait'),
      q.seeded && tag(S.seeded, 'tag-org'),
      isMine && tag(S.yours, 'tag-mine')
    ].filter(Boolean);
    c.tags.replaceChildren(...t);
    c.tags.hidden = !t.length;
    if (c.body.textContent !== q.body) c.body.textContent = q.body;
    c.meta.replaceChildren(...metaParts(q));
    c.up.setAttribute('aria-pressed', String(isVoted));
    c.up.disabled = closed || q.status === 'pending';
    c.count.textContent = nf.format(q.votes || 0);
    c.votesSr.textContent = plural('votes', q.votes || 0);
    c.votedEl.hidden = !isVoted;
    c.tog.textContent = fmt(S.comments_toggle, q.comments || 0);
    c.del.hidden = !isMine;
  }

  function waitingCard(item) {
    let el = waitCards.get(item.client_id);
    if (!el) {
      const p = item.payload;
      el = h('li', { class: 'card q is-mine is-waiting' }, [h('div', { class: 'q-main' }, [
        h('p', { class: 'tags' }, [tag(S.waiting, 'tag-wait'), tag(S.yours, 'tag-mine')]),
        h('p', { class: 'q-body', text: p.body }),
        h('p', { class: 'q-meta' }, [p.topic && topicNames[p.topic] ? h('span', { text: topicNames[p.topic] }) : null, h('span', { text: p.author || S.anonymous })]),
        h('p', { class: 'wait-hint muted', text: S.waiting_hint })])]);
      waitCards.set(item.client_id, el);
    }
    return el;
  }

  /* Lay out the list. resort=false keeps the reader's order (drops what vanished);
   * true recomputes the ranking. Nodes already in place are not touched. */
  function render(resort) {
    const ids = [];
    qs.forEach((q, id) => { if (listed(q) && !incoming.has(id)) ids.push(id); });
    const inOrder = new Set(order);
    if (resort || ids.some((id) => !inOrder.has(id))) {
      order = ids.sort((a, b) => cmp(qs.get(a), qs.get(b)));
      orderDirty = false;
    } else {
      const keep = new Set(ids);
      order = order.filter((id) => keep.has(id));
    }
    const waiting = outbox.filter((it) => it.kind === 'ask');
    const live = new Set(waiting.map((it) => it.client_id));
    waitCards.forEach((el, k) => { if (!live.has(k)) waitCards.delete(k); });
    const nodes = waiting.map(waitingCard).concat(order.map(card));
    const active = document.activeElement;
    nodes.forEach((node, i) => { if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null); });
    while (list.children.length > nodes.length) list.lastElementChild.remove();
    if (active && active !== document.activeElement) (document.contains(active) ? active : heading).focus({ preventScroll: true });
    empty.hidden = nodes.length > 0;
    empty.textContent = topic ? S.no_questions_topic : S.no_questions;
    updateBar();
    updateNow();
  }
  const showAll = () => { incoming.clear(); render(true); };

  function updateBar() {
    let n = 0;
    incoming.forEach((id) => { const q = qs.get(id); if (q && listed(q)) n++; });
    bar.hidden = !n;
    if (n) bar.textContent = plural('new_questions', n);
  }
  function updateNow() {
    let now = null;
    qs.forEach((q) => { if (q.highlighted && canSee(q)) now = q; });
    $('now').hidden = !now;
    if (now) { const a = $('now-link'); a.textContent = now.body; a.href = '#q-' + now.id; }
  }
  function applyEvent(ev) {
    if (!ev) return;
    Object.assign(EVENT, ev);
    if (ev.topics) setTopics(ev.topics);
    closed = EVENT.status === 'closed';
    form.hidden = closed;
    $('closed-note').hidden = !closed;
    document.querySelectorAll('.comment-form').forEach((f) => { f.hidden = closed; });
    if (closed) toAsk.hidden = true;
    cards.forEach((c, id) => updateCard(id));
  }

  /* ---- announcements: one polite region, at most one message every 15 s ---- */
  const annIds = new Set();
  let annTimer = null, annLast = 0;
  function announceArrival(id) {
    annIds.add(id);
    if (annTimer) return;
    annTimer = setTimeout(() => {
      annTimer = null;
      let n = 0;
      annIds.forEach((i) => { if (!mine.has(i) && qs.has(i)) n++; });
      annIds.clear();
      if (!n) return;
      annLast = Date.now();
      announcer.textContent = '';
      setTimeout(() => { announcer.textContent = plural('new_questions', n); }, 100);
    }, Math.max(3000, annLast + 15000 - Date.now()));
  }

  /* Connection status: a change is shown only once it has lasted 2 s (no flapping). */
  let connShown = null, connWant = null, connTimer = null;
  function setConn(state) {
    if (state === connWant) return;
    clearTimeout(connTimer);
    connWant = state;
    if (state === connShown) return;
    const apply = () => {
      connShown = state;
      conn.setAttribute('data-state', state);
      conn.textContent = S[state];
      $('presence').hidden = state !== 'connected'; // a count from before the drop would be stale
    };
    if (connShown === null || connShown === 'connecting') apply(); else connTimer = setTimeout(apply, 2000);
  }
  const lostState = () => navigator.onLine === false ? 'offline' : everJoined ? 'reconnecting' : 'connecting';

  /* ---- live messages ---- */
  const ownInFlight = (q) => outbox.some((it) => it.kind === 'ask' && inflight.has(it.client_id) &&
    String(it.payload.body).trim() === String(q.body).trim());
  function onQuestion(q) {
    if (!q || q.id == null) return;
    const id = String(q.id), prev = qs.get(id), wasSeen = prev && canSee(prev);
    ingest(q);
    const cur = qs.get(id);
    if (!canSee(cur)) {
      incoming.delete(id);
      render(false);
    } else if (wasSeen) {
      updateCard(id);
      orderDirty = true;
      if (listed(cur) !== (order.includes(id) || incoming.has(id))) render(false); else updateNow();
    } else if (mine.has(id)) {
      render(true);
    } else if (ownInFlight(cur)) {
      /* Our own post, broadcast just before its acknowledgement: posted() shows it, and
       * the "new questions" bar must not flash (and push the list down) meanwhile. */
    } else {
      announceArrival(id);
      if (sort === 'new' && list.getBoundingClientRect().top > -40) render(true);
      else { incoming.add(id); updateBar(); }
    }
  }
  function onVotes(counts) {
    for (const [id, n] of Object.entries(counts || {})) {
      const q = qs.get(id);
      if (q && typeof n === 'number') { q.votes = n; updateCard(id); orderDirty = true; }
    }
  }
  function forget(id) {
    id = String(id);
    qs.delete(id);
    incoming.delete(id);
    const c = cards.get(id);
    cards.delete(id);
    if (c) {
      const hadFocus = c.el.contains(document.activeElement);
      c.el.remove();
      if (hadFocus) heading.focus({ preventScroll: true });
    }
    render(false);
  }
  const presence = (m) => { if (m && typeof m.online === 'number') $('presence').textContent = plural('here', m.online); };

  /* The join ack replaces the local state: this is how a reconnect resynchronises. */
  function onJoin(err, ack) {
    if (err) { setTimeout(() => { if (socket.connected && !joined) join(); }, 3000); return; }
    if (!ack || !ack.ok) { say(conn, (ack && ack.error && ack.error.message) || S.join_failed); return; }
    joined = true;
    const first = !everJoined, known = new Set(qs.keys());
    everJoined = true;
    setConn('connected');
    presence(ack);
    qs.clear();
    voted.clear();
    for (const q of ack.questions || []) ingest(q);
    applyEvent(ack.event);
    cards.forEach((c, id) => {
      if (!qs.has(id)) { cards.delete(id); c.el.remove(); return; }
      if (c.loaded) { c.loaded = false; if (!c.thread.hidden) loadComments(id); }
    });
    incoming.forEach((id) => { if (!qs.has(id)) incoming.delete(id); });
    if (!first) {
      qs.forEach((q, id) => {
        if (!known.has(id) && !mine.has(id) && canSee(q)) { incoming.add(id); announceArrival(id); }
      });
    }
    orderDirty = true;
    render(first);
    flush();
  }
  const join = () => socket.timeout(10000).emit('join', { event: CODE }, onJoin);

  function connect() {
    if (typeof window.io !== 'function') { setConn('offline'); return; }
    socket = window.io();
    socket.on('connect', join);
    socket.on('disconnect', () => { joined = false; setConn(lostState()); });
    socket.on('connect_error', () => setConn(lostState()));
    socket.on('question', onQuestion);
    socket.on('votes', onVotes);
    socket.on('comment', (cm) => addComment(cm, false));
    socket.on('comment_removed', (m) => {
      const c = m && cards.get(String(m.question_id));
      if (c && c.comments.delete(String(m.id))) renderComments(String(m.question_id));
    });
    socket.on('question_removed', (m) => { if (m && m.id != null) forget(m.id); });
    socket.on('presence', presence);
    socket.on('event', applyEvent);
    window.addEventListener('offline', () => setConn('offline'));
    window.addEventListener('online', () => { if (!joined) setConn(lostState()); });
  }

  /* ---- posting through the outbox ---- */
  const transient = (ack) => /rate|limit|many|unavailable|internal|server|busy|join/i.test(String((ack && ack.error && ack.error.code) || ''));
  const flush = () => outbox.slice().forEach(send);
  function send(item) {
    if (!socket || !socket.connected || !joined || inflight.has(item.client_id)) return;
    inflight.add(item.client_id);
    socket.timeout(15000).emit(item.kind, item.payload, (err, ack) => {
      inflight.delete(item.client_id);
      if (err) return; // no answer: it stays in the outbox and goes again on the next connect
      const isAsk = item.kind === 'ask';
      if (ack && ack.ok) {
        dropItem(item);
        if (isAsk && ack.question) posted(ack.question);
        else if (!isAsk && ack.comment) { addComment(ack.comment, true); renderComments(item.qid); } else render(false);
        return;
      }
      item.tries = (item.tries || 0) + 1;
      if (!transient(ack) || item.tries >= 5) { dropItem(item); restoreDraft(item); } else saveOutbox();
      if (isAsk) { say(askErr, errMsg(ack)); render(false); } else {
        const c = cards.get(item.qid);
        renderComments(item.qid);
        if (c && c.cerr) say(c.cerr, errMsg(ack));
      }
    });
  }
  /* A refused post goes back into its box, unless the reader has typed something new. */
  function restoreDraft(item) {
    const body = item.payload.body;
    if (item.kind === 'ask') {
      if (!askBody.value.trim()) { askBody.value = body; store.set(K.draft + 'q', body); counter(); }
      return;
    }
    const key = K.draft + 'c:' + item.qid, c = cards.get(item.qid);
    if (c && c.ta) { if (!c.ta.value.trim()) c.ta.value = body; store.set(key, c.ta.value); } else if (!store.get(key, '')) store.set(key, body);
  }
  function posted(q) {
    const id = ingest(q, true);
    incoming.delete(id);
    annIds.delete(id);
    showAll();
    say(askErr, '');
    askStatus.replaceChildren(q.status === 'pending' ? S.sent_pending : S.sent + ' ');
    if (q.status !== 'pending') askStatus.append(h('a', { href: '#q-' + id, text: S.show_it }));
    const c = cards.get(id);
    if (c) { c.el.classList.remove('flash'); void c.el.offsetWidth; c.el.classList.add('flash'); }
  }
  /* Name and quote consent come from the ask form, for questions and comments alike. */
  function payload(base) {
    const a = askAuthor.value.trim();
    store.set(K.name, a);
    if (a) base.author = a;
    base.quote = askQuote.value || 'anonymous';
    return base;
  }
  function needsName(errEl) {
    if (askQuote.value !== 'named' || askAuthor.value.trim()) return false;
    say(errEl, S.name_required);
    if (!form.hidden) { askAuthor.setAttribute('aria-invalid', 'true'); askAuthor.focus(); }
    return true;
  }

  let pendingConsent = null;
  function withConsent(fn) {
    if (store.get(K.consent, false)) return fn();
    if (!dlg || typeof dlg.showModal !== 'function') {
      if (window.confirm(dlg ? dlg.textContent.replace(/\s+/g, ' ').trim() : '')) { store.set(K.consent, true); fn(); }
      return;
    }
    pendingConsent = fn;
    dlg.returnValue = '';
    dlg.showModal();
  }
  if (dlg) {
    dlg.addEventListener('close', () => {
      const fn = pendingConsent;
      pendingConsent = null;
      if (dlg.returnValue === 'agree') { store.set(K.consent, true); if (fn) fn(); }
    });
  }

  function submitAsk(e) {
    e.preventDefault();
    const body = askBody.value.trim();
    askStatus.textContent = '';
    say(askErr, '');
    if (!body) { say(askErr, S.empty_post); askBody.setAttribute('aria-invalid', 'true'); askBody.focus(); return; }
    if (needsName(askErr)) return;
    withConsent(() => {
      const cid = newId(), p = payload({ body, client_id: cid });
      if (askTopic.value) p.topic = askTopic.value;
      askBody.value = '';
      askBody.removeAttribute('aria-invalid');
      store.del(K.draft + 'q');
      counter();
      const item = { kind: 'ask', client_id: cid, payload: p };
      outbox.push(item);
      saveOutbox();
      render(false);
      if (socket && socket.connected && joined) send(item); else askStatus.textContent = S.saved_offline;
    });
  }

  /* ---- voting (optimistic; the ack has the last word) ---- */
  function setVote(id, on, n) {
    if (on) voted.add(id); else voted.delete(id);
    const q = qs.get(id);
    if (q && typeof n === 'number') q.votes = n;
    orderDirty = true;
    updateCard(id);
  }
  function vote(id) {
    const c = cards.get(id), q = qs.get(id);
    if (!c || !q || c.busy) return;
    say(c.err, '');
    if (!socket || !socket.connected || !joined) { say(c.err, S.offline_vote); return; }
    const up = !voted.has(id), before = q.votes || 0;
    c.busy = true;
    setVote(id, up, Math.max(0, before + (up ? 1 : -1)));
    socket.timeout(10000).emit('vote', { question_id: q.id, up }, (err, ack) => {
      c.busy = false;
      if (!err && ack && ack.ok) { setVote(id, !!ack.voted, ack.votes); return; }
      setVote(id, !up, before);
      say(c.err, err ? S.send_failed : errMsg(ack));
    });
  }

  /* ---- deleting one's own question ---- */
  function remove(id) {
    const c = cards.get(id);
    if (!c || !window.confirm(S.confirm_delete)) return;
    say(c.err, '');
    fetch('/api/v1/questions/' + encodeURIComponent(id), {
      method: 'DELETE', credentials: 'same-origin', headers: { 'X-CSRFToken': csrf(), Accept: 'application/json' }
    }).then((r) => {
      if (r.status === 204 || r.status === 200) return forget(id);
      return r.json().then((d) => say(c.err, errMsg(d)), () => say(c.err, S.delete_failed));
    }).catch(() => say(c.err, S.delete_failed));
  }

  /* ---- comments ---- */
  function toggleThread(id) {
    const c = cards.get(id), open = c.tog.getAttribute('aria-expanded') !== 'true';
    c.tog.setAttribute('aria-expanded', String(open));
    c.thread.hidden = !open;
    if (!open) return;
    buildThread(id);
    if (!c.loaded && !c.loading) loadComments(id);
  }
  function buildThread(id) {
    const c = cards.get(id);
    if (c.list) return;
    const tid = 'c-' + id, key = K.draft + 'c:' + id;
    c.note = h('p', { class: 'muted', text: S.loading_comments });
    c.list = h('ul', { class: 'comments' });
    c.ta = h('textarea', { id: tid, class: 'input', rows: '2', maxlength: '500', 'aria-describedby': tid + '-err' });
    c.ta.value = store.get(key, '');
    c.ta.addEventListener('input', () => { store.set(key, c.ta.value); c.ta.removeAttribute('aria-invalid'); });
    c.cerr = h('p', { class: 'error', id: tid + '-err', role: 'alert' });
    const f = h('form', { class: 'comment-form', novalidate: true, hidden: closed }, [
      h('label', { class: 'field-label small', for: tid, text: S.your_comment }), c.ta, c.cerr,
      h('button', { type: 'submit', class: 'btn', text: S.comment })]);
    f.addEventListener('submit', (e) => { e.preventDefault(); submitComment(id); });
    c.thread.append(c.note, c.list, f);
    renderComments(id);
  }
  function loadComments(id) {
    const c = cards.get(id);
    c.loading = true;
    c.failed = false;
    renderComments(id);
    fetch('/api/v1/questions/' + encodeURIComponent(id) + '/comments', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then((d) => {
        for (const cm of d.comments || []) {
          const cid = String(cm.id);
          seenComments.add(cid);
          if (cm.mine) myComments.add(cid);
          c.comments.set(cid, cm);
        }
        c.loaded = true;
        const q = qs.get(id);
        if (q) { q.comments = c.comments.size; updateCard(id); }
      })
      .catch(() => { c.failed = true; })
      .then(() => { c.loading = false; renderComments(id); });
  }
  /* A comment from a broadcast or an ack; counted once whichever comes first. */
  function addComment(cm, own) {
    if (!cm || cm.id == null) return;
    const cid = String(cm.id), qid = String(cm.question_id), fresh = !seenComments.has(cid);
    seenComments.add(cid);
    if (own) myComments.add(cid);
    const q = qs.get(qid), c = cards.get(qid);
    if (fresh && q) { q.comments = (q.comments || 0) + 1; updateCard(qid); }
    if (c) { c.comments.set(cid, Object.assign({}, c.comments.get(cid), cm)); renderComments(qid); }
  }
  function renderComments(id) {
    const c = cards.get(id);
    if (!c || !c.list) return;
    const items = Array.from(c.comments.values()).sort((a, b) => ms(a.created_at) - ms(b.created_at) || idc(a, b));
    const nodes = items.map((cm) => h('li', { class: 'comment' }, [
      h('p', { class: 'comment-body', text: cm.body }),
      h('p', { class: 'q-meta' }, [
        h('span', { text: cm.author || S.anonymous }),
        cm.created_at ? h('span', null, [h('time', { class: 'ago', datetime: cm.created_at, text: ago(cm.created_at) })]) : null,
        cm.mine || myComments.has(String(cm.id)) ? h('span', null, [tag(S.yours, 'tag-mine')]) : null])]));
    for (const it of outbox) {
      if (it.kind !== 'comment' || it.qid !== id) continue;
      nodes.push(h('li', { class: 'comment is-waiting' }, [
        h('p', { class: 'comment-body', text: it.payload.body }),
        h('p', { class: 'q-meta' }, [h('span', null, [tag(S.waiting, 'tag-wait')]), h('span', { text: S.waiting_hint })])]));
    }
    c.list.replaceChildren(...nodes);
    c.list.hidden = !nodes.length;
    const note = c.failed ? S.comments_failed : c.loading && !nodes.length ? S.loading_comments : c.loaded && !nodes.length ? S.no_comments : '';
    c.note.textContent = note;
    c.note.hidden = !note;
  }
  function submitComment(id) {
    const c = cards.get(id), q = qs.get(id), body = c.ta.value.trim();
    say(c.cerr, '');
    if (!body) { say(c.cerr, S.empty_post); c.ta.setAttribute('aria-invalid', 'true'); c.ta.focus(); return; }
    if (needsName(c.cerr)) return;
    withConsent(() => {
      const cid = newId();
      const item = { kind: 'comment', client_id: cid, qid: id, payload: payload({ question_id: q ? q.id : +id, body, client_id: cid }) };
      c.ta.value = '';
      store.del(K.draft + 'c:' + id);
      outbox.push(item);
      saveOutbox();
      renderComments(id);
      send(item); // waits in the outbox, marked "waiting", while offline
    });
  }

  function counter() {
    const n = askBody.value.length;
    askCount.textContent = n ? nf.format(n) + ' / ' + nf.format(500) : '';
  }

  /* ---- start ---- */
  for (const q of DATA.questions || []) ingest(q);
  list.replaceChildren();
  render(true);
  form.hidden = closed;
  $('toolbar').hidden = false;
  $('live-info').hidden = false;
  setConn('connecting');

  askBody.value = store.get(K.draft + 'q', '');
  askAuthor.value = store.get(K.name, '');
  counter();
  askBody.addEventListener('input', () => {
    store.set(K.draft + 'q', askBody.value);
    askBody.removeAttribute('aria-invalid');
    askStatus.textContent = '';
    counter();
  });
  askAuthor.addEventListener('input', () => askAuthor.removeAttribute('aria-invalid'));
  askAuthor.addEventListener('change', () => store.set(K.name, askAuthor.value.trim()));
  form.addEventListener('submit', submitAsk);

  const sTop = $('sort-top'), sNew = $('sort-new');
  const setSort = (s) => {
    sort = s;
    sTop.setAttribute('aria-pressed', String(s === 'top'));
    sNew.setAttribute('aria-pressed', String(s === 'new'));
    showAll();
  };
  sTop.addEventListener('click', () => setSort('top'));
  sNew.addEventListener('click', () => setSort('new'));
  $('filter-topic').addEventListener('change', (e) => { topic = e.target.value; showAll(); });
  bar.addEventListener('click', () => {
    showAll();
    heading.scrollIntoView({ block: 'start' });
    heading.focus({ preventScroll: true });
  });

  /* The floating "Write a question" shortcut shows while the ask box is scrolled away. */
  document.addEventListener('focusin', (e) => document.body.classList.toggle('typing', isField(e.target)));
  document.addEventListener('focusout', () => document.body.classList.remove('typing'));
  toAsk.addEventListener('click', () => { form.scrollIntoView({ block: 'start' }); askBody.focus({ preventScroll: true }); });
  if ('IntersectionObserver' in window) {
    new IntersectionObserver((entries) => {
      toAsk.hidden = closed || entries[0].isIntersecting || entries[0].boundingClientRect.top > 0;
    }).observe(form);
  }

  const d = $('event-date');
  if (d) {
    const iso = d.getAttribute('datetime'), timed = iso.indexOf('T') > 0, t = timed ? ms(iso) : Date.parse(iso);
    if (t) d.textContent = intl(Intl.DateTimeFormat, timed ? { dateStyle: 'long', timeStyle: 'short' } : { dateStyle: 'long', timeZone: 'UTC' }).format(t);
  }

  /* Counts change in place; the list re-sorts only after a pause in reading (or on request). */
  for (const ev of ['scroll', 'pointerdown', 'keydown', 'touchstart']) {
    window.addEventListener(ev, () => { lastTouch = Date.now(); }, { passive: true });
  }
  setInterval(() => {
    if (orderDirty && (document.hidden || (!isField(document.activeElement) && Date.now() - lastTouch > 10000))) render(true);
  }, 2500);
  setInterval(() => {
    document.querySelectorAll('time.ago').forEach((el) => { el.textContent = ago(el.getAttribute('datetime')); });
    if (joined && outbox.length) flush();
  }, 30000);

  connect();
})();
