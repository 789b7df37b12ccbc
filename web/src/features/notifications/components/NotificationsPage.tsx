// `/notifications`: newest first, unread ones marked; opening one marks it read and goes to its ticket.
import { Link, useNavigate } from "react-router";
import { BellOff, CheckCheck, TriangleAlert } from "lucide-react";
import { relativeTime } from "@/lib/relativeTime";
import { Button } from "@/components/Button";
import { CenteredSpinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { cn } from "@/lib/classNames";
import { useMarkNotificationsRead, useNotifications } from "../api/notifications";

export function NotificationsPage() {
  const q = useNotifications();
  const mark = useMarkNotificationsRead();
  const navigate = useNavigate();
  const items = q.data?.pages.flatMap((p) => p.items) ?? [];
  const unread = q.data?.pages[0]?.unread ?? 0;
  return (
    <main className="mx-auto w-full max-w-2xl px-4 py-6 sm:py-8">
      <div className="mb-4 flex items-center justify-between gap-2">
        <div>
          <h1 className="text-xl font-semibold text-ink-strong">Notifications</h1>
          <p className="text-sm text-muted tabular">{unread ? `${unread} unread` : "You are all caught up"}</p>
        </div>
        <div className="flex gap-2">
          <Link to="/settings/notifications" className="inline-flex h-8 items-center rounded-lg px-3 text-[13px] font-medium text-accent hover:bg-surface">
            Preferences
          </Link>
          <Button size="sm" onClick={() => mark.mutate(undefined)} disabled={!unread || mark.isPending}>
            <CheckCheck className="h-4 w-4" aria-hidden="true" /> Mark all read
          </Button>
        </div>
      </div>
      <div className="overflow-hidden rounded-xl border border-line bg-panel">
        {q.isPending ? (
          <CenteredSpinner />
        ) : q.isError ? (
          <EmptyState tone="error" icon={<TriangleAlert className="h-6 w-6" />} title="Notifications could not be loaded" action={<Button onClick={() => q.refetch()}>Try again</Button>}>
            {q.error.message}
          </EmptyState>
        ) : items.length === 0 ? (
          <EmptyState icon={<BellOff className="h-6 w-6" />} title="No notifications yet">
            Updates about your tickets will show up here.
          </EmptyState>
        ) : (
          <ul className="divide-y divide-line">
            {items.map((n) => (
              <li key={n.id} className={cn("flex items-start gap-3 px-4 py-3", !n.readAt && "bg-accent-soft/50")}>
                <span className={cn("mt-1.5 h-2 w-2 shrink-0 rounded-full", n.readAt ? "bg-transparent" : "bg-accent")} aria-hidden="true" />
                <button
                  type="button"
                  className="min-w-0 flex-1 text-left"
                  onClick={() => {
                    if (!n.readAt) mark.mutate([n.id]);
                    if (n.ticketId) navigate(`/tickets/${n.ticketId}`);
                  }}
                >
                  <span className={cn("block text-sm text-ink-strong", !n.readAt && "font-semibold")}>
                    {n.title}
                    {!n.readAt && <span className="sr-only"> (unread)</span>}
                  </span>
                  {n.body && <span className="mt-0.5 line-clamp-2 block text-[13px] text-muted">{n.body}</span>}
                  <span className="mt-1 block text-xs text-muted" title={new Date(n.createdAt).toLocaleString()}>
                    {relativeTime(n.createdAt)}
                  </span>
                </button>
                {!n.readAt && (
                  <Button size="sm" variant="ghost" onClick={() => mark.mutate([n.id])} aria-label={`Mark “${n.title}” read`}>
                    Mark read
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
      {q.hasNextPage && (
        <div className="mt-4 text-center">
          <Button onClick={() => q.fetchNextPage()} disabled={q.isFetchingNextPage}>
            {q.isFetchingNextPage ? "Loading…" : "Load more"}
          </Button>
        </div>
      )}
    </main>
  );
}
