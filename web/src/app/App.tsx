// The session gate and everything that lives as long as the signed-in tab: socket, live caches, tab title.
import { lazy, Suspense, useCallback, useEffect, useRef, useSyncExternalStore } from "react";
import { Navigate, useLocation, useMatch, useRoutes } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { CenteredSpinner } from "@/components/Spinner";
import { msUntilExpiry, markExpired, sessionState, subscribeSession } from "@/lib/auth/session";
import { startSocket, stopSocket } from "@/lib/realtime/socket";
import { resetThreads, wireThreads } from "@/lib/realtime/threads";
import { rememberNames } from "@/lib/people";
import { OfflineScreen, SignedOutScreen, useMe, type Me } from "@/features/auth";
import { ApiError } from "@/lib/api/client";
import { useLiveTickets, useTicketListData } from "./liveData";
import { useLiveNotifications, useUnreadNotifications } from "@/features/notifications";

// Pages off the main path load on demand, so the tickets screens stay within the JS budget.
const NotificationsPage = lazy(() => import("@/features/notifications/components/NotificationsPage").then((m) => ({ default: m.NotificationsPage })));
const PreferencesPage = lazy(() => import("@/features/preferences").then((m) => ({ default: m.PreferencesPage })));
const AdminRoutes = lazy(() => import("./AdminRoutes"));
import { AppShell } from "./AppShell";
import { NoTicketSelected, TicketsLayout } from "./TicketsLayout";
import { TicketRoute } from "./TicketRoute";
import { NotFound } from "./NotFound";

function useSession() {
  return useSyncExternalStore(subscribeSession, sessionState);
}

export function SignedInApp() {
  const state = useSession();
  const qc = useQueryClient();
  const wasSignedIn = useRef(false);
  useEffect(() => {
    if (state !== "signedIn") {
      if (wasSignedIn.current) {
        // Leaving a session: nothing of the previous user stays in memory.
        stopSocket();
        resetThreads();
        qc.removeQueries({ predicate: (q) => q.queryKey[0] !== "config" });
      }
      wasSignedIn.current = false;
      return;
    }
    wasSignedIn.current = true;
    wireThreads();
    startSocket();
    // Show the signed-out screen when the token runs out, not at the next failed request.
    const ms = msUntilExpiry();
    const timer = ms !== null && ms < 2 ** 31 ? setTimeout(markExpired, Math.max(0, ms)) : undefined;
    return () => clearTimeout(timer);
  }, [state, qc]);
  if (state !== "signedIn") return <SignedOutScreen reason={state} />;
  return <Session />;
}

function Session() {
  const me = useMe();
  // No answer at all (paused while the browser is offline, or a network failure) is not a lost session.
  const unreachable = !navigator.onLine || me.fetchStatus === "paused" || (me.isError && !(me.error instanceof ApiError));
  if (!me.data && unreachable) return <OfflineScreen onRetry={me.refetch} />;
  if (me.isError) return <SignedOutScreen reason="expired" />;
  if (!me.data) return <CenteredSpinner label="Signing in…" />;
  return <Routes me={me.data} />;
}

function Routes({ me }: { me: Me }) {
  rememberNames([{ userId: me.id, name: me.name || me.email || me.id }]);
  const match = useMatch("/tickets/:ticketId");
  const viewing = useRef<string | null>(null);
  viewing.current = match?.params.ticketId ?? null;
  const viewingTicket = useCallback(() => viewing.current, []);
  useLiveTickets(me.id, viewingTicket);
  useLiveNotifications(true);
  const tickets = useTicketListData();
  const unread = useUnreadNotifications();
  const location = useLocation();
  useEffect(() => {
    // Ticket and admin pages set their own title; keep it.
    const base = /^\/(tickets|admin)\//.test(location.pathname) ? document.title.replace(/^\(\d+\+?\) /, "") : pageTitle(location.pathname);
    document.title = unread ? `(${unread > 99 ? "99+" : unread}) ${base}` : base;
  }, [unread, location.pathname, tickets]);
  const admin = me.role === "admin";
  return useRoutes([
    {
      element: <AppShell me={me} />,
      children: [
        { index: true, element: <Navigate to="/tickets" replace /> },
        {
          path: "tickets",
          element: <TicketsLayout me={me} />,
          children: [
            { index: true, element: <NoTicketSelected /> },
            { path: ":ticketId", element: <TicketRoute me={me} /> },
          ],
        },
        { path: "notifications", element: <Suspense fallback={<CenteredSpinner />}><NotificationsPage /></Suspense> },
        { path: "settings/notifications", element: <Suspense fallback={<CenteredSpinner />}><PreferencesPage tickets={tickets} /></Suspense> },
        { path: "admin/*", element: admin ? <Suspense fallback={<CenteredSpinner />}><AdminRoutes /></Suspense> : <NotFound forbidden /> },
        { path: "*", element: <NotFound /> },
      ],
    },
  ]);
}

function pageTitle(path: string): string {
  if (path.startsWith("/notifications")) return "Notifications · Tickets";
  if (path.startsWith("/settings")) return "Notification preferences · Tickets";
  return "Tickets";
}

