// The message box: Enter sends (Shift+Enter, or Enter on touch screens, adds a line), per-ticket drafts,
// reply and edit bars (↑ edits your last message, Esc cancels), the attach button and paste of files.
import { forwardRef, useEffect, useImperativeHandle, useRef, useState, type KeyboardEvent } from "react";
import { Paperclip, Pencil, CornerUpLeft, SendHorizontal, X } from "lucide-react";
import { IconButton } from "@/components/Button";
import { plainText } from "@/lib/markdown";
import type { Message } from "@/lib/api/client";

const draftKey = (ticketId: string) => `tc.draft.${ticketId}`;
const MAX = 10_000;

export interface ComposerHandle {
  focus: () => void;
}

export const Composer = forwardRef<
  ComposerHandle,
  {
    ticketId: string;
    replyTo: Message | null;
    editing: Message | null;
    nameOf: (id: string | null) => string;
    onSend: (text: string) => void;
    onSaveEdit: (message: Message, text: string) => void;
    onCancelReply: () => void;
    onCancelEdit: () => void;
    onEditLast: () => void;
    onFiles: (files: File[]) => void;
    onTyping: () => void;
    onStopTyping: () => void;
    disabled?: boolean;
  }
>(function Composer(props, ref) {
  const { ticketId, replyTo, editing, nameOf, onSend, onSaveEdit, onCancelReply, onCancelEdit, onEditLast, onFiles, onTyping, onStopTyping, disabled } = props;
  const [text, setText] = useState(() => localStorage.getItem(draftKey(ticketId)) ?? "");
  const [editText, setEditText] = useState("");
  const area = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  useImperativeHandle(ref, () => ({ focus: () => area.current?.focus() }), []);

  useEffect(() => {
    if (editing) {
      setEditText(editing.content);
      requestAnimationFrame(() => {
        area.current?.focus();
        area.current?.setSelectionRange(editing.content.length, editing.content.length);
      });
    }
  }, [editing]);

  useEffect(() => {
    if (replyTo) area.current?.focus();
  }, [replyTo]);

  const value = editing ? editText : text;
  function change(next: string) {
    if (editing) return setEditText(next);
    setText(next);
    if (next) localStorage.setItem(draftKey(ticketId), next);
    else localStorage.removeItem(draftKey(ticketId));
    if (next.trim()) onTyping();
    else onStopTyping();
  }

  // Grow with the text up to about eight lines.
  useEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [value]);

  function submit() {
    const trimmed = value.trim();
    if (!trimmed || trimmed.length > MAX) return;
    if (editing) {
      if (trimmed !== editing.content) onSaveEdit(editing, trimmed);
      else onCancelEdit();
      return;
    }
    onSend(trimmed);
    change("");
    onStopTyping();
  }

  function keyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    const touch = window.matchMedia("(pointer: coarse)").matches;
    if (e.key === "Enter" && !e.shiftKey && !touch && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === "Escape") {
      if (editing) onCancelEdit();
      else if (replyTo) onCancelReply();
    } else if (e.key === "ArrowUp" && !value && !editing) {
      e.preventDefault();
      onEditLast();
    }
  }

  const over = value.length > MAX;
  return (
    <div className="border-t border-line bg-panel px-3 pb-[max(0.75rem,env(safe-area-inset-bottom))] pt-2 sm:px-4">
      {(replyTo || editing) && (
        <div className="mb-2 flex items-center gap-2 rounded-lg bg-surface px-3 py-1.5 text-[13px]">
          {editing ? <Pencil className="h-4 w-4 shrink-0 text-accent" aria-hidden="true" /> : <CornerUpLeft className="h-4 w-4 shrink-0 text-accent" aria-hidden="true" />}
          <span className="min-w-0 flex-1 truncate">
            {editing ? (
              <span className="font-medium text-ink">Editing message</span>
            ) : (
              <>
                <span className="font-medium text-ink">Replying to {nameOf(replyTo!.senderId)}</span>
                <span className="text-muted"> · {plainText(replyTo!.content) || replyTo!.attachment?.fileName}</span>
              </>
            )}
          </span>
          <IconButton label={editing ? "Cancel editing" : "Cancel reply"} className="-my-1 h-8 w-8" onClick={editing ? onCancelEdit : onCancelReply}>
            <X className="h-4 w-4" aria-hidden="true" />
          </IconButton>
        </div>
      )}
      <div className="flex items-end gap-1.5">
        <input
          ref={fileInput}
          id={`attach-${ticketId}`}
          type="file"
          multiple
          aria-label="Attach file"
          className="sr-only"
          tabIndex={-1}
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = "";
            if (files.length) onFiles(files);
          }}
        />
        <IconButton label="Attach a file" disabled={disabled || !!editing} onClick={() => fileInput.current?.click()}>
          <Paperclip className="h-5 w-5" aria-hidden="true" />
        </IconButton>
        <div className="min-w-0 flex-1">
          <label htmlFor={`composer-${ticketId}`} className="sr-only">
            Message
          </label>
          <textarea
            id={`composer-${ticketId}`}
            ref={area}
            rows={1}
            value={value}
            disabled={disabled}
            placeholder={disabled ? "This ticket is closed to new messages" : "Write a message…"}
            onChange={(e) => change(e.target.value)}
            onKeyDown={keyDown}
            onBlur={onStopTyping}
            onPaste={(e) => {
              const files = [...e.clipboardData.files];
              if (files.length) {
                e.preventDefault();
                onFiles(files);
              }
            }}
            aria-describedby={over ? `composer-over-${ticketId}` : undefined}
            className="block max-h-[200px] min-h-10 w-full resize-none rounded-xl border border-line bg-surface px-3 py-2 text-base leading-6 text-ink placeholder:text-muted focus:border-accent focus:bg-panel focus:outline-none"
          />
          {over && (
            <p id={`composer-over-${ticketId}`} role="alert" className="mt-1 text-xs text-danger">
              Messages can be at most 10,000 characters ({value.length.toLocaleString()} now).
            </p>
          )}
        </div>
        <button
          type="button"
          aria-label={editing ? "Save" : "Send"}
          onClick={submit}
          disabled={disabled || !value.trim() || over}
          className="inline-flex h-10 w-10 shrink-0 items-center justify-center rounded-xl bg-accent text-on-accent transition-colors hover:bg-accent-hover disabled:opacity-40"
        >
          <SendHorizontal className="h-5 w-5" aria-hidden="true" />
        </button>
      </div>
    </div>
  );
});
