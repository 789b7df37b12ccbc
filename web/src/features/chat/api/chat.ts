// Chat requests that are not part of the live thread store: edit, delete, react, mark read, search.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type Message } from "@/lib/api/client";
import * as socket from "@/lib/realtime/socket";

export function editMessage(ticketId: string, messageId: string, content: string): Promise<Message> {
  return unwrap(
    api.PATCH("/api/v1/tickets/{ticket_id}/messages/{message_id}", {
      params: { path: { ticket_id: ticketId, message_id: messageId } },
      body: { content },
    }),
  );
}

export function deleteMessage(ticketId: string, messageId: string): Promise<unknown> {
  return unwrap(
    api.DELETE("/api/v1/tickets/{ticket_id}/messages/{message_id}", {
      params: { path: { ticket_id: ticketId, message_id: messageId } },
    }),
  );
}

export function react(ticketId: string, messageId: string, emoji: string, on: boolean): Promise<Message> {
  const options = { params: { path: { ticket_id: ticketId, message_id: messageId, emoji } } };
  return unwrap(
    on
      ? api.PUT("/api/v1/tickets/{ticket_id}/messages/{message_id}/reactions/{emoji}", options)
      : api.DELETE("/api/v1/tickets/{ticket_id}/messages/{message_id}/reactions/{emoji}", options),
  );
}

/** Moves the caller's read mark (socket when connected, else HTTP); it never moves backwards. */
export async function markRead(ticketId: string, upToSeq: number): Promise<void> {
  if (socket.isConnected()) {
    try {
      await socket.request("markAsRead", { ticketId, upToSeq });
      return;
    } catch {
      /* fall back to HTTP */
    }
  }
  await unwrap(api.POST("/api/v1/tickets/{ticket_id}/read", { params: { path: { ticket_id: ticketId } }, body: { upToSeq } }));
}

export function useTicketSearch(ticketId: string, q: string) {
  return useQuery({
    queryKey: ["ticket-search", ticketId, q],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/tickets/{ticket_id}/messages/search", {
          params: { path: { ticket_id: ticketId }, query: { q, limit: 20 } },
        }),
      ),
    enabled: q.trim().length > 0,
    staleTime: 5_000,
  });
}
