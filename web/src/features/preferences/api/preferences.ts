// Notification preferences: read, and save each change at once. While saves are in flight the page
// shows its own copy of the switches (PreferencesPage says why); the cache takes each saved answer.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Preferences } from "@/lib/api/client";

const key = ["preferences"] as const;

export function usePreferences() {
  return useQuery({ queryKey: key, queryFn: () => unwrap(api.GET("/api/v1/me/notification-preferences")) });
}

export function useSavePreferences() {
  const qc = useQueryClient();
  return useMutation({
    // Each save sends the whole object: one at a time, in order, so a quick second change can never
    // be overwritten by the first one arriving late.
    scope: { id: "preferences" },
    mutationFn: (prefs: Preferences) => unwrap(api.PUT("/api/v1/me/notification-preferences", { body: prefs })),
    // A read already under way would land after the change with the old values.
    onMutate: () => qc.cancelQueries({ queryKey: key }),
    onSuccess: (saved) => qc.setQueryData(key, saved),
  });
}
