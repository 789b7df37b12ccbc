// The virtualized conversation (react-virtuoso): opens at the first unread (or a linked message), keeps
// its place when older pages are prepended, follows new messages only when the reader is at the bottom,
// and reports which messages were actually on screen (for read marks).
import { forwardRef, useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState, type HTMLAttributes } from "react";
import { Virtuoso, type VirtuosoHandle, type ListRange } from "react-virtuoso";
import { ArrowDown } from "lucide-react";
import { Spinner } from "@/components/Spinner";
import type { Message } from "@/lib/api/client";
import type { Row } from "./rows";

const BASE_INDEX = 1_000_000;

export interface MessageListHandle {
  scrollToMessage: (messageId: string) => boolean;
  scrollToBottom: () => void;
}

const List = forwardRef<HTMLOListElement, HTMLAttributes<HTMLOListElement>>(function List(props, ref) {
  return <ol {...props} ref={ref} className="m-0 list-none p-0 pb-3" />;
});
const Item = (props: HTMLAttributes<HTMLLIElement>) => <li {...props} />;

interface ListContext {
  hasOlder: boolean;
  loadingOlder: boolean;
}

// Components are module-level (stable identities): a new component per render would remount the list.
function Header({ context }: { context?: ListContext }) {
  if (context?.hasOlder)
    return (
      <div className="flex justify-center py-3">{context.loadingOlder ? <Spinner label="Loading earlier messages…" /> : <span className="h-5" />}</div>
    );
  return <p className="px-4 pb-2 pt-6 text-center text-xs text-muted">This is the beginning of the conversation.</p>;
}

const COMPONENTS = { List, Item, Header };


export const MessageList = forwardRef<
  MessageListHandle,
  {
    rows: Row[];
    renderRow: (row: Row) => React.ReactNode;
    initialIndex: number | "LAST";
    hasOlder: boolean;
    loadingOlder: boolean;
    onLoadOlder: () => void;
    onVisible: (messages: Message[]) => void;
    ownSendCount: number;
    /** A message to bring into view (deep link, reply or search jump). */
    focusKey: string | null;
  }
