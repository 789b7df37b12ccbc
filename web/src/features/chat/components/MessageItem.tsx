// One message: bubble (own right in the accent, others left), reply quote, attachment, reactions,
// "(edited)", tombstone, actions (react, reply, edit, delete) on hover/focus or tap; System lines apart.
import { lazy, memo, Suspense, useState } from "react";
import { CornerUpLeft, Download, FileText, Pencil, SmilePlus, Trash2 } from "lucide-react";
import { Avatar } from "@/components/Avatar";
import { cn } from "@/lib/classNames";
import { Markdown, plainText } from "@/lib/markdown";
import { formatBytes } from "@/lib/upload";
import type { Attachment, Message } from "@/lib/api/client";

import { REACTION_TRIGGER_CLASS } from "./reactions";

// The popover loads on the first "Add reaction" (Radix Popover and its positioning engine are ~10 KB
// gzipped that opening a ticket need not wait for).
const ReactionPopover = lazy(() => import("./ReactionPopover").then((m) => ({ default: m.ReactionPopover })));

function ReactionButton({ onPick }: { onPick: (emoji: string) => void }) {
  const [used, setUsed] = useState(false);
  const plain = (
    <button type="button" aria-label="Add reaction" title="Add reaction" aria-haspopup="dialog" aria-expanded={false} className={REACTION_TRIGGER_CLASS} onClick={() => setUsed(true)}>
      <SmilePlus className="h-4 w-4" aria-hidden="true" />
    </button>
  );
  if (!used) return plain;
  return (
    <Suspense fallback={plain}>
      <ReactionPopover onPick={onPick} />
    </Suspense>
  );
}

export function timeLabel(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
}

