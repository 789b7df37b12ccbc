// A lean Node.js reference for bench/realtime_official.py: the chat path of `ticket-comms serve`
// (handshake auth, ticket rooms, sendMessage -> persist -> newMessage + ack) and nothing else, on the
// same database. express + socket.io v4 with default options (no per-message compression) + a pg Pool.
//
//   DATABASE_URL=postgresql://... JWT_SECRET=... PORT=8123 node reference_server.js [port]
//
// Prints `{"listening": PORT}` on stdout once it serves; GET /healthz answers 200.
"use strict";

const crypto = require("node:crypto");
const http = require("node:http");
const express = require("express");
const { Server } = require("socket.io");
const { Pool } = require("pg");

const SECRET = process.env.JWT_SECRET;
if (!SECRET) throw new Error("JWT_SECRET is required");
const MAX_CONTENT = 10_000;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const pool = new Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_SIZE || 20), // our server's default pool size
});

// HS256 only (the header never chooses the algorithm); `exp` and `sub` required, as ours.
function verify(token) {
  if (typeof token !== "string") return null;
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const expected = crypto.createHmac("sha256", SECRET).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], "base64url");
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  let header, claims;
  try {
    header = JSON.parse(Buffer.from(parts[0], "base64url").toString());
    claims = JSON.parse(Buffer.from(parts[1], "base64url").toString());
  } catch {
    return null;
  }
  if (header.alg !== "HS256") return null;
  if (typeof claims.exp !== "number" || claims.exp <= Date.now() / 1000) return null;
  if (typeof claims.sub !== "string" || !claims.sub || claims.sub.length > 255) return null;
  return claims;
}

// As Python's isoformat() of a UTC timestamp (our createdAt).
const CREATED_AT = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00' AS created_at`;

// Ours takes the seq and inserts in one statement (chat/service.py INSERT_MESSAGE), participant check
// included: the same here, without ours' read-mark move and digest/push scheduling.
const INSERT_MESSAGE = `
WITH t AS (
  UPDATE tickets SET last_seq = last_seq + 1, last_activity_at = now()
  WHERE id = $1 AND EXISTS (SELECT 1 FROM ticket_participants p WHERE p.ticket_id = $1 AND p.user_id = $2)
  RETURNING id, last_seq
)
INSERT INTO messages (ticket_id, seq, sender_id, type, content, client_id)
SELECT t.id, t.last_seq, $2, 'Text', $3, $4 FROM t
RETURNING id, seq, ${CREATED_AT}`;

const app = express();
app.get("/healthz", (_req, res) => res.json({ status: "ok" }));
const server = http.createServer(app);
const io = new Server(server); // defaults: path /socket.io, pingInterval 25 s, pingTimeout 20 s

// The handshake: the token, then the user's tickets, both before the connect ack (as ours, whose
// connect handler runs before it): a client that is connected is already in its rooms.
io.use((socket, next) => {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  const claims = verify(token);
  if (!claims) {
    const err = new Error("Invalid or missing token.");
    err.data = { code: "unauthenticated", message: err.message };
    return next(err);
  }
  socket.data.userId = claims.sub;
  pool
    .query({
      name: "tickets_of",
      text: "SELECT ticket_id FROM ticket_participants WHERE user_id = $1",
      values: [claims.sub],
    })
    .then(
      ({ rows }) => {
        socket.data.rooms = rows.map((r) => `ticket:${r.ticket_id}`);
        next();
      },
      (exc) => {
        console.error("connect failed", exc);
        const err = new Error("Something went wrong.");
        err.data = { code: "internal_error", message: err.message };
        next(err);
      },
    );
});

// Runs in the same tick as the connect ack is queued: no client event is handled before the joins.
io.on("connection", (socket) => {
  const userId = socket.data.userId;
  socket.join([`user:${userId}`, ...socket.data.rooms]);
  socket.data.rooms = null;
  socket.on("sendMessage", (payload, ack) => {
    sendMessage(socket, userId, payload).then(
      (reply) => typeof ack === "function" && ack(reply),
      (exc) => {
        console.error("sendMessage failed", exc);
        const error = { code: "internal_error", message: "Something went wrong." };
        if (typeof ack === "function") ack({ ok: false, error });
        else socket.emit("error", error);
      },
    );
  });
});

async function sendMessage(socket, userId, payload) {
  const fail = (code, message) => ({ ok: false, error: { code, message } });
  if (!payload || typeof payload !== "object") return fail("bad_payload", "The payload must be an object.");
  const { ticketId, content, clientId } = payload;
  if (typeof ticketId !== "string" || !UUID_RE.test(ticketId)) return fail("validation_failed", "The payload is not valid.");
  if (typeof content !== "string" || !content.trim()) return fail("content_empty", "content must not be empty");
  if (content.length > MAX_CONTENT) return fail("content_too_long", `content must be at most ${MAX_CONTENT} characters`);
  if (clientId != null && typeof clientId !== "string") return fail("validation_failed", "The payload is not valid.");
  let rows;
  try {
    ({ rows } = await pool.query({
      name: "insert_message",
      text: INSERT_MESSAGE,
      values: [ticketId, userId, content, clientId ?? null],
    }));
  } catch (exc) {
    // A repeated clientId from the same sender: answer with the first message, as ours, and emit nothing.
    if (exc.code !== "23505" || clientId == null) throw exc;
    const first = await pool.query({
      name: "message_by_client_id",
      text: `SELECT id, seq, content, ${CREATED_AT} FROM messages WHERE sender_id = $1 AND ticket_id = $2 AND client_id = $3`,
      values: [userId, ticketId, clientId],
    });
    if (first.rows.length === 0) throw exc;
    return { ok: true, message: messageOut(first.rows[0], ticketId, userId, clientId) };
  }
  if (rows.length === 0) return fail("ticket_not_found", "Ticket not found.");
  const message = messageOut({ ...rows[0], content }, ticketId, userId, clientId);
  io.to(`ticket:${ticketId}`).emit("newMessage", { ticketId, message });
  return { ok: true, message };
}

// The shape of ours (chat/schemas.py message_out) for a Text message.
function messageOut(row, ticketId, userId, clientId) {
  return {
    id: row.id,
    ticketId,
    seq: Number(row.seq),
    senderId: userId,
    type: "Text",
    content: row.content,
    attachment: null,
    replyToId: null,
    clientId: clientId ?? null,
    createdAt: row.created_at,
    editedAt: null,
    deletedAt: null,
    reactions: {},
  };
}

const port = Number(process.argv[2] || process.env.PORT || 0);
server.listen(port, "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});

function stop() {
  io.close();
  pool.end().finally(() => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
