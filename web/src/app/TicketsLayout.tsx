// `/tickets` and `/tickets/:id`: list and conversation side by side from 768 px; below that, separate screens.
import { Outlet, useMatch } from "react-router";
import { MessagesSquare } from "lucide-react";
import { cn } from "@/lib/classNames";
import { nameOf } from "@/lib/people";
import { TicketListPane } from "@/features/tickets";
import type { Me } from "@/features/auth";

export function TicketsLayout({ me }: { me: Me }) {
  const inTicket = useMatch("/tickets/:ticketId");
  return (
    <div className="flex min-h-0 flex-1">
      <div className={cn("min-h-0 w-full border-line md:block md:w-[340px] md:shrink-0 md:border-r lg:w-[380px]", inTicket ? "hidden" : "block")}>
        <TicketListPane myId={me.id} nameOf={nameOf} />
      </div>
      <div className={cn("min-h-0 min-w-0 flex-1 flex-col", inTicket ? "flex" : "hidden md:flex")}>
        <Outlet />
      </div>
    </div>
  );
}

export function NoTicketSelected() {
  return (
    <div className="flex flex-1 flex-col items-center justify-center gap-3 bg-canvas p-8 text-center">
      <span className="flex h-14 w-14 items-center justify-center rounded-2xl bg-accent-soft text-accent">
        <MessagesSquare className="h-7 w-7" aria-hidden="true" />
      </span>
      <p className="text-[15px] font-semibold text-ink-strong">Pick a ticket to see its conversation</p>
      <p className="max-w-xs text-sm text-muted">Messages, files and updates from everyone working on it appear here in real time.</p>
    </div>
  );
}