function fullTime(iso: string): string {
  return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

export interface MessageActions {
  onReply: (m: Message) => void;
  onEdit: (m: Message) => void;
  onDelete: (m: Message) => void;
  onReact: (m: Message, emoji: string, on: boolean) => void;
  onJump: (messageId: string) => void;
  onOpenImage: (a: Attachment) => void;
}

export function AttachmentView({ attachment, own, onOpenImage }: { attachment: Attachment; own: boolean; onOpenImage: (a: Attachment) => void }) {
  if (attachment.width && attachment.height && attachment.contentType.startsWith("image/")) {
    const w = Math.min(280, attachment.width);
    const h = Math.round((w * attachment.height) / attachment.width);
    return (
      <button type="button" onClick={() => onOpenImage(attachment)} className="block overflow-hidden rounded-xl" aria-label={`Open image ${attachment.fileName}`}>
        <img
          src={attachment.thumbnailUrl ?? attachment.url}
          alt={attachment.fileName}
          width={w}
          height={Math.min(h, 360)}
          loading="lazy"
          className="block max-w-full bg-surface object-cover"
          style={{ width: w, height: Math.min(h, 360) }}
        />
      </button>
    );
  }
  return (
    <a
      href={attachment.url}
      download={attachment.fileName}
      className={cn(
        "flex max-w-72 items-center gap-3 rounded-xl border p-2.5 pr-3",
        own ? "border-white/25 bg-white/10" : "border-line bg-panel",
      )}
    >
      <span className={cn("flex h-10 w-10 shrink-0 items-center justify-center rounded-lg", own ? "bg-white/20" : "bg-accent-soft text-accent")}>
        <FileText className="h-5 w-5" aria-hidden="true" />
      </span>
      <span className="min-w-0 flex-1">
        <span className="block truncate text-sm font-medium">{attachment.fileName}</span>
        <span className={cn("block text-xs", own ? "opacity-80" : "text-muted")}>{formatBytes(attachment.size)}</span>
      </span>
      <Download className="h-4 w-4 shrink-0 opacity-70" aria-hidden="true" />
      <span className="sr-only">Download</span>
    </a>
  );
}

function ReplyQuote({ replied, own, onJump, nameOf }: { replied: Message | undefined; own: boolean; onJump: () => void; nameOf: (id: string | null) => string }) {
  return (
    <button
      type="button"
      onClick={onJump}
      className={cn(
        "mb-1 block w-full max-w-full rounded-lg border-l-[3px] px-2 py-1 text-left text-[13px]",
        own ? "border-white/60 bg-white/15" : "border-accent bg-panel/70 dark:bg-white/5",
      )}
    >
      <span className="block font-medium">{replied ? nameOf(replied.senderId) : "Earlier message"}</span>
      <span className="line-clamp-2 block opacity-85">
        {replied ? (replied.deletedAt ? "Message deleted" : plainText(replied.content) || replied.attachment?.fileName || "Attachment") : "Tap to show the original"}
      </span>
    </button>
  );
}

export const MessageItem = memo(function MessageItem({
  message,
  own,
  groupStart,
  senderName,
  myId,
  replied,
  highlighted,
  seenBy,
  actions,
  nameOf,
  canDelete,
  status = null,
  showStatus = false,
}: {
  message: Message;
  own: boolean;
  groupStart: boolean;
  senderName: string;
  myId: string;
  replied: Message | undefined;
  highlighted: boolean;
  seenBy: string[] | null;
  actions: MessageActions;
  nameOf: (id: string | null) => string;
  canDelete: boolean;
  /** Own messages only: "Sent", or "Read" once someone else has read it. */
  status?: "Sent" | "Read" | null;
  /** Show the status under the message (the latest own one, unless "Seen by" is there). */
  showStatus?: boolean;
}) {
  const [active, setActive] = useState(false);
  if (message.type === "System") {
    return (
      <article aria-label={`System, ${fullTime(message.createdAt)}`} className={cn("flex justify-center px-4 py-2", highlighted && "message-highlight")}>
        <p className="max-w-[90%] rounded-full bg-surface px-3 py-1 text-center text-xs text-muted">
          {message.content} · <time dateTime={message.createdAt}>{timeLabel(message.createdAt)}</time>
        </p>
      </article>
    );
  }
  const deleted = !!message.deletedAt;
  const reactions = Object.entries(message.reactions ?? {}).filter(([, users]) => users.length > 0);
  const hasText = !deleted && message.content.trim().length > 0;
  return (
    <article
      aria-label={`${senderName}, ${fullTime(message.createdAt)}`}
      data-message-id={message.id}
      // Focusable, so keyboard users reach the time, the status and the actions the pointer gets on hover.
      tabIndex={0}
      className={cn("group relative flex gap-2 px-3 outline-none focus-visible:bg-accent-soft/40 sm:px-5", groupStart ? "pt-3" : "pt-0.5", own && "flex-row-reverse", highlighted && "message-highlight")}
      onClick={() => setActive((a) => !a)}
    >
      <div className="w-8 shrink-0">{!own && groupStart && <Avatar id={message.senderId ?? "?"} name={senderName} size={32} />}</div>
      <div className={cn("flex min-w-0 max-w-[min(80%,560px)] flex-col", own ? "items-end" : "items-start")}>
        {groupStart && (
          <div className={cn("mb-1 flex items-baseline gap-2 px-1 text-xs", own && "flex-row-reverse")}>
            {!own && <span className="font-semibold text-ink-strong">{senderName}</span>}
            <time dateTime={message.createdAt} className="text-muted tabular" title={fullTime(message.createdAt)}>
              {timeLabel(message.createdAt)}
            </time>
          </div>
        )}
        <div className={cn("relative flex max-w-full flex-col", own ? "items-end" : "items-start")}>
          {deleted ? (
            <p className="rounded-2xl border border-dashed border-line px-3 py-2 text-sm italic text-muted">This message was deleted</p>
          ) : (
            <div
              className={cn(
                "max-w-full rounded-2xl text-[15px] leading-relaxed",
                hasText || message.replyToId ? "px-3 py-2" : "p-1",
                own ? "rounded-br-md bg-accent text-on-accent" : "rounded-bl-md bg-bubble text-ink",
                own && "[&_a]:text-on-accent",
              )}
            >
              {message.replyToId && <ReplyQuote replied={replied} own={own} nameOf={nameOf} onJump={() => actions.onJump(message.replyToId!)} />}
              {message.attachment && <AttachmentView attachment={message.attachment} own={own} onOpenImage={actions.onOpenImage} />}
              {hasText && <div className={message.attachment ? "mt-1.5 px-1" : undefined}><Markdown text={message.content} /></div>}
            </div>
          )}
          {message.editedAt && !deleted && <span className="px-1 pt-0.5 text-[11px] text-muted">(edited)</span>}
          {reactions.length > 0 && (
            <div className={cn("mt-1 flex flex-wrap gap-1", own && "justify-end")}>
              {reactions.map(([emoji, users]) => {
                const mine = users.includes(myId);
                const who = users.map((u) => (u === myId ? "You" : nameOf(u))).join(", ");
                return (
                  <button
                    key={emoji}
                    type="button"
                    aria-pressed={mine}
                    aria-label={`${emoji} ${users.length}, reacted by ${who}`}
                    title={who}
                    onClick={(e) => {
                      e.stopPropagation();
                      actions.onReact(message, emoji, !mine);
                    }}
                    className={cn(
                      "inline-flex h-7 items-center gap-1 rounded-full border px-2 text-[13px] tabular",
                      mine ? "border-accent bg-accent-soft text-accent" : "border-line bg-panel text-ink hover:bg-surface",
                    )}
                  >
                    <span aria-hidden="true">{emoji}</span>
                    <span aria-hidden="true">{users.length}</span>
                  </button>
                );
              })}
            </div>
          )}
          {!deleted && (
            <div
              className={cn(
                "absolute -top-4 z-10 hidden items-center gap-0.5 rounded-lg border border-line bg-panel p-0.5 shadow-sm group-hover:flex group-focus-within:flex",
                own ? "right-0" : "left-0",
                active && "flex",
              )}
              onClick={(e) => e.stopPropagation()}
            >
              {/* The time (and status) of any message, grouped or not, on hover/focus/tap; screen
                  readers have it from the article's name and the status text. */}
              <span aria-hidden="true" className="whitespace-nowrap px-1.5 text-[11px] text-muted tabular" title={fullTime(message.createdAt)}>
                {timeLabel(message.createdAt)}
                {status && ` · ${status}`}
              </span>
              <ReactionButton onPick={(emoji) => actions.onReact(message, emoji, !(message.reactions?.[emoji] ?? []).includes(myId))} />
              <button type="button" aria-label="Reply" title="Reply" onClick={() => actions.onReply(message)} className="inline-flex h-8 w-8 items-center justify-center rounded-md text-muted hover:bg-surface hover:text-ink">
                <CornerUpLeft className="h-4 w-4" aria-hidden="true" />
              </button>
              {own && message.type === "Text" && (
                <button type="button" aria-label="Edit message" title="Edit" onClick={() => actions.onEdit(message)} className="inline-flex h-8 w-8 items-center justify-center rounded-md text-muted hover:bg-surface hover:text-ink">
                  <Pencil className="h-4 w-4" aria-hidden="true" />
                </button>
              )}
              {canDelete && (
                <button type="button" aria-label="Delete message" title="Delete" onClick={() => actions.onDelete(message)} className="inline-flex h-8 w-8 items-center justify-center rounded-md text-muted hover:bg-surface hover:text-danger">
                  <Trash2 className="h-4 w-4" aria-hidden="true" />
                </button>
              )}
            </div>
          )}
        </div>
        {seenBy && seenBy.length > 0 ? (
          <p className="px-1 pt-1 text-[11px] text-muted">Seen by {seenBy.join(", ")}</p>
        ) : status && showStatus ? (
          <p className="px-1 pt-0.5 text-[11px] text-muted">{status}</p>
        ) : status ? (
          <span className="sr-only">{status}</span>
        ) : null}
      </div>
    </article>
  );
});
