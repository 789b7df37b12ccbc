// The exchange of exchange.mjs repeated many times with the official socket.io-client and its default
// transports: every connection starts on HTTP long-polling and upgrades to WebSocket while the live
// events of the exchange are already flowing, which is when a browser could miss one.
//
// Reads BASE_URL, PAIRS (JSON list of {ticket, tokenA, tokenB}: one ticket and two participants per
// concurrent worker), ROUNDS (exchanges per worker) and DEADLINE_MS (no round starts after it, so that a
// machine much slower than expected still finishes in bounded time; the rounds done are reported). Each round connects both users afresh, then at
// once: bob joins, alice types, alice sends, bob marks as read; each live event the other side must
// receive is awaited with a timeout and counted as a miss when it does not come. Prints one JSON object:
// {rounds, misses: {event: count}, failures: [first few descriptions], upgraded: count}.
import { io } from "socket.io-client";

const { BASE_URL, PAIRS, ROUNDS, DEADLINE_MS } = process.env;
const pairs = JSON.parse(PAIRS);
const rounds = Number(ROUNDS);
const deadline = Date.now() + Number(DEADLINE_MS);
// A live event is delivered within milliseconds; the bound only has to survive a loaded machine.
const EVENT_TIMEOUT_MS = 10000;

const misses = { newMessage: 0, userTyping: 0, messagesRead: 0, typingStopped: 0, ack: 0, connect: 0 };
const failures = [];
let done = 0;
let upgraded = 0;

function note(event, round, detail) {
  misses[event] += 1;
  if (failures.length < 10) failures.push(`round ${round}: ${event}: ${detail}`);
}

function once(socket, event, where = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`timed out waiting for ${event}`));
    }, EVENT_TIMEOUT_MS);
    function handler(data) {
      if (!where(data)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(data);
    }
    socket.on(event, handler);
  });
}

function connect(token) {
  const socket = io(BASE_URL, { auth: { token }, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(err));
  });
}

async function expect(event, round, promise) {
  try {
    return await promise;
  } catch (err) {
    note(event, round, String(err));
    return null;
  }
}

async function exchange(pair, worker, round) {
  const label = `${worker}.${round}`;
  let alice;
  let bob;
  try {
    [alice, bob] = await Promise.all([connect(pair.tokenA), connect(pair.tokenB)]);
  } catch (err) {
    note("connect", label, String(err));
    alice?.disconnect();
    bob?.disconnect();
    return;
  }
  const ticketId = pair.ticket;
  const mine = (data) => data && data.ticketId === ticketId;
  try {
    // Everything starts at once, right after the polling handshake: the upgrade races these events.
    const typing = once(bob, "userTyping", (d) => mine(d) && d.isTyping === true);
    const ack = (p) => expect("ack", label, p.then((a) => (a && a.ok ? a : Promise.reject(new Error(JSON.stringify(a))))));
    await ack(bob.timeout(EVENT_TIMEOUT_MS).emitWithAck("joinTicket", ticketId));
    await ack(alice.timeout(EVENT_TIMEOUT_MS).emitWithAck("typing", { ticketId, isTyping: true }));
    await expect("userTyping", label, typing);

    const content = `round ${label}`;
    const bobGets = once(bob, "newMessage", (d) => mine(d) && d.message.content === content);
    const aliceGets = once(alice, "newMessage", (d) => mine(d) && d.message.content === content);
    const stopped = once(bob, "userTyping", (d) => mine(d) && d.isTyping === false);
    const sent = await ack(
      alice.timeout(EVENT_TIMEOUT_MS).emitWithAck("sendMessage", { ticketId, content, clientId: `stress-${label}` }),
    );
    await expect("newMessage", label, bobGets);
    await expect("newMessage", label, aliceGets);
    await expect("typingStopped", label, stopped);

    const seq = sent ? sent.message.seq : null;
    const read = once(alice, "messagesRead", (d) => mine(d) && d.userId !== undefined && d.lastReadSeq === seq);
    await ack(bob.timeout(EVENT_TIMEOUT_MS).emitWithAck("markAsRead", { ticketId, upToSeq: seq }));
    await expect("messagesRead", label, read);
    if (alice.io.engine.transport.name === "websocket" && bob.io.engine.transport.name === "websocket") {
      upgraded += 1;
    }
  } finally {
    alice.disconnect();
    bob.disconnect();
    done += 1;
  }
}

async function worker(pair, index) {
  for (let round = 0; round < rounds && Date.now() < deadline; round++) {
    await exchange(pair, index, round);
  }
}

await Promise.all(pairs.map((pair, index) => worker(pair, index)));
process.stdout.write(JSON.stringify({ rounds: done, misses, failures, upgraded }) + "\n");
process.exit(0);
