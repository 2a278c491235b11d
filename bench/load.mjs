// Simulated phones for the load benchmark, using the official Socket.IO client.
//
// Each phone fetches a page of the event (for its cookie), opens a websocket, sends
// `join`, and listens to `votes`. Three scenarios, each printing one JSON object
// with its figures on stdout:
//
//   votes: at a fixed rate, a different phone each time upvotes a question; every
//          phone records when it first sees each vote's count.
//   drop:  the venue's Wi-Fi drops: every phone disconnects, a few votes happen
//          meanwhile, and every phone reconnects at a random moment within a spread,
//          re-sending `join` (with `since` when the server gave it a version).
//   joins: phones join one after another; the size and time of each join answer.
//   hold:  phones join and stay connected until stdin closes (for memory_probe.py).
//
//   node load.mjs --scenario votes --url http://127.0.0.1:5000 --code smartcities \
//     --phones 2000 --join-rate 250 --vote-rate 20 --votes 200 --pid 1234
//   node load.mjs --scenario drop --phones 1500 --code drop300 --spread 2000 --down 1000
//
// A server that gives a `version` in join answers (and in broadcasts, as a `version`
// field or a second argument) is asked `join {event, since: version}` on reconnect;
// without one, the phone joins plainly and replaces its state with the answer.
import { io } from "socket.io-client";
import { readFileSync } from "node:fs";
import http from "node:http";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, [])
);
const SCENARIO = args.scenario || "votes";
const URL_ = args.url || "http://127.0.0.1:5000";
const CODE = args.code || "smartcities";
const PHONES = Number(args.phones || 500);
const JOIN_RATE = Number(args["join-rate"] || 200);
const VOTE_RATE = Number(args["vote-rate"] || 20);
const VOTES = Math.min(Number(args.votes || 200), PHONES);
const PID = args.pid ? Number(args.pid) : null;
const SETTLE_MS = Number(args.settle || 2000);
// The page that issues the cookie: the participant page by default; the event's small
// API answer where the page (a whole room of questions) is not what is measured.
const COOKIE_PATH = args["cookie-path"] || `/e/${CODE}`;
const SPREAD_MS = Number(args.spread || 2000); // drop: reconnections spread over this
const DOWN_MS = Number(args.down || 1000); // drop: how long the Wi-Fi stays down
const DOWN_VOTES = Number(args["down-votes"] || 5); // drop: votes while it is down
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, digits = 1) => (x == null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

// The same pseudo-random schedule for every server measured (mulberry32).
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rssKb(pid) {
  if (!pid) return null;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

function getCookie() {
  return new Promise((resolve, reject) => {
    const started = now();
    const req = http.get(`${URL_}${COOKIE_PATH}`, { agent }, (res) => {
      let bytes = 0;
      res.on("data", (chunk) => (bytes += chunk.length));
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`page ${res.statusCode}`));
        const cookies = (res.headers["set-cookie"] || []).map((c) => c.split(";")[0]);
        resolve({ cookie: cookies.join("; "), bytes, ms: now() - started });
      });
    });
    req.setTimeout(30000, () => req.destroy(new Error("page timeout")));
    req.on("error", reject);
  });
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return round(sorted[Math.max(0, i)]);
}
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

const phones = [];
let joinFailures = 0;
const failureReasons = {};
let questionIds = [];
const fail = (prefix, err) => {
  const key = prefix + String(err && err.message).slice(0, 60);
  failureReasons[key] = (failureReasons[key] || 0) + 1;
};

function noteVersion(phone, value) {
  if (typeof value === "number" && (phone.version == null || value > phone.version)) {
    phone.version = value;
  }
}

