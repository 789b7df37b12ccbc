// A full exchange through the official socket.io-client: refused connect, join, typing, send, receive,
// read receipt, and an error event. Reads BASE_URL, TOKEN_A, TOKEN_B, TICKET from the environment and
// prints one JSON object with everything it observed; the Python test makes the assertions.
import { io } from "socket.io-client";

const { BASE_URL, TOKEN_A, TOKEN_B, TICKET } = process.env;
const result = {};

// Listens from the moment it is called: every listener of a step is registered before the action that
// triggers it, since events sent together (newMessage, then userTyping false) can arrive in one read.
function once(socket, event, where = () => true, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`timed out waiting for ${event} ${where.description ?? ""}`.trim()));
    }, timeoutMs);
    function handler(data) {
      if (!where(data)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(data);
    }
    socket.on(event, handler);
  });
}

function typingIs(value) {
  const where = (data) => data && data.isTyping === value;
  where.description = `(isTyping ${value})`;
  return where;
}

function connect(token) {
  const socket = io(BASE_URL, { auth: { token }, reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(err));
  });
}

try {
  try {
    await connect("not-a-token");
    result.refused = null;
  } catch (err) {
    result.refused = { message: err.message, data: err.data };
  }

  const alice = await connect(TOKEN_A);
  const bob = await connect(TOKEN_B);
  result.transport = alice.io.engine.transport.name;

  const messagesEvent = once(bob, "messages");
  result.join = await bob.timeout(10000).emitWithAck("joinTicket", TICKET);
  result.messagesEvent = await messagesEvent;

  const typing = once(bob, "userTyping", typingIs(true));
  result.typingAck = await alice.timeout(10000).emitWithAck("typing", { ticketId: TICKET, isTyping: true });
  result.userTyping = await typing;

  const bobReceives = once(bob, "newMessage");
  const aliceReceives = once(alice, "newMessage");
  // Sending ends the typing indicator: the server sends it to bob right behind newMessage.
  const typingStopped = once(bob, "userTyping", typingIs(false));
  result.sendAck = await alice.timeout(10000).emitWithAck("sendMessage", {
    ticketId: TICKET, content: "Hello from socket.io-client", clientId: "js-1",
  });
  result.bobNewMessage = await bobReceives;
  result.aliceNewMessage = await aliceReceives;
  result.typingStopped = await typingStopped;

  const read = once(alice, "messagesRead");
  result.readAck = await bob.timeout(10000).emitWithAck("markAsRead", { ticketId: TICKET });
  result.messagesRead = await read;

  const error = once(bob, "error");
  bob.emit("sendMessage", { ticketId: TICKET, content: "" });
  result.errorEvent = await error;

  result.syncAck = await bob.timeout(10000).emitWithAck("sync", { ticketId: TICKET, afterSeq: 0 });

  alice.disconnect();
  bob.disconnect();
  result.ok = true;
} catch (err) {
  result.ok = false;
  result.failure = String(err && err.stack ? err.stack : err);
}
process.stdout.write(JSON.stringify(result) + "\n");
process.exit(0);
