// `/tickets/:ticketId`: the ticket's header and details (tickets feature) around its chat (chat feature).
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { SearchX, TriangleAlert } from "lucide-react";
import { Button } from "@/components/Button";
import { CenteredSpinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { ApiError } from "@/lib/api/client";
import { nameOf, rememberNames } from "@/lib/people";
import { cn } from "@/lib/classNames";
import { TicketDetails, TicketHeader, useParticipants, useTicket } from "@/features/tickets";
import { ChatView } from "@/features/chat";
import { useWebConfig, type Me } from "@/features/auth";

export function TicketRoute({ me }: { me: Me }) {
  const { ticketId = "" } = useParams();
  const ticket = useTicket(ticketId);
  const participants = useParticipants(ticketId);
  const config = useWebConfig();
  const [details, setDetails] = useState(() => window.matchMedia("(min-width: 1280px)").matches);
  if (participants.data) rememberNames(participants.data);
  useEffect(() => {
    if (ticket.data) document.title = `${ticket.data.title} · Tickets`;
  }, [ticket.data]);

  const error = ticket.error ?? participants.error;
  if (error) {
    const missing = error instanceof ApiError && (error.status === 404 || error.status === 422);
    return (
      <EmptyState
        tone={missing ? "neutral" : "error"}
        icon={missing ? <SearchX className="h-7 w-7" /> : <TriangleAlert className="h-7 w-7" />}
        title={missing ? "This ticket does not exist or you are not part of it" : "The ticket could not be loaded"}
        action={missing ? <Link className="text-sm font-medium text-accent hover:underline" to="/tickets">Back to your tickets</Link> : <Button onClick={() => ticket.refetch()}>Try again</Button>}
        className="flex-1"
      >
        {missing ? "Ask someone on the ticket to add you." : error.message}
      </EmptyState>
    );
  }
  if (!ticket.data || !participants.data || !config.data) return <CenteredSpinner label="Loading ticket…" />;
  return (
    <div className="flex min-h-0 flex-1">
      <div className="flex min-w-0 flex-1 flex-col">
        <TicketHeader ticket={ticket.data} me={me} participants={participants.data} detailsOpen={details} onToggleDetails={() => setDetails((d) => !d)} />
        <ChatView
          key={ticketId}
          ticketId={ticketId}
          me={me}
          participants={participants.data}
          nameOf={nameOf}
          maxUploadBytes={config.data.maxUploadBytes}
          closed={false}
        />
      </div>
      {details && (
        <div className={cn("fixed inset-0 z-30 bg-panel xl:static xl:z-auto xl:w-80 xl:shrink-0 xl:border-l xl:border-line")}>
          <TicketDetails ticket={ticket.data} me={me} participants={participants.data} onClose={() => setDetails(false)} />
        </div>
      )}
    </div>
  );
}
