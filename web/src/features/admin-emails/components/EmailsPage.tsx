// `/admin/emails`: every email sent or being sent, newest first, filtered by status, recipient, template
// and dates (all in the URL, so a view can be shared), loading older pages as you scroll.
import { useEffect, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { Inbox, X } from "lucide-react";
import { Button } from "@/components/Button";
import { Label, TextInput, inputClass } from "@/components/Field";
import { CenteredSpinner, Spinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { EMAIL_STATUSES, LoadError, PageHeader, StatusBadge, formatDateTime } from "@/features/admin-layout";
import { useEmailLogs, type LogFilters } from "../api/emailLogs";

const KEYS = ["status", "recipient", "template", "from", "to"] as const;

export function EmailsPage() {
  const [params, setParams] = useSearchParams();
  const filters: LogFilters = {
    status: params.get("status") ?? undefined,
    recipient: params.get("recipient") ?? undefined,
    templateName: params.get("template") ?? undefined,
    from: params.get("from") ?? undefined,
    to: params.get("to") ?? undefined,
  };
  const logs = useEmailLogs(filters);
  const set = (key: (typeof KEYS)[number], value: string) =>
    setParams((p) => {
      if (value) p.set(key, value);
      else p.delete(key);
      return p;
    }, { replace: true });
  const filtered = KEYS.some((k) => params.get(k));

  // Typed filters apply after a pause, not on every key.
  const [recipient, setRecipient] = useState(filters.recipient ?? "");
  const [template, setTemplate] = useState(filters.templateName ?? "");
  useEffect(() => {
    const t = setTimeout(() => {
      if (recipient.trim() !== (params.get("recipient") ?? "")) set("recipient", recipient.trim());
      if (template.trim() !== (params.get("template") ?? "")) set("template", template.trim());
    }, 400);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [recipient, template]);

  useEffect(() => {
    document.title = "Email log · Admin · Tickets";
  }, []);

  // Infinite paging: the next page loads when the end of the list scrolls into view.
  const sentinel = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = logs;
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasNextPage) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries[0]?.isIntersecting && !isFetchingNextPage) void fetchNextPage();
    }, { rootMargin: "400px" });
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const rows = logs.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="mx-auto w-full max-w-7xl px-3 py-4 sm:px-6">
      <PageHeader title="Email log" description="Every email, newest first. Statuses refresh while this page is open." />
      <form role="search" aria-label="Filter emails" onSubmit={(e) => e.preventDefault()} className="mb-3 grid grid-cols-2 gap-2 md:grid-cols-[repeat(5,minmax(0,1fr))_auto]">
        <div>
          <Label htmlFor="f-status">Status</Label>
          <select id="f-status" value={filters.status ?? ""} onChange={(e) => set("status", e.target.value)} className={`${inputClass} h-10`}>
            <option value="">Any status</option>
            {EMAIL_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div>
          <Label htmlFor="f-recipient">Recipient</Label>
          <TextInput id="f-recipient" type="search" inputMode="email" placeholder="name@example.com" value={recipient} onChange={(e) => setRecipient(e.target.value)} />
        </div>
        <div>
          <Label htmlFor="f-template">Template</Label>
          <TextInput id="f-template" type="search" placeholder="e.g. TicketCreated" value={template} onChange={(e) => setTemplate(e.target.value)} />
        </div>
        <div>
          <Label htmlFor="f-from">From</Label>
          <TextInput id="f-from" type="date" value={filters.from ?? ""} max={filters.to} onChange={(e) => set("from", e.target.value)} />
        </div>
        <div>
          <Label htmlFor="f-to">To</Label>
          <TextInput id="f-to" type="date" value={filters.to ?? ""} min={filters.from} onChange={(e) => set("to", e.target.value)} />
        </div>
        <div className="flex items-end">
          <Button
            variant="ghost"
            disabled={!filtered}
            onClick={() => {
              setRecipient("");
              setTemplate("");
              setParams({}, { replace: true });
            }}
          >
            <X className="h-4 w-4" aria-hidden="true" /> Clear
          </Button>
        </div>
      </form>
      <p className="mb-2 text-xs text-muted">Dates are whole days in UTC.</p>

      {logs.isPending ? (
        <CenteredSpinner label="Loading emails…" />
      ) : logs.isError && !logs.data ? (
        <LoadError what="The email log" error={logs.error} onRetry={() => logs.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState icon={<Inbox className="h-7 w-7" />} title={filtered ? "No email matches these filters" : "No emails yet"}>
          {filtered ? "Change or clear the filters." : "Emails appear here as soon as an event queues one."}
        </EmptyState>
      ) : (
        <div className="overflow-hidden rounded-xl border border-line bg-panel" aria-busy={logs.isFetching && !isFetchingNextPage}>
          <table className="w-full table-fixed text-left text-sm">
            <caption className="sr-only">Emails, newest first</caption>
            <thead className="border-b border-line bg-surface text-xs font-medium uppercase tracking-wide text-muted">
              <tr>
                <th scope="col" className="w-28 px-3 py-2.5 sm:px-4">Status</th>
                <th scope="col" className="px-3 py-2.5 sm:px-4">Email</th>
                <th scope="col" className="hidden w-56 px-4 py-2.5 lg:table-cell">Recipient</th>
                <th scope="col" className="hidden w-48 px-4 py-2.5 md:table-cell">Created</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {rows.map((log) => (
                <tr key={log.id} className="hover:bg-surface/60">
                  <td className="px-3 py-2.5 align-top sm:px-4">
                    <StatusBadge status={log.status} />
                  </td>
                  <td className="min-w-0 px-3 py-2.5 sm:px-4">
                    <Link to={`/admin/emails/${log.id}`} className="block truncate font-medium text-ink-strong hover:text-accent hover:underline">
                      {log.subject || <span className="italic text-muted">(not rendered yet)</span>}
                    </Link>
                    <p className="truncate text-xs text-muted">
                      {log.templateName}
                      <span className="lg:hidden"> · {log.recipientEmail}</span>
                      <span className="md:hidden"> · {formatDateTime(log.createdAt)}</span>
                    </p>
                  </td>
                  <td className="hidden truncate px-4 py-2.5 lg:table-cell">{log.recipientEmail}</td>
                  <td className="tabular hidden px-4 py-2.5 text-muted md:table-cell">{formatDateTime(log.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div ref={sentinel} className="flex justify-center border-t border-line p-3">
            {isFetchingNextPage ? (
              <Spinner label="Loading older emails…" />
            ) : hasNextPage ? (
              <Button size="sm" onClick={() => fetchNextPage()}>
                Load older emails
              </Button>
            ) : (
              <span className="text-xs text-muted">{rows.length === 1 ? "1 email" : `${rows.length} emails`} · that is all</span>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
