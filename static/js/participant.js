/* Participant page: ask, upvote and comment live over Socket.IO. An ES module, no build.
 *
 * The server renders the page in its final layout (the compact ask box, the toolbar, every
 * card); this script adopts those nodes rather than rebuilding them, so nothing moves when
 * it starts. Everything else comes from the #page-data JSON block; user text is set with
 * textContent only.
 *
 * Questions, comments and votes go through a localStorage outbox (per event) and are sent
 * until acknowledged: over the socket once it has joined, over the JSON API before that
 * (a slow network can take seconds to open the socket), and again with the same client_id
 * after a drop, so nothing is lost on poor Wi-Fi and nothing is stored twice. */
import { $, api, errorCodes, fill, formats, h, ms, pageData, retryLater, store as rawStore } from './lib.js';

const DATA = pageData();
const S = DATA.strings || {};
const EVENT = DATA.event || {};
const CODE = EVENT.code;
const { nf, fmt, plural, ago, date } = formats(DATA.locale, S);
const AUTHOR_MAX = DATA.author_max || 60;
/* Error codes come from the server's rules table (discussion/rules/enums.py). */
const RULES = DATA.rules || {};
const ERR = errorCodes(RULES, 'participant.js');
const RETRY_LATER = retryLater(RULES);
const enc = encodeURIComponent;

/* ---- storage: per event; silent after "forget me" so nothing is written back ---- */
let forgotten = false;
document.addEventListener('dq:forgotten', () => { forgotten = true; });
const store = {
  get: rawStore.get,
  set(k, v) { if (!forgotten) rawStore.set(k, v); },
  del: rawStore.del
};
const K = {
  outbox: 'dq:outbox:' + CODE,
  draft: 'dq:draft:' + CODE + ':',
  name: 'dq:name:' + CODE,
  consent: 'dq:consent:' + CODE,
  commentAs: 'dq:commentas:' + CODE,
  notices: 'dq:notices:' + CODE
};

/* ---- small helpers ---- */
const tag = (text, cls) => h('span', { class: 'tag' + (cls ? ' ' + cls : ''), text });
const say = (el, msg) => { if (el) el.textContent = msg || ''; };
const errMsg = (ack) => (ack && ack.error && ack.error.message) || S.send_failed;
const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (x) => x.toString(16).padStart(2, '0')).join('');
const isField = (el) => !!el && /^(TEXTAREA|INPUT|SELECT)$/.test(el.tagName);
const short = (s) => { s = String(s || '').replace(/\s+/g, ' ').trim(); return s.length > 90 ? s.slice(0, 88) + '…' : s; };
let topicNames = {};
const setTopics = (list) => { topicNames = {}; for (const t of list || []) topicNames[t.slug] = t.name; };
setTopics(EVENT.topics);

/* ---- elements ---- */
const list = $('q-list'), doneList = $('q-answered'), doneBox = $('answered'), doneSummary = $('answered-summary');
const bar = $('new-bar'), empty = $('empty'), heading = $('questions-title');
const form = $('ask-form'), askBody = $('ask-body'), askTopic = $('ask-topic'), askQuote = $('ask-quote');
const askAuthor = $('ask-author'), askErr = $('ask-error'), authorErr = $('ask-author-error');
const askStatus = $('ask-status'), askCount = $('ask-count');
const conn = $('conn'), announcer = $('announcer'), toAsk = $('to-ask'), dlg = $('consent');
const noticeBox = $('notices'), filterSel = $('filter-topic');

/* ---- state (question ids are kept as strings) ---- */
const qs = new Map();
const mine = new Set(), myBodies = new Map();
const voted = new Set(); // what the reader sees: the server's state with queued votes applied
const serverVoted = new Set(); // what the server last said
const myComments = new Set(), seenComments = new Set();
const incoming = new Map(); // id -> arrival time: held behind the "new questions" notice
const fresh = new Map(); // id -> {at, seen}: brought into view, marked "new", first in Top
const cards = new Map(), waitCards = new Map(), inflight = new Set();
let openOrder = [], doneOrder = [], sort = 'top', topic = '';
let socket = null, joined = false, everJoined = false, closed = EVENT.status === 'closed';
let orderDirty = false, lastTouch = Date.now();
let outbox = store.get(K.outbox, []);
if (!Array.isArray(outbox)) outbox = [];
let notices = store.get(K.notices, []);
if (!Array.isArray(notices)) notices = [];

