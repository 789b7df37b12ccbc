// A ticket's conversation: the live thread store, the list, the composer, typing, read marks, search,
// attachments (button, paste, drag-and-drop) and the `?message=` jump with highlight.
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type DragEvent } from "react";
import { useSearchParams } from "react-router";
import { ImageUp, MessagesSquare, TriangleAlert } from "lucide-react";
import { Button } from "@/components/Button";
import { CenteredSpinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { cn } from "@/lib/classNames";
import { formatBytes, uploadAttachment } from "@/lib/upload";
import { getThread } from "@/lib/realtime/threads";
import * as socket from "@/lib/realtime/socket";
import type { Attachment, Message, Participant } from "@/lib/api/client";
import { deleteMessage, editMessage, markRead, react } from "../api/chat";
import { typingText, useTypingEmitter, useTypingUsers } from "../hooks/useTyping";
import { Composer, type ComposerHandle } from "./Composer";
import { Lightbox } from "./Lightbox";
import { MessageItem, type MessageActions } from "./MessageItem";
import { MessageList, type MessageListHandle } from "./MessageList";
import { PendingItem } from "./PendingItem";
import { TicketSearch } from "./TicketSearch";
import { buildRows, delivery, seenBy, type Row } from "./rows";

const files = new Map<string, File>(); // pending uploads, kept for Retry

export interface ChatViewProps {
  ticketId: string;
  me: { id: string; role: string };
  participants: Participant[];
  nameOf: (id: string | null) => string;
  maxUploadBytes: number;
  closed: boolean;
  searchOpen: boolean;
  onSearchOpenChange: (open: boolean) => void;
}

function useConnected(): boolean {
  return useSyncExternalStore(socket.subscribeStatus, () => socket.connectionStatus() === "connected");
}

export function ChatView({ ticketId, me, participants, nameOf, maxUploadBytes, closed, searchOpen, onSearchOpenChange }: ChatViewProps) {
  const thread = useMemo(() => getThread(ticketId), [ticketId]);
  const state = useSyncExternalStore(thread.subscribe, thread.getSnapshot);
  const connected = useConnected();
  const [params, setParams] = useSearchParams();
  const focusId = params.get("message");
  const [loadError, setLoadError] = useState<string | null>(null);
  const [seeking, setSeeking] = useState(false);
  const [highlight, setHighlight] = useState<string | null>(null);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [editing, setEditing] = useState<Message | null>(null);
  const [lightbox, setLightbox] = useState<Attachment | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [olderLoading, setOlderLoading] = useState(false);
  const [sendCount, setSendCount] = useState(0);
  const list = useRef<MessageListHandle>(null);
  const composer = useRef<ComposerHandle>(null);
  const typingUsers = useTypingUsers(ticketId, me.id);
  const typing = useTypingEmitter(ticketId);

  const myReadAtOpen = useRef<number | null>(null);
  const myPart = participants.find((p) => p.userId === me.id);
  if (myReadAtOpen.current === null && participants.length) myReadAtOpen.current = myPart?.lastReadSeq ?? 0;
  const lastMarked = useRef(myPart?.lastReadSeq ?? 0);

  useEffect(() => {
    setLoadError(null);
    thread.load((myReadAtOpen.current ?? 0) + 1).catch((e: Error) => setLoadError(e.message));
  }, [thread]);

  // "New messages" starts at the first message from someone else after the read mark the ticket opened with.
  const unreadFromSeq = useMemo(() => {
    const mark = myReadAtOpen.current ?? 0;
    const first = state.messages.find((m) => m.seq > mark && m.senderId !== me.id && m.type !== "System");
    return first ? first.seq : null;
  }, [state.loaded, me.id]); // eslint-disable-line react-hooks/exhaustive-deps -- frozen once loaded

  // A linked message that is not loaded yet: load older pages until it is (or history ends).
  useEffect(() => {
    if (!focusId || !state.loaded) return;
    if (state.messages.some((m) => m.id === focusId)) {
      setSeeking(false);
      setHighlight(focusId);
      const t = setTimeout(() => setHighlight(null), 2600);
      return () => clearTimeout(t);
    }
    if (state.hasOlder) {
      setSeeking(true);
      thread.loadOlder().catch(() => setSeeking(false));
    } else {
      setSeeking(false);
      setNotice("That message is no longer in this conversation.");
    }
  }, [focusId, state.loaded, state.messages, state.hasOlder, thread]);

  const rows = useMemo(() => buildRows(state.messages, state.pending, unreadFromSeq), [state.messages, state.pending, unreadFromSeq]);
  const byId = useMemo(() => new Map(state.messages.map((m) => [m.id, m])), [state.messages]);
  const seen = useMemo(() => seenBy(state.messages, participants, me.id), [state.messages, participants, me.id]);
  const sent = useMemo(() => delivery(state.messages, participants, me.id), [state.messages, participants, me.id]);

  const initialIndex = useRef<number | "LAST" | null>(null);
  if (initialIndex.current === null && state.loaded && !seeking && (!focusId || byId.has(focusId) || !state.hasOlder)) {
    const target = focusId ? rows.findIndex((r) => r.key === focusId) : rows.findIndex((r) => r.kind === "unread");
    initialIndex.current = target >= 0 ? Math.max(0, target - (focusId ? 2 : 0)) : "LAST";
  }

  // Read marks: only messages that have been on screen while the tab was visible.
  const visibleMax = useRef(0);
  const flushRead = useCallback(() => {
    if (document.visibilityState !== "visible" || visibleMax.current <= lastMarked.current) return;
    lastMarked.current = visibleMax.current;
    void markRead(ticketId, visibleMax.current).catch(() => undefined);
  }, [ticketId]);
  const readTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const onVisible = useCallback(
    (messages: Message[]) => {
      const top = messages.reduce((max, m) => Math.max(max, m.seq), 0);
      if (top > visibleMax.current) visibleMax.current = top;
      if (readTimer.current) clearTimeout(readTimer.current);
      readTimer.current = setTimeout(flushRead, 300);
    },
    [flushRead],
  );
  useEffect(() => {
    document.addEventListener("visibilitychange", flushRead);
    return () => document.removeEventListener("visibilitychange", flushRead);
  }, [flushRead]);

  const jumpTo = useCallback(
    (messageId: string) => {
      setParams((p) => {
        const next = new URLSearchParams(p);
        next.set("message", messageId);
        return next;
      }, { replace: true });
      if (list.current?.scrollToMessage(messageId)) {
        setHighlight(messageId);
        setTimeout(() => setHighlight((h) => (h === messageId ? null : h)), 2600);
      }
    },
    [setParams],
  );

  const actions: MessageActions = useMemo(
    () => ({
      onReply: (m) => {
        setEditing(null);
        setReplyTo(m);
      },
      onEdit: (m) => {
        setReplyTo(null);
        setEditing(m);
      },
      onDelete: async (m) => {
        if (!window.confirm("Delete this message for everyone?")) return;
        try {
          thread.update(await deleteAndFetch(ticketId, m));
        } catch (e) {
          setNotice((e as Error).message);
        }
      },
      onReact: async (m, emoji, on) => {
        try {
          thread.update(await react(ticketId, m.id, emoji, on));
        } catch (e) {
          setNotice((e as Error).message);
        }
      },
      onJump: jumpTo,
      onOpenImage: setLightbox,
    }),
    [ticketId, thread, jumpTo],
  );

  function send(text: string) {
    thread.send({ content: text, replyToId: replyTo?.id ?? null });
    setReplyTo(null);
    setSendCount((c) => c + 1);
  }

  async function saveEdit(m: Message, text: string) {
    try {
      thread.update(await editMessage(ticketId, m.id, text));
      setEditing(null);
    } catch (e) {
      setNotice((e as Error).message);
    }
  }

  function editLast() {
    const mine = [...state.messages].reverse().find((m) => m.senderId === me.id && m.type === "Text" && !m.deletedAt);
    if (mine) setEditing(mine);
  }

  async function upload(clientId: string, file: File) {
    thread.patchPending(clientId, { status: "uploading", progress: 0, error: undefined });
    try {
      const attachment = await uploadAttachment(ticketId, file, (progress) => thread.patchPending(clientId, { progress }));
      const isImage = !!attachment.width && attachment.contentType.startsWith("image/");
      thread.patchPending(clientId, { attachmentId: attachment.id, type: isImage ? "Image" : "File", status: "queued" });
      files.delete(clientId);
    } catch (e) {
      thread.patchPending(clientId, { status: "failed", error: (e as Error).message });
    }
  }

  function addFiles(list: File[]) {
    setNotice(null);
    for (const file of list) {
      if (file.size > maxUploadBytes) {
        setNotice(`“${file.name}” is ${formatBytes(file.size)}; files can be at most ${formatBytes(maxUploadBytes)}.`);
        continue;
      }
      if (file.size === 0) {
        setNotice(`“${file.name}” is empty.`);
        continue;
      }
      const image = file.type.startsWith("image/");
      const clientId = thread.send(
        { content: "", type: image ? "Image" : "File", fileName: file.name, fileSize: file.size, previewUrl: image ? URL.createObjectURL(file) : undefined, replyToId: replyTo?.id ?? null },
        { hold: true },
      );
      files.set(clientId, file);
      void upload(clientId, file);
    }
    setReplyTo(null);
    setSendCount((c) => c + 1);
  }

  function retry(clientId: string) {
    const p = state.pending.find((x) => x.clientId === clientId);
    const file = files.get(clientId);
    if (p && !p.attachmentId && p.type !== "Text" && file) void upload(clientId, file);
    else thread.retry(clientId);
  }

  const renderRow = (row: Row) => {
    switch (row.kind) {
      case "day":
        return (
          <div className="flex items-center gap-3 px-5 pb-1 pt-5" role="separator" aria-label={row.label}>
            <span className="h-px flex-1 bg-line" />
            <span className="text-xs font-medium text-muted">{row.label}</span>
            <span className="h-px flex-1 bg-line" />
          </div>
        );
      case "unread":
        return (
          <div className="flex items-center gap-3 px-5 pb-1 pt-4" role="separator" aria-label="New messages">
            <span className="h-px flex-1 bg-danger/60" />
            <span className="text-xs font-semibold text-danger">New messages</span>
            <span className="h-px flex-1 bg-danger/60" />
          </div>
        );
      case "pending":
        return <PendingItem pending={row.pending} online={connected} onRetry={() => retry(row.pending.clientId)} onDiscard={() => thread.discard(row.pending.clientId)} />;
      default: {
        const m = row.message;
        return (
          <MessageItem
            message={m}
            own={m.senderId === me.id}
            groupStart={row.groupStart}
            senderName={nameOf(m.senderId)}
            myId={me.id}
            replied={m.replyToId ? byId.get(m.replyToId) : undefined}
            highlighted={highlight === m.id}
            seenBy={seen?.messageId === m.id ? seen.names : null}
            actions={actions}
            nameOf={nameOf}
            canDelete={m.senderId === me.id || me.role === "admin"}
            status={m.senderId === me.id ? (m.seq <= sent.readSeq ? "Read" : "Sent") : null}
            showStatus={m.id === sent.lastOwnId}
          />
        );
      }
    }
  };

  const typingLine = typingText(typingUsers.map((u) => nameOf(u)));

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    const dropped = [...e.dataTransfer.files];
    if (dropped.length && !closed) addFiles(dropped);
  }

  return (
    <section
      aria-label="Conversation"
      className="relative flex min-h-0 flex-1 flex-col bg-panel"
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes("Files")) {
          e.preventDefault();
          setDragging(true);
        }
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      {searchOpen && (
        <TicketSearch ticketId={ticketId} nameOf={nameOf} onClose={() => onSearchOpenChange(false)} onPick={(id) => { onSearchOpenChange(false); jumpTo(id); }} />
      )}
      {loadError ? (
        <EmptyState tone="error" icon={<TriangleAlert className="h-6 w-6" />} title="Messages could not be loaded" action={<Button onClick={() => { setLoadError(null); thread.load().catch((e: Error) => setLoadError(e.message)); }}>Try again</Button>}>
          {loadError}
        </EmptyState>
      ) : !state.loaded || initialIndex.current === null ? (
        <CenteredSpinner label={seeking ? "Finding the message…" : "Loading messages…"} />
      ) : rows.length === 0 ? (
        <div role="log" aria-label="Messages" className="flex flex-1 items-center justify-center">
          <EmptyState icon={<MessagesSquare className="h-7 w-7" />} title="No messages yet">
            Say hello — everyone on this ticket will see it.
          </EmptyState>
        </div>
      ) : (
        <MessageList
          key={ticketId}
          ref={list}
          rows={rows}
          renderRow={renderRow}
          initialIndex={initialIndex.current}
          hasOlder={state.hasOlder}
          loadingOlder={olderLoading}
          onLoadOlder={() => {
            setOlderLoading(true);
            thread.loadOlder().finally(() => setOlderLoading(false));
          }}
          onVisible={onVisible}
          ownSendCount={sendCount}
          focusKey={focusId}
        />
      )}
      <div role="status" aria-live="polite" className={cn("h-5 px-5 text-xs text-muted", !typingLine && "sr-only")}>
        {typingLine}
      </div>
      {notice && (
        <p role="alert" className="mx-3 mb-2 flex items-center justify-between gap-2 rounded-lg bg-danger/10 px-3 py-2 text-sm text-danger sm:mx-4">
          {notice}
          <button type="button" className="text-xs font-semibold underline" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </p>
      )}
      <Composer
        ref={composer}
        ticketId={ticketId}
        replyTo={replyTo}
        editing={editing}
        nameOf={nameOf}
        onSend={send}
        onSaveEdit={saveEdit}
        onCancelReply={() => setReplyTo(null)}
        onCancelEdit={() => setEditing(null)}
        onEditLast={editLast}
        onFiles={addFiles}
        onTyping={typing.ping}
        onStopTyping={typing.stop}
        disabled={closed}
      />
      {dragging && (
        <div className="pointer-events-none absolute inset-2 z-30 flex flex-col items-center justify-center gap-2 rounded-2xl border-2 border-dashed border-accent bg-accent-soft/90 text-accent">
          <ImageUp className="h-8 w-8" aria-hidden="true" />
          <p className="text-sm font-semibold">Drop files to send them</p>
        </div>
      )}
      <Lightbox attachment={lightbox} onClose={() => setLightbox(null)} />
    </section>
  );
}

/** DELETE answers 204; the tombstone is the message with its content removed (the socket event follows). */
async function deleteAndFetch(ticketId: string, m: Message): Promise<Message> {
  await deleteMessage(ticketId, m.id);
  return { ...m, content: "", attachment: null, deletedAt: new Date().toISOString() };
}
