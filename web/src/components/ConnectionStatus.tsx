// "Offline" / "Reconnecting…" while the socket is down; it clears itself when the connection returns.
import { useEffect, useState, useSyncExternalStore } from "react";
import { WifiOff, RefreshCw } from "lucide-react";
import { connectionStatus, hasEverConnected, subscribeStatus } from "@/lib/realtime/socket";

export function ConnectionStatus() {
  const status = useSyncExternalStore(subscribeStatus, connectionStatus);
  // A first connection that is merely slow is not news; after 3 s it is.
  const [slowStart, setSlowStart] = useState(false);
  useEffect(() => {
    const t = setTimeout(() => setSlowStart(true), 3000);
    return () => clearTimeout(t);
  }, []);
  const down = status === "offline" || status === "reconnecting" || (status === "connecting" && (slowStart || hasEverConnected()));
  const text = status === "offline" ? "Offline" : "Reconnecting…";
  return (
    <div role="status" aria-live="polite" className={down ? "flex items-center justify-center gap-2 bg-amber-100 px-3 py-1.5 text-[13px] font-medium text-amber-900 dark:bg-amber-500/15 dark:text-amber-200" : "sr-only"}>
      {down && (
        <>
          {status === "offline" ? <WifiOff className="h-4 w-4" aria-hidden="true" /> : <RefreshCw className="h-4 w-4 animate-spin motion-reduce:animate-none" aria-hidden="true" />}
          <span>{text}</span>
          <span className="font-normal opacity-80">— messages you send will go out when you are back online.</span>
        </>
      )}
    </div>
  );
}