// Opens a socket for the phone and joins; resolves with the ack, its size and time.
async function connect(phone) {
  const socket = io(URL_, {
    transports: ["websocket"],
    extraHeaders: { Cookie: phone.cookie, Origin: URL_ },
    reconnection: false,
    timeout: 30000,
  });
  phone.socket = socket;
  socket.on("votes", (counts, meta) => {
    const t = now();
    for (const [id, count] of Object.entries(counts || {})) {
      if (!/^\d+$/.test(id) || typeof count !== "number") continue; // e.g. a version field
      const last = phone.state.get(id);
      if (last === undefined || count > last) phone.arrivals.push([id, count, t]);
      phone.state.set(id, count);
    }
  });
  socket.on("question", (q) => {
    if (q && q.id != null && typeof q.votes === "number") phone.state.set(String(q.id), q.votes);
  });
  socket.on("question_removed", (m) => m && phone.state.delete(String(m.id)));
  socket.onAny((_name, payload, meta) => {
    noteVersion(phone, payload && payload.version);
    noteVersion(phone, meta && meta.version);
  });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  const request = { event: CODE };
  if (phone.version != null) request.since = phone.version;
  const sent = now();
  const ack = await socket.timeout(30000).emitWithAck("join", request);
  const ackMs = now() - sent;
  if (!ack || !ack.ok) throw new Error("join refused");
  const bytes = Buffer.byteLength(JSON.stringify(ack));
  const partial = ack.full === false;
  if (!partial) phone.state = new Map();
  for (const q of ack.questions || []) phone.state.set(String(q.id), q.votes);
  for (const id of ack.removed || []) phone.state.delete(String(id));
  noteVersion(phone, ack.version);
  return { ack, bytes, ackMs, partial };
}

async function joinOne(index) {
  const started = now();
  try {
    const page = await getCookie();
    const phone = { cookie: page.cookie, state: new Map(), arrivals: [], version: null };
    const { ack, bytes, ackMs } = await connect(phone);
    if (!questionIds.length) questionIds = ack.questions.map((q) => String(q.id));
    phone.joinMs = now() - started;
    phone.pageBytes = page.bytes;
    phone.pageMs = page.ms;
    phone.ackBytes = bytes;
    phone.ackMs = ackMs;
    phones[index] = phone;
  } catch (err) {
    joinFailures += 1;
    fail("", err);
  }
}

async function warmUp() {
  // A few phones come and go first, so that memory measured from here on is what
  // each phone costs, not the server's first-request allocations.
  for (let i = 0; i < 20; i++) await joinOne(PHONES + i);
  for (let i = 0; i < 20; i++) {
    const phone = phones[PHONES + i];
    if (phone) phone.socket.close();
    delete phones[PHONES + i];
  }
  phones.length = PHONES;
  joinFailures = 0;
  await sleep(2000);
}

// Join phase: start phones at JOIN_RATE per second, each running its own flow.
async function joinAll() {
  const joinStart = now();
  const pending = [];
  for (let i = 0; i < PHONES; i++) {
    const due = joinStart + (i * 1000) / JOIN_RATE;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    pending.push(joinOne(i));
  }
  await Promise.all(pending);
  const joinSeconds = (now() - joinStart) / 1000;
  const joined = phones.slice(0, PHONES).filter(Boolean);
  const joinTimes = sorted(joined.map((p) => p.joinMs));
  return {
    joined,
    summary: {
      phones: PHONES,
      joined: joined.length,
      join_failures: joinFailures,
      join_seconds: round(joinSeconds, 2),
      join_rate: round(joined.length / joinSeconds),
      join_ms_p50: percentile(joinTimes, 50),
      join_ms_p99: percentile(joinTimes, 99),
    },
  };
}

// Sends `count` votes at `rate` a second, each from the next voter, on questions in turn.
async function castVotes(voters, count, rate, offset = 0) {
  const votes = []; // [questionId, count, sentAt]
  const ackTimes = [];
  const timerLag = []; // how late the harness itself sent each vote (its own load)
  let failures = 0;
  const start = now();
  const acks = [];
  for (let k = 0; k < count; k++) {
    const due = start + (k * 1000) / rate;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    const qid = questionIds[(k + offset) % questionIds.length];
    const sentAt = now();
    timerLag.push(Math.max(0, sentAt - due));
    acks.push(
      voters[k % voters.length].socket
        .timeout(30000)
        .emitWithAck("vote", { question_id: Number(qid), up: true })
        .then((ack) => {
          ackTimes.push(now() - sentAt);
          if (ack && ack.ok) votes.push([qid, ack.votes, sentAt]);
          else {
            failures += 1;
            fail("vote: ", { message: ack && ack.error ? ack.error.code : "no ack" });
          }
        })
        .catch((err) => {
          failures += 1;
          fail("vote: ", err);
        })
    );
  }
  await Promise.all(acks);
  return { votes, ackTimes, timerLag, failures };
}

