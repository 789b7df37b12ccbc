// The one Socket.IO connection of the tab: connects with the current token (re-read on every reconnect),
// exposes its status, and lets the rest of the app listen and emit with acknowledgements.
import { io, type Socket } from "socket.io-client";
import { getToken, markExpired } from "@/lib/auth/session";

export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "offline";

type Handler = (payload: never) => void;

let socket: Socket | null = null;
let status: ConnectionStatus = "connecting";
let everConnected = false;
const statusListeners = new Set<() => void>();
const handlers = new Map<string, Set<Handler>>();
const connectListeners = new Set<() => void>();

const SERVER_EVENTS = ["newMessage", "messageUpdated", "messagesRead", "userTyping", "ticketUpdate", "notification"];

function setStatus(next: ConnectionStatus): void {
  if (status === next) return;
  status = next;
  for (const l of statusListeners) l();
}

export function connectionStatus(): ConnectionStatus {
  return status;
}

/** True once the socket has connected at least once (before that, a slow start is not "Reconnecting"). */
export function hasEverConnected(): boolean {
  return everConnected;
}

export function subscribeStatus(listener: () => void): () => void {
  statusListeners.add(listener);
  return () => statusListeners.delete(listener);
}

/** Runs after every (re)connection: the place for `sync` and flushing the send queue. */
export function onConnected(listener: () => void): () => void {
  connectListeners.add(listener);
  if (socket?.connected) listener();
  return () => connectListeners.delete(listener);
}

export function on<T>(event: string, handler: (payload: T) => void): () => void {
  let set = handlers.get(event);
  if (!set) handlers.set(event, (set = new Set()));
  set.add(handler as Handler);
  return () => set!.delete(handler as Handler);
}

function dispatch(event: string, payload: unknown): void {
  for (const h of handlers.get(event) ?? []) (h as (p: unknown) => void)(payload);
}

export function isConnected(): boolean {
  return !!socket?.connected;
}

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: { code: string; message: string } };

/** Emits with an acknowledgement; rejects with `timeout`/`disconnected` when the server cannot answer. */
export function request<T>(event: string, payload: unknown, timeoutMs = 10_000): Promise<Ack<T>> {
  return new Promise((resolve, reject) => {
    if (!socket?.connected) {
      reject(new Error("disconnected"));
      return;
    }
    socket.timeout(timeoutMs).emit(event, payload, (err: Error | null, ack: Ack<T>) => {
      if (err) reject(new Error("timeout"));
      else resolve(ack);
    });
  });
}

/** Fire-and-forget (typing): dropped while disconnected. */
export function emit(event: string, payload: unknown): void {
  if (socket?.connected) socket.emit(event, payload);
}

export function startSocket(): void {
  if (socket) return;
  setStatus(navigator.onLine ? "connecting" : "offline");
  socket = io({
    path: "/socket.io",
    transports: ["websocket"],
    // A callback, so every reconnection presents the token the tab holds now.
    auth: (cb) => cb({ token: getToken() }),
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });
  socket.on("connect", () => {
    everConnected = true;
    setStatus("connected");
    for (const l of connectListeners) l();
  });
  socket.on("disconnect", (reason) => {
    setStatus(navigator.onLine ? "reconnecting" : "offline");
    // The server closed us on purpose (token no longer valid, access revoked): try again with the token
    // we now hold; a refused handshake then shows up as connect_error.
    if (reason === "io server disconnect") socket?.connect();
  });
  socket.on("connect_error", (err: Error & { data?: { code?: string } }) => {
    const text = `${err.message} ${JSON.stringify(err.data ?? {})}`.toLowerCase();
    if (text.includes("unauthenticated") || text.includes("token")) {
      if (getToken()) markExpired();
    }
    setStatus(navigator.onLine ? (everConnected ? "reconnecting" : "connecting") : "offline");
  });
  for (const event of SERVER_EVENTS) socket.on(event, (payload: unknown) => dispatch(event, payload));
  window.addEventListener("offline", () => setStatus("offline"));
  window.addEventListener("online", () => {
    if (!socket?.connected) {
      setStatus("reconnecting");
      socket?.connect();
    }
  });
}

export function stopSocket(): void {
  socket?.removeAllListeners();
  socket?.disconnect();
  socket = null;
  everConnected = false;
  setStatus("connecting");
}
