// `/admin/inbound`: every mail the service received (replies by email, delivery reports) and what became
// of each, newest first, filtered by outcome and ticket (both in the URL, so a view can be shared); a row
// opens to say why a mail was refused. Older pages load on demand.
import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { ChevronDown, MailOpen, X } from "lucide-react";
import { Button } from "@/components/Button";
import { Label, inputClass } from "@/components/Field";
import { CenteredSpinner, Spinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { LoadError, PageHeader, formatDateTime } from "@/features/admin-layout";
import { cn } from "@/lib/classNames";
import { useInboundEmails, type InboundFilters } from "../api/inbound";
import { INBOUND_OUTCOMES, outcomeLabel } from "../outcomes";
import { InboundDetails } from "./InboundDetails";
import { OutcomeBadge, ReasonBadge } from "./OutcomeBadge";

export function InboundPage() {
  const [params, setParams] = useSearchParams();
  const filters: InboundFilters = { outcome: params.get("outcome") ?? undefined, ticketId: params.get("ticket") ?? undefined };
  const mails = useInboundEmails(filters);
  const [open, setOpen] = useState<string | null>(null);
  const set = (key: "outcome" | "ticket", value: string) =>
    setParams((p) => {
      if (value) p.set(key, value);
      else p.delete(key);
      return p;
    }, { replace: true });
  const filtered = Boolean(filters.outcome || filters.ticketId);

  useEffect(() => {
    document.title = "Inbound mail · Admin · Tickets";
  }, []);

  const rows = mails.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="mx-auto w-full max-w-7xl px-3 py-4 sm:px-6">
      <PageHeader title="Inbound mail" description="Replies by email and delivery reports, newest first, with what became of each." />
      <form role="search" aria-label="Filter inbound mail" onSubmit={(e) => e.preventDefault()} className="mb-3 flex flex-wrap items-end gap-2">
        <div className="min-w-40 flex-1 sm:w-56 sm:flex-none">
          <Label htmlFor="f-outcome">Outcome</Label>
          <select id="f-outcome" value={filters.outcome ?? ""} onChange={(e) => set("outcome", e.target.value)} className={`${inputClass} h-10`}>
            <option value="">Any outcome</option>
            {INBOUND_OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {outcomeLabel(o)}
              </option>
            ))}
          </select>
        </div>
        {filters.ticketId && (
          <p className="flex h-10 min-w-0 items-center gap-1 rounded-lg border border-line bg-panel pl-3 pr-1 text-sm">
            <span className="truncate">
              One ticket: <Link to={`/tickets/${filters.ticketId}`} className="font-medium text-accent hover:underline">open it</Link>
            </span>
            <Button variant="ghost" size="sm" aria-label="Show mail for every ticket" onClick={() => set("ticket", "")}>
              <X className="h-4 w-4" aria-hidden="true" />
            </Button>
          </p>
        )}
        <Button variant="ghost" disabled={!filtered} onClick={() => setParams({}, { replace: true })}>
          <X className="h-4 w-4" aria-hidden="true" /> Clear
        </Button>
      </form>

      {mails.isPending ? (
        <CenteredSpinner label="Loading inbound mail…" />
      ) : mails.isError && !mails.data ? (
        <LoadError what="Inbound mail" error={mails.error} onRetry={() => mails.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState icon={<MailOpen className="h-7 w-7" />} title={filtered ? "No mail matches these filters" : "No inbound mail yet"}>
          {filtered ? "Change or clear the filters." : "Replies to ticket emails and delivery reports appear here as they arrive."}
        </EmptyState>
      ) : (
        <div className="overflow-hidden rounded-xl border border-line bg-panel" aria-busy={mails.isFetching && !mails.isFetchingNextPage}>
          <table className="w-full table-fixed text-left text-sm">
            <caption className="sr-only">Inbound mail, newest first</caption>
            {/* Widths here, not on the headers: the details row spans all four columns, and a hidden
                column without a width would take a share of a phone's screen. */}
            <colgroup>
              <col className="w-32 sm:w-40" />
              <col />
              <col className="w-0 sm:w-28" />
              <col className="w-0 md:w-48" />
            </colgroup>
            <thead className="border-b border-line bg-surface text-xs font-medium uppercase tracking-wide text-muted">
              <tr>
                <th scope="col" className="px-3 py-2.5 sm:px-4">Outcome</th>
                <th scope="col" className="px-3 py-2.5 sm:px-4">Mail</th>
                <th scope="col" className="hidden px-4 py-2.5 sm:table-cell">Ticket</th>
                <th scope="col" className="hidden px-4 py-2.5 md:table-cell">Received</th>
              </tr>
            </thead>
            {rows.map((mail) => {
              const expanded = open === mail.id;
              const detailsId = `inbound-${mail.id}`;
              return (
                  <tbody key={mail.id} className="border-b border-line last:border-b-0">
                    <tr className={cn("hover:bg-surface/60", expanded && "bg-surface/60")}>
                      <td className="px-3 py-2.5 align-top sm:px-4">
                        <div className="flex flex-col items-start gap-1">
                          <OutcomeBadge outcome={mail.outcome} />
                          {mail.reason && <ReasonBadge reason={mail.reason} />}
                        </div>
                      </td>
                      <td className="min-w-0 px-3 py-2.5 align-top sm:px-4">
                        <button
                          type="button"
                          aria-expanded={expanded}
                          aria-controls={detailsId}
                          onClick={() => setOpen(expanded ? null : mail.id)}
                          className="group inline-flex max-w-full items-start gap-1 text-left"
                        >
                          <span className="min-w-0 truncate font-medium text-ink-strong group-hover:text-accent group-hover:underline">
                            {mail.subject || <span className="italic text-muted">(no subject)</span>}
                          </span>
                          <ChevronDown className={cn("mt-0.5 h-4 w-4 shrink-0 text-muted transition-transform", expanded && "rotate-180")} aria-hidden="true" />
                        </button>
                        <p className="truncate text-xs text-muted">
                          {mail.fromAddress || "(no sender)"}
                          <span className="md:hidden"> · {formatDateTime(mail.receivedAt)}</span>
                        </p>
                      </td>
                      <td className="hidden px-4 py-2.5 align-top sm:table-cell">
                        {mail.ticketId ? (
                          <Link to={`/tickets/${mail.ticketId}`} className="font-medium text-accent hover:underline">
                            Open ticket
                          </Link>
                        ) : (
                          <span className="text-muted">—</span>
                        )}
                      </td>
                      <td className="tabular hidden px-4 py-2.5 align-top text-muted md:table-cell">{formatDateTime(mail.receivedAt)}</td>
                    </tr>
                    {expanded && (
                      <tr id={detailsId}>
                        <td colSpan={4} className="border-t border-line bg-surface/40 px-3 py-3 sm:px-4">
                          <InboundDetails mail={mail} onFilterTicket={filters.ticketId ? undefined : (id) => set("ticket", id)} />
                        </td>
                      </tr>
                    )}
                  </tbody>
              );
            })}
          </table>
          <div className="flex justify-center border-t border-line p-3">
            {mails.isFetchingNextPage ? (
              <Spinner label="Loading older mail…" />
            ) : mails.hasNextPage ? (
              <Button size="sm" onClick={() => mails.fetchNextPage()}>
                Load older mail
              </Button>
            ) : (
              <span className="text-xs text-muted">{rows.length === 1 ? "1 mail" : `${rows.length} mails`} · that is all</span>
            )}
          </div>
        </div>
      )}
    </div>
  );
}
