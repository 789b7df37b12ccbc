// A message not yet confirmed by the server: uploading (with progress), waiting, sending, or failed with Retry.
import { AlertCircle, Clock, FileText } from "lucide-react";
import { Markdown } from "@/lib/markdown";
import { formatBytes } from "@/lib/upload";
import type { PendingMessage } from "@/lib/realtime/threadState";

const STATUS_TEXT = { uploading: "Uploading…", queued: "Waiting for connection…", sending: "Sending…", failed: "Not sent" } as const;

export function PendingItem({ pending, online, onRetry, onDiscard }: { pending: PendingMessage; online: boolean; onRetry: () => void; onDiscard: () => void }) {
  const status = pending.status === "queued" && online ? "Sending…" : STATUS_TEXT[pending.status];
  return (
    <article aria-label={`You, ${status}`} className="flex flex-row-reverse gap-2 px-3 pt-0.5 sm:px-5">
      <div className="w-8 shrink-0" />
      <div className="flex max-w-[min(80%,560px)] flex-col items-end">
        <div className="max-w-full rounded-2xl rounded-br-md bg-accent px-3 py-2 text-[15px] leading-relaxed text-on-accent opacity-75">
          {pending.previewUrl && pending.type !== "File" ? (
            <img src={pending.previewUrl} alt={pending.fileName ?? "Image"} className="block max-h-72 max-w-64 rounded-xl object-cover" />
          ) : pending.fileName ? (
            <span className="flex items-center gap-2">
              <FileText className="h-5 w-5" aria-hidden="true" />
              <span className="truncate">{pending.fileName}</span>
              {pending.fileSize != null && <span className="text-xs opacity-80">{formatBytes(pending.fileSize)}</span>}
            </span>
          ) : null}
          {pending.content && <Markdown text={pending.content} />}
          {pending.status === "uploading" && (
            <div className="mt-2 h-1.5 w-full overflow-hidden rounded-full bg-white/30" role="progressbar" aria-label={`Uploading ${pending.fileName ?? "file"}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round((pending.progress ?? 0) * 100)}>
              <div className="h-full bg-white" style={{ width: `${Math.round((pending.progress ?? 0) * 100)}%` }} />
            </div>
          )}
        </div>
        <p className="flex items-center gap-1 px-1 pt-0.5 text-[11px] text-muted">
          {pending.status === "failed" ? (
            <>
              <AlertCircle className="h-3.5 w-3.5 text-danger" aria-hidden="true" />
              <span className="text-danger">{pending.error ? `Not sent: ${pending.error}` : "Not sent"}</span>
              <button type="button" onClick={onRetry} className="ml-1 font-semibold text-accent underline-offset-2 hover:underline">
                Retry
              </button>
              <button type="button" onClick={onDiscard} className="ml-1 text-muted underline-offset-2 hover:underline">
                Discard
              </button>
            </>
          ) : (
            <>
              <Clock className="h-3 w-3" aria-hidden="true" /> {status}
            </>
          )}
        </p>
      </div>
    </article>
  );
}