>(function MessageList({ rows, renderRow, initialIndex, hasOlder, loadingOlder, onLoadOlder, onVisible, ownSendCount, focusKey }, ref) {
  const virtuoso = useRef<VirtuosoHandle>(null);
  const anchorKey = useRef<string | null>(null);
  const focused = useRef<string | null>(null);
  const [atBottom, setAtBottom] = useState(true);
  const lastSeenCount = useRef(0);
  const [unseenBelow, setUnseenBelow] = useState(0);

  // The first message row loaded stays at index BASE_INDEX forever: rows prepended before it get
  // smaller indexes, which is how Virtuoso keeps the view still when history is prepended.
  if (anchorKey.current === null) anchorKey.current = rows.find((r) => r.kind === "msg")?.key ?? null;
  const anchorIndex = Math.max(0, rows.findIndex((r) => r.key === anchorKey.current));
  const firstItemIndex = BASE_INDEX - anchorIndex;

  const [initialLocation] = useState(() =>
    initialIndex === "LAST" ? ({ index: "LAST", align: "end" } as const) : ({ index: initialIndex, align: "start" } as const),
  );
  const context = useMemo(() => ({ hasOlder, loadingOlder }), [hasOlder, loadingOlder]);
  const messageCount = useMemo(() => rows.filter((r) => r.kind === "msg" || r.kind === "pending").length, [rows]);
  useEffect(() => {
    if (atBottom) {
      lastSeenCount.current = messageCount;
      setUnseenBelow(0);
    } else if (messageCount > lastSeenCount.current) {
      setUnseenBelow(messageCount - lastSeenCount.current);
    }
  }, [messageCount, atBottom]);

  const scrollToBottom = useCallback(() => {
    virtuoso.current?.scrollToIndex({ index: "LAST", align: "end", behavior: "auto" });
  }, []);

  // Sending a message always brings the reader to it.
  useEffect(() => {
    if (ownSendCount > 0) requestAnimationFrame(scrollToBottom);
  }, [ownSendCount, scrollToBottom]);

  // Items are measured only as they are drawn, so the total height keeps changing for a moment after
  // the list opens: each change re-applies the opening place, until the reader touches the list (at
  // the bottom: for as long as they have not; at a message: for 2 s at most).
  const opening = useRef(initialIndex);
  const scroller = useRef<HTMLElement | null>(null);
  const settleUntil = useRef(Date.now() + 2000);
  const touched = useRef(false);
  // Whether the bottom opening was reached once: before that, a `startReached` is the list's own first
  // frames (a phone measuring tall images), not the reader scrolling up.
  const settled = useRef(false);
  // The list's real height, not MAX_SAFE_INTEGER: Chromium's mobile emulation ignored that huge offset
  // (phones opened at the top).
  const bottomTop = () => scroller.current?.scrollHeight ?? Number.MAX_SAFE_INTEGER;
  const reapplyOpening = useCallback(() => {
    if (focused.current) return;
    if (opening.current === "LAST") {
      if (!touched.current) virtuoso.current?.scrollTo({ top: bottomTop() });
    } else if (Date.now() <= settleUntil.current) {
      virtuoso.current?.scrollToIndex({ index: opening.current, align: "start", behavior: "auto" });
    }
  }, []);
  const stopSettling = useCallback(() => {
    settleUntil.current = 0;
    touched.current = true;
  }, []);
  // (An earlier "drift" correction here brought a list opened at the bottom back down: the drift was
  // the global CSS transition animating Virtuoso's spacer paddings, removed from index.css.)
  const onAtBottomChange = useCallback((bottom: boolean) => {
    setAtBottom(bottom);
    if (bottom && opening.current === "LAST") settled.current = true;
  }, []);
  useEffect(() => {
    const timers = [50, 300, 800, 1500].map((ms) => setTimeout(reapplyOpening, ms));
    return () => timers.forEach(clearTimeout);
  }, [reapplyOpening]);

  // Bring the focused message into view once it is among the rows; items above it may still be measured
  // after the first frame, so the jump is repeated once they have settled.
  const focusIndex = focusKey ? rows.findIndex((r) => r.key === focusKey) : -1;
  useEffect(() => {
    if (!focusKey || focusIndex < 0 || focused.current === focusKey) return;
    focused.current = focusKey;
    const go = () => virtuoso.current?.scrollToIndex({ index: focusIndex, align: "center", behavior: "auto" });
    const frame = requestAnimationFrame(go);
    const later = setTimeout(go, 250);
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(later);
    };
  }, [focusKey, focusIndex]);

  useImperativeHandle(
    ref,
    () => ({
      scrollToMessage(messageId: string) {
        const i = rows.findIndex((r) => r.key === messageId);
        if (i < 0) return false;
        virtuoso.current?.scrollToIndex({ index: i, align: "center", behavior: "auto" });
        return true;
      },
      scrollToBottom,
    }),
    [rows, scrollToBottom],
  );

  const rangeChanged = useCallback(
    (range: ListRange) => {
      const offset = range.startIndex >= firstItemIndex - rows.length ? firstItemIndex : 0;
      const visible: Message[] = [];
      for (let i = range.startIndex; i <= range.endIndex; i++) {
        const row = rows[i - offset];
        if (row?.kind === "msg") visible.push(row.message);
      }
      onVisible(visible);
    },
    [rows, firstItemIndex, onVisible],
  );

  return (
    <div className="relative min-h-0 flex-1" onWheel={stopSettling} onTouchStart={stopSettling} onKeyDown={stopSettling} onPointerDown={stopSettling}>
      <Virtuoso<Row, ListContext>
        ref={virtuoso}
        role="log"
        aria-label="Messages"
        aria-relevant="additions"
        aria-busy={loadingOlder}
        tabIndex={0}
        className="h-full focus-visible:outline-none"
        data={rows}
        firstItemIndex={firstItemIndex}
        initialTopMostItemIndex={initialLocation}
        defaultItemHeight={64}
        computeItemKey={(_, row) => row.key}
        itemContent={(_, row) => renderRow(row)}
        followOutput={(bottom) => (bottom ? "auto" : false)}
        alignToBottom
        atBottomThreshold={80}
        atBottomStateChange={onAtBottomChange}
        scrollerRef={(el) => {
          scroller.current = el instanceof HTMLElement ? el : null;
        }}
        startReached={() => {
          // Reaching the top is the reader's doing (once the opening place was reached): it is no
          // longer re-applied.
          if (opening.current !== "LAST") settleUntil.current = 0;
          else if (settled.current) touched.current = true;
          if (hasOlder && !loadingOlder) onLoadOlder();
        }}
        rangeChanged={rangeChanged}
        totalListHeightChanged={reapplyOpening}

        components={COMPONENTS}
        context={context}
      />
      {!atBottom && (
        <button
          type="button"
          onClick={scrollToBottom}
          className="absolute bottom-3 right-4 inline-flex h-10 items-center gap-1.5 rounded-full border border-line bg-panel px-3.5 text-sm font-medium text-ink shadow-md hover:bg-surface"
        >
          <ArrowDown className="h-4 w-4" aria-hidden="true" />
          {unseenBelow > 0 ? `Jump to latest (${unseenBelow} new)` : "Jump to latest"}
        </button>
      )}
    </div>
  );
});
