// The load generator of bench/realtime_official.py, built on the official socket.io-client with the
// options of our web app (web/src/lib/realtime/socket.ts: websocket transport only, auth {token}).
//
//   node generator.js fanout|idle CONFIG.json
//
// Same config and output as bench/realtime_load.py (the raw-protocol generator), plus `tokens`
// ({userId: JWT}, minted in Python by bench/common.py token()) in the config, and a delivery check
// in the output: every newMessage is counted per socket, so a lost or doubled delivery shows.
// One JSON line on stdout at the end; one line per step on stderr.
"use strict";

const fs = require("node:fs");
const crypto = require("node:crypto");
const { io } = require("socket.io-client");

const CLOCK_TICKS = 100; // sysconf(SC_CLK_TCK) on Linux

const now = () => performance.now(); // ms
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits;

function statFields(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 1).trim().split(/\s+/);
  } catch {
    return null;
  }
}

function cpuSeconds(pid) {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / CLOCK_TICKS : 0;
}

// CPU time of the PostgreSQL server whose data directory is `dataDir`: the postmaster (with its
// exited children) and its live backends; null when that server is not on this machine.
function postgresCpuSeconds(dataDir) {
  if (!dataDir) return null;
  let postmaster = null;
  const candidates = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const comm = fs.readFileSync(`/proc/${name}/comm`, "utf8").trim();
      if (comm !== "postgres" && comm !== "postmaster") continue;
      if (fs.readFileSync(`/proc/${name}/cmdline`, "utf8").includes(dataDir)) postmaster = Number(name);
      candidates.push(Number(name));
    } catch {
      continue;
    }
  }
  if (postmaster === null) return null;
  const f = statFields(postmaster);
  if (!f) return null;
  let total = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
  for (const pid of candidates) {
    const s = statFields(pid);
    if (s && Number(s[1]) === postmaster) total += (Number(s[11]) + Number(s[12])) / CLOCK_TICKS;
  }
  return total;
}

function rssMb(pid) {
  try {
    const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
    return line ? round(Number(line.split(/\s+/)[1]) / 1024, 1) : 0;
  } catch {
    return 0;
  }
}

// As bench/common.py percentiles().
function percentiles(samples) {
  if (samples.length === 0) return { n: 0 };
  const s = Float64Array.from(samples).sort();
  const pct = (p) => round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))], 3);
  return { n: s.length, p50: pct(50), p95: pct(95), p99: pct(99), max: round(s[s.length - 1], 3) };
}

class CpuMeter {
  constructor(serverPids, postgresDataDir) {
    this.serverPids = serverPids;
    this.postgresDataDir = postgresDataDir;
    this.last = this.sample();
  }

  sample() {
    return {
      at: now() / 1000,
      servers: this.serverPids.map(cpuSeconds),
      generator: cpuSeconds(process.pid),
      postgres: postgresCpuSeconds(this.postgresDataDir),
    };
  }

  lap() {
    const next = this.sample();
    const last = this.last;
    const elapsed = next.at - last.at;
    const serverSeconds = next.servers.map((b, i) => b - last.servers[i]);
    this.last = next;
    return {
      server_cores: serverSeconds.map((s) => round(s / elapsed, 2)),
      generator_cores: round((next.generator - last.generator) / elapsed, 2),
      postgres_cores:
        next.postgres === null || last.postgres === null ? null : round((next.postgres - last.postgres) / elapsed, 2),
      server_cpu_seconds: round(serverSeconds.reduce((a, b) => a + b, 0), 3),
    };
  }
}

const CONNECT_TIMEOUT_MS = 30_000;

