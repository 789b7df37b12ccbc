// What the installed app shows when it opens without a connection: the shell came from the service
// worker, the server cannot be reached yet. It goes on by itself once the connection returns: on the
// browser's `online` event, and every few seconds (a page that loaded offline may never see the query
// client's own reconnect signal, which only fires on a change it noticed). "Try again" is for the impatient.
import { useEffect } from "react";
import { WifiOff } from "lucide-react";
import { Button } from "@/components/Button";

export function OfflineScreen({ onRetry }: { onRetry: () => void }) {
  useEffect(() => {
    window.addEventListener("online", onRetry);
    const timer = setInterval(onRetry, 5000);
    return () => {
      window.removeEventListener("online", onRetry);
      clearInterval(timer);
    };
  }, [onRetry]);
  return (
    <main className="flex min-h-dvh items-center justify-center bg-canvas px-4">
      <div className="w-full max-w-sm rounded-2xl border border-line bg-panel p-8 text-center">
        <div className="mx-auto mb-4 flex h-12 w-12 items-center justify-center rounded-xl bg-amber-100 text-amber-900 dark:bg-amber-500/15 dark:text-amber-200">
          <WifiOff className="h-6 w-6" aria-hidden="true" />
        </div>
        <h1 className="text-xl font-semibold text-ink-strong">You are offline</h1>
        <p role="status" className="mt-2 text-sm text-muted">
          Your tickets and conversations will appear as soon as this device is back online.
        </p>
        <Button className="mt-6 w-full" onClick={onRetry}>
          Try again
        </Button>
      </div>
    </main>
  );
}
