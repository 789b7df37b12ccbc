// Who is signed in (`/me`), the server's web config, and the dev sign-in endpoints.
import { useQuery } from "@tanstack/react-query";
import { api, fetchJson, unwrap, type WebConfig } from "@/lib/api/client";

export interface Me {
  id: string;
  email: string | null;
  name: string | null;
  role: string;
}

export function useMe() {
  return useQuery({
    queryKey: ["me"],
    queryFn: async () => (await unwrap(api.GET("/api/v1/me"))) as unknown as Me,
    staleTime: Infinity,
  });
}

export function useWebConfig() {
  return useQuery({
    queryKey: ["config"],
    queryFn: () => unwrap(api.GET("/api/v1/config")) as Promise<WebConfig>,
    staleTime: Infinity,
  });
}

export interface DevUser {
  id: string;
  name: string;
  email: string;
  role: "admin" | "member";
  title: string;
}

export function useDevUsers() {
  return useQuery({ queryKey: ["dev-users"], queryFn: () => fetchJson<DevUser[]>("/api/v1/dev/users"), retry: false });
}

export function devSignIn(userId: string) {
  return fetchJson<{ token: string; expiresAt: string }>("/api/v1/dev/sign-in", {
    method: "POST",
    body: JSON.stringify({ userId }),
  });
}
