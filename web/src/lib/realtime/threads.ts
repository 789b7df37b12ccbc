// Live conversations: one store per opened ticket, fed by HTTP pages and Socket.IO events. Owns catch-up
// (`sync` after every reconnect and whenever a seq gap shows), dedupe, and the send queue that holds
// messages made offline (kept in localStorage) and sends each once, by clientId, when the socket is back.
import { api, unwrap, type Message } from "@/lib/api/client";
import { getClaims } from "@/lib/auth/session";
import * as socket from "./socket";
import {
  addPending,
  applyMessages,
  applyOlderPage,
  contiguousSeq,
  emptyThread,
  hasGap,
  removePending,
  sendable,
  updatePending,
  type PendingMessage,
  type ThreadState,
} from "./threadState";

const PAGE = 50;
const OUTBOX_KEY = "tc.outbox";

export interface SendInput {
  content: string;
  type?: "Text" | "Image" | "File";
  attachmentId?: string;
  replyToId?: string | null;
  fileName?: string;
  fileSize?: number;
  previewUrl?: string;
}

export class Thread {
  state: ThreadState = emptyThread;
  private listeners = new Set<() => void>();
  private syncing: Promise<void> | null = null;
  private loading: Promise<void> | null = null;
  private olderLoading: Promise<void> | null = null;

