// `/admin/emails/:id`: one email's facts (recipient, template, Message-ID, provider id, error) and timeline.
import { useEffect } from "react";
import { Link, useParams } from "react-router";
import { ArrowLeft, RefreshCw, SearchX } from "lucide-react";
import { Button } from "@/components/Button";
import { CenteredSpinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { ApiError } from "@/lib/api/client";
import { LoadError, PageHeader, StatusBadge, formatDateTime } from "@/features/admin-layout";
import { useEmailLog, useResend } from "../api/emailLogs";
import { EmailTimeline } from "./EmailTimeline";
import { SentContent } from "./SentContent";

export function EmailDetailPage() {
  const { id = "" } = useParams();
  // Keyed by the email, so a resend's result does not follow you to the new email's page.
  return <EmailDetail key={id} id={id} />;
}

function EmailDetail({ id }: { id: string }) {
  const log = useEmailLog(id);
  const resend = useResend(id);
  useEffect(() => {
    document.title = `${log.data?.subject ?? "Email"} · Email log · Tickets`;
  }, [log.data?.subject]);
  const back = (
    <Link to="/admin/emails" className="mb-1 inline-flex items-center gap-1 text-[13px] font-medium text-accent hover:underline">
      <ArrowLeft className="h-3.5 w-3.5" aria-hidden="true" /> Email log
    </Link>
  );
  if (log.isError) {
    const missing = log.error instanceof ApiError && (log.error.status === 404 || log.error.status === 422);
    return missing ? (
      <EmptyState className="flex-1" icon={<SearchX className="h-7 w-7" />} title="This email is not in the log" action={<Link className="text-sm font-medium text-accent hover:underline" to="/admin/emails">Back to the email log</Link>} />
    ) : (
      <LoadError className="flex-1" what="The email" error={log.error} onRetry={() => log.refetch()} />
    );
  }
  if (!log.data) return <CenteredSpinner label="Loading email…" />;
  const e = log.data;
  const facts: [string, React.ReactNode][] = [
    ["Recipient", e.recipientEmail],
    ["Template", <Link key="t" className="text-accent hover:underline" to={`/admin/templates/${encodeURIComponent(e.templateName)}`}>{e.templateName}</Link>],
    ["Created", formatDateTime(e.createdAt)],
    ["Sent", formatDateTime(e.sentAt)],
    ["Delivered", formatDateTime(e.deliveredAt)],
    ["Attempts", String(e.attempts)],
    ...(e.nextAttemptAt ? ([["Next attempt", formatDateTime(e.nextAttemptAt)]] as [string, string][]) : []),
    ["Message-ID", <code key="m" className="break-all text-xs">{e.messageId}</code>],
    ["Provider id", e.providerMessageId ? <code key="p" className="break-all text-xs">{e.providerMessageId}</code> : "—"],
    ...(e.resentFrom ? ([["Resend of", <Link key="r" className="text-accent hover:underline" to={`/admin/emails/${e.resentFrom}`}>the first email</Link>]] as [string, React.ReactNode][]) : []),
  ];
  const resendable = e.status === "Failed" || e.status === "Bounced";
  return (
    <div className="mx-auto w-full max-w-5xl px-3 py-4 sm:px-6">
      <PageHeader
        back={back}
        title={e.subject || "(not rendered yet)"}
        description={<StatusBadge status={e.status} />}
        actions={
          resendable && (
            <Button variant="primary" disabled={resend.isPending} onClick={() => resend.mutate()}>
              <RefreshCw className="h-4 w-4" aria-hidden="true" /> {resend.isPending ? "Resending…" : "Resend"}
            </Button>
          )
        }
      />
      <div role="status" aria-live="polite" className="empty:hidden">
        {resend.isSuccess && (
          <p className="mb-3 rounded-lg border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900 dark:border-emerald-500/40 dark:bg-emerald-500/10 dark:text-emerald-200">
            Queued again to {resend.data.recipientEmail}.{" "}
            <Link className="font-medium text-accent hover:underline" to={`/admin/emails/${resend.data.emailLogId}`}>
              Follow the new email
            </Link>
          </p>
        )}
      </div>
      {resend.isError && (
        <p role="alert" className="mb-3 rounded-lg border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-500/40 dark:bg-red-500/10 dark:text-red-200">
          Not resent: {resend.error.message}
        </p>
      )}
      {e.errorMessage && (
        <div role="note" className="mb-4 rounded-lg border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-500/40 dark:bg-red-500/10 dark:text-red-200">
          <p className="font-medium">{e.status === "Pending" ? "Last attempt failed" : "Error"}</p>
          <p className="break-words font-mono text-xs">{e.errorMessage}</p>
        </div>
      )}
      <div className="grid gap-4 lg:grid-cols-[minmax(0,1fr)_minmax(0,1.2fr)]">
        <section aria-labelledby="facts-h" className="rounded-xl border border-line bg-panel p-4">
          <h2 id="facts-h" className="mb-3 text-sm font-semibold text-ink-strong">Details</h2>
          <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-2 text-sm">
            {facts.map(([k, v]) => (
              <div key={k} className="contents">
                <dt className="text-muted">{k}</dt>
                <dd className="tabular min-w-0 break-words text-ink">{v}</dd>
              </div>
            ))}
          </dl>
        </section>
        <section aria-labelledby="timeline-h" className="rounded-xl border border-line bg-panel p-4">
          <h2 id="timeline-h" className="mb-3 text-sm font-semibold text-ink-strong">Timeline</h2>
          <EmailTimeline events={e.events ?? []} />
        </section>
      </div>
      <SentContent key={e.id} id={e.id} />
    </div>
  );
}
