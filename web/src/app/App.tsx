// The session gate and everything that lives as long as the signed-in tab: socket, live caches, tab title.
import { lazy, Suspense, useCallback, useEffect, useRef, useSyncExternalStore } from "react";
import { Navigate, useLocation, useMatch, useRoutes } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { CenteredSpinner } from "@/components/Spinner";
import { msUntilExpiry, markExpired, sessionState, subscribeSession } from "@/lib/auth/session";
import { startSocket, stopSocket } from "@/lib/realtime/socket";
import { resetThreads, wireThreads } from "@/lib/realtime/threads";
import { rememberNames } from "@/lib/people";
import { SignedOutScreen, useMe, type Me } from "@/features/auth";
import { useLiveTickets, useTicketListData } from "./liveData";
import { useLiveNotifications, useUnreadNotifications } from "@/features/notifications";

// Pages off the main path load on demand, so the tickets screens stay within the JS budget.
const NotificationsPage = lazy(() => import("@/features/notifications/components/NotificationsPage").then((m) => ({ default: m.NotificationsPage })));
const PreferencesPage = lazy(() => import("@/features/preferences").then((m) => ({ default: m.PreferencesPage })));
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
  useEffect(() => {
    if (state !== "signedIn") {
      stopSocket();
      resetThreads();
      qc.clear();
      return;
    }
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
    const base = location.pathname.startsWith("/tickets/") ? document.title.replace(/^\(\d+\+?\) /, "") : pageTitle(location.pathname);
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
        { path: "admin/*", element: <NotFound forbidden={!admin} /> },
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

