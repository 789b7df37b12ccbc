// Inbound mail for admins: keyset pages, newest first, filtered by outcome and ticket.
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/lib/api/client";

export type InboundEmail = Schemas["InboundEmailOut"];

export interface InboundFilters {
  outcome?: string;
  ticketId?: string;
}

const REFRESH_MS = 15_000;

export function useInboundEmails(filters: InboundFilters) {
  return useInfiniteQuery({
    queryKey: ["admin", "inbound", filters],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/email/inbound", {
          signal,
          params: {
            query: {
              outcome: filters.outcome || undefined,
              ticketId: filters.ticketId || undefined,
              cursor: pageParam ?? undefined,
              limit: 50,
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor ?? null,
    placeholderData: keepPreviousData,
    // Mail arrives while the page is open: refresh what is on screen.
    refetchInterval: REFRESH_MS,
  });
}
