// Suppressed addresses (hard bounces and complaints are not mailed again) and lifting one.
import { useInfiniteQuery, useMutation, useQueryClient, type InfiniteData } from "@tanstack/react-query";
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

export function useSuppressions() {
  return useInfiniteQuery({
    queryKey: key,
    initialPageParam: null as string | null,
    // The list endpoint's answer is untyped in the OpenAPI document; its shape is declared above.
    queryFn: ({ pageParam }) => fetchJson<Page>(`/api/v1/email/suppressions?limit=200${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ""}`),
    getNextPageParam: (last) => last.nextCursor ?? null,
  });
}

export function useLiftSuppression() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (email: string) => unwrap(api.DELETE("/api/v1/email/suppressions/{email}", { params: { path: { email } } })),
    onSuccess: (_data, email) => {
      qc.setQueryData<InfiniteData<Page>>(key, (data) => data && { ...data, pages: data.pages.map((p) => ({ ...p, items: p.items.filter((s) => s.email !== email) })) });
    },
  });
}
