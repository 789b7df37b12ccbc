// Server-state cache: socket events write into it, so lists stay live without refetch storms.
import { QueryClient } from "@tanstack/react-query";
import { ApiError } from "@/lib/api/client";

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      refetchOnWindowFocus: false,
      retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
    },
  },
});

/**
 * Refetch after the server told us something changed (a socket event, a reconnect): the answer must
 * reflect that change. `invalidateQueries` alone does not promise it: while a query has no data yet,
 * TanStack reuses the fetch already in flight, and that fetch may have read the server before the
 * change committed (the bell then stayed at 0 after a notification arrived during the first load).
 * Cancelling first makes the refetch a new request, sent after the event arrived.
 */
export async function refetchAfterChange(qc: QueryClient, queryKey: readonly unknown[]): Promise<void> {
  await qc.cancelQueries({ queryKey });
  await qc.invalidateQueries({ queryKey });
}
