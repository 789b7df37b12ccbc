// Tickets: queries and mutations, what the caller may change (the contract's table), and live cache updates.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { api, unwrap, type Message, type Participant, type Ticket, type TicketStatus } from "@/lib/api/client";
import { refetchAfterChange } from "@/lib/queryClient";
import * as socket from "@/lib/realtime/socket";

export const ticketKeys = {
  list: ["tickets"] as const,
  one: (id: string) => ["ticket", id] as const,
  participants: (id: string) => ["participants", id] as const,
  search: (q: string) => ["search", q] as const,
};

export const STATUSES: TicketStatus[] = ["Open", "Assigned", "InProgress", "OnHold", "Completed", "Cancelled"];
export const STATUS_LABEL: Record<TicketStatus, string> = {
  Open: "Open",
  Assigned: "Assigned",
  InProgress: "In progress",
  OnHold: "On hold",
  Completed: "Completed",
  Cancelled: "Cancelled",
};
const TRANSITIONS: Record<TicketStatus, TicketStatus[]> = {
  Open: ["Assigned", "InProgress", "OnHold", "Cancelled"],
  Assigned: ["InProgress", "OnHold", "Completed", "Cancelled", "Open"],
  InProgress: ["OnHold", "Completed", "Cancelled"],
  OnHold: ["InProgress", "Cancelled"],
  Completed: [],
  Cancelled: [],
};

export interface Caller {
  id: string;
  role: string;
}

/** What the caller may do with the ticket, mirroring the server's rules (the server still decides). */
export function permissions(ticket: Ticket, me: Caller) {
  const staff = me.role === "admin" || me.role === "service";
  const assignee = ticket.assigneeId === me.id;
  const creator = ticket.createdBy === me.id;
  let statuses: TicketStatus[] = [];
  if (staff) {
    statuses = [...TRANSITIONS[ticket.status]];
    if (ticket.status === "Completed" || ticket.status === "Cancelled") statuses.push("Open");
  } else if (assignee) statuses = TRANSITIONS[ticket.status];
  else if (creator && ticket.status === "Open") statuses = ["Cancelled"];
  return {
    editTitle: staff || assignee || creator,
    statuses,
    assign: staff || assignee,
    addParticipants: staff || assignee || (creator && ticket.status === "Open"),
    removeParticipant: (userId: string) =>
      staff || (assignee && userId !== ticket.createdBy) || userId === me.id,
  };
}

export function useTicketList() {
  return useInfiniteQuery({
    queryKey: ticketKeys.list,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/api/v1/tickets", { params: { query: { limit: 100, cursor: pageParam } } })),
    getNextPageParam: (last) => last.nextCursor ?? null,
  });
}

export function useTicket(id: string) {
  return useQuery({
    queryKey: ticketKeys.one(id),
    queryFn: () => unwrap(api.GET("/api/v1/tickets/{ticket_id}", { params: { path: { ticket_id: id } } })),
  });
}

export function useParticipants(id: string) {
  return useQuery({
    queryKey: ticketKeys.participants(id),
    queryFn: () =>
      unwrap(api.GET("/api/v1/tickets/{ticket_id}/participants", { params: { path: { ticket_id: id } } })),
  });
}

export function useMessageSearch(q: string) {
  return useQuery({
    queryKey: ticketKeys.search(q),
    queryFn: () => unwrap(api.GET("/api/v1/search/messages", { params: { query: { q, limit: 20 } } })),
    enabled: q.trim().length > 0,
    staleTime: 5_000,
  });
}

export function useCreateTicket() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { title: string; description: string; participantIds: string[] }) =>
      unwrap(api.POST("/api/v1/tickets", { body })),
    onSuccess: (ticket) => {
      qc.setQueryData(ticketKeys.one(ticket.id), ticket);
      void qc.invalidateQueries({ queryKey: ticketKeys.list });
    },
  });
}

export function useUpdateTicket(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { title?: string; description?: string; status?: TicketStatus; assigneeId?: string }) =>
      unwrap(api.PATCH("/api/v1/tickets/{ticket_id}", { params: { path: { ticket_id: id } }, body })),
    onSuccess: (ticket) => {
      qc.setQueryData(ticketKeys.one(id), ticket);
      void qc.invalidateQueries({ queryKey: ticketKeys.list });
      void qc.invalidateQueries({ queryKey: ticketKeys.participants(id) });
    },
  });
}

