// Delivery statistics for a period: counts by status and the per-day series, computed by the server in SQL.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/lib/api/client";

export type EmailStats = Schemas["EmailStats"];
export type DailyStats = Schemas["DailyStats"];

export const PERIODS = [
  { id: "today", label: "Today", days: 1 },
  { id: "7d", label: "Last 7 days", days: 7 },
  { id: "30d", label: "Last 30 days", days: 30 },
  { id: "90d", label: "Last 90 days", days: 90 },
] as const;
export type PeriodId = (typeof PERIODS)[number]["id"];

/** The start of the period: midnight UTC, so the daily buckets are whole days. */
export function periodStart(days: number, now = new Date()): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  d.setUTCDate(d.getUTCDate() - (days - 1));
  return d.toISOString();
}

export function useEmailStats(from: string) {
  return useQuery({
    queryKey: ["admin", "emailStats", from],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/email/stats", { signal, params: { query: { from, daily: true } } })),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });
}
