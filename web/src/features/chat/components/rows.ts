// Turns the thread into the rows the list draws: day separators, the "New messages" divider, grouped
// messages and pending sends, plus where "Seen by" goes.
import type { Message, Participant } from "@/lib/api/client";
import type { PendingMessage } from "@/lib/realtime/threadState";

export type Row =
  | { key: string; kind: "day"; label: string }
  | { key: string; kind: "unread" }
  | { key: string; kind: "msg"; message: Message; groupStart: boolean }
  | { key: string; kind: "pending"; pending: PendingMessage };

const GROUP_MS = 5 * 60_000;

export function dayLabel(date: Date, now = new Date()): string {
  const day = new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  if (day === today) return "Today";
  if (today - day === 86_400_000) return "Yesterday";
  return date.toLocaleDateString([], {
    weekday: "long",
    month: "long",
    day: "numeric",
    year: date.getFullYear() === now.getFullYear() ? undefined : "numeric",
  });
}

export function buildRows(messages: Message[], pending: PendingMessage[], unreadFromSeq: number | null): Row[] {
  const rows: Row[] = [];
  let lastDay = "";
  let prev: Message | null = null;
  for (const m of messages) {
    const d = new Date(m.createdAt);
    const dayKey = d.toDateString();
    let newDay = false;
    if (dayKey !== lastDay) {
      rows.push({ key: `day-${dayKey}`, kind: "day", label: dayLabel(d) });
      lastDay = dayKey;
      newDay = true;
    }
    let divider = false;
    if (unreadFromSeq !== null && m.seq === unreadFromSeq) {
      rows.push({ key: "unread", kind: "unread" });
      divider = true;
    }
    const groupStart =
      newDay ||
      divider ||
      !prev ||
      m.type === "System" ||
      prev.type === "System" ||
      prev.senderId !== m.senderId ||
      d.getTime() - new Date(prev.createdAt).getTime() > GROUP_MS;
    rows.push({ key: m.id, kind: "msg", message: m, groupStart });
    prev = m;
  }
  for (const p of pending) rows.push({ key: `p-${p.clientId}`, kind: "pending", pending: p });
  return rows;
}

/** The latest message someone else has read, and who: "Seen by" goes under it. */
export function seenBy(messages: Message[], participants: Participant[], myId: string): { messageId: string; names: string[] } | null {
  const others = participants.filter((p) => p.userId !== myId && p.lastReadSeq > 0);
  if (!others.length) return null;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.type === "System" || m.deletedAt) continue;
    const readers = others.filter((p) => p.lastReadSeq >= m.seq && p.userId !== m.senderId);
    if (readers.length) return { messageId: m.id, names: readers.map((p) => p.name) };
  }
  return null;
}

/** Delivery of the caller's own messages: each is "Read" once someone else's read mark reaches it, else
 * "Sent" (pending sends say "Sending…" themselves); `lastOwnId` is where the status is shown visibly. */
export function delivery(messages: Message[], participants: Participant[], myId: string): { readSeq: number; lastOwnId: string | null } {
  const readSeq = participants.reduce((max, p) => (p.userId === myId ? max : Math.max(max, p.lastReadSeq)), 0);
  let lastOwnId: string | null = null;
  for (let i = messages.length - 1; i >= 0 && !lastOwnId; i--) {
    const m = messages[i];
    if (m.senderId === myId && m.type !== "System" && !m.deletedAt) lastOwnId = m.id;
  }
  return { readSeq, lastOwnId };
}
