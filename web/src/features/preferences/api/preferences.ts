// Notification preferences: read, and save each change at once (optimistically, rolled back on error).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Preferences } from "@/lib/api/client";

const key = ["preferences"] as const;
const saveKey = ["preferences", "save"] as const;

export function usePreferences() {
  return useQuery({ queryKey: key, queryFn: () => unwrap(api.GET("/api/v1/me/notification-preferences")) });
}

export function useSavePreferences() {
  const qc = useQueryClient();
  return useMutation({
    mutationKey: saveKey,
    // Each save sends the whole object: one at a time, in order, so a quick second change can never
    // be overwritten by the first one arriving late.
    scope: { id: "preferences" },
    mutationFn: (prefs: Preferences) => unwrap(api.PUT("/api/v1/me/notification-preferences", { body: prefs })),
    onMutate: async (prefs) => {
      await qc.cancelQueries({ queryKey: key });
      const previous = qc.getQueryData<Preferences>(key);
      qc.setQueryData(key, prefs);
      return { previous };
    },
    onError: (_e, _p, context) => context?.previous && qc.setQueryData(key, context.previous),
    // A later change still waiting keeps its optimistic state on screen.
    onSuccess: (saved) => {
      if (qc.isMutating({ mutationKey: saveKey }) <= 1) qc.setQueryData(key, saved);
    },
  });
}
