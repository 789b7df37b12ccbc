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

// What the page remembers about this browser's subscription (web/src/features/preferences/api/push.ts
// writes it): `pushsubscriptionchange` often comes without `oldSubscription` (Chrome), and then this is
// the only way to name and prove the old one to the server.
interface RememberedSubscription {
  endpoint: string;
  auth: string;
  applicationServerKey: string;
}
const PUSH_STATE_CACHE = "push-state";
const PUSH_STATE_URL = "/push-state/subscription.json";

// Events a test dispatches from script (headless Chromium shows no notification to click, and has no
// push service to change a subscription) are untrusted, and cannot be extended: their work still runs.
function keepAlive(event: ExtendableEvent, work: Promise<unknown>) {
  try {
    event.waitUntil(work);
  } catch {
    void work;
  }
}

self.addEventListener("push", (event) => {
  let data: PushPayload;
  try {
    data = (event.data?.json() as PushPayload | null) ?? {};
  } catch {
    data = { title: event.data?.text() };
  }
  const url = data.url ?? (data.ticketId ? `/tickets/${data.ticketId}` : "/notifications");
  keepAlive(
    event,
    // One notification per ticket: a newer push for the same ticket replaces the one still shown.
    self.registration.showNotification(data.title ?? "Tickets", {
      body: data.body ?? "",
      tag: data.ticketId ? `ticket-${data.ticketId}` : (data.id ?? "tickets"),
      icon: "/icons/icon-192.png",
      badge: "/icons/icon-192.png",
      data: { url, id: data.id, type: data.type },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data as { url?: string } | null)?.url ?? "/notifications", self.location.origin).href;
  keepAlive(
    event,
    (async () => {
      const windows = (await self.clients.matchAll({ type: "window", includeUncontrolled: true })).filter(
        (c) => new URL(c.url).origin === self.location.origin,
      );
      // A tab already showing the target wins; else any tab of the app is brought forward and moved there.
      const client = windows.find((c) => c.url === url) ?? windows[0];
      if (client) {
        try {
          await client.focus();
        } catch {
          // Focus needs the click's user activation; a script-dispatched click (the tests) has none.
        }
        if (client.url !== url) await client.navigate(url);
        return;
      }
      await self.clients.openWindow(url);
    })(),
  );
});

async function rememberedSubscription(): Promise<RememberedSubscription | null> {
  const cache = await caches.open(PUSH_STATE_CACHE);
  const stored = await cache.match(PUSH_STATE_URL);
  return stored ? ((await stored.json()) as RememberedSubscription) : null;
}

function base64url(buffer: ArrayBuffer | null): string {
  if (!buffer) return "";
  return btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

interface SubscriptionChangeEvent extends ExtendableEvent {
  oldSubscription?: PushSubscription | null;
  newSubscription?: PushSubscription | null;
}

// The browser replaced (or dropped) this device's subscription: subscribe again if it did not, and tell
// the server, which moves the device to the new endpoint. No page may be open, so there is no sign-in
// token: the old subscription's auth secret proves the request (POST /api/v1/push/subscription-change).
self.addEventListener("pushsubscriptionchange", (event) => {
  const change = event as SubscriptionChangeEvent;
  keepAlive(
    change,
    (async () => {
      const remembered = await rememberedSubscription();
      const oldSubscription = change.oldSubscription ?? null;
      const old = oldSubscription
        ? {
            endpoint: oldSubscription.endpoint,
            auth: base64url(oldSubscription.getKey("auth")),
            applicationServerKey: base64url(oldSubscription.options.applicationServerKey) || remembered?.applicationServerKey || "",
          }
        : remembered;
      if (!old) return;
      let next = change.newSubscription ?? null;
      if (!next && old.applicationServerKey) {
        try {
          next = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: old.applicationServerKey });
        } catch {
          next = null; // no push service (or permission withdrawn): the server forgets the device
        }
      }
      const response = await fetch("/api/v1/push/subscription-change", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ oldEndpoint: old.endpoint, oldAuth: old.auth, newSubscription: next ? { ...next.toJSON(), userAgent: navigator.userAgent } : undefined }),
      });
      const cache = await caches.open(PUSH_STATE_CACHE);
      if (response.ok && next) {
        const state: RememberedSubscription = { endpoint: next.endpoint, auth: base64url(next.getKey("auth")), applicationServerKey: old.applicationServerKey };
        await cache.put(PUSH_STATE_URL, new Response(JSON.stringify(state), { headers: { "Content-Type": "application/json" } }));
      } else if (response.ok || response.status === 404) {
        await cache.delete(PUSH_STATE_URL);
      }
    })(),
  );
});
