// The `/tickets` column: latest activity first, unread badges, previews, a status filter, new ticket,
// and search across every ticket whose hits open the ticket at the message.
import { lazy, Suspense, useDeferredValue, useMemo, useState } from "react";
import { useQueries } from "@tanstack/react-query";
import { knowsName, rememberNames } from "@/lib/people";
import { api, unwrap } from "@/lib/api/client";
import { Link, NavLink } from "react-router";
import { Inbox, Plus, Search, SearchX, TriangleAlert, X } from "lucide-react";
import { relativeTime } from "@/lib/relativeTime";
import { Button, IconButton } from "@/components/Button";
import { CenteredSpinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { cn } from "@/lib/classNames";
import { highlightText, plainText, queryPattern } from "@/lib/markdown";
import type { Ticket, TicketStatus } from "@/lib/api/client";
import { STATUSES, STATUS_LABEL, useMessageSearch, useTicketList } from "../api/tickets";
import { StatusBadge } from "./StatusBadge";

// Loaded when first opened: most visits never create a ticket, and the picker is not small.
const CreateTicketDialog = lazy(() => import("./CreateTicketDialog").then((m) => ({ default: m.CreateTicketDialog })));

type Filter = "active" | "all" | TicketStatus;
const ACTIVE: TicketStatus[] = ["Open", "Assigned", "InProgress", "OnHold"];

function shortTime(iso: string): string {
  const d = new Date(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  if (now.getTime() - d.getTime() < 6 * 86400_000) return d.toLocaleDateString([], { weekday: "short" });
  return d.toLocaleDateString([], { month: "short", day: "numeric" });
}

function preview(t: Ticket, names: (id: string | null) => string, myId: string): string {
  const m = t.lastMessage;
  if (!m) return t.description ? plainText(t.description) : "No messages yet";
  if (m.deletedAt) return "Message deleted";
  const who = m.type === "System" ? "" : m.senderId === myId ? "You: " : `${names(m.senderId).split(" ")[0]}: `;
  const body = m.type === "Image" ? "📷 Photo" : m.type === "File" ? `📎 ${m.attachment?.fileName ?? "File"}` : plainText(m.content);
  return who + body;
}

export function TicketListPane({ myId, nameOf }: { myId: string; nameOf: (id: string | null) => string }) {
  const list = useTicketList();
  const [filter, setFilter] = useState<Filter>("active");
  const [query, setQuery] = useState("");
  const deferred = useDeferredValue(query.trim());
  const search = useMessageSearch(deferred);
  const [creating, setCreating] = useState(false);
  const tickets = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const titles = useMemo(() => new Map(tickets.map((t) => [t.id, t.title])), [tickets]);
  const shown = tickets.filter((t) => (filter === "all" ? true : filter === "active" ? ACTIVE.includes(t.status) : t.status === filter));
  const pattern = queryPattern(deferred);

  // Messages carry sender ids only: learn the names of the people behind the previews and search hits
  // from the participant lists of those tickets (shared with the ticket view's cache).
  const needNames = useMemo(() => {
    const ids = new Set<string>();
    for (const t of shown.slice(0, 40)) if (t.lastMessage && !knowsName(t.lastMessage.senderId)) ids.add(t.id);
    for (const h of search.data?.items ?? []) if (!knowsName(h.senderId)) ids.add(h.ticketId);
    return [...ids];
  }, [shown, search.data]);
  useQueries({
    queries: needNames.map((id) => ({
      queryKey: ["participants", id],
      queryFn: async () => {
        const list = await unwrap(api.GET("/api/v1/tickets/{ticket_id}/participants", { params: { path: { ticket_id: id } } }));
        rememberNames(list);
        return list;
      },
      staleTime: 60_000,
    })),
  });

  return (
    <section aria-label="Tickets" className="flex h-full min-h-0 flex-col bg-panel">
      <div className="flex items-center justify-between gap-2 px-4 pb-2 pt-4">
        <h1 className="text-lg font-semibold text-ink-strong">Tickets</h1>
        <Button variant="primary" size="sm" onClick={() => setCreating(true)}>
          <Plus className="h-4 w-4" aria-hidden="true" /> New ticket
        </Button>
      </div>
      <div className="space-y-2 px-4 pb-3">
        <div className="relative">
          <Search className="pointer-events-none absolute left-3 top-1/2 h-4 w-4 -translate-y-1/2 text-muted" aria-hidden="true" />
          <input
            type="search"
            role="searchbox"
            aria-label="Search messages"
            placeholder="Search all messages"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => e.key === "Escape" && setQuery("")}
            className="h-10 w-full rounded-lg border border-line bg-surface pl-9 pr-9 text-base text-ink placeholder:text-muted focus:border-accent focus:bg-panel focus:outline-none sm:text-sm [&::-webkit-search-cancel-button]:hidden"
          />
          {query && (
            <IconButton label="Clear search" className="absolute right-0 top-0" onClick={() => setQuery("")}>
              <X className="h-4 w-4" aria-hidden="true" />
            </IconButton>
          )}
        </div>
        {!deferred && (
          <div className="flex items-center gap-2">
            <label htmlFor="status-filter" className="text-[13px] text-muted">
              Show
            </label>
            <select
              id="status-filter"
              value={filter}
              onChange={(e) => setFilter(e.target.value as Filter)}
              className="h-8 rounded-md border border-line bg-panel px-2 text-[13px] text-ink focus:border-accent focus:outline-none"
            >
              <option value="active">Active tickets</option>
              <option value="all">All tickets</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABEL[s]}
                </option>
              ))}
            </select>
            <span className="ml-auto text-xs text-muted tabular">{shown.length} shown</span>
          </div>
        )}
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto border-t border-line">
        {deferred ? (
          search.isPending ? (
            <CenteredSpinner label="Searching…" />
          ) : search.isError ? (
            <EmptyState tone="error" icon={<TriangleAlert className="h-6 w-6" />} title="Search failed">
              {search.error.message}
            </EmptyState>
          ) : search.data.items.length === 0 ? (
            <EmptyState icon={<SearchX className="h-6 w-6" />} title="No messages found">
              Try other words, or fewer of them.
            </EmptyState>
          ) : (
            <ul aria-label="Search results" className="divide-y divide-line">
              {search.data.items.map((hit) => (
                <li key={hit.id}>
                  <Link
                    to={`/tickets/${hit.ticketId}?message=${hit.id}`}
                    className="block px-4 py-3 hover:bg-surface focus-visible:bg-surface"
                  >
                    <span className="flex items-baseline justify-between gap-2">
                      <span className="truncate text-[13px] font-medium text-ink-strong">{titles.get(hit.ticketId) ?? "Ticket"}</span>
                      <span className="shrink-0 text-xs text-muted tabular">{shortTime(hit.createdAt)}</span>
                    </span>
                    <span className="mt-0.5 block text-[13px] text-muted">{nameOf(hit.senderId)}</span>
                    <span className="mt-1 line-clamp-2 block text-sm text-ink">
                      {pattern ? highlightText(plainText(hit.content), pattern) : plainText(hit.content)}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          )
        ) : list.isPending ? (
          <CenteredSpinner label="Loading tickets…" />
        ) : list.isError ? (
          <EmptyState tone="error" icon={<TriangleAlert className="h-6 w-6" />} title="Tickets could not be loaded" action={<Button onClick={() => list.refetch()}>Try again</Button>}>
            {list.error.message}
          </EmptyState>
        ) : shown.length === 0 ? (
          <EmptyState
            icon={<Inbox className="h-6 w-6" />}
            title={tickets.length ? "No tickets match this filter" : "No tickets yet"}
            action={!tickets.length && <Button variant="primary" onClick={() => setCreating(true)}>Create your first ticket</Button>}
          >
            {tickets.length ? "Choose another status to see more." : "When you open a ticket or someone adds you to one, it shows up here."}
          </EmptyState>
        ) : (
          <ul className="divide-y divide-line">
            {shown.map((t) => (
              <li key={t.id}>
                <NavLink
                  to={`/tickets/${t.id}`}
                  className={({ isActive }) =>
                    cn("flex gap-3 px-4 py-3 transition-colors hover:bg-surface", isActive && "bg-accent-soft hover:bg-accent-soft")
                  }
                >
                  <span className="min-w-0 flex-1">
                    <span className="flex items-baseline justify-between gap-2">
                      <span className={cn("truncate text-[15px] text-ink-strong", t.unreadCount > 0 ? "font-semibold" : "font-medium")}>{t.title}</span>
                      <span className="shrink-0 text-xs text-muted tabular">
                        <span className="sr-only">Last activity </span>
                        {shortTime(t.lastMessage?.createdAt ?? t.updatedAt)}
                      </span>
                    </span>
                    <span className="mt-1 flex items-center gap-2">
                      <span className={cn("min-w-0 flex-1 truncate text-[13px]", t.unreadCount > 0 ? "text-ink" : "text-muted")}>
                        {preview(t, nameOf, myId)}
                      </span>
                      {t.unreadCount > 0 && (
                        <span className="inline-flex h-5 min-w-5 items-center justify-center rounded-full bg-accent px-1.5 text-[11px] font-semibold text-on-accent tabular">
                          {t.unreadCount > 99 ? "99+" : t.unreadCount}
                          <span className="sr-only"> unread</span>
                        </span>
                      )}
                    </span>
                    <span className="mt-1.5 flex items-center gap-2">
                      <StatusBadge status={t.status} />
                      <span className="truncate text-xs text-muted" title={new Date(t.updatedAt).toLocaleString()}>
                        updated {relativeTime(t.updatedAt)}
                      </span>
                    </span>
                  </span>
                </NavLink>
              </li>
            ))}
            {list.hasNextPage && (
              <li className="p-3 text-center">
                <Button size="sm" onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage}>
                  {list.isFetchingNextPage ? "Loading…" : "Load more tickets"}
                </Button>
              </li>
            )}
          </ul>
        )}
      </div>
      {creating && (
        <Suspense fallback={null}>
          <CreateTicketDialog open={creating} onOpenChange={setCreating} />
        </Suspense>
      )}
    </section>
  );
}
