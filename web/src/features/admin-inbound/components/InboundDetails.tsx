// One inbound mail in full, under its row: why it was refused, the addresses, and where it went.
import { Link } from "react-router";
import { formatBytes } from "@/lib/upload";
import { formatDateTime } from "@/features/admin-layout";
import type { InboundEmail } from "../api/inbound";
import { reasonText } from "../outcomes";

/** `onFilterTicket`: shows only this ticket's mail (absent when the list shows one ticket already). */
export function InboundDetails({ mail, onFilterTicket }: { mail: InboundEmail; onFilterTicket?: (ticketId: string) => void }) {
  const reason = mail.reason ? reasonText(mail.reason) : null;
  const messages = mail.chatMessageIds.length;
  return (
    <div className="space-y-3 text-sm">
      {reason && (
        <p>
          <span className="font-medium text-ink-strong">{mail.outcome === "Refused" ? "Refused: " : "Reason: "}{reason.label}.</span>{" "}
          {reason.explanation && <span className="text-ink">{reason.explanation}</span>}
        </p>
      )}
      {mail.detail && <p className="break-words text-ink">{mail.detail}</p>}
      <dl className="grid grid-cols-1 gap-x-6 gap-y-1.5 sm:grid-cols-[max-content_minmax(0,1fr)]">
        <Field term="Received">{formatDateTime(mail.receivedAt)} · {mail.channel === "smtp" ? "SMTP listener" : "HTTP"} · {formatBytes(mail.sizeBytes)}</Field>
        <Field term="From">{mail.fromAddress || "—"}</Field>
        <Field term="To">{mail.toAddress || "—"}</Field>
        <Field term="Message-ID">{mail.messageId || "—"}</Field>
        {messages > 0 && <Field term="In the ticket">{messages === 1 ? "1 message" : `${messages} messages`}</Field>}
      </dl>
      {(mail.ticketId || mail.emailLogId) && (
        <div className="flex flex-wrap gap-x-4 gap-y-2">
          {mail.ticketId && (
            <>
              <Link to={`/tickets/${mail.ticketId}`} className="font-medium text-accent hover:underline">
                Open the ticket
              </Link>
              {onFilterTicket && (
                <button type="button" className="font-medium text-accent hover:underline" onClick={() => onFilterTicket(mail.ticketId!)}>
                  Only this ticket’s mail
                </button>
              )}
            </>
          )}
          {mail.emailLogId && (
            <Link to={`/admin/emails/${mail.emailLogId}`} className="font-medium text-accent hover:underline">
              The email it answers
            </Link>
          )}
        </div>
      )}
    </div>
  );
}

function Field({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <>
      <dt className="text-xs font-medium uppercase tracking-wide text-muted sm:pt-0.5">{term}</dt>
      <dd className="min-w-0 break-words text-ink">{children}</dd>
    </>
  );
}
