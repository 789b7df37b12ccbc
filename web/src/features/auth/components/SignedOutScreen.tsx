// What a visitor without a valid session sees: why, and the sign-in link (the host's, or /dev/login).
import { LogIn, TicketCheck } from "lucide-react";
import { useWebConfig } from "../api/session";

const TEXT = {
  signedOut: ["You are signed out", "Sign in to see your tickets and conversations."],
  expired: ["Your session has expired", "For your security you were signed out. Sign in again to continue where you left off."],
  invalid: ["This sign-in link did not work", "The link is incomplete or has expired. Sign in again to continue."],
} as const;

export function SignedOutScreen({ reason }: { reason: keyof typeof TEXT }) {
  const config = useWebConfig();
  const [title, body] = TEXT[reason];
  const next = window.location.pathname.startsWith("/auth") || window.location.pathname.startsWith("/dev/login")
    ? "/tickets"
    : window.location.pathname + window.location.search;
  let href = config.data?.signInUrl || "";
  if (href === "/dev/login") href = `/dev/login?next=${encodeURIComponent(next)}`;
  return (
    <main className="flex min-h-dvh items-center justify-center bg-canvas px-4">
      <div className="w-full max-w-sm rounded-2xl border border-line bg-panel p-8 text-center">
        <div className="mx-auto mb-4 flex h-12 w-12 items-center justify-center rounded-xl bg-accent-soft text-accent">
          <TicketCheck className="h-6 w-6" aria-hidden="true" />
        </div>
        <h1 className="text-xl font-semibold text-ink-strong">{title}</h1>
        <p className="mt-2 text-sm text-muted">{body}</p>
        {href ? (
          <a
            href={href}
            className="mt-6 inline-flex h-11 w-full items-center justify-center gap-2 rounded-lg bg-accent px-4 text-sm font-medium text-on-accent hover:bg-accent-hover"
          >
            <LogIn className="h-4 w-4" aria-hidden="true" /> Sign in
          </a>
        ) : (
          config.isSuccess && <p className="mt-6 text-sm text-muted">Open this app again from the product you use to manage tickets.</p>
        )}
      </div>
    </main>
  );
}
