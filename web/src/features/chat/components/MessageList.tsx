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
  }
>(function MessageList({ rows, renderRow, initialIndex, hasOlder, loadingOlder, onLoadOlder, onVisible, ownSendCount }, ref) {
  const virtuoso = useRef<VirtuosoHandle>(null);
  const anchorKey = useRef<string | null>(null);
  const [atBottom, setAtBottom] = useState(true);
  const lastSeenCount = useRef(0);
  const [unseenBelow, setUnseenBelow] = useState(0);

  // The first message row loaded stays at index BASE_INDEX forever: rows prepended before it get
  // smaller indexes, which is how Virtuoso keeps the view still when history is prepended.
  if (anchorKey.current === null) anchorKey.current = rows.find((r) => r.kind === "msg")?.key ?? null;
  const anchorIndex = Math.max(0, rows.findIndex((r) => r.key === anchorKey.current));
  const firstItemIndex = BASE_INDEX - anchorIndex;

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
    <div className="relative min-h-0 flex-1">
      <Virtuoso
        ref={virtuoso}
        role="log"
        aria-label="Messages"
        aria-relevant="additions"
        aria-busy={loadingOlder}
        tabIndex={0}
        className="h-full focus-visible:outline-none"
        data={rows}
        firstItemIndex={firstItemIndex}
        initialTopMostItemIndex={initialIndex === "LAST" ? { index: "LAST", align: "end" } : { index: initialIndex, align: "start" }}
        computeItemKey={(_, row) => row.key}
        itemContent={(_, row) => renderRow(row)}
        followOutput={(bottom) => (bottom ? "auto" : false)}
        alignToBottom
        atBottomThreshold={80}
        atBottomStateChange={setAtBottom}
        startReached={() => hasOlder && !loadingOlder && onLoadOlder()}
        rangeChanged={rangeChanged}
        increaseViewportBy={{ top: 400, bottom: 200 }}
        components={{
          List,
          Item,
          Header: () =>
            hasOlder ? (
              <div className="flex justify-center py-3">{loadingOlder ? <Spinner label="Loading earlier messages…" /> : <span className="h-5" />}</div>
            ) : (
              <p className="px-4 pb-2 pt-6 text-center text-xs text-muted">This is the beginning of the conversation.</p>
            ),
        }}
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
