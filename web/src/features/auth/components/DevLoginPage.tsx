// `/dev/login` (development only): pick a demo user and sign in as them.
import { useState } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { ChevronRight, FlaskConical } from "lucide-react";
import { Avatar } from "@/components/Avatar";
import { CenteredSpinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { signIn } from "@/lib/auth/session";
import { devSignIn, useDevUsers } from "../api/session";
import { safeNext } from "./AuthCallback";

export function DevLoginPage() {
  const users = useDevUsers();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function choose(id: string) {
    setBusy(id);
    setError(null);
    try {
      const { token } = await devSignIn(id);
      signIn(token);
      navigate(safeNext(params.get("next")), { replace: true });
    } catch (e) {
      setError(e instanceof Error ? e.message : "Sign-in failed.");
      setBusy(null);
    }
  }

  return (
    <main className="flex min-h-dvh items-start justify-center bg-canvas px-4 py-12 sm:items-center">
      <div className="w-full max-w-md rounded-2xl border border-line bg-panel p-6 sm:p-8">
        <div className="mb-1 flex items-center gap-2 text-xs font-medium uppercase tracking-wide text-muted">
          <FlaskConical className="h-4 w-4" aria-hidden="true" /> Development
        </div>
        <h1 className="text-xl font-semibold text-ink-strong">Sign in as a demo user</h1>
        <p className="mt-1 text-sm text-muted">This page exists only while the development secret is in use.</p>
        {users.isPending && <CenteredSpinner />}
        {users.isError && (
          <EmptyState tone="error" title="Demo sign-in is not available" className="py-8">
            The server is not using the development secret, so demo users cannot sign in here.
          </EmptyState>
        )}
        {users.data && (
          <ul className="mt-6 divide-y divide-line overflow-hidden rounded-xl border border-line">
            {users.data.map((u) => (
              <li key={u.id}>
                <button
                  type="button"
                  onClick={() => choose(u.id)}
                  disabled={busy !== null}
                  className="flex w-full items-center gap-3 px-4 py-3 text-left transition-colors hover:bg-surface disabled:opacity-60"
                >
                  <Avatar id={u.id} name={u.name} size={40} />
                  <span className="min-w-0 flex-1">
                    <span className="block truncate text-[15px] font-medium text-ink-strong">{u.name}</span>
                    <span className="block truncate text-[13px] text-muted">
                      {u.title} · {u.email}
                    </span>
                  </span>
                  {u.role === "admin" && (
                    <span className="rounded-full bg-accent-soft px-2 py-0.5 text-xs font-medium text-accent">Admin</span>
                  )}
                  <ChevronRight className="h-4 w-4 text-muted" aria-hidden="true" />
                </button>
              </li>
            ))}
          </ul>
        )}
        {error && (
          <p role="alert" className="mt-4 text-sm text-danger">
            {error}
          </p>
        )}
      </div>
    </main>
  );
}
