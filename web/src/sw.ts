/// <reference lib="webworker" />
// The service worker: precaches the app shell (so it opens offline and says so), serves index.html for
// app routes when offline, and shows push notifications (the push issue builds on this).
import { precacheAndRoute, cleanupOutdatedCaches, createHandlerBoundToURL } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";

declare const self: ServiceWorkerGlobalScope;

cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);

// App routes open from the precached shell; API, socket and dev tools always go to the network.
registerRoute(
  new NavigationRoute(createHandlerBoundToURL("/index.html"), {
    denylist: [/^\/api\//, /^\/socket\.io/, /^\/docs/, /^\/openapi\.json/, /^\/dev\/mailbox/, /^\/healthz/, /^\/readyz/, /^\/metrics/],
  }),
);

self.addEventListener("install", () => void self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

interface PushPayload {
  id?: string;
  type?: string;
  title?: string;
  body?: string;
  ticketId?: string | null;
  url?: string;
}

self.addEventListener("push", (event) => {
  let data: PushPayload;
  try {
    data = event.data?.json() ?? {};
  } catch {
    data = { title: event.data?.text() };
  }
  const url = data.url ?? (data.ticketId ? `/tickets/${data.ticketId}` : "/notifications");
  event.waitUntil(
    self.registration.showNotification(data.title ?? "Tickets", {
      body: data.body ?? "",
      tag: data.ticketId ?? data.id,
      icon: "/icons/icon-192.png",
      badge: "/icons/icon-192.png",
      data: { url },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data as { url?: string })?.url ?? "/tickets", self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).origin === self.location.origin) {
          await client.focus();
          await (client as WindowClient).navigate(url);
          return;
        }
      }
      await self.clients.openWindow(url);
    })(),
  );
});
