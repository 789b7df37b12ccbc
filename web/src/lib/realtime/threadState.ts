// Pure state of one ticket's conversation: confirmed messages ordered by seq, deduped by id and clientId,
// gap detection, and the pending (optimistic) sends. No I/O here, so it is unit-tested on its own.
import type { Message } from "@/lib/api/client";

export type PendingStatus = "uploading" | "queued" | "sending" | "failed";

export interface PendingMessage {
  clientId: string;
  ticketId: string;
  senderId: string;
  content: string;
  type: "Text" | "Image" | "File";
  attachmentId?: string;
  replyToId?: string | null;
  status: PendingStatus;
  error?: string;
  /** 0..1 while the attachment uploads. */
  progress?: number;
  fileName?: string;
  fileSize?: number;
  previewUrl?: string;
  createdAt: string;
}

export interface ThreadState {
  /** Confirmed messages, ascending `seq`, one per id. */
  messages: Message[];
  pending: PendingMessage[];
  /** Older pages exist before messages[0]. */
  hasOlder: boolean;
  loaded: boolean;
}

export const emptyThread: ThreadState = { messages: [], pending: [], hasOlder: false, loaded: false };

/** Merges server copies into the list: a known id is replaced (edits, deletions, reactions), order is by seq. */
export function mergeMessages(messages: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return messages;
  const byId = new Map(messages.map((m) => [m.id, m]));
  let appendOnly = true;
  const last = messages.length ? messages[messages.length - 1].seq : -Infinity;
  let top = last;
  for (const m of incoming) {
    if (byId.has(m.id) || m.seq <= top) appendOnly = false;
    else top = m.seq;
    byId.set(m.id, m);
  }
  if (appendOnly) return [...messages, ...[...incoming].sort((a, b) => a.seq - b.seq)];
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

/** The highest seq reached from the first loaded message without a hole (what `sync` continues from). */
export function contiguousSeq(messages: Message[]): number {
  if (messages.length === 0) return 0;
  let seq = messages[0].seq;
  for (let i = 1; i < messages.length; i++) {
    if (messages[i].seq !== seq + 1) break;
    seq = messages[i].seq;
  }
  return seq;
}

/** True when a live message skips numbers after what we hold: some messages were missed. */
export function hasGap(state: ThreadState, incoming: Message): boolean {
  if (!state.loaded || state.messages.length === 0) return false;
  return incoming.seq > contiguousSeq(state.messages) + 1;
}

/** Adds confirmed messages, and retires the pending sends they confirm (matched by clientId). */
export function applyMessages(state: ThreadState, incoming: Message[]): ThreadState {
  if (incoming.length === 0) return state;
  const confirmed = new Set(incoming.map((m) => m.clientId).filter(Boolean));
  const pending = confirmed.size ? state.pending.filter((p) => !confirmed.has(p.clientId)) : state.pending;
  return { ...state, messages: mergeMessages(state.messages, incoming), pending };
}

/** Older page prepended (from `beforeSeq`). */
export function applyOlderPage(state: ThreadState, page: Message[], hasMore: boolean): ThreadState {
  return { ...applyMessages(state, page), hasOlder: hasMore };
}

export function addPending(state: ThreadState, message: PendingMessage): ThreadState {
  if (state.pending.some((p) => p.clientId === message.clientId)) return state;
  if (state.messages.some((m) => m.clientId === message.clientId && m.senderId === message.senderId)) return state;
  return { ...state, pending: [...state.pending, message] };
}

export function updatePending(state: ThreadState, clientId: string, patch: Partial<PendingMessage>): ThreadState {
  if (!state.pending.some((p) => p.clientId === clientId)) return state;
  return { ...state, pending: state.pending.map((p) => (p.clientId === clientId ? { ...p, ...patch } : p)) };
}

export function removePending(state: ThreadState, clientId: string): ThreadState {
  return { ...state, pending: state.pending.filter((p) => p.clientId !== clientId) };
}

/** The pending sends that should go out now, oldest first (a failed one waits for Retry). */
export function sendable(state: ThreadState): PendingMessage[] {
  return state.pending.filter((p) => p.status === "queued");
}
