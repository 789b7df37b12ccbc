// `/settings/notifications` (where emails link to): channels, one switch per event in words, muted tickets.
import { useState } from "react";
import { useQueries, useQueryClient } from "@tanstack/react-query";
import { getClaims } from "@/lib/auth/session";
import { Link } from "react-router";
import { Check, TriangleAlert } from "lucide-react";
import { Button } from "@/components/Button";
import { CenteredSpinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { api, unwrap, type Preferences, type Ticket } from "@/lib/api/client";
import { usePreferences, useSavePreferences } from "../api/preferences";
import { Toggle } from "./Toggle";
import { PushDevices, PushToggle } from "./PushSection";

export const EVENT_LABELS: [string, string, string][] = [
  ["TicketCreated", "Ticket created", "A ticket you take part in is opened"],
  ["TicketAssigned", "Ticket assigned", "Someone is assigned to a ticket"],
  ["TicketStatusChanged", "Ticket status changed", "A ticket moves to another status"],
  ["TicketCompleted", "Ticket completed", "The work on a ticket is done"],
  ["MessageReceived", "Message received", "Chat messages you have not read after a couple of minutes"],
  ["QuoteCreated", "Quote created", "A new quote is ready for you"],
  ["QuoteApproved", "Quote approved", "A quote was approved"],
  ["QuoteDeclined", "Quote declined", "A quote was declined"],
  ["InvoiceGenerated", "Invoice generated", "An invoice is issued"],
  ["PaymentReceived", "Payment received", "A payment is confirmed"],
];

function MutedTickets({ tickets }: { tickets: Ticket[] }) {
  const parts = useQueries({
    queries: tickets.map((t) => ({
      queryKey: ["participants", t.id],
      queryFn: () => unwrap(api.GET("/api/v1/tickets/{ticket_id}/participants", { params: { path: { ticket_id: t.id } } })),
    })),
  });
  const me = parts.flatMap((q, i) => (q.data ? [{ ticket: tickets[i], muted: q.data.some((p) => p.isMuted && p.userId === myId()) }] : []));
  const muted = me.filter((x) => x.muted);
  if (parts.some((q) => q.isPending)) return <CenteredSpinner />;
  if (!muted.length) return <p className="px-4 py-3 text-sm text-muted">No muted tickets. Mute a ticket from its header to stop its notifications.</p>;
  return (
    <ul className="divide-y divide-line">
      {muted.map(({ ticket }) => (
        <li key={ticket.id} className="flex items-center justify-between gap-3 px-4 py-3">
          <Link to={`/tickets/${ticket.id}`} className="min-w-0 truncate text-sm font-medium text-accent hover:underline">
            {ticket.title}
          </Link>
          <UnmuteButton ticketId={ticket.id} />
        </li>
      ))}
    </ul>
  );
}

const myId = () => getClaims()?.sub ?? "";

function UnmuteButton({ ticketId }: { ticketId: string }) {
  const qc = useQueryClient();
  return (
    <Button
      size="sm"
      onClick={async () => {
        await unwrap(api.PATCH("/api/v1/tickets/{ticket_id}/participants/me", { params: { path: { ticket_id: ticketId } }, body: { isMuted: false } }));
        void qc.invalidateQueries({ queryKey: ["participants", ticketId] });
      }}
    >
      Unmute
    </Button>
  );
}

export function PreferencesPage({ tickets }: { tickets: Ticket[] }) {
  const prefs = usePreferences();
  const save = useSavePreferences();
  // What the switches show while saves are in flight, set in the click's own render. An optimistic
  // update of the query cache reaches React only asynchronously, after the save has started, and React
  // puts a controlled checkbox back meanwhile: the switch flickered, and a quick second click could
  // find it unchanged (seen as a flaky browser test).
  const [shown, setShown] = useState<Preferences>();
  const p = shown ?? prefs.data;
  const update = (patch: Partial<Preferences>) => {
    if (!p) return;
    const next = { ...p, ...patch };
    setShown(next);
    // Per-call callbacks run for the latest call only: once the last save has settled, what the server
    // holds shows again (after an error, the last saved preferences).
    save.mutate(next, { onSettled: () => setShown(undefined) });
  };
  const toggleEvent = (event: string, on: boolean) =>
    p && update({ emailEvents: on ? [...new Set([...p.emailEvents, event])] : p.emailEvents.filter((e) => e !== event) });

  return (
    <main className="mx-auto w-full max-w-2xl px-4 py-6 sm:py-8">
      <h1 className="text-xl font-semibold text-ink-strong">Notification preferences</h1>
      <p className="mt-1 text-sm text-muted">Changes are saved as you make them.</p>
      <div role="status" aria-live="polite" className="mt-2 h-5 text-[13px]">
        {save.isPending ? (
          <span className="text-muted">Saving…</span>
        ) : save.isError ? (
          <span className="text-danger">Not saved: {save.error.message}</span>
        ) : save.isSuccess ? (
          <span className="inline-flex items-center gap-1 text-success"><Check className="h-4 w-4" aria-hidden="true" /> Saved</span>
        ) : null}
      </div>
      {prefs.isPending ? (
        <CenteredSpinner />
      ) : prefs.isError || !p ? (
        <EmptyState tone="error" icon={<TriangleAlert className="h-6 w-6" />} title="Preferences could not be loaded" action={<Button onClick={() => prefs.refetch()}>Try again</Button>}>
          {prefs.error?.message}
        </EmptyState>
      ) : (
        <div className="mt-2 space-y-6">
          <section aria-labelledby="channels" className="overflow-hidden rounded-xl border border-line bg-panel">
            <h2 id="channels" className="border-b border-line bg-surface/60 px-4 py-2 text-xs font-semibold uppercase tracking-wide text-muted">How to reach you</h2>
            <div className="divide-y divide-line">
              <Toggle id="pref-email" label="Email notifications" hint="Emails about the events you choose below" checked={p.emailEnabled} onChange={(v) => update({ emailEnabled: v })} />
              <Toggle id="pref-chat" label="In-app notifications" hint="The bell in this app" checked={p.chatEnabled} onChange={(v) => update({ chatEnabled: v })} />
              <PushToggle pushEnabled={p.pushEnabled} setPushEnabled={(v) => update({ pushEnabled: v })} />
            </div>
          </section>
          <section aria-labelledby="devices" className="overflow-hidden rounded-xl border border-line bg-panel">
            <h2 id="devices" className="border-b border-line bg-surface/60 px-4 py-2 text-xs font-semibold uppercase tracking-wide text-muted">Devices that get push notifications</h2>
            <PushDevices />
          </section>
          <section aria-labelledby="events" className="overflow-hidden rounded-xl border border-line bg-panel">
            <h2 id="events" className="border-b border-line bg-surface/60 px-4 py-2 text-xs font-semibold uppercase tracking-wide text-muted">Email me when</h2>
            <div className="divide-y divide-line">
              {EVENT_LABELS.map(([event, label, hint]) => (
                <Toggle key={event} id={`pref-${event}`} label={label} hint={hint} checked={p.emailEvents.includes(event)} disabled={!p.emailEnabled} onChange={(v) => toggleEvent(event, v)} />
              ))}
              <p className="px-4 py-3 text-[13px] text-muted">One-time sign-in codes are always emailed: security mail cannot be turned off.</p>
            </div>
          </section>
          <section aria-labelledby="muted" className="overflow-hidden rounded-xl border border-line bg-panel">
            <h2 id="muted" className="border-b border-line bg-surface/60 px-4 py-2 text-xs font-semibold uppercase tracking-wide text-muted">Muted tickets</h2>
            <MutedTickets tickets={tickets.slice(0, 50)} />
          </section>
        </div>
      )}
    </main>
  );
}
