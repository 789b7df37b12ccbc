// Message store logic: ordering by seq, gap detection, dedupe by id and clientId, the pending queue.
import { describe, expect, it } from "vitest";
import type { Message } from "@/lib/api/client";
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

function msg(seq: number, extra: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    ticketId: "t",
    seq,
    senderId: "alice",
    type: "Text",
    content: `hello ${seq}`,
    attachment: null,
    replyToId: null,
    clientId: null,
    createdAt: new Date(2026, 0, 1, 10, seq).toISOString(),
    editedAt: null,
    deletedAt: null,
    reactions: {},
    ...extra,
  } as Message;
}

function pending(clientId: string, status: PendingMessage["status"] = "queued"): PendingMessage {
  return { clientId, ticketId: "t", senderId: "alice", content: "hi", type: "Text", status, createdAt: "" };
}

const loaded = (messages: Message[]): ThreadState => ({ ...emptyThread, loaded: true, messages });

describe("ordering and dedupe", () => {
  it("keeps messages ordered by seq whatever order they arrive in", () => {
    const s = applyMessages(loaded([msg(1), msg(2)]), [msg(5), msg(3), msg(4)]);
    expect(s.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it("never shows a message twice when the same id arrives again (live event, then sync)", () => {
    let s = applyMessages(loaded([msg(1)]), [msg(2)]);
    s = applyMessages(s, [msg(2), msg(3)]);
    expect(s.messages.map((m) => m.id)).toEqual(["m1", "m2", "m3"]);
  });

  it("replaces a message with its newer copy (edit, delete, reaction)", () => {
    const edited = msg(2, { content: "changed", editedAt: "2026-01-01T10:10:00Z" });
    const s = applyMessages(loaded([msg(1), msg(2)]), [edited]);
    expect(s.messages).toHaveLength(2);
    expect(s.messages[1].content).toBe("changed");
  });

  it("prepends an older page in order and records whether more exist", () => {
    const s = applyOlderPage(loaded([msg(51), msg(52)]), [msg(49), msg(50)], true);
    expect(s.messages.map((m) => m.seq)).toEqual([49, 50, 51, 52]);
    expect(s.hasOlder).toBe(true);
  });
});

describe("gap detection", () => {
  it("sees no gap for the next seq", () => {
    expect(hasGap(loaded([msg(1), msg(2)]), msg(3))).toBe(false);
  });

  it("sees a gap when a live message skips numbers", () => {
    expect(hasGap(loaded([msg(1), msg(2)]), msg(5))).toBe(true);
  });

  it("continues sync from the last contiguous seq, not from the newest held", () => {
    const s = applyMessages(loaded([msg(1), msg(2)]), [msg(5)]);
    expect(contiguousSeq(s.messages)).toBe(2);
    const filled = applyMessages(s, [msg(3), msg(4)]);
    expect(contiguousSeq(filled.messages)).toBe(5);
  });

  it("does not call an unloaded thread gapped", () => {
    expect(hasGap(emptyThread, msg(40))).toBe(false);
  });
});

describe("pending queue", () => {
  it("retires a pending send when the server copy with its clientId arrives", () => {
    let s = addPending(loaded([msg(1)]), pending("c1", "sending"));
    s = applyMessages(s, [msg(2, { clientId: "c1" })]);
    expect(s.pending).toEqual([]);
    expect(s.messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it("does not queue the same clientId twice, nor one already confirmed", () => {
    let s = addPending(loaded([msg(1, { clientId: "done" })]), pending("c1"));
    s = addPending(s, pending("c1"));
    s = addPending(s, pending("done"));
    expect(s.pending.map((p) => p.clientId)).toEqual(["c1"]);
  });

  it("sends queued messages oldest first and holds failed ones for Retry", () => {
    let s = addPending(loaded([]), pending("a"));
    s = addPending(s, pending("b", "failed"));
    s = addPending(s, pending("c"));
    expect(sendable(s).map((p) => p.clientId)).toEqual(["a", "c"]);
    s = updatePending(s, "b", { status: "queued" });
    expect(sendable(s).map((p) => p.clientId)).toEqual(["a", "b", "c"]);
    s = removePending(s, "a");
    expect(s.pending.map((p) => p.clientId)).toEqual(["b", "c"]);
  });
});
