// The app layer's view of feature data it hands to other features (so features never import each other).
import { useMemo } from "react";
import type { Ticket } from "@/lib/api/client";
import { useLiveTickets } from "@/features/tickets";
import { useTicketList } from "@/features/tickets";

export { useLiveTickets };

export function useTicketListData(): Ticket[] {
  const list = useTicketList();
  return useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
}
