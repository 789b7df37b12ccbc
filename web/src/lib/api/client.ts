// The typed HTTP client (openapi-fetch over the generated schema) with the bearer token and error mapping.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { getToken, markExpired } from "@/lib/auth/session";

export type Schemas = components["schemas"];
export type Ticket = Schemas["TicketOut"];
export type Message = Schemas["MessageOut"];
export type Attachment = Schemas["AttachmentOut"];
export type Participant = Schemas["ParticipantOut"];
export type Notification = Schemas["NotificationOut"];
export type Preferences = Schemas["PreferencesOut"];
export type SearchHit = Schemas["SearchHit"];
export type TicketStatus = Ticket["status"];
export type WebConfig = Schemas["WebConfig"];

/** An HTTP error with the contract's body `{error: {code, message, details}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401 && getToken()) markExpired();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The body of a successful answer, or an ApiError carrying the server's message. */
export async function unwrap<T>(promise: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await promise;
  if (response.ok) return data as T;
  throw toApiError(response.status, error);
}

export function toApiError(status: number, body: unknown): ApiError {
  const err = (body as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
  return new ApiError(status, err?.code ?? "error", err?.message ?? `Request failed (${status})`, err?.details);
}

/** A plain authorised fetch for endpoints outside the generated schema (the dev-only ones). */
export async function fetchJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const token = getToken();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (init.body && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  const response = await fetch(url, { ...init, headers });
  const body = response.status === 204 ? undefined : await response.json().catch(() => undefined);
  if (!response.ok) throw toApiError(response.status, body);
  return body as T;
}
