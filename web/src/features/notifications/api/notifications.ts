// In-app notifications: the list with its unread count, mark read, and live `notification` events.
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { api, unwrap } from "@/lib/api/client";
import { refetchAfterChange } from "@/lib/queryClient";
import * as socket from "@/lib/realtime/socket";

export const notificationKeys = { list: ["notifications"] as const };

export function useNotifications() {
  return useInfiniteQuery({
    queryKey: notificationKeys.list,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) => unwrap(api.GET("/api/v1/me/notifications", { params: { query: { cursor: pageParam } } })),
    getNextPageParam: (last) => last.nextCursor ?? null,
  });
}

export function useUnreadNotifications(): number {
  const q = useNotifications();
  return q.data?.pages[0]?.unread ?? 0;
}

export function useMarkNotificationsRead() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (ids?: string[]) => unwrap(api.POST("/api/v1/me/notifications/read", { body: ids ? { ids } : {} })),
    onSuccess: () => qc.invalidateQueries({ queryKey: notificationKeys.list }),
  });
}

export function useLiveNotifications(enabled: boolean) {
  const qc = useQueryClient();
  useEffect(() => {
    if (!enabled) return;
    const offs = [
      socket.on("notification", () => void refetchAfterChange(qc, notificationKeys.list)),
      socket.onConnected(() => void refetchAfterChange(qc, notificationKeys.list)),
    ];
    return () => offs.forEach((off) => off());
  }, [qc, enabled]);
}