  constructor(readonly ticketId: string) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): ThreadState => this.state;

  set(next: ThreadState): void {
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l();
    if (next.pending !== emptyThread.pending) saveOutbox();
  }

  /** Latest page, plus older pages until `untilSeq` (the first unread) is included, at most `maxPages`. */
  load(untilSeq = 0, maxPages = 6): Promise<void> {
    if (this.state.loaded) return Promise.resolve();
    this.loading ??= (async () => {
      let page = await unwrap(
        api.GET("/api/v1/tickets/{ticket_id}/messages", {
          params: { path: { ticket_id: this.ticketId }, query: { limit: PAGE } },
        }),
      );
      let items = page.items;
      let hasMore = page.hasMore;
      for (let i = 1; i < maxPages && hasMore && untilSeq > 0 && items.length && items[0].seq > untilSeq; i++) {
        page = await unwrap(
          api.GET("/api/v1/tickets/{ticket_id}/messages", {
            params: { path: { ticket_id: this.ticketId }, query: { limit: 100, beforeSeq: items[0].seq } },
          }),
        );
        items = [...page.items, ...items];
        hasMore = page.hasMore;
      }
      this.set({ ...applyMessages({ ...this.state, loaded: true }, items), hasOlder: hasMore });
      // Anything that arrived while we were loading is merged above; a reconnect catch-up follows.
      void this.sync();
    })().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  loadOlder(): Promise<void> {
    if (!this.state.hasOlder || !this.state.messages.length) return Promise.resolve();
    this.olderLoading ??= (async () => {
      const page = await unwrap(
        api.GET("/api/v1/tickets/{ticket_id}/messages", {
          params: { path: { ticket_id: this.ticketId }, query: { limit: PAGE, beforeSeq: this.state.messages[0].seq } },
        }),
      );
      this.set(applyOlderPage(this.state, page.items, page.hasMore));
    })().finally(() => {
      this.olderLoading = null;
    });
    return this.olderLoading;
  }

  /** Everything after the last contiguous seq, by socket `sync` (HTTP `afterSeq` when offline). */
  sync(): Promise<void> {
    if (!this.state.loaded) return Promise.resolve();
    this.syncing ??= (async () => {
      for (let round = 0; round < 50; round++) {
        const afterSeq = contiguousSeq(this.state.messages);
        let messages: Message[];
        let hasMore: boolean;
        if (socket.isConnected()) {
          const ack = await socket.request<{ messages: Message[]; hasMore: boolean }>("sync", {
            ticketId: this.ticketId,
            afterSeq,
            limit: 200,
          });
          if (!ack.ok) return;
          ({ messages, hasMore } = ack);
        } else {
          const page = await unwrap(
            api.GET("/api/v1/tickets/{ticket_id}/messages", {
              params: { path: { ticket_id: this.ticketId }, query: { limit: 200, afterSeq } },
            }),
          );
          ({ items: messages, hasMore } = page);
        }
        this.set(applyMessages(this.state, messages));
        if (!hasMore) return;
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        this.syncing = null;
      });
    return this.syncing;
  }

  receive(message: Message): void {
    const gap = hasGap(this.state, message);
    if (!this.state.loaded && !this.loading) return;
    this.set(applyMessages(this.state, [message]));
    if (gap) void this.sync();
  }

  update(message: Message): void {
    if (this.state.messages.some((m) => m.id === message.id)) this.set(applyMessages(this.state, [message]));
  }

  /** Shows the message at once (pending) and queues it; it goes out now if connected, else on reconnect. */
  send(input: SendInput, options: { hold?: boolean } = {}): string {
    const clientId = crypto.randomUUID();
    const pending: PendingMessage = {
      clientId,
      ticketId: this.ticketId,
      senderId: getClaims()?.sub ?? "",
      content: input.content,
      type: input.type ?? "Text",
      attachmentId: input.attachmentId,
      replyToId: input.replyToId ?? null,
      status: options.hold ? "uploading" : "queued",
      progress: options.hold ? 0 : undefined,
      fileName: input.fileName,
      fileSize: input.fileSize,
      previewUrl: input.previewUrl,
      createdAt: new Date().toISOString(),
    };
    this.set(addPending(this.state, pending));
    if (!options.hold) flushSoon();
    return clientId;
  }

  patchPending(clientId: string, patch: Partial<PendingMessage>): void {
    this.set(updatePending(this.state, clientId, patch));
    if (patch.status === "queued") flushSoon();
  }

  retry(clientId: string): void {
    this.patchPending(clientId, { status: "queued", error: undefined });
  }

  discard(clientId: string): void {
    this.set(removePending(this.state, clientId));
  }

  async flush(): Promise<void> {
    for (const p of sendable(this.state)) {
      if (!socket.isConnected()) return;
      this.set(updatePending(this.state, p.clientId, { status: "sending" }));
      try {
        const ack = await socket.request<{ message: Message }>("sendMessage", {
          ticketId: p.ticketId,
          content: p.content,
          type: p.type,
          attachmentId: p.attachmentId,
          replyToId: p.replyToId ?? undefined,
          clientId: p.clientId,
        });
        if (ack.ok) this.set(applyMessages(this.state, [ack.message]));
        else this.set(updatePending(this.state, p.clientId, { status: "failed", error: ack.error.message }));
      } catch {
        // No answer: it may or may not have been stored. Queue it again; the same clientId makes the
        // server answer with the first copy instead of creating a second one.
        this.set(updatePending(this.state, p.clientId, { status: "queued" }));
        return;
      }
    }
  }
}

const threads = new Map<string, Thread>();

export function getThread(ticketId: string): Thread {
  let thread = threads.get(ticketId);
  if (!thread) {
    thread = new Thread(ticketId);
    threads.set(ticketId, thread);
    restoreOutbox(thread);
  }
  return thread;
}

let flushTimer: ReturnType<typeof setTimeout> | null = null;
function flushSoon(): void {
  if (flushTimer) return;
  flushTimer = setTimeout(() => {
    flushTimer = null;
    for (const t of threads.values()) void t.flush();
  }, 0);
}

function saveOutbox(): void {
  try {
    const all: PendingMessage[] = [];
    for (const t of threads.values())
      for (const p of t.state.pending)
        if (p.type === "Text" || p.attachmentId) all.push({ ...p, previewUrl: undefined, status: p.status === "sending" ? "queued" : p.status });
    localStorage.setItem(OUTBOX_KEY, JSON.stringify({ user: getClaims()?.sub, items: all }));
  } catch {
    /* storage full or blocked: the queue still lives in memory */
  }
}

function restoreOutbox(thread: Thread): void {
  try {
    const saved = JSON.parse(localStorage.getItem(OUTBOX_KEY) ?? "null") as { user?: string; items: PendingMessage[] } | null;
    if (!saved || saved.user !== getClaims()?.sub) return;
    let state = thread.state;
    for (const p of saved.items) if (p.ticketId === thread.ticketId && p.status !== "uploading") state = addPending(state, p);
    thread.set(state);
    flushSoon();
  } catch {
    /* a corrupt outbox is dropped */
  }
}

let wired = false;
/** Connects the stores to the socket once per tab. */
export function wireThreads(): void {
  if (wired) return;
  wired = true;
  socket.on<{ ticketId: string; message: Message }>("newMessage", ({ ticketId, message }) =>
    threads.get(ticketId)?.receive(message),
  );
  socket.on<{ ticketId: string; message: Message }>("messageUpdated", ({ ticketId, message }) =>
    threads.get(ticketId)?.update(message),
  );
  socket.onConnected(() => {
    for (const t of threads.values()) void t.sync().then(() => t.flush());
  });
}

export function resetThreads(): void {
  threads.clear();
}
