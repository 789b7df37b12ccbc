// An email's life as an ordered list: queued, each attempt and the server's reply, sent, and the
// delivery reports (delivered, bounced with the diagnostic, complaints) that came back.
import { AlertTriangle, CheckCircle2, Clock, Mail, RefreshCw, Send, ShieldAlert, XCircle } from "lucide-react";
import type { ReactNode } from "react";
import { formatDateTime } from "@/features/admin-layout";
import type { EmailLogEvent } from "../api/emailLogs";

const LABELS: Record<string, { label: string; icon: ReactNode; tone: string }> = {
  queued: { label: "Queued", icon: <Mail className="h-4 w-4" />, tone: "text-muted" },
  attempt: { label: "Sending attempt", icon: <Send className="h-4 w-4" />, tone: "text-accent" },
  sent: { label: "Accepted by the mail server", icon: <CheckCircle2 className="h-4 w-4" />, tone: "text-accent" },
  deferred: { label: "Deferred, will retry", icon: <Clock className="h-4 w-4" />, tone: "text-amber-600 dark:text-amber-300" },
  delayed: { label: "Delivery delayed", icon: <Clock className="h-4 w-4" />, tone: "text-amber-600 dark:text-amber-300" },
  failed: { label: "Failed", icon: <XCircle className="h-4 w-4" />, tone: "text-danger" },
  recovered: { label: "Picked up again after a worker stopped", icon: <RefreshCw className="h-4 w-4" />, tone: "text-muted" },
  delivered: { label: "Delivered", icon: <CheckCircle2 className="h-4 w-4" />, tone: "text-success" },
  bounced: { label: "Bounced", icon: <AlertTriangle className="h-4 w-4" />, tone: "text-danger" },
  complained: { label: "Marked as spam by the recipient", icon: <ShieldAlert className="h-4 w-4" />, tone: "text-danger" },
  rejected: { label: "Rejected by the provider", icon: <XCircle className="h-4 w-4" />, tone: "text-danger" },
  resent: { label: "Resent as a new email", icon: <RefreshCw className="h-4 w-4" />, tone: "text-accent" },
};

// Detail keys in the order and words an admin reads them; others follow as they are.
const DETAIL_WORDS: Record<string, string> = {
  attempt: "Attempt",
  reply: "Server reply",
  reason: "Reason",
  diagnostic: "Diagnostic",
  status: "Status code",
  action: "Action",
  recipient: "Recipient",
  retryAt: "Next try",
  gaveUp: "Gave up",
  source: "Reported by",
  worker: "Worker",
  emailLogId: "New email",
  resentFrom: "Resend of",
  by: "By",
  test: "Test send",
};

function value(key: string, v: unknown): string {
  if (v === null || v === undefined || v === "") return "—";
  if (key === "retryAt" && typeof v === "string") return formatDateTime(v);
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function EmailTimeline({ events }: { events: EmailLogEvent[] }) {
  if (!events.length) return <p className="text-sm text-muted">Nothing has happened to this email yet.</p>;
  return (
    <ol className="relative flex flex-col gap-4 border-l border-line pl-6" aria-label="Timeline">
      {events.map((event, i) => {
        const known = LABELS[event.type] ?? { label: event.type, icon: <Mail className="h-4 w-4" />, tone: "text-muted" };
        const details = Object.entries(event.detail ?? {}).filter(([k, v]) => v !== null && v !== undefined && v !== "" && !(event.type === "attempt" && k === "attempt"));
        const label = event.type === "attempt" && event.detail?.attempt ? `${known.label} ${String(event.detail.attempt)}` : known.label;
        return (
          <li key={i} className="relative">
            <span className={`absolute -left-[33px] top-0 flex h-5 w-5 items-center justify-center rounded-full bg-panel ${known.tone}`} aria-hidden="true">
              {known.icon}
            </span>
            <p className="text-sm font-medium text-ink-strong">{label}</p>
            <p className="tabular text-xs text-muted">
              <time dateTime={event.at}>{formatDateTime(event.at)}</time>
            </p>
            {details.length > 0 && (
              <dl className="mt-1 grid grid-cols-[max-content_1fr] gap-x-3 gap-y-0.5 text-[13px]">
                {details.map(([k, v]) => (
                  <div key={k} className="contents">
                    <dt className="text-muted">{DETAIL_WORDS[k] ?? k}</dt>
                    <dd className="min-w-0 break-words font-mono text-xs leading-5 text-ink">{value(k, v)}</dd>
                  </div>
                ))}
              </dl>
            )}
          </li>
        );
      })}
    </ol>
  );
}
