// The people picker's search (GET /users?q=): who the caller may add, by name. Members find only the
// people they share a ticket with; anyone else is added by exact id.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/lib/api/client";
import { rememberNames } from "@/lib/people";

export type Person = Schemas["PersonOut"];

export function usePeopleSearch(q: string, enabled: boolean) {
  return useQuery({
    queryKey: ["people", q],
    enabled,
    staleTime: 30_000,
    placeholderData: keepPreviousData,
    queryFn: async ({ signal }) => {
      const page = await unwrap(api.GET("/api/v1/users", { params: { query: { q, limit: 8 } }, signal }));
      rememberNames(page.items.map((p) => ({ userId: p.id, name: p.name })));
      return page.items;
    },
  });
}