const canSee = (q) => q.status !== 'hidden' && (q.status !== 'pending' || mine.has(String(q.id)));
const listed = (q) => canSee(q) && (!topic || q.topic === topic);
const idc = (a, b) => (+a.id - +b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const cmp = (a, b) => sort === 'new'
  ? (ms(b.created_at) - ms(a.created_at)) || idc(b, a)
  : ((b.pinned ? 1 : 0) - (a.pinned ? 1 : 0)) || (b.votes - a.votes) || (ms(a.created_at) - ms(b.created_at)) || idc(a, b);
const ingest = (q, own) => {
  const id = String(q.id);
  if (own || q.mine) mine.add(id);
  if (q.voted) { serverVoted.add(id); voted.add(id); } // broadcasts carry voted:false; only acks teach us
  qs.set(id, Object.assign({}, qs.get(id), q));
  if (mine.has(id)) myBodies.set(id, q.body);
  return id;
};
const shownVotes = (id) => {
  const q = qs.get(id);
  return Math.max(0, ((q && q.votes) || 0) + (voted.has(id) ? 1 : 0) - (serverVoted.has(id) ? 1 : 0));
};
const saveOutbox = () => store.set(K.outbox, outbox);
const dropItem = (item) => { outbox = outbox.filter((o) => o.client_id !== item.client_id); saveOutbox(); };
const queuedVote = (id) => outbox.find((o) => o.kind === 'vote' && o.qid === id && !inflight.has(o.client_id));

/* ---- cards ---- */
const metaParts = (q) => [
  q.topic && topicNames[q.topic] ? h('span', { text: topicNames[q.topic] }) : null,
  // The organisers' seeded questions carry their tag; "Anonymous" beside it would contradict it.
  q.author || !q.seeded ? h('span', { text: q.author || S.anonymous }) : null,
  q.created_at ? h('span', null, [h('time', { class: 'ago', datetime: q.created_at, text: ago(q.created_at) })]) : null,
  q.edited ? h('span', { text: S.edited }) : null
].filter(Boolean);
const metaKey = (q) => [q.topic && topicNames[q.topic], q.author, q.seeded, q.created_at, q.edited].join('|');
const tagKey = (q, id) => [q.highlighted, q.pinned, q.status, q.seeded, mine.has(id), fresh.has(id) && sort === 'top'].join('|');

function card(id) {
  let c = cards.get(id);
  if (!c) {
    const base = 'q-' + id, q = qs.get(id);
    const old = document.getElementById(base);
    if (old && old.tagName === 'LI' && old.querySelector('.upvote')) {
      // Rendered by the server from the same data: take it over as it is.
      const one = (sel) => old.querySelector(sel);
      c = {
        el: old, tags: one('.tags'), body: one('.q-body'), meta: one('.q-meta'), up: one('.upvote'),
        count: one('.count'), votesSr: one('#' + base + '-votes'), votedEl: one('.voted'),
        tog: one('.q-toggle'), actions: one('.q-actions'), del: one('.q-del'),
        tagKey: q ? tagKey(q, id) : '', metaKey: q ? metaKey(q) : ''
      };
    } else {
      c = {
        el: h('li', { id: base }),
        tags: h('p', { class: 'tags' }),
        body: h('p', { class: 'q-body' }),
        meta: h('p', { class: 'q-meta' }),
        up: h('button', { type: 'button', class: 'upvote', 'aria-label': S.upvote, 'aria-pressed': 'false', 'aria-describedby': base + '-votes' }),
        count: h('span', { class: 'count', 'aria-hidden': 'true' }),
        votesSr: h('span', { class: 'sr-only', id: base + '-votes' }),
        votedEl: h('span', { class: 'voted', 'aria-hidden': 'true', text: S.voted }),
        tog: h('button', { type: 'button', class: 'link-btn q-toggle', 'aria-expanded': 'false' }),
        del: null
      };
      c.actions = h('div', { class: 'q-actions' }, [c.tog]);
      c.el.append(
        h('div', { class: 'q-main' }, [c.tags, c.body, c.meta]),
        h('div', { class: 'q-vote' }, [c.up, c.count, c.votesSr, c.votedEl]),
        c.actions);
    }
    c.comments = new Map();
    c.up.addEventListener('click', () => vote(id));
    c.tog.addEventListener('click', () => toggleThread(id));
    if (c.del) c.del.addEventListener('click', () => remove(id));
    cards.set(id, c);
  }
  updateCard(id);
  return c.el;
}
/* The error line and the status line of a card, made when first needed. */
function cardLine(c, which) {
  if (!c[which]) {
    c[which] = which === 'err' ? h('p', { class: 'error card-error', role: 'alert' }) : h('p', { class: 'card-note', role: 'status' });
    c.actions.after(c[which]);
  }
  return c[which];
}

function updateCard(id) {
  const c = cards.get(id), q = qs.get(id);
  if (!c || !q) return;
  const isMine = mine.has(id), isVoted = voted.has(id), isFresh = fresh.has(id) && sort === 'top';
  const cls = 'card q' + (q.highlighted ? ' is-now' : '') + (q.status === 'answered' ? ' is-answered' : '') +
    (isMine ? ' is-mine' : '') + (isFresh ? ' is-fresh' : '');
  if (c.el.className !== cls) c.el.className = cls;
  const tk = tagKey(q, id);
  if (tk !== c.tagKey) {
    const t = [
      isFresh && tag(S.new_tag, 'tag-new'),
      q.highlighted && tag(S.now_discussing, 'tag-now'),
      q.pinned && tag(S.pinned),
      q.status === 'answered' && tag('✓ ' + S.answered, 'tag-done'),
      q.status === 'pending' && tag(S.pending, 'tag-wait'),
      q.seeded && tag(S.seeded, 'tag-org'),
      isMine && tag(S.yours, 'tag-mine')
    ].filter(Boolean);
    c.tags.replaceChildren(...t);
    c.tags.hidden = !t.length;
    c.tagKey = tk;
  }
  if (c.body.textContent !== q.body) c.body.textContent = q.body;
  const mk = metaKey(q);
  if (mk !== c.metaKey) { c.meta.replaceChildren(...metaParts(q)); c.metaKey = mk; }
  // Writes only what changed: a join updates every card, and each write costs a restyle.
  if (c.up.getAttribute('aria-pressed') !== String(isVoted)) c.up.setAttribute('aria-pressed', String(isVoted));
  const off = closed || q.status === 'pending';
  if (c.up.disabled !== off) c.up.disabled = off;
  const n = shownVotes(id), count = nf.format(n), sr = plural('votes', n);
  if (c.count.textContent !== count) c.count.textContent = count;
  if (c.votesSr.textContent !== sr) c.votesSr.textContent = sr;
  if (c.votedEl.hidden === isVoted) c.votedEl.hidden = !isVoted;
  const toggle = fmt(S.comments_toggle, q.comments || 0);
  if (c.tog.textContent !== toggle) c.tog.textContent = toggle;
  if (isMine && !c.del) {
    c.del = h('button', { type: 'button', class: 'link-btn danger q-del', text: S.delete });
    c.del.addEventListener('click', () => remove(id));
    c.actions.append(c.del);
  }
  if (c.del && c.del.hidden === isMine) c.del.hidden = !isMine;
  if (simRows.has(id)) updateSimRow(id);
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

/* A new order for one group. resort=false keeps the reader's order: what vanished goes,
 * what is new slides into its place without moving the others. */
function arrange(prev, ids, resort) {
  const byRank = (a, b) => cmp(qs.get(a), qs.get(b));
  if (resort) return ids.slice().sort(byRank);
  const keep = new Set(ids), out = prev.filter((id) => keep.has(id)), have = new Set(out);
  for (const id of ids.filter((i) => !have.has(i)).sort(byRank)) {
    const at = out.findIndex((o) => byRank(id, o) < 0);
    if (at < 0) out.push(id); else out.splice(at, 0, id);
  }
  return out;
}
function place(el, nodes) {
  nodes.forEach((node, i) => { if (el.children[i] !== node) el.insertBefore(node, el.children[i] || null); });
  while (el.children.length > nodes.length) el.lastElementChild.remove();
}

/* Lay out the lists: waiting posts, then (in Top) the new arrivals brought into view, then
 * the ranking; answered questions in their own, folded group below. */
function render(resort) {
  if (resort) {
    fresh.forEach((f, id) => { if (f.seen) fresh.delete(id); });
    orderDirty = false;
  }
  const open = [], done = [];
  qs.forEach((q, id) => { if (listed(q) && !incoming.has(id)) (q.status === 'answered' ? done : open).push(id); });
  const top = sort === 'top' ? open.filter((id) => fresh.has(id)).sort((a, b) => fresh.get(b).at - fresh.get(a).at) : [];
  const topSet = new Set(top);
  openOrder = arrange(openOrder.filter((id) => !topSet.has(id)), open.filter((id) => !topSet.has(id)), resort);
  doneOrder = arrange(doneOrder, done, resort);
  const waiting = outbox.filter((it) => it.kind === 'ask');
  const live = new Set(waiting.map((it) => it.client_id));
  waitCards.forEach((el, k) => { if (!live.has(k)) waitCards.delete(k); });
  const active = document.activeElement;
  place(list, waiting.map(waitingCard).concat(top.map(card), openOrder.map(card)));
  place(doneList, doneOrder.map(card));
  if (active && active !== document.activeElement) (document.contains(active) ? active : heading).focus({ preventScroll: true });
  doneBox.hidden = !done.length;
  doneSummary.textContent = fmt(S.answered_group, done.length);
  const shown = waiting.length + open.length;
  empty.hidden = shown > 0;
  empty.textContent = topic ? S.no_questions_topic : done.length ? S.no_open_questions : S.no_questions;
  cards.forEach((c, id) => { if (fresh.has(id)) watchFresh(c.el, id); });
  updateBar();
  updateNow();
}
const listedCount = () => list.children.length;

/* A question brought into view stays first, marked "new", until the reader has had it on
 * screen for a moment; the next quiet re-sort then gives it its place in the ranking. */
const freshTimers = new Map();
const seenObserver = 'IntersectionObserver' in window ? new IntersectionObserver((entries) => {
  for (const e of entries) {
    const id = e.target.id.slice(2), f = fresh.get(id);
    if (!f) { seenObserver.unobserve(e.target); continue; }
    clearTimeout(freshTimers.get(id));
    if (e.isIntersecting) freshTimers.set(id, setTimeout(() => { f.seen = true; seenObserver.unobserve(e.target); }, 1500));
  }
}, { threshold: 0.6 }) : null;
const watchFresh = (el, id) => { if (seenObserver && !fresh.get(id).seen) seenObserver.observe(el); };

function updateBar() {
  let n = 0;
  incoming.forEach((at, id) => { const q = qs.get(id); if (q && listed(q)) n++; });
  bar.hidden = !n;
  if (n) bar.textContent = plural('new_questions', n);
}
/* The notice's tap: the arrivals go first in the list, marked, and the list scrolls to them. */
function bringIncoming() {
  const ids = [...incoming.keys()];
  ids.forEach((id) => fresh.set(id, { at: incoming.get(id), seen: false }));
  incoming.clear();
  if (sort === 'top') render(false); else render(true);
  const want = new Set(ids.map((id) => 'q-' + id));
  const first = [...list.children].find((el) => want.has(el.id)) || [...doneList.children].find((el) => want.has(el.id));
  (first || heading).scrollIntoView({ block: 'start' });
  if (first) { first.tabIndex = -1; first.focus({ preventScroll: true }); } else heading.focus({ preventScroll: true });
}

/* Scroll to a question and show where it is (the "Show it" buttons, the banner). */
function reveal(id) {
  id = String(id);
  const q = qs.get(id);
  if (!q || !canSee(q)) return false;
  if (incoming.has(id)) { fresh.set(id, { at: incoming.get(id), seen: false }); incoming.delete(id); }
  if (topic && q.topic !== topic) { topic = ''; filterSel.value = ''; }
  render(false);
  if (q.status === 'answered') doneBox.open = true;
  const c = cards.get(id);
  if (!c || !c.el.isConnected) return false;
  c.el.tabIndex = -1;
  c.el.scrollIntoView({ block: 'center' });
  c.el.focus({ preventScroll: true });
  c.el.classList.remove('flash');
  void c.el.offsetWidth;
  c.el.classList.add('flash');
  setTimeout(() => c.el.classList.remove('flash'), 2100);
  return true;
}

const nowBox = $('now'), nowLink = $('now-link'), nowBody = $('now-body'), nowMore = $('now-more');
let nowId = null;
function updateNow() {
  let now = null;
  qs.forEach((q) => { if (q.highlighted && canSee(q)) now = q; });
  nowBox.hidden = !now;
  nowId = now ? String(now.id) : null;
  if (!now) return;
  if (nowLink.textContent !== now.body) {
    nowLink.textContent = now.body;
    nowBody.classList.remove('is-open');
    nowMore.setAttribute('aria-expanded', 'false');
  }
  nowLink.href = '#q-' + now.id;
  clampNow();
}
/* "Read more" only where the clamped text is cut; its row is always there, so showing it
 * moves nothing. */
function clampNow() {
  if (nowBox.hidden) return;
  const open = nowBody.classList.contains('is-open');
  const cut = open || nowBody.scrollHeight > nowBody.clientHeight + 2;
  nowMore.classList.toggle('is-unneeded', !cut);
  nowMore.textContent = open ? S.read_less : S.read_more;
}

function applyEvent(ev) {
  if (!ev) return;
  Object.assign(EVENT, ev);
  const was = closed, names = JSON.stringify(topicNames);
  if (ev.topics) setTopics(ev.topics);
  closed = EVENT.status === 'closed';
  if (was === closed && names === JSON.stringify(topicNames)) return;
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
  scheduleWaiting();
  if (state === connShown) return;
  const apply = () => {
    connShown = state;
    conn.setAttribute('data-state', state);
    conn.textContent = S[state];
    $('presence').hidden = state !== 'connected'; // a count from before the drop would be stale
  };
  if (connShown === null || connShown === 'connecting') apply(); else connTimer = setTimeout(apply, 2000);
}
/* "Offline" only when the phone has no network; a socket still opening is "connecting". */
const lostState = () => navigator.onLine === false ? 'offline' : everJoined ? 'reconnecting' : 'connecting';

/* ---- live messages ---- */
const ownInFlight = (q) => outbox.some((it) => it.kind === 'ask' && inflight.has(it.client_id) &&
  String(it.payload.body).trim() === String(q.body).trim());
const groupOf = (id) => openOrder.includes(id) || fresh.has(id) ? 'open' : doneOrder.includes(id) ? 'done' : incoming.has(id) ? 'held' : null;
function onQuestion(q) {
  if (!q || q.id == null) return;
  const id = String(q.id), prev = qs.get(id), wasSeen = prev && canSee(prev);
  ingest(q);
  const cur = qs.get(id);
  if (!canSee(cur)) {
    incoming.delete(id);
    fresh.delete(id);
    render(false);
  } else if (wasSeen) {
    updateCard(id);
    orderDirty = true;
    const want = !listed(cur) ? null : cur.status === 'answered' ? 'done' : 'open', is = groupOf(id);
    if (is !== 'held' && want !== is) render(false); else updateNow();
  } else if (mine.has(id)) {
    fresh.set(id, { at: Date.now(), seen: false });
    render(false);
  } else if (ownInFlight(cur)) {
    /* Our own post, broadcast just before its acknowledgement: posted() shows it, and
     * the "new questions" notice must not flash meanwhile. */
  } else {
    announceArrival(id);
    if (!listedCount()) { fresh.set(id, { at: Date.now(), seen: false }); render(false); } else { incoming.set(id, Date.now()); updateBar(); }
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
  if (simRows.has(id)) showSimilar(simIds.filter((i) => i !== id).map((i) => qs.get(i)));
  incoming.delete(id);
  fresh.delete(id);
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
  const known = new Set(qs.keys());
  everJoined = true;
  setConn('connected');
  presence(ack);
  if (ack.full === false) {
    // Only what changed since our version (docs/realtime.md, Versions): drop the
    // removed, replace the changed by id; everything else is as we hold it.
    for (const id of ack.removed || []) forget(id);
    for (const q of ack.questions || []) {
      const id = String(q.id);
      if (q.voted) { serverVoted.add(id); voted.add(id); } else { serverVoted.delete(id); voted.delete(id); }
      ingest(q);
    }
  } else {
    qs.clear();
    voted.clear();
    serverVoted.clear();
    for (const q of ack.questions || []) ingest(q);
  }
  seen(ack.version);
  for (const it of outbox) if (it.kind === 'vote') { if (it.payload.up) voted.add(it.qid); else voted.delete(it.qid); }
  applyEvent(ack.event);
  cards.forEach((c, id) => {
    if (!qs.has(id)) { cards.delete(id); c.el.remove(); return; }
    if (c.loaded) { c.loaded = false; if (c.thread && !c.thread.hidden) loadComments(id); }
  });
  incoming.forEach((at, id) => { if (!qs.has(id)) incoming.delete(id); });
  // What was asked since the page was made (or while away) waits behind the notice.
  qs.forEach((q, id) => {
    if (!known.has(id) && !mine.has(id) && canSee(q) && listedCount()) { incoming.set(id, Date.now()); announceArrival(id); }
  });
  orderDirty = true;
  render(false);
  flush();
}
// The event's version we hold: a reconnect asks only for what changed since.
let version = null;
const seen = (v) => { if (typeof v === 'number' && (version === null || v > version)) version = v; };
const versioned = (fn) => (payload, meta) => { fn(payload); seen(meta && meta.version); };
const join = () => socket.timeout(10000).emit(
  'join', version === null ? { event: CODE } : { event: CODE, since: version }, onJoin);

function connect() {
  if (typeof window.io !== 'function') { setConn(lostState()); return; }
  socket = window.io();
  socket.on('connect', join);
  socket.on('disconnect', () => { joined = false; setConn(lostState()); });
  socket.on('connect_error', () => setConn(lostState()));
  socket.on('question', versioned(onQuestion));
  socket.on('votes', versioned(onVotes));
  socket.on('comment', versioned((cm) => addComment(cm, false)));
  socket.on('comment_removed', versioned((m) => {
    const c = m && cards.get(String(m.question_id));
    if (c && c.comments.delete(String(m.id))) renderComments(String(m.question_id));
  }));
  socket.on('question_removed', versioned((m) => { if (m && m.id != null) forget(m.id); }));
  socket.on('presence', presence);
  socket.on('event', versioned(applyEvent));
  socket.on('notice', onNotice);
}
window.addEventListener('offline', () => setConn('offline'));
window.addEventListener('online', () => { if (!joined) setConn(lostState()); flush(); });

/* ---- the outbox: over the socket once joined, over HTTP before that ---- */
const transient = (ack) => (ack && (ack.status === 429 || ack.status >= 500)) ||
  RETRY_LATER.has(ack && ack.error && ack.error.code);
const flush = () => outbox.slice().forEach(send);
function send(item) {
  if (inflight.has(item.client_id)) return;
  if (socket && socket.connected && joined) sendSocket(item);
  else if (navigator.onLine !== false && Date.now() - (item.httpAt || 0) > 4000) sendHttp(item);
  scheduleWaiting();
}
function sendSocket(item) {
  inflight.add(item.client_id);
  socket.timeout(15000).emit(item.kind, item.payload, (err, ack) => {
    inflight.delete(item.client_id);
    if (err) { scheduleWaiting(); return; } // no answer: it stays and goes again on the next connect
    settle(item, ack || {});
  });
}
async function sendHttp(item) {
  inflight.add(item.client_id);
  item.httpAt = Date.now();
  const p = item.payload;
  let r, shape;
  if (item.kind === 'ask') {
    r = await api('POST', '/api/v1/events/' + enc(CODE) + '/questions', p);
    shape = (d) => ({ ok: true, question: d });
  } else if (item.kind === 'comment') {
    const body = Object.assign({}, p);
    delete body.question_id;
    r = await api('POST', '/api/v1/questions/' + enc(item.qid) + '/comments', body);
    shape = (d) => ({ ok: true, comment: d });
  } else {
    r = await api(p.up ? 'PUT' : 'DELETE', '/api/v1/questions/' + enc(item.qid) + '/vote');
    shape = (d) => Object.assign({ ok: true }, d);
  }
  inflight.delete(item.client_id);
  if (r.status === 0) { scheduleWaiting(); return; } // no network after all: it waits
  settle(item, r.ok ? shape(r.data) : { ok: false, error: r.error, status: r.status });
  if (!r.ok && transient(r)) return;
  if (socket && socket.connected && joined) flush();
}
function settle(item, ack) {
  const kind = item.kind;
  if (!outbox.some((o) => o.client_id === item.client_id)) return; // the other transport was first
  if (ack.ok) {
    dropItem(item);
    if (kind === 'ask' && ack.question) posted(ack.question);
    else if (kind === 'comment' && ack.comment) { addComment(ack.comment, true); renderComments(item.qid); } else if (kind === 'vote') voteSettled(item.qid, ack); else render(false);
    scheduleWaiting();
    return;
  }
  item.tries = (item.tries || 0) + 1;
  const final = !transient(ack) || item.tries >= 5;
  if (final) { dropItem(item); if (kind === 'vote') voteSettled(item.qid, null); else restoreDraft(item); } else saveOutbox();
  if (kind === 'ask') { showAskError(ack); render(false); } else if (kind === 'comment') {
    const c = cards.get(item.qid);
    renderComments(item.qid);
    if (c && c.cerr) say(c.cerr, errMsg(ack));
  } else {
    const c = cards.get(item.qid);
    if (c) say(cardLine(c, 'err'), errMsg(ack));
  }
  scheduleWaiting();
}
/* A refused post goes back into its box, unless the reader has typed something new. */
function restoreDraft(item) {
  const body = item.payload.body;
  if (item.kind === 'ask') {
    if (!askBody.value.trim()) { askBody.value = body; store.set(K.draft + 'q', body); counter(); expand(); }
    return;
  }
  const key = K.draft + 'c:' + item.qid, c = cards.get(item.qid);
  if (c && c.ta) { if (!c.ta.value.trim()) c.ta.value = body; store.set(key, c.ta.value); } else if (!store.get(key, '')) store.set(key, body);
}

/* What waits is said to wait, for the reason it waits: no network, or a connection still
 * opening. Shown after a short delay, so that a vote sent at once never flashes a note. */
let waitTimer = null;
function scheduleWaiting() { clearTimeout(waitTimer); waitTimer = setTimeout(showWaiting, 800); }
function showWaiting() {
  const off = navigator.onLine === false;
  cards.forEach((c, id) => {
    const waits = outbox.some((o) => o.kind === 'vote' && o.qid === id);
    if (waits || c.note) say(cardLine(c, 'note'), waits ? (off ? S.vote_waiting_offline : S.vote_waiting_connecting) : '');
  });
  const asks = outbox.some((o) => o.kind === 'ask');
  if (asks) { askStatus.textContent = off ? S.saved_offline : S.saved_connecting; askStatus.dataset.kind = 'waiting'; } else if (askStatus.dataset.kind === 'waiting') { askStatus.textContent = ''; delete askStatus.dataset.kind; }
}

function posted(q) {
  const id = ingest(q, true);
  incoming.delete(id);
  annIds.delete(id);
  fresh.set(id, { at: Date.now(), seen: false });
  render(false);
  say(askErr, '');
  const show = h('button', { type: 'button', class: 'link-btn show-it', text: S.show_mine });
  show.addEventListener('click', () => reveal(id));
  askStatus.replaceChildren((q.status === 'pending' ? S.sent_pending : S.sent) + ' ', show);
  askStatus.dataset.kind = 'sent';
}
function showAskError(ack) {
  const code = ack && ack.error && ack.error.code;
  const name = code === ERR.NAME_REQUIRED || (code === ERR.TOO_LONG && /author|name|nom/i.test(String(ack.error.message)));
  if (name) {
    expand();
    say(authorErr, errMsg(ack));
    askAuthor.setAttribute('aria-invalid', 'true');
  } else say(askErr, errMsg(ack));
}
/* The ask form's name and quoting, for questions only. */
function askPayload(base) {
  const a = askAuthor.value.trim();
  store.set(K.name, a);
  if (a) base.author = a;
  base.quote = askQuote.value || 'anonymous';
  return base;
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
  if (askStatus.dataset.kind !== 'waiting') { askStatus.textContent = ''; delete askStatus.dataset.kind; }
  say(askErr, '');
  say(authorErr, '');
  if (!body) { expand(); say(askErr, S.empty_post); askBody.setAttribute('aria-invalid', 'true'); askBody.focus(); return; }
  if (askQuote.value === 'named' && !askAuthor.value.trim()) {
    expand();
    say(authorErr, S.name_required);
    askAuthor.setAttribute('aria-invalid', 'true');
    askAuthor.focus();
    return;
  }
  withConsent(() => {
    const cid = newId(), p = askPayload({ body, client_id: cid });
    if (askTopic.value) p.topic = askTopic.value;
    askBody.value = '';
    clearSimilar(); // asked: what was like it is no longer the question
    askTopic.value = ''; // a topic is chosen for one question, not for the next
    askBody.removeAttribute('aria-invalid');
    store.del(K.draft + 'q');
    counter();
    const item = { kind: 'ask', client_id: cid, payload: p };
    outbox.push(item);
    saveOutbox();
    render(false);
    send(item);
  });
}

/* ---- voting (at once on screen; queued like a post; the server has the last word) ---- */
function vote(id) {
  const c = cards.get(id), q = qs.get(id);
  if (!c || !q || closed) return;
  if (c.err) say(c.err, '');
  const want = !voted.has(id);
  if (want) voted.add(id); else voted.delete(id);
  let item = queuedVote(id);
  if (item) item.payload.up = want;
  else {
    item = { kind: 'vote', client_id: newId(), qid: id, payload: { question_id: q.id, up: want } };
    outbox.push(item);
  }
  // Back to what the server already has: nothing to send (unless a vote is on its way).
  const moving = outbox.some((o) => o.kind === 'vote' && o.qid === id && inflight.has(o.client_id));
  if (want === serverVoted.has(id) && !moving) dropItem(item); else saveOutbox();
  orderDirty = true;
  updateCard(id);
  if (outbox.includes(item) && !moving) send(item);
  scheduleWaiting();
}
function voteSettled(id, ack) {
  const q = qs.get(id);
  if (ack) {
    if (ack.voted) serverVoted.add(id); else serverVoted.delete(id);
    if (q && typeof ack.votes === 'number') q.votes = ack.votes;
  }
  const next = outbox.find((o) => o.kind === 'vote' && o.qid === id);
  if (next) { if (next.payload.up) voted.add(id); else voted.delete(id); } else if (serverVoted.has(id)) voted.add(id); else voted.delete(id);
  orderDirty = true;
  updateCard(id);
  if (next && !inflight.has(next.client_id)) send(next);
}

/* ---- deleting one's own question ---- */
async function remove(id) {
  const c = cards.get(id);
  if (!c || !window.confirm(S.confirm_delete)) return;
  const err = cardLine(c, 'err');
  say(err, '');
  const r = await api('DELETE', '/api/v1/questions/' + enc(id));
  if (r.ok) forget(id); else say(err, r.status ? errMsg(r) : S.delete_failed);
}

/* ---- comments: built when a thread is first opened ---- */
function toggleThread(id) {
  const c = cards.get(id), open = c.tog.getAttribute('aria-expanded') !== 'true';
  buildThread(id);
  c.tog.setAttribute('aria-expanded', String(open));
  c.thread.hidden = !open;
  if (open && !c.loaded && !c.loading) loadComments(id);
}
const QUOTES = () => [['anonymous', S.quote_anonymous], ['named', S.quote_named], ['none', S.quote_none]];
const commentAs = () => Object.assign({ author: '', quote: 'anonymous' }, store.get(K.commentAs, {}) || {});
function identityLine(c) {
  const who = commentAs(), label = (QUOTES().find((o) => o[0] === who.quote) || QUOTES()[0])[1];
  c.asText.replaceChildren(h('span', { text: fill(S.comment_as, { name: who.author || S.anonymous }) }), h('span', { text: label }));
}
function buildThread(id) {
  const c = cards.get(id);
  if (c.thread) return;
  const tid = 'c-' + id, key = K.draft + 'c:' + id, who = commentAs();
  c.thread = h('div', { class: 'thread', id: 'q-' + id + '-thread', hidden: true });
  c.tog.setAttribute('aria-controls', c.thread.id);
  c.cnote = h('p', { class: 'muted', text: S.loading_comments });
  c.list = h('ul', { class: 'comments' });
  c.ta = h('textarea', { id: tid, class: 'input', rows: '2', maxlength: '500', 'aria-describedby': tid + '-err ' + tid + '-as' });
  c.ta.value = store.get(key, '');
  c.ta.addEventListener('input', () => { store.set(key, c.ta.value); c.ta.removeAttribute('aria-invalid'); });
  c.cerr = h('p', { class: 'error', id: tid + '-err', role: 'alert' });
  // Who the comment is posted as: its own choice, shown, never the question form's.
  c.asText = h('span', { class: 'as-text q-meta', id: tid + '-as' });
  const change = h('button', { type: 'button', class: 'link-btn as-change', 'aria-expanded': 'false', 'aria-controls': tid + '-who', text: S.change_identity });
  c.who = h('div', { class: 'who', id: tid + '-who', hidden: true });
  c.name = h('input', { id: tid + '-name', class: 'input', type: 'text', maxlength: String(AUTHOR_MAX), autocomplete: 'nickname', placeholder: S.anonymous });
  c.name.value = who.author;
  c.quote = h('select', { id: tid + '-quote', class: 'input' }, QUOTES().map(([v, t]) => h('option', { value: v, text: t })));
  c.quote.value = who.quote;
  c.who.append(
    h('div', { class: 'field' }, [h('label', { class: 'field-label small', for: c.name.id, text: S.your_name }), c.name]),
    h('div', { class: 'field' }, [h('label', { class: 'field-label small', for: c.quote.id, text: S.quoting }), c.quote]));
  const saveWho = () => {
    store.set(K.commentAs, { author: c.name.value.trim(), quote: c.quote.value });
    c.name.removeAttribute('aria-invalid');
    cards.forEach((o) => { if (o.asText) identityLine(o); });
  };
  c.name.addEventListener('input', saveWho);
  c.quote.addEventListener('change', saveWho);
  change.addEventListener('click', () => {
    const open = c.who.hidden;
    c.who.hidden = !open;
    change.setAttribute('aria-expanded', String(open));
    if (open) c.name.focus();
  });
  c.change = change;
  identityLine(c);
  const f = h('form', { class: 'comment-form', novalidate: true, hidden: closed }, [
    h('label', { class: 'field-label small', for: tid, text: S.your_comment }), c.ta, c.cerr,
    h('p', { class: 'as-line' }, [c.asText, change]), c.who,
    h('button', { type: 'submit', class: 'btn', text: S.comment })]);
  f.addEventListener('submit', (e) => { e.preventDefault(); submitComment(id); });
  c.thread.append(c.cnote, c.list, f);
  c.el.append(c.thread);
  renderComments(id);
}
async function loadComments(id) {
  const c = cards.get(id);
  c.loading = true;
  c.failed = false;
  renderComments(id);
  const r = await api('GET', '/api/v1/questions/' + enc(id) + '/comments');
  if (r.ok) {
    for (const cm of (r.data && r.data.comments) || []) {
      const cid = String(cm.id);
      seenComments.add(cid);
      if (cm.mine) myComments.add(cid);
      c.comments.set(cid, cm);
    }
    c.loaded = true;
    const q = qs.get(id);
    if (q) { q.comments = c.comments.size; updateCard(id); }
  } else c.failed = true;
  c.loading = false;
  renderComments(id);
}
/* A comment from a broadcast or an ack; counted once whichever comes first. */
function addComment(cm, own) {
  if (!cm || cm.id == null) return;
  const cid = String(cm.id), qid = String(cm.question_id), isNew = !seenComments.has(cid);
  seenComments.add(cid);
  if (own) myComments.add(cid);
  const q = qs.get(qid), c = cards.get(qid);
  if (isNew && q) { q.comments = (q.comments || 0) + 1; updateCard(qid); }
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
  c.cnote.textContent = note;
  c.cnote.hidden = !note;
}
function submitComment(id) {
  const c = cards.get(id), q = qs.get(id), body = c.ta.value.trim(), who = commentAs();
  say(c.cerr, '');
  if (!body) { say(c.cerr, S.empty_post); c.ta.setAttribute('aria-invalid', 'true'); c.ta.focus(); return; }
  if (who.quote === 'named' && !who.author) {
    say(c.cerr, S.name_required);
    if (c.who.hidden) c.change.click();
    c.name.setAttribute('aria-invalid', 'true');
    c.name.focus();
    return;
  }
  withConsent(() => {
    const cid = newId(), p = { question_id: q ? q.id : +id, body, client_id: cid, quote: who.quote };
    if (who.author) p.author = who.author;
    const item = { kind: 'comment', client_id: cid, qid: id, payload: p };
    c.ta.value = '';
    store.del(K.draft + 'c:' + id);
    outbox.push(item);
    saveOutbox();
    renderComments(id);
    send(item); // waits in the outbox, marked "waiting", until it can go
  });
}

/* ---- what happened to the reader's own questions (sent to their sockets only) ---- */
const NOTICE_TEXT = { hidden: 'notice_hidden', restored: 'notice_restored', approved: 'notice_approved', merged: 'notice_merged', answered: 'notice_answered', highlighted: 'notice_highlighted', deleted: 'notice_deleted' };
function onNotice(n) {
  if (!n || n.question_id == null || !NOTICE_TEXT[n.action]) return;
  const id = String(n.question_id), q = qs.get(id);
  const into = n.into != null ? String(n.into) : null;
  notices = notices.filter((o) => o.id !== id).concat([{
    key: newId(), id, action: n.action, body: (q && q.body) || myBodies.get(id) || '',
    reason: typeof n.reason === 'string' ? n.reason : null, reason_code: n.reason_code || null,
    into, into_body: into && qs.get(into) ? qs.get(into).body : ''
  }]).slice(-4);
  store.set(K.notices, notices);
  renderNotices();
}
function renderNotices() {
  noticeBox.replaceChildren(...notices.map((n) => {
    const text = fill(S[NOTICE_TEXT[n.action]], { body: short(n.body) || S.your_question_fallback, into: short(n.into_body) || S.another_question });
    const why = [n.reason_code && S['reason_' + n.reason_code], n.reason].filter(Boolean).join(': ');
    const target = n.action === 'merged' ? n.into : ['hidden', 'deleted'].includes(n.action) ? null : n.id;
    const show = target && qs.has(target) ? h('button', { type: 'button', class: 'btn', text: S.show_it }) : null;
    const dismiss = h('button', { type: 'button', class: 'btn btn-primary', text: S.dismiss });
    const el = h('div', { class: 'notice-card', 'data-action': n.action }, [
      h('p', { class: 'notice-text', text }),
      why ? h('p', { class: 'notice-why', text: fill(S.notice_reason, { reason: why }) }) : null,
      h('div', { class: 'notice-actions' }, [show, dismiss])]);
    const drop = () => { notices = notices.filter((o) => o.key !== n.key); store.set(K.notices, notices); renderNotices(); };
    if (show) show.addEventListener('click', () => { drop(); reveal(target); });
    dismiss.addEventListener('click', drop);
    return el;
  }));
  noticeBox.hidden = !notices.length;
  document.body.classList.toggle('has-notices', notices.length > 0);
}

/* ---- the ask box: one line until it is used ---- */
function expand() {
  if (form.dataset.state === 'open') return;
  form.dataset.state = 'open';
  askBody.rows = 3;
}
function collapse() {
  if (form.contains(document.activeElement) || askBody.value.trim() || (dlg && dlg.open)) return;
  if (askErr.textContent || authorErr.textContent) return;
  form.dataset.state = 'compact';
  askBody.rows = 1;
}
function counter() {
  const n = askBody.value.length;
  askCount.textContent = n ? nf.format(n) + ' / ' + nf.format(500) : '';
}

/* ---- "Similar questions": the room's questions that say the same as the draft ----
 * Looked up after a pause in typing (over the socket once joined, else over HTTP), shown
 * under the ask box with an Upvote that takes the list's own path (the outbox included).
 * The draft is never touched. An answer for older text is dropped. */
const simBox = $('similar'), simList = $('similar-list');
const SIM_MIN = 12, SIM_PAUSE = 400;
const simRows = new Map();
let simIds = [], simFor = '', simSeq = 0, simTimer = null, simSaid = '', simDismissed = false;
// In the form: its focus, or a tap in it (a tapped button does not take focus on every phone).
let simHere = false;
const simText = () => askBody.value.trim();
const simCanShow = () => simIds.length > 0 && !closed && !simDismissed && simHere;

function similarInput() {
  clearTimeout(simTimer);
  const text = simText();
  if (text.length < SIM_MIN || closed) { clearSimilar(); return; }
  if (text === simFor) { simBox.hidden = !simCanShow(); return; } // already asked for this text
  simTimer = setTimeout(() => askSimilar(text), SIM_PAUSE);
}
function clearSimilar() {
  clearTimeout(simTimer);
  simSeq++; // whatever is on its way is now stale
  simFor = '';
  simSaid = '';
  showSimilar([]);
}
async function askSimilar(text) {
  const seq = ++simSeq;
  simFor = text;
  let found = null;
  if (socket && socket.connected && joined) {
    found = await new Promise((resolve) => socket.timeout(8000).emit('similar', { body: text },
      (err, ack) => resolve(!err && ack && ack.ok ? ack.questions : null)));
  } else if (navigator.onLine !== false) {
    const r = await api('GET', '/api/v1/events/' + enc(CODE) + '/similar?q=' + enc(text));
    found = r.ok && r.data ? r.data.questions : null;
  }
  if (seq !== simSeq || text !== simText()) return; // the draft has changed since
  if (!Array.isArray(found)) { simFor = ''; found = []; } // failed: the next pause asks again
  showSimilar(found);
}
function showSimilar(found) {
  const ids = [];
  for (const q of found) {
    if (!q || q.id == null) continue;
    const id = String(q.id);
    if (!qs.has(id)) onQuestion(q); // newer than this page's list: it arrives like a broadcast
    if (qs.has(id) && canSee(qs.get(id)) && !ids.includes(id)) ids.push(id);
  }
  simIds = ids.slice(0, 3);
  simRows.clear();
  simList.replaceChildren(...simIds.map(simRow));
  const was = simBox.hidden;
  simBox.hidden = !simCanShow();
  if (was && !simBox.hidden) peekSimilar();
  // One polite message when the suggestions change, none while they stay the same.
  const key = simIds.join(',');
  if (key && key !== simSaid && !simBox.hidden) {
    announcer.textContent = '';
    setTimeout(() => { announcer.textContent = plural('similar_found', simIds.length); }, 100);
  }
  simSaid = key;
}
/* On a small screen the region can open below the fold (or the keyboard): scroll just
 * enough to show its title and first question, never so far that the ask box leaves. */
function peekSimilar() {
  const vh = window.visualViewport ? window.visualViewport.height : window.innerHeight;
  const first = simList.firstElementChild, box = askBody.getBoundingClientRect();
  if (!first) return;
  const need = Math.min(first.getBoundingClientRect().bottom, simBox.getBoundingClientRect().bottom) + 8 - vh;
  const room = box.top - 8;
  if (need > 0 && room > 0) window.scrollBy({ top: Math.min(need, room) });
}
function simRow(id) {
  const base = 'sim-' + id;
  const r = {
    body: h('p', { class: 'sim-body', id: base + '-text' }),
    up: h('button', { type: 'button', class: 'upvote', 'aria-label': S.upvote, 'aria-pressed': 'false', 'aria-describedby': base + '-text ' + base + '-votes' }),
    count: h('span', { class: 'count', 'aria-hidden': 'true' }),
    votesSr: h('span', { class: 'sr-only', id: base + '-votes' }),
    show: h('button', { type: 'button', class: 'link-btn sim-show', 'aria-describedby': base + '-text', text: S.show_in_list })
  };
  r.el = h('li', { class: 'sim', id: base }, [r.body, r.show, h('div', { class: 'q-vote' }, [r.up, r.count, r.votesSr])]);
  r.up.addEventListener('click', () => { card(id); vote(id); });
  r.show.addEventListener('click', () => { simBox.hidden = true; reveal(id); });
  simRows.set(id, r);
  updateSimRow(id);
  return r.el;
}
function updateSimRow(id) {
  const r = simRows.get(id), q = qs.get(id);
  if (!r || !q) return;
  if (r.body.textContent !== q.body) r.body.textContent = q.body;
  r.up.setAttribute('aria-pressed', String(voted.has(id)));
  r.up.disabled = closed || q.status === 'pending';
  const n = shownVotes(id);
  r.count.textContent = nf.format(n);
  r.votesSr.textContent = plural('votes', n);
}

/* ---- start ---- */
for (const q of DATA.questions || []) ingest(q);
render(true);
setConn('connecting');
renderNotices();
if (new URLSearchParams(window.location.search).get('forgotten')) {
  // The confirmation is on the page; a later reload need not repeat it.
  history.replaceState(null, '', window.location.pathname + window.location.hash);
}

askBody.value = store.get(K.draft + 'q', '');
askAuthor.value = store.get(K.name, '');
askAuthor.maxLength = AUTHOR_MAX;
counter();
askBody.addEventListener('focus', expand);
askBody.addEventListener('input', () => {
  expand();
  store.set(K.draft + 'q', askBody.value);
  askBody.removeAttribute('aria-invalid');
  say(askErr, '');
  if (askStatus.dataset.kind === 'sent') { askStatus.textContent = ''; delete askStatus.dataset.kind; }
  counter();
  simDismissed = false;
  similarInput();
});
askBody.addEventListener('focus', similarInput);
form.addEventListener('focusout', () => setTimeout(collapse, 200));
/* The region goes when the person turns to something else: focus or a tap outside the form. */
const simAway = (e) => {
  simHere = form.contains(e.target);
  simBox.hidden = !(simCanShow() && simFor === simText());
};
document.addEventListener('focusin', simAway);
document.addEventListener('pointerdown', simAway, { passive: true });
form.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !simBox.hidden) { simDismissed = true; simBox.hidden = true; askBody.focus(); } });
askAuthor.addEventListener('input', () => { askAuthor.removeAttribute('aria-invalid'); say(authorErr, ''); });
askAuthor.addEventListener('change', () => store.set(K.name, askAuthor.value.trim()));
askQuote.addEventListener('change', () => { askAuthor.removeAttribute('aria-invalid'); say(authorErr, ''); });
form.addEventListener('submit', submitAsk);

