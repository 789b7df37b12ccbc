// Who is typing in a ticket (from `userTyping`), and a throttled emitter for the local user's typing.
import { useCallback, useEffect, useRef, useState } from "react";
import * as socket from "@/lib/realtime/socket";

const STALE_MS = 7_000; // the server reports a silent typer after 6 s; this is a safety net

export function useTypingUsers(ticketId: string, myId: string): string[] {
  const [typing, setTyping] = useState<string[]>([]);
  useEffect(() => {
    const timers = new Map<string, ReturnType<typeof setTimeout>>();
    const drop = (userId: string) => {
      clearTimeout(timers.get(userId));
      timers.delete(userId);
      setTyping((list) => list.filter((u) => u !== userId));
    };
    const off = socket.on<{ ticketId: string; userId: string; isTyping: boolean }>("userTyping", (e) => {
      if (e.ticketId !== ticketId || e.userId === myId) return;
      if (!e.isTyping) return drop(e.userId);
      clearTimeout(timers.get(e.userId));
      timers.set(e.userId, setTimeout(() => drop(e.userId), STALE_MS));
      setTyping((list) => (list.includes(e.userId) ? list : [...list, e.userId]));
    });
    // A new message from someone ends their typing at once.
    const offMsg = socket.on<{ ticketId: string; message: { senderId: string | null } }>("newMessage", (e) => {
      if (e.ticketId === ticketId && e.message.senderId) drop(e.message.senderId);
    });
    return () => {
      off();
      offMsg();
      timers.forEach(clearTimeout);
      setTyping([]);
    };
  }, [ticketId, myId]);
  return typing;
}

export function typingText(names: string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} more are typing…`;
}

/** Call on every keystroke; sends `typing: true` at most every 3 s and `false` after 4 s of quiet. */
export function useTypingEmitter(ticketId: string) {
  const lastSent = useRef(0);
  const idle = useRef<ReturnType<typeof setTimeout> | null>(null);
  const stop = useCallback(() => {
    if (idle.current) clearTimeout(idle.current);
    idle.current = null;
    if (lastSent.current) socket.emit("typing", { ticketId, isTyping: false });
    lastSent.current = 0;
  }, [ticketId]);
  const ping = useCallback(() => {
    const now = Date.now();
    if (now - lastSent.current > 3_000) {
      socket.emit("typing", { ticketId, isTyping: true });
      lastSent.current = now;
    }
    if (idle.current) clearTimeout(idle.current);
    idle.current = setTimeout(stop, 4_000);
  }, [ticketId, stop]);
  useEffect(() => stop, [stop]);
  return { ping, stop };
}
