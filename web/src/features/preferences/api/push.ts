// This browser's push subscription and the user's devices (GET/POST/DELETE /api/v1/me/push-subscriptions).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/lib/api/client";

export type PushDevice = Schemas["SubscriptionOut"];

/** What this browser allows: push works, the user blocked notifications, or the browser has no push. */
export type PushSupport = "supported" | "denied" | "unsupported";

export function pushSupport(): PushSupport {
  if (typeof window === "undefined" || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return "unsupported";
  return Notification.permission === "denied" ? "denied" : "supported";
}

// The service worker reads this when the browser replaces the subscription without saying which one it
// replaced (web/src/sw.ts, `pushsubscriptionchange`): the old endpoint and auth secret prove the change.
const PUSH_STATE_CACHE = "push-state";
const PUSH_STATE_URL = "/push-state/subscription.json";

function base64url(buffer: ArrayBuffer | null): string {
  if (!buffer) return "";
  return btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const raw = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

async function remember(subscription: PushSubscription, applicationServerKey: string) {
  if (!("caches" in window)) return;
  const state = { endpoint: subscription.endpoint, auth: base64url(subscription.getKey("auth")), applicationServerKey };
  const cache = await caches.open(PUSH_STATE_CACHE);
  await cache.put(PUSH_STATE_URL, new Response(JSON.stringify(state), { headers: { "Content-Type": "application/json" } }));
}

async function forget() {
  if ("caches" in window) await (await caches.open(PUSH_STATE_CACHE)).delete(PUSH_STATE_URL);
}

/** The service worker's registration; it exists only in the built app (main.tsx registers it in production). */
async function registration(): Promise<ServiceWorkerRegistration> {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error("The app's service worker is not running: reload the page and try again.")), 10_000),
  );
  return Promise.race([navigator.serviceWorker.ready, timeout]);
}

export class PushPermissionDenied extends Error {
  constructor() {
    super("Notifications are blocked for this site.");
  }
}

const devicesKey = ["push-devices"] as const;
const thisDeviceKey = ["push-this-device"] as const;

export function usePushDevices() {
  return useQuery({ queryKey: devicesKey, queryFn: () => unwrap(api.GET("/api/v1/me/push-subscriptions")) });
}

/** This browser's current endpoint (null when it is not subscribed or cannot be). */
export function useThisDeviceEndpoint() {
  return useQuery({
    queryKey: thisDeviceKey,
    queryFn: async () => {
      if (pushSupport() !== "supported") return null;
      const reg = await navigator.serviceWorker.getRegistration();
      const subscription = await reg?.pushManager.getSubscription();
      return subscription?.endpoint ?? null;
    },
  });
}

/** Subscribe this browser: ask for permission if needed, subscribe with the VAPID key, register it. */
export function useSubscribeThisDevice() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      if (pushSupport() === "unsupported") throw new Error("This browser cannot receive push notifications.");
      const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
      if (permission !== "granted") throw new PushPermissionDenied();
      const { publicKey } = await unwrap(api.GET("/api/v1/push/public-key"));
      const reg = await registration();
      let subscription = await reg.pushManager.getSubscription();
      if (subscription && base64url(subscription.options.applicationServerKey) !== publicKey) {
        await subscription.unsubscribe(); // made with another server key: pushes to it would be refused
        subscription = null;
      }
      subscription ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromBase64url(publicKey) });
      const json = subscription.toJSON();
      const device = await unwrap(
        api.POST("/api/v1/me/push-subscriptions", {
          body: { endpoint: subscription.endpoint, keys: { p256dh: json.keys?.p256dh ?? "", auth: json.keys?.auth ?? "" }, userAgent: navigator.userAgent },
        }),
      );
      await remember(subscription, publicKey);
      return device;
    },
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: devicesKey });
      void qc.invalidateQueries({ queryKey: thisDeviceKey });
    },
  });
}

/** Stop pushes to a device; for this browser, also drop its subscription. */
export function useRemoveDevice() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ device, thisDevice }: { device: PushDevice; thisDevice: boolean }) => {
      await unwrap(api.DELETE("/api/v1/me/push-subscriptions/{subscription_id}", { params: { path: { subscription_id: device.id } } }));
      if (thisDevice) {
        const subscription = await (await registration()).pushManager.getSubscription();
        await subscription?.unsubscribe();
        await forget();
      }
    },
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: devicesKey });
      void qc.invalidateQueries({ queryKey: thisDeviceKey });
    },
  });
}

/** "Chrome on Android" from a User-Agent string (a device list is read by people, not parsers). */
export function describeDevice(userAgent: string | null | undefined): string {
  const ua = userAgent ?? "";
  if (!ua) return "Unknown device";
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /OPR\//.test(ua)
      ? "Opera"
      : /Firefox\//.test(ua)
        ? "Firefox"
        : /(Chrome|Chromium|CriOS)\//.test(ua)
          ? "Chrome"
          : /Safari\//.test(ua)
            ? "Safari"
            : null;
  const system = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad|iPod/.test(ua)
      ? "iOS"
      : /Windows/.test(ua)
        ? "Windows"
        : /Mac OS X|Macintosh/.test(ua)
          ? "macOS"
          : /CrOS/.test(ua)
            ? "ChromeOS"
            : /Linux/.test(ua)
              ? "Linux"
              : null;
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? (ua.length > 40 ? `${ua.slice(0, 40)}…` : ua);
}
