// `/auth?next=…#token=…`: keeps the token for this tab, wipes it from the address bar, goes to `next`.
import { useEffect, useState } from "react";
import { useNavigate } from "react-router";
import { signIn } from "@/lib/auth/session";
import { SignedOutScreen } from "./SignedOutScreen";

/** Only same-origin app paths are followed, so a crafted link cannot send users elsewhere. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/tickets";
  return next;
}

export function AuthCallback() {
  const navigate = useNavigate();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const fragment = new URLSearchParams(window.location.hash.slice(1));
    const token = fragment.get("token");
    const next = safeNext(new URLSearchParams(window.location.search).get("next"));
    // Remove the token from the address bar and history before anything else can read or log it.
    window.history.replaceState(null, "", "/auth");
    if (token && signIn(token)) navigate(next, { replace: true });
    else setFailed(true);
  }, [navigate]);
  if (failed) return <SignedOutScreen reason="invalid" />;
  return null;
}
