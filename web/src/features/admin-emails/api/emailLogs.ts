// The email log for admins: filtered keyset pages (refreshed while open) and one email with its timeline.
import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/lib/api/client";

export type EmailLog = Schemas["EmailLogOut"];
export type EmailLogEvent = Schemas["EmailLogEvent"];

export interface LogFilters {
  status?: string;
  recipient?: string;
  templateName?: string;
  /** ISO dates (`2026-11-25`), inclusive, read as UTC days. */
  from?: string;
  to?: string;
}

const REFRESH_MS = 15_000;

function dayStart(date: string): string {
  return `${date}T00:00:00Z`;
}

function dayAfter(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}

export function useEmailLogs(filters: LogFilters) {
  return useInfiniteQuery({
    queryKey: ["admin", "emailLogs", filters],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/email/logs", {
          signal,
          params: {
            query: {
              status: filters.status || undefined,
              recipient: filters.recipient || undefined,
              templateName: filters.templateName || undefined,
              from: filters.from ? dayStart(filters.from) : undefined,
              to: filters.to ? dayAfter(filters.to) : undefined,
              cursor: pageParam ?? undefined,
              limit: 50,
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor ?? null,
    placeholderData: keepPreviousData,
    // Rows change status as the worker sends and reports arrive: refresh what is on screen.
    refetchInterval: REFRESH_MS,
  });
}

export function useEmailLog(id: string) {
  return useQuery({
    queryKey: ["admin", "emailLog", id],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/email/logs/{log_id}", { signal, params: { path: { log_id: id } } })),
    refetchInterval: (q) => (q.state.data?.status === "Pending" || q.state.data?.status === "Sent" ? REFRESH_MS : false),
  });
}

export type SentContent = Schemas["SentContentOut"];

/** The email as the recipient got it, rendered again by the server (bodies are not stored). */
export function useSentContent(id: string, enabled: boolean) {
  return useQuery({
    queryKey: ["admin", "emailLog", id, "content"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/email/logs/{log_id}/content", { signal, params: { path: { log_id: id } } })),
    enabled,
    retry: false,
    staleTime: Infinity,
  });
}

/** Queue a Failed or Bounced email again (a new log row linked to this one). */
export function useResend(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/email/logs/{log_id}/resend", { params: { path: { log_id: id } } })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["admin", "emailLog", id] });
      void qc.invalidateQueries({ queryKey: ["admin", "emailLogs"] });
    },
  });
}
