// A full exchange through the official socket.io-client: refused connect, join, typing, send, receive,
// read receipt, and an error event. Reads BASE_URL, TOKEN_A, TOKEN_B, TICKET from the environment and
// prints one JSON object with everything it observed; the Python test makes the assertions.
import { io } from "socket.io-client";

const { BASE_URL, TOKEN_A, TOKEN_B, TICKET } = process.env;
const result = {};

function once(socket, event, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
    socket.once(event, (data) => {
      clearTimeout(timer);
      resolve(data);
    });
  });
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
  result.join = await bob.timeout(5000).emitWithAck("joinTicket", TICKET);
  result.messagesEvent = await messagesEvent;

  const typing = once(bob, "userTyping");
  result.typingAck = await alice.timeout(5000).emitWithAck("typing", { ticketId: TICKET, isTyping: true });
  result.userTyping = await typing;

  const bobReceives = once(bob, "newMessage");
  const aliceReceives = once(alice, "newMessage");
  result.sendAck = await alice.timeout(5000).emitWithAck("sendMessage", {
    ticketId: TICKET, content: "Hello from socket.io-client", clientId: "js-1",
  });
  result.bobNewMessage = await bobReceives;
  result.aliceNewMessage = await aliceReceives;
  // Sending ends the typing indicator.
  result.typingStopped = await once(bob, "userTyping");

  const read = once(alice, "messagesRead");
  result.readAck = await bob.timeout(5000).emitWithAck("markAsRead", { ticketId: TICKET });
  result.messagesRead = await read;

  const error = once(bob, "error");
  bob.emit("sendMessage", { ticketId: TICKET, content: "" });
  result.errorEvent = await error;

  result.syncAck = await bob.timeout(5000).emitWithAck("sync", { ticketId: TICKET, afterSeq: 0 });

  alice.disconnect();
  bob.disconnect();
  result.ok = true;
} catch (err) {
  result.ok = false;
  result.failure = String(err && err.stack ? err.stack : err);
}
process.stdout.write(JSON.stringify(result) + "\n");
process.exit(0);
