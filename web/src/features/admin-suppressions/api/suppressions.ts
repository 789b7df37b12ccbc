// Suppressed addresses (hard bounces and complaints are not mailed again) and lifting one.
import { keepPreviousData, useInfiniteQuery, useMutation, useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { api, fetchJson, unwrap } from "@/lib/api/client";

export interface Suppression {
  email: string;
  reason: string;
  detail: string | null;
  emailLogId: string | null;
  createdAt: string;
}

interface Page {
  items: Suppression[];
  nextCursor: string | null;
}

const key = ["admin", "suppressions"] as const;

/** Suppressed addresses, by address; `q` keeps those containing it (searched by the server, so every page matches). */
export function useSuppressions(q: string) {
  return useInfiniteQuery({
    queryKey: [...key, q],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) => {
      const params = new URLSearchParams({ limit: "200" });
      if (q) params.set("q", q);
      if (pageParam) params.set("cursor", pageParam);
      return fetchJson<Page>(`/api/v1/email/suppressions?${params}`, { signal });
    },
    getNextPageParam: (last) => last.nextCursor ?? null,
    placeholderData: keepPreviousData,
  });
}

export function useLiftSuppression() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (email: string) => unwrap(api.DELETE("/api/v1/email/suppressions/{email}", { params: { path: { email } } })),
    onSuccess: (_data, email) => {
      qc.setQueriesData<InfiniteData<Page>>({ queryKey: key }, (data) => data && { ...data, pages: data.pages.map((p) => ({ ...p, items: p.items.filter((s) => s.email !== email) })) });
    },
  });
}
