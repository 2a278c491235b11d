// Simulated phones for the load benchmark, using the official Socket.IO client.
//
// Each phone fetches the event page (for its cookie), opens a websocket, sends `join`,
// and listens to `votes`. Then, at a fixed rate, a different phone each time upvotes a
// question; every phone records when it first sees each vote's count. Prints one JSON
// object with the figures on stdout.
//
//   node load.mjs --url http://127.0.0.1:5000 --code smartcities --phones 2000 \
//     --join-rate 400 --vote-rate 20 --votes 200 --pid 1234
import { io } from "socket.io-client";
import { readFileSync } from "node:fs";
import http from "node:http";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, [])
);
const URL_ = args.url || "http://127.0.0.1:5000";
const CODE = args.code || "smartcities";
const PHONES = Number(args.phones || 500);
const JOIN_RATE = Number(args["join-rate"] || 200);
const VOTE_RATE = Number(args["vote-rate"] || 20);
const VOTES = Math.min(Number(args.votes || 200), PHONES);
const PID = args.pid ? Number(args.pid) : null;
const SETTLE_MS = Number(args.settle || 2000);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssKb(pid) {
  if (!pid) return null;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

function getCookie() {
  return new Promise((resolve, reject) => {
    const req = http.get(`${URL_}/e/${CODE}`, { agent }, (res) => {
      res.resume();
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`page ${res.statusCode}`));
        const cookies = (res.headers["set-cookie"] || []).map((c) => c.split(";")[0]);
        resolve(cookies.join("; "));
      });
    });
    req.setTimeout(30000, () => req.destroy(new Error("page timeout")));
    req.on("error", reject);
  });
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, i)] * 10) / 10;
}

const phones = [];
let joinFailures = 0;
const failureReasons = {};
let questionIds = [];

async function joinOne(index) {
  const started = now();
  try {
    const cookie = await getCookie();
    const socket = io(URL_, {
      transports: ["websocket"],
      extraHeaders: { Cookie: cookie, Origin: URL_ },
      reconnection: false,
      timeout: 30000,
    });
    const phone = { socket, seen: new Map(), arrivals: [] };
    socket.on("votes", (counts) => {
      const t = now();
      for (const [id, count] of Object.entries(counts)) {
        const last = phone.seen.get(id) || 0;
        if (count > last) {
          phone.seen.set(id, count);
          phone.arrivals.push([id, count, t]);
        }
      }
    });
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    const ack = await socket.timeout(30000).emitWithAck("join", { event: CODE });
    if (!ack || !ack.ok) throw new Error("join refused");
    if (!questionIds.length) questionIds = ack.questions.map((q) => String(q.id));
    for (const q of ack.questions) phone.seen.set(String(q.id), q.votes);
    phone.joinMs = now() - started;
    phones[index] = phone;
  } catch (err) {
    joinFailures += 1;
    const key = String(err && err.message).slice(0, 60);
    failureReasons[key] = (failureReasons[key] || 0) + 1;
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

async function main() {
  await warmUp();
  const rssBefore = rssKb(PID);
  // Join phase: start phones at JOIN_RATE per second, each running its own flow.
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
  const joined = phones.filter(Boolean);
  await sleep(1000);
  const rssJoined = rssKb(PID);

  // Vote phase: VOTE_RATE votes per second, each from a different phone.
  const votes = []; // [questionId, count, sentAt]
  const ackTimes = [];
  const timerLag = []; // how late the harness itself sent each vote (its own load)
  let voteFailures = 0;
  const voteStart = now();
  const acks = [];
  for (let k = 0; k < VOTES && k < joined.length; k++) {
    const due = voteStart + (k * 1000) / VOTE_RATE;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    const qid = questionIds[k % questionIds.length];
    const sentAt = now();
    timerLag.push(Math.max(0, sentAt - due));
    acks.push(
      joined[k].socket
        .timeout(30000)
        .emitWithAck("vote", { question_id: Number(qid), up: true })
        .then((ack) => {
          ackTimes.push(now() - sentAt);
          if (ack && ack.ok) votes.push([qid, ack.votes, sentAt]);
          else {
            voteFailures += 1;
            const key = "vote: " + (ack && ack.error ? ack.error.code : "no ack");
            failureReasons[key] = (failureReasons[key] || 0) + 1;
          }
        })
        .catch((err) => {
          voteFailures += 1;
          const key = "vote: " + String(err && err.message).slice(0, 40);
          failureReasons[key] = (failureReasons[key] || 0) + 1;
        })
    );
  }
  await Promise.all(acks);
  // Wait until deliveries stop arriving (2 s without any), at most a minute: a server
  // that falls behind still gets to deliver, and its lateness shows in the latencies.
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
    } else if (now() - quietSince >= Math.max(2000, SETTLE_MS) ) {
      break;
    }
  }

  // Latency: for each vote, when did each phone first see a count >= its count?
  const latencies = [];
  let delivered = 0;
  const byQuestion = new Map();
  for (const v of votes) {
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
  const joinTimes = joined.map((p) => p.joinMs).sort((a, b) => a - b);
  const result = {
    phones: PHONES,
    joined: joined.length,
    join_failures: joinFailures,
    failure_reasons: failureReasons,
    join_seconds: Math.round(joinSeconds * 100) / 100,
    join_rate: Math.round((joined.length / joinSeconds) * 10) / 10,
    join_ms_p50: percentile(joinTimes, 50),
    join_ms_p99: percentile(joinTimes, 99),
    votes_sent: Math.min(VOTES, joined.length),
    votes_acked: votes.length,
    vote_failures: voteFailures,
    deliveries: delivered,
    deliveries_expected: votes.length * joined.length,
    harness_lag_ms_p99: percentile(timerLag.sort((a, b) => a - b), 99),
    vote_ack_ms_p50: percentile(ackTimes.sort((a, b) => a - b), 50),
    vote_ack_ms_p99: percentile(ackTimes, 99),
    latency_ms_p50: percentile(latencies, 50),
    latency_ms_p95: percentile(latencies, 95),
    latency_ms_p99: percentile(latencies, 99),
    latency_ms_max: latencies.length ? Math.round(latencies[latencies.length - 1]) : null,
    server_rss_kb_before: rssBefore,
    server_rss_kb_joined: rssJoined,
    server_kb_per_phone:
      rssBefore && rssJoined ? Math.round(((rssJoined - rssBefore) / joined.length) * 10) / 10 : null,
  };
  for (const phone of joined) phone.socket.close();
  console.log(JSON.stringify(result));
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
