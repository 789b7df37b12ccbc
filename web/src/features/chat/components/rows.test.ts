// Day separators, the "New messages" divider, grouping by sender, and where "Seen by" goes.
import { describe, expect, it } from "vitest";
import type { Message, Participant } from "@/lib/api/client";
import { buildRows, delivery, seenBy } from "./rows";

const at = (day: number, minute: number) => new Date(2026, 0, day, 10, minute).toISOString();
function msg(seq: number, senderId: string | null, createdAt: string, type: Message["type"] = "Text"): Message {
  return { id: `m${seq}`, ticketId: "t", seq, senderId, type, content: "x", attachment: null, replyToId: null, clientId: null, createdAt, editedAt: null, deletedAt: null, reactions: {} } as Message;
}

describe("rows", () => {
  it("separates days, groups consecutive messages of one sender and places the unread divider", () => {
    const rows = buildRows(
      [msg(1, "a", at(1, 0)), msg(2, "a", at(1, 1)), msg(3, "b", at(1, 2)), msg(4, "b", at(2, 0)), msg(5, null, at(2, 1), "System")],
      [],
      3,
    );
    expect(rows.map((r) => (r.kind === "msg" ? `${r.message.seq}${r.groupStart ? "*" : ""}` : r.kind))).toEqual([
      "day", "1*", "2", "unread", "3*", "day", "4*", "5*",
    ]);
  });

  it("puts Seen by under the latest message another participant has read", () => {
    const parts = [
      { userId: "me", name: "Me", lastReadSeq: 3 },
      { userId: "bob", name: "Bob", lastReadSeq: 2 },
      { userId: "cy", name: "Cy", lastReadSeq: 3 },
    ] as Participant[];
    const messages = [msg(1, "me", at(1, 0)), msg(2, "me", at(1, 1)), msg(3, "me", at(1, 2))];
    expect(seenBy(messages, parts, "me")).toEqual({ messageId: "m3", names: ["Cy"] });
  });

  it("marks own messages read up to the furthest read mark of someone else, and finds the latest own one", () => {
    const parts = [
      { userId: "me", name: "Me", lastReadSeq: 4 },
      { userId: "bob", name: "Bob", lastReadSeq: 2 },
    ] as Participant[];
    const messages = [msg(1, "me", at(1, 0)), msg(2, "me", at(1, 1)), msg(3, "bob", at(1, 2)), msg(4, "me", at(1, 3))];
    expect(delivery(messages, parts, "me")).toEqual({ readSeq: 2, lastOwnId: "m4" });
    expect(delivery([msg(1, "bob", at(1, 0))], parts, "me")).toEqual({ readSeq: 2, lastOwnId: null });
  });
});