export function useParticipantMutations(id: string) {
  const qc = useQueryClient();
  const refresh = () => qc.invalidateQueries({ queryKey: ticketKeys.participants(id) });
  const add = useMutation({
    mutationFn: (userId: string) =>
      unwrap(api.POST("/api/v1/tickets/{ticket_id}/participants", { params: { path: { ticket_id: id } }, body: { userId } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (userId: string) =>
      unwrap(
        api.DELETE("/api/v1/tickets/{ticket_id}/participants/{user_id}", {
          params: { path: { ticket_id: id, user_id: userId } },
        }),
      ),
    onSuccess: refresh,
  });
  const mute = useMutation({
    mutationFn: (isMuted: boolean) =>
      unwrap(api.PATCH("/api/v1/tickets/{ticket_id}/participants/me", { params: { path: { ticket_id: id } }, body: { isMuted } })),
    onSuccess: refresh,
  });
  return { add, remove, mute };
}

type Pages = { pages: { items: Ticket[]; nextCursor?: string | null }[]; pageParams: unknown[] };

/** Moves a ticket's row to the top with its new last message and unread count, without a refetch. */
function bumpTicket(qc: QueryClient, ticketId: string, message: Message, myId: string, viewing: boolean) {
  let found = false;
  qc.setQueryData<Pages>(ticketKeys.list, (data) => {
    if (!data) return data;
    const all = data.pages.flatMap((p) => p.items);
    const current = all.find((t) => t.id === ticketId);
    if (!current) return data;
    found = true;
    const counts = message.senderId && message.senderId !== myId && message.type !== "System" && !viewing;
    const updated: Ticket = {
      ...current,
      lastMessage: message,
      updatedAt: message.createdAt,
      unreadCount: current.unreadCount + (counts ? 1 : 0),
    };
    const rest = data.pages.map((p, i) => ({
      ...p,
      items: [...(i === 0 ? [updated] : []), ...p.items.filter((t) => t.id !== ticketId)],
    }));
    return { ...data, pages: rest };
  });
  if (!found) void refetchAfterChange(qc, ticketKeys.list);
}

function patchParticipant(qc: QueryClient, ticketId: string, userId: string, patch: Partial<Participant>) {
  qc.setQueryData<Participant[]>(ticketKeys.participants(ticketId), (list) =>
    list?.map((p) => (p.userId === userId ? { ...p, ...patch } : p)),
  );
}

/** Keeps the ticket list, ticket details and read marks live from socket events. */
export function useLiveTickets(myId: string | undefined, viewingTicketId: () => string | null) {
  const qc = useQueryClient();
  useEffect(() => {
    if (!myId) return;
    const offs = [
      socket.on<{ ticketId: string; message: Message }>("newMessage", ({ ticketId, message }) => {
        bumpTicket(qc, ticketId, message, myId, viewingTicketId() === ticketId && document.visibilityState === "visible");
        if (message.type === "System") {
          void refetchAfterChange(qc, ticketKeys.participants(ticketId));
          void refetchAfterChange(qc, ticketKeys.one(ticketId));
        }
      }),
      socket.on<{ ticketId: string; ticket: Ticket }>("ticketUpdate", ({ ticketId, ticket }) => {
        if (ticket) qc.setQueryData<Ticket>(ticketKeys.one(ticketId), (old) => ({ ...(old ?? ticket), ...ticket, unreadCount: old?.unreadCount ?? ticket.unreadCount, lastMessage: old?.lastMessage ?? ticket.lastMessage }));
        void refetchAfterChange(qc, ticketKeys.list);
        void refetchAfterChange(qc, ticketKeys.participants(ticketId));
      }),
      socket.on<{ ticketId: string; userId: string; lastReadSeq: number; timestamp: string }>(
        "messagesRead",
        ({ ticketId, userId, lastReadSeq, timestamp }) => {
          patchParticipant(qc, ticketId, userId, { lastReadSeq, lastReadAt: timestamp });
          if (userId === myId) void refetchAfterChange(qc, ticketKeys.list);
        },
      ),
      socket.on<{ type: string }>("notification", () => {
        // A new ticket the user was added to arrives as a notification before any message.
        void refetchAfterChange(qc, ticketKeys.list);
      }),
      socket.onConnected(() => {
        void refetchAfterChange(qc, ticketKeys.list);
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [qc, myId, viewingTicketId]);
}

/** The caller read the ticket: its unread badge goes away. */
export function markListRead(qc: QueryClient, ticketId: string) {
  qc.setQueryData<Pages>(ticketKeys.list, (data) =>
    data && {
      ...data,
      pages: data.pages.map((p) => ({ ...p, items: p.items.map((t) => (t.id === ticketId ? { ...t, unreadCount: 0 } : t)) })),
    },
  );
}