const sTop = $('sort-top'), sNew = $('sort-new');
const setSort = (s) => {
  sort = s;
  sTop.setAttribute('aria-pressed', String(s === 'top'));
  sNew.setAttribute('aria-pressed', String(s === 'new'));
  incoming.forEach((at, id) => fresh.set(id, { at, seen: false }));
  incoming.clear();
  render(true);
};
sTop.addEventListener('click', () => setSort('top'));
sNew.addEventListener('click', () => setSort('new'));
filterSel.addEventListener('change', (e) => { topic = e.target.value; render(true); });
bar.addEventListener('click', bringIncoming);
nowLink.addEventListener('click', (e) => { if (nowId && reveal(nowId)) e.preventDefault(); });
nowMore.addEventListener('click', () => {
  const open = !nowBody.classList.contains('is-open');
  nowBody.classList.toggle('is-open', open);
  nowMore.setAttribute('aria-expanded', String(open));
  clampNow();
});
window.addEventListener('resize', clampNow, { passive: true });

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
if (d && d.getAttribute('datetime').includes('T')) d.textContent = date(d.getAttribute('datetime'));

/* Counts change in place; the list re-sorts only after a pause in reading (or on request). */
for (const ev of ['scroll', 'pointerdown', 'keydown', 'touchstart']) {
  window.addEventListener(ev, () => { lastTouch = Date.now(); }, { passive: true });
}
setInterval(() => {
  if (orderDirty && (document.hidden || (!isField(document.activeElement) && Date.now() - lastTouch > 10000))) render(true);
}, 2500);
setInterval(() => {
  document.querySelectorAll('time.ago').forEach((el) => { el.textContent = ago(el.getAttribute('datetime')); });
  if (outbox.length) flush();
}, 30000);

connect();
if (outbox.length) flush(); // what waited from an earlier visit goes now, over HTTP if it must