// Waits until deliveries stop arriving (2 s without any), at most a minute: a server
// that falls behind still gets to deliver, and its lateness shows in the latencies.
async function settle(joined) {
  const arrived = () => joined.reduce((n, p) => n + p.arrivals.length, 0);
  let last = -1;
  let quietSince = now();
  const settleStart = now();
  while (now() - settleStart < 60000) {
    await sleep(250);
    const count = arrived();
    if (count !== last) {
      last = count;
      quietSince = now();
    } else if (now() - quietSince >= Math.max(2000, SETTLE_MS)) {
      break;
    }
  }
}

async function votesScenario() {
  await warmUp();
  const rssBefore = rssKb(PID);
  const { joined, summary } = await joinAll();
  await sleep(1000);
  const rssJoined = rssKb(PID);
  const run = await castVotes(joined, Math.min(VOTES, joined.length), VOTE_RATE);
  await settle(joined);

  // Latency: for each vote, when did each phone first see a count >= its count?
  const latencies = [];
  let delivered = 0;
  const byQuestion = new Map();
  for (const v of run.votes) {
    if (!byQuestion.has(v[0])) byQuestion.set(v[0], []);
    byQuestion.get(v[0]).push(v);
  }
  for (const phone of joined) {
    const firstSeen = new Map(); // qid -> [[count, t], ...] ascending
    for (const [id, count, t] of phone.arrivals) {
      if (!firstSeen.has(id)) firstSeen.set(id, []);
      firstSeen.get(id).push([count, t]);
    }
    for (const [qid, list] of byQuestion) {
      const seen = firstSeen.get(qid) || [];
      for (const [, count, sentAt] of list) {
        const hit = seen.find(([c]) => c >= count);
        if (hit) {
          delivered += 1;
          latencies.push(Math.max(0, hit[1] - sentAt));
        }
      }
    }
  }
  latencies.sort((a, b) => a - b);
  const ackTimes = sorted(run.ackTimes);
  return {
    ...summary,
    failure_reasons: failureReasons,
    votes_sent: Math.min(VOTES, joined.length),
    votes_acked: run.votes.length,
    vote_failures: run.failures,
    deliveries: delivered,
    deliveries_expected: run.votes.length * joined.length,
    harness_lag_ms_p99: percentile(sorted(run.timerLag), 99),
    vote_ack_ms_p50: percentile(ackTimes, 50),
    vote_ack_ms_p99: percentile(ackTimes, 99),
    latency_ms_p50: percentile(latencies, 50),
    latency_ms_p95: percentile(latencies, 95),
    latency_ms_p99: percentile(latencies, 99),
    latency_ms_max: latencies.length ? Math.round(latencies[latencies.length - 1]) : null,
    server_rss_kb_before: rssBefore,
    server_rss_kb_joined: rssJoined,
    server_kb_per_phone:
      rssBefore && rssJoined ? round((rssJoined - rssBefore) / joined.length) : null,
    _joined: joined,
  };
}