// One socket the way the web app opens it; no reconnection, so a dropped socket stays counted.
// Settles on every outcome: the client's own `timeout` covers only the transport's opening, and a
// transport that closes after opening but before the server's CONNECT answer emits `disconnect`, not
// `connect_error` — a promise waiting on those two alone never settled, and the soak hung after its
// run under load.
function openSocket(base, token, handlers) {
  return new Promise((resolve, reject) => {
    const socket = io(base, {
      path: "/socket.io",
      transports: ["websocket"],
      auth: { token },
      forceNew: true,
      reconnection: false,
      timeout: CONNECT_TIMEOUT_MS,
    });
    let settled = false;
    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error("no connect answer")), CONNECT_TIMEOUT_MS + 5_000);
    for (const [event, handler] of Object.entries(handlers || {})) socket.on(event, handler);
    socket.once("connect", () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("connect_error", fail);
    socket.once("disconnect", (reason) => fail(new Error(`closed before connect: ${reason}`)));
  });
}

// One socket per [base, userId] at `rate` connects/s (open loop). Connect latency: from io() to the
// Socket.IO connect (TCP + WebSocket upgrade + engine.io open + the handshake's auth and rooms).
async function openMany(specs, rate, tokens, handlersFor) {
  const sockets = new Array(specs.length).fill(null);
  const latencies = [];
  const timeline = [];
  let failures = 0;
  const errors = {};
  const begin = now();
  const pending = [];
  for (let i = 0; i < specs.length; i++) {
    const delay = begin + (i / rate) * 1000 - now();
    if (delay > 1) await sleep(delay);
    const [base, userId] = specs[i];
    const started = now();
    pending.push(
      openSocket(base, tokens[userId], handlersFor ? handlersFor(i) : null).then(
        (socket) => {
          sockets[i] = socket;
          const ms = now() - started;
          latencies.push(ms);
          timeline.push([round((started - begin) / 1000, 2), round(ms, 1)]);
        },
        (err) => {
          failures += 1;
          errors[err.message] = (errors[err.message] || 0) + 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  const slowest = timeline.sort((a, b) => b[1] - a[1]).slice(0, 15);
  return { sockets, latencies, failures, errors, slowest, seconds: (now() - begin) / 1000 };
}

function closeAll(sockets) {
  for (const s of sockets) if (s) s.disconnect();
}

async function fanout(config) {
  const tickets = config.tickets;
  const bases = config.bases;
  const perTicket = tickets[0].participants.length;
  const withClientId = config.client_id !== false;
  let messages = new Map(); // content -> {sent, ticket, got: Uint8Array(perTicket), remaining}
  let stepLatencies = [];
  const counters = { delivered: 0, acks: 0, errors: 0, duplicates: 0, unexpected: 0, seqBreaks: 0 };
  const totals = { sent: 0, acks: 0, error_acks: 0, deliveries: 0, duplicate_deliveries: 0, missing_deliveries: 0, unexpected_deliveries: 0, undelivered_messages: 0, seq_not_consecutive: 0 };
  const ackErrorCodes = {};
  const specs = [];
  tickets.forEach((t) => t.participants.forEach((p, k) => specs.push([bases[k % bases.length], p])));
  const lastSeq = new Float64Array(specs.length); // per socket: the seq of its ticket's last newMessage

  const handlersFor = (i) => {
    const ticket = Math.floor(i / perTicket);
    const slot = i % perTicket;
    return {
      newMessage: (data) => {
        const at = now();
        counters.delivered += 1;
        const seq = data.message.seq;
        if (seq !== lastSeq[i] + 1) counters.seqBreaks += 1;
        lastSeq[i] = seq;
        const entry = messages.get(data.message.content);
        if (entry === undefined || entry.ticket !== ticket) {
          counters.unexpected += 1; // not sent in this step, or to another ticket
          return;
        }
        if (entry.got[slot]) {
          counters.duplicates += 1;
          return;
        }
        entry.got[slot] = 1;
        entry.remaining -= 1;
        if (entry.remaining === 0) stepLatencies.push(at - entry.sent);
      },
    };
  };

  const opened = await openMany(specs, config.connect_rate || 500, config.tokens, handlersFor);
  if (opened.failures) {
    closeAll(opened.sockets);
    return { error: `${opened.failures} connections failed`, connect_errors: opened.errors };
  }
  const sockets = opened.sockets;
  const meter = new CpuMeter(config.server_pids, config.postgres_data_dir || null);
  // This process's own event-loop lag: if it stalls, latencies measure the generator, not the server.
  let lags = [];
  let watching = true;
  (async () => {
    while (watching) {
      const started = now();
      await sleep(10);
      lags.push(now() - started - 10);
    }
  })();

  const onAck = (ack) => {
    counters.acks += 1;
    if (!ack || !ack.ok) {
      counters.errors += 1;
      const code = (ack && ack.error && ack.error.code) || "no_ack_body";
      ackErrorCodes[code] = (ackErrorCodes[code] || 0) + 1;
    }
  };

  let ids = 0;
  const steps = [];
  for (const rate of config.rates) {
    stepLatencies = [];
    lags = [];
    messages = new Map();
    Object.assign(counters, { delivered: 0, acks: 0, errors: 0, duplicates: 0, unexpected: 0, seqBreaks: 0 });
    meter.lap();
    const duration = config.step_seconds * 1000;
    const begin = now();
    let sent = 0;
    let t = 0;
    for (;;) {
      const elapsed = now() - begin;
      if (elapsed >= duration) break;
      const due = Math.floor((rate * elapsed) / 1000) - sent;
      for (let d = 0; d < due; d++) {
        const n = ids++;
        const sender = sockets[t * perTicket + (n % perTicket)];
        const content = `m${n}`;
        const payload = { ticketId: tickets[t].id, content };
        if (withClientId) payload.clientId = crypto.randomUUID();
        messages.set(content, { sent: now(), ticket: t, got: new Uint8Array(perTicket), remaining: perTicket });
        sender.emit("sendMessage", payload, onAck);
        sent += 1;
        t = (t + 1) % tickets.length;
      }
      await sleep(2);
    }
    const sendSeconds = (now() - begin) / 1000;
    const cpu = meter.lap(); // while sending: the steady state at this rate
    await sleep((config.drain_seconds ?? 3) * 1000);
    let undelivered = 0;
    let missing = 0;
    for (const entry of messages.values()) {
      if (entry.remaining > 0) {
        undelivered += 1;
        missing += entry.remaining;
      }
    }
    const stats = percentiles(stepLatencies);
    const { server_cpu_seconds: serverCpuSeconds, ...cores } = cpu;
    steps.push({
      target_rate: rate,
      sent_rate: round(sent / sendSeconds, 1),
      completed: stepLatencies.length,
      undelivered_messages: undelivered,
      acks: counters.acks,
      error_acks: counters.errors,
      latency_ms: stats,
      ...cores,
      server_rss_mb: config.server_pids.map(rssMb),
      generator_loop_lag_ms: percentiles(lags),
      sent,
      send_seconds: round(sendSeconds, 3),
      server_cpu_seconds: serverCpuSeconds,
      deliveries: counters.delivered,
      missing_deliveries: missing,
      duplicate_deliveries: counters.duplicates,
      unexpected_deliveries: counters.unexpected,
      seq_not_consecutive: counters.seqBreaks,
    });
    process.stderr.write(JSON.stringify(steps[steps.length - 1]) + "\n");
    totals.sent += sent;
    totals.acks += counters.acks;
    totals.error_acks += counters.errors;
    totals.deliveries += counters.delivered;
    totals.duplicate_deliveries += counters.duplicates;
    totals.missing_deliveries += missing;
    totals.unexpected_deliveries += counters.unexpected;
    totals.undelivered_messages += undelivered;
    totals.seq_not_consecutive += counters.seqBreaks;
    // Stop once the server is saturated (half the messages late, or messages lost), as realtime_load.py.
    if ((stats.p50 ?? 1e9) > (config.stop_above_p50_ms ?? 200) || undelivered > sent * 0.05) break;
  }
  watching = false;
  closeAll(sockets);
  const exact =
    totals.acks === totals.sent &&
    totals.error_acks === 0 &&
    totals.missing_deliveries === 0 &&
    totals.duplicate_deliveries === 0 &&
    totals.unexpected_deliveries === 0 &&
    totals.deliveries === totals.sent * perTicket;
  return {
    connections: specs.length,
    connect_ms: percentiles(opened.latencies),
    steps,
    delivery_check: { ...totals, expected_deliveries: totals.sent * perTicket, ack_error_codes: ackErrorCodes, nothing_lost_or_doubled: exact },
  };
}

async function idle(config) {
  const serverPid = config.server_pids[0];
  const rssBefore = rssMb(serverPid);
  const specs = config.users.map((u) => [config.bases[0], u]);
  const opened = await openMany(specs, config.connect_rate, config.tokens, null);
  await sleep((config.hold_seconds ?? 30) * 1000);
  const alive = opened.sockets.filter((s) => s && s.connected).length;
  const connected = rssMb(serverPid);
  const result = {
    connections: specs.length,
    connected: opened.latencies.length,
    failed: opened.failures,
    still_connected_after_hold: alive,
    connect_rate_target: config.connect_rate,
    connect_rate_achieved: round(specs.length / opened.seconds, 1),
    connect_ms: percentiles(opened.latencies),
    slowest_connects_at_s_ms: opened.slowest,
    server_rss_mb_before: rssBefore,
    server_rss_mb_connected: connected,
    server_kb_per_connection: round(((connected - rssBefore) * 1024) / Math.max(1, alive), 1),
    generator_rss_mb: rssMb(process.pid),
  };
  if (opened.failures) result.connect_errors = opened.errors;
  closeAll(opened.sockets);
  return result;
}

// Sockets that keep connecting and leaving (the soak, bench/soak.py): `sockets` slots, each opening a
// socket as a random user, holding it stay_min..stay_max seconds, closing it and opening the next, for
// `seconds`. Every second the counts are written to `status_path` for the soak's sampler.
async function churn(config) {
  const counts = { connects: 0, connect_errors: 0, connected: 0 };
  const errors = {};
  const stopAt = now() + config.seconds * 1000;
  const base = config.bases[0];
  const writeStatus = () => fs.writeFileSync(config.status_path, JSON.stringify(counts));
  const reporter = setInterval(writeStatus, 1000);
  const slot = async () => {
    await sleep(Math.random() * (config.ramp_seconds ?? 10) * 1000);
    while (now() < stopAt) {
      const user = config.users[Math.floor(Math.random() * config.users.length)];
      let socket;
      try {
        socket = await openSocket(base, config.tokens[user], null);
      } catch (err) {
        counts.connect_errors += 1;
        errors[err.message] = (errors[err.message] || 0) + 1;
        await sleep(1000);
        continue;
      }
      counts.connects += 1;
      counts.connected += 1;
      const stay = (config.stay_min + Math.random() * (config.stay_max - config.stay_min)) * 1000;
      await sleep(Math.max(0, Math.min(stay, stopAt - now())));
      counts.connected -= 1;
      socket.disconnect();
    }
  };
  await Promise.all(Array.from({ length: config.sockets }, slot));
  clearInterval(reporter);
  writeStatus();
  return { ...counts, connect_error_messages: errors, generator_rss_mb: rssMb(process.pid) };
}

async function main() {
  const [mode, configPath] = process.argv.slice(2);
  const scenario = { fanout, idle, churn }[mode];
  if (!scenario || !configPath) {
    process.stderr.write("usage: node generator.js fanout|idle|churn CONFIG.json\n");
    process.exit(2);
  }
  const config = JSON.parse(fs.readFileSync(configPath, "utf8"));
  const result = await scenario(config);
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
