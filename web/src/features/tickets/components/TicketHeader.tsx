// The top of a ticket: back (phones), title, status (with the transitions the caller may make), mute,
// and the button that shows details and participants.
import { Link } from "react-router";
import { ArrowLeft, Bell, BellOff, ChevronDown, PanelRight } from "lucide-react";
import { Menu } from "@/components/Menu";
import { IconButton } from "@/components/Button";
import type { Participant, Ticket } from "@/lib/api/client";
import { STATUS_LABEL, permissions, useParticipantMutations, useUpdateTicket, type Caller } from "../api/tickets";
import { StatusBadge } from "./StatusBadge";

export function TicketHeader({
  ticket,
  me,
  participants,
  detailsOpen,
  onToggleDetails,
  children,
}: {
  ticket: Ticket;
  me: Caller;
  participants: Participant[];
  detailsOpen: boolean;
  onToggleDetails: () => void;
  children?: React.ReactNode;
}) {
  const can = permissions(ticket, me);
  const update = useUpdateTicket(ticket.id);
  const { mute } = useParticipantMutations(ticket.id);
  const muted = participants.find((p) => p.userId === me.id)?.isMuted ?? false;
  return (
    <header className="flex items-center gap-1 border-b border-line bg-panel px-2 py-2 sm:px-4">
      <Link to="/tickets" aria-label="Back to tickets" className="inline-flex h-10 w-10 items-center justify-center rounded-lg text-muted hover:bg-surface md:hidden">
        <ArrowLeft className="h-5 w-5" aria-hidden="true" />
      </Link>
      <div className="min-w-0 flex-1 px-1">
        <h2 className="truncate text-[15px] font-semibold text-ink-strong sm:text-base">{ticket.title}</h2>
        <div className="mt-0.5 flex items-center gap-2">
          {can.statuses.length ? (
            <Menu
              triggerLabel={`Status: ${STATUS_LABEL[ticket.status]}. Change status`}
              triggerClassName="inline-flex items-center gap-0.5 rounded-full"
              trigger={
                <>
                  <StatusBadge status={ticket.status} />
                  <ChevronDown className="h-3.5 w-3.5 text-muted" aria-hidden="true" />
                </>
              }
              heading={<p className="px-3 py-1 text-xs text-muted">Change status to</p>}
              items={can.statuses.map((s) => ({ label: STATUS_LABEL[s], onSelect: () => update.mutate({ status: s }) }))}
            />
          ) : (
            <StatusBadge status={ticket.status} />
          )}
          <span className="truncate text-xs text-muted">
            {participants.length} {participants.length === 1 ? "person" : "people"}
          </span>
          {update.isError && (
            <span role="alert" className="truncate text-xs text-danger">
              {update.error.message}
            </span>
          )}
        </div>
      </div>
      {children}
      <IconButton
        label={muted ? "Unmute notifications for this ticket" : "Mute notifications for this ticket"}
        aria-pressed={muted}
        onClick={() => mute.mutate(!muted)}
      >
        {muted ? <BellOff className="h-5 w-5" aria-hidden="true" /> : <Bell className="h-5 w-5" aria-hidden="true" />}
      </IconButton>
      <IconButton label="Ticket details" aria-expanded={detailsOpen} onClick={onToggleDetails}>
        <PanelRight className="h-5 w-5" aria-hidden="true" />
      </IconButton>
    </header>
  );
}