async function dropScenario() {
  await warmUp();
  const { joined, summary } = await joinAll();
  // A laptop on the wired network stays connected and votes while the Wi-Fi is down.
  await joinOne(PHONES + 1);
  const wired = phones[PHONES + 1];
  if (!wired) throw new Error("the wired phone could not join");
  // Some votes while everyone is connected, so that phones hold a recent version.
  const before = await castVotes(joined, Math.min(10, joined.length), 5);
  await settle(joined);
  const fullBytes = mean(joined.map((p) => p.ackBytes));

  const rand = random(15);
  const offsets = joined.map(() => rand() * SPREAD_MS);
  const dropAt = now();
  for (const phone of joined) phone.socket.close();
  const downVotes = await castVotes([wired], DOWN_VOTES, 10, 10);
  const wait = dropAt + DOWN_MS - now();
  if (wait > 1) await sleep(wait);

  // Every phone comes back at its own moment within the spread and re-sends join.
  const returnAt = now();
  let rejoinFailures = 0;
  const rejoins = await Promise.all(
    joined.map(async (phone, i) => {
      await sleep(offsets[i]);
      const started = now();
      try {
        const { bytes, partial } = await connect(phone);
        const done = now();
        return { ms: done - started, done, bytes, partial };
      } catch (err) {
        rejoinFailures += 1;
        fail("rejoin: ", err);
        return null;
      }
    })
  );
  const back = rejoins.filter(Boolean);
  // What a fresh phone is told now: every returning phone should hold the same counts.
  const truthPhone = { cookie: wired.cookie, state: new Map(), arrivals: [], version: null };
  await connect(truthPhone);
  const consistent = joined.filter((phone) => sameCounts(phone.state, truthPhone.state)).length;
  truthPhone.socket.close();
  wired.socket.close();
  const rejoinMs = sorted(back.map((r) => r.ms));
  const bytes = back.map((r) => r.bytes);
  const roomBytes = bytes.reduce((a, b) => a + b, 0);
  return {
    ...summary,
    questions: questionIds.length,
    failure_reasons: failureReasons,
    votes_before_drop: before.votes.length,
    votes_while_down: downVotes.votes.length,
    rejoined: back.length,
    rejoin_failures: rejoinFailures,
    all_back_s: back.length ? round((Math.max(...back.map((r) => r.done)) - returnAt) / 1000, 2) : null,
    rejoin_ms_p50: percentile(rejoinMs, 50),
    rejoin_ms_p95: percentile(rejoinMs, 95),
    rejoin_ms_p99: percentile(rejoinMs, 99),
    partial_answers: back.filter((r) => r.partial).length,
    full_join_bytes: Math.round(fullBytes),
    rejoin_bytes_mean: Math.round(mean(bytes)),
    rejoin_share_of_full: fullBytes ? round(mean(bytes) / fullBytes, 3) : null,
    room_rejoin_mb: round(roomBytes / 1e6, 2),
    consistent_phones: consistent,
    _joined: joined,
  };
}

function sameCounts(a, b) {
  if (a.size !== b.size) return false;
  for (const [id, n] of b) if (a.get(id) !== n) return false;
  return true;
}

async function joinsScenario() {
  // One phone after another: the cost of one join answer, not of a crowd.
  for (let i = 0; i < PHONES; i++) {
    await joinOne(i);
    if (phones[i]) phones[i].socket.close();
  }
  const joined = phones.filter(Boolean);
  const pick = (key) => sorted(joined.map((p) => p[key]));
  return {
    phones: PHONES,
    joined: joined.length,
    join_failures: joinFailures,
    failure_reasons: failureReasons,
    questions: questionIds.length,
    page_bytes: Math.round(mean(joined.map((p) => p.pageBytes))),
    page_ms_p50: percentile(pick("pageMs"), 50),
    page_ms_p99: percentile(pick("pageMs"), 99),
    ack_bytes: Math.round(mean(joined.map((p) => p.ackBytes))),
    ack_ms_p50: percentile(pick("ackMs"), 50),
    ack_ms_p99: percentile(pick("ackMs"), 99),
    _joined: [],
  };
}

// hold: phones join and stay until stdin closes (bench/memory_probe.py measures them).
// It says "warm" after the warm-up, joins on the first line it reads, then reports.
async function holdScenario() {
  await warmUp();
  const lines = [];
  let wake = null;
  let ended = false;
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => {
    lines.push(chunk);
    if (wake) wake();
  });
  process.stdin.on("end", () => {
    ended = true;
    if (wake) wake();
  });
  const next = () => new Promise((resolve) => (wake = resolve));
  console.log(JSON.stringify({ warm: true }));
  while (!lines.length && !ended) await next();
  const { joined, summary } = await joinAll();
  console.log(JSON.stringify(summary));
  while (!ended) await next();
  return { ...summary, _joined: joined };
}

async function main() {
  const scenarios = {
    votes: votesScenario, drop: dropScenario, joins: joinsScenario, hold: holdScenario,
  };
  if (!scenarios[SCENARIO]) throw new Error(`unknown scenario ${SCENARIO}`);
  const { _joined: joined, ...result } = await scenarios[SCENARIO]();
  for (const phone of joined) if (phone.socket) phone.socket.close();
  console.log(JSON.stringify(result));
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
