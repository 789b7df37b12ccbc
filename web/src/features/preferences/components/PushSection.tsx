// The "Push notifications" switch (subscribes or unsubscribes this browser) and the user's devices.
import { useEffect, useState } from "react";
import { BellOff, Monitor, Smartphone, TriangleAlert } from "lucide-react";
import { Button } from "@/components/Button";
import { CenteredSpinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { relativeTime } from "@/lib/relativeTime";
import {
  describeDevice,
  pushSupport,
  PushPermissionDenied,
  usePushDevices,
  useRemoveDevice,
  useSubscribeThisDevice,
  useThisDeviceEndpoint,
  type PushSupport,
} from "../api/push";
import { Toggle } from "./Toggle";

/** Notification permission as it is now, re-read when the user changes it in the browser's settings. */
function usePushSupport(): PushSupport {
  const [support, setSupport] = useState(pushSupport);
  useEffect(() => {
    const refresh = () => setSupport(pushSupport());
    let status: PermissionStatus | null = null;
    navigator.permissions
      ?.query({ name: "notifications" })
      .then((s) => {
        status = s;
        s.onchange = refresh;
      })
      .catch(() => undefined);
    window.addEventListener("focus", refresh);
    return () => {
      window.removeEventListener("focus", refresh);
      if (status) status.onchange = null;
    };
  }, []);
  return support;
}

export function PushToggle({ pushEnabled, setPushEnabled }: { pushEnabled: boolean; setPushEnabled: (on: boolean) => void }) {
  const support = usePushSupport();
  const devices = usePushDevices();
  const thisDevice = useThisDeviceEndpoint();
  const subscribe = useSubscribeThisDevice();
  const remove = useRemoveDevice();
  const mine = devices.data?.find((d) => d.endpoint === thisDevice.data);
  const others = (devices.data ?? []).filter((d) => d !== mine);
  const busy = subscribe.isPending || remove.isPending || devices.isPending || thisDevice.isPending;
  const denied = support === "denied" || subscribe.error instanceof PushPermissionDenied;

  const onChange = (on: boolean) => {
    if (on) {
      remove.reset();
      subscribe.mutate(undefined, { onSuccess: () => !pushEnabled && setPushEnabled(true) });
    } else if (mine) {
      subscribe.reset();
      // Off here; still on for the user's other devices, if any.
      remove.mutate({ device: mine, thisDevice: true }, { onSuccess: () => others.length === 0 && setPushEnabled(false) });
    } else {
      setPushEnabled(false);
    }
  };

  const hint =
    pushEnabled && !mine && others.length > 0
      ? "On for your other devices; turn on to get alerts on this one too"
      : "Alerts on this device, even when the app is closed";
  return (
    <div>
      <Toggle id="pref-push" label="Push notifications" hint={hint} checked={pushEnabled && !!mine} disabled={busy || support === "unsupported" || (denied && !mine)} describedBy={support === "unsupported" ? "push-unsupported" : denied ? "push-denied" : undefined} onChange={onChange} />
      {support === "unsupported" ? (
        <Explanation id="push-unsupported" title="This browser cannot receive push notifications">
          On iPhone and iPad, add this app to your Home Screen (Share, then “Add to Home Screen”) and open it from
          there. Elsewhere, use a current version of Chrome, Edge, Firefox or Safari.
        </Explanation>
      ) : denied ? (
        <Explanation id="push-denied" title="Notifications are blocked for this site">
          You (or your browser) said no when asked. To allow them: open the site settings from the icon left of
          the address bar, set Notifications to “Allow”, then come back and turn this on. On Android, also check
          the browser’s notifications in the phone’s Settings, then Apps.
        </Explanation>
      ) : subscribe.isError ? (
        <p role="alert" className="px-4 pb-3 text-[13px] text-danger">Push could not be turned on for this device: {subscribe.error.message}</p>
      ) : remove.isError ? (
        <p role="alert" className="px-4 pb-3 text-[13px] text-danger">Push could not be turned off for this device: {remove.error.message}</p>
      ) : null}
    </div>
  );
}

function Explanation({ id, title, children }: { id: string; title: string; children: React.ReactNode }) {
  return (
    <div id={id} role="note" className="mx-4 mb-3 flex gap-2 rounded-lg border border-line bg-surface/60 px-3 py-2 text-[13px] text-ink">
      <BellOff className="mt-0.5 h-4 w-4 shrink-0 text-muted" aria-hidden="true" />
      <div className="min-w-0">
        <p className="font-medium text-ink-strong">{title}</p>
        <p className="mt-0.5 text-muted">{children}</p>
      </div>
    </div>
  );
}

export function PushDevices() {
  const devices = usePushDevices();
  const thisDevice = useThisDeviceEndpoint();
  const remove = useRemoveDevice();
  if (devices.isPending) return <CenteredSpinner />;
  if (devices.isError)
    return (
      <EmptyState tone="error" icon={<TriangleAlert className="h-6 w-6" />} title="Devices could not be loaded" action={<Button onClick={() => devices.refetch()}>Try again</Button>}>
        {devices.error.message}
      </EmptyState>
    );
  if (!devices.data.length) return <p className="px-4 py-3 text-sm text-muted">No devices yet. Turn on push notifications above on each phone or computer that should alert you.</p>;
  return (
    <ul aria-label="Devices" className="divide-y divide-line">
      {devices.data.map((device) => {
        const here = device.endpoint === thisDevice.data;
        const name = describeDevice(device.userAgent);
        return (
          <li key={device.id} className="flex items-center gap-3 px-4 py-3">
            {/ on (Android|iOS)$/.test(name) ? <Smartphone className="h-5 w-5 shrink-0 text-muted" aria-hidden="true" /> : <Monitor className="h-5 w-5 shrink-0 text-muted" aria-hidden="true" />}
            <div className="min-w-0 flex-1">
              <p className="flex flex-wrap items-center gap-x-2 text-sm font-medium text-ink-strong">
                <span className="truncate">{name}</span>
                {here && <span className="rounded-full bg-accent/10 px-2 py-0.5 text-[11px] font-semibold text-accent">This device</span>}
              </p>
              <p className="text-[13px] text-muted">
                Added {relativeTime(device.createdAt)} · {device.lastSuccessAt ? `last push ${relativeTime(device.lastSuccessAt)}` : "no push yet"}
              </p>
            </div>
            <Button size="sm" variant="danger" aria-label={`Remove ${name}${here ? " (this device)" : ""}`} disabled={remove.isPending} onClick={() => remove.mutate({ device, thisDevice: here })}>
              Remove
            </Button>
          </li>
        );
      })}
    </ul>
  );
}
