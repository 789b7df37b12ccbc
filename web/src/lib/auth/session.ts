// The signed-in session of this tab: the bearer token kept in sessionStorage (never in the URL or a cookie).
const KEY = "tc.token";

export type SessionState = "signedIn" | "signedOut" | "expired";

type Claims = { sub: string; exp: number; name?: string; email?: string; role?: string };

const listeners = new Set<() => void>();
let expiredFlag = false;

function decode(token: string): Claims | null {
  try {
    const part = token.split(".")[1];
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(json) as Claims;
    return typeof claims.sub === "string" && typeof claims.exp === "number" ? claims : null;
  } catch {
    return null;
  }
}

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function getClaims(): Claims | null {
  const token = getToken();
  return token ? decode(token) : null;
}

export function sessionState(): SessionState {
  const claims = getClaims();
  if (!claims) return expiredFlag ? "expired" : "signedOut";
  if (expiredFlag || claims.exp * 1000 <= Date.now()) return "expired";
  return "signedIn";
}

/** Stores a token from the sign-in link; false when it is not a readable JWT. */
export function signIn(token: string): boolean {
  if (!decode(token)) return false;
  sessionStorage.setItem(KEY, token);
  expiredFlag = false;
  emit();
  return true;
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  expiredFlag = false;
  emit();
}

/** The server refused the token (401): the session is over, the app shows the signed-out screen. */
export function markExpired(): void {
  if (expiredFlag) return;
  expiredFlag = true;
  emit();
}

export function subscribeSession(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(): void {
  for (const listener of listeners) listener();
}

/** Milliseconds until the token's `exp`, for a timer that shows the signed-out screen on time. */
export function msUntilExpiry(): number | null {
  const claims = getClaims();
  return claims ? claims.exp * 1000 - Date.now() : null;
}
