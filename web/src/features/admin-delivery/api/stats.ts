// Delivery statistics for a period: counts by status and the per-day series, computed by the server in SQL.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/lib/api/client";

export type EmailStats = Schemas["EmailStats"];
export type DailyStats = Schemas["DailyStats"];

export const PERIODS = [
  { id: "today", label: "Today", short: "Today", days: 1 },
  { id: "7d", label: "Last 7 days", short: "7 days", days: 7 },
  { id: "30d", label: "Last 30 days", short: "30 days", days: 30 },
  { id: "90d", label: "Last 90 days", short: "90 days", days: 90 },
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

/** Every UTC day from `from` to today, with zeros where no email was created (the server lists only days with some). */
export function everyDay(from: string, daily: DailyStats[], now = new Date()): DailyStats[] {
  const byDate = new Map(daily.map((d) => [d.date, d]));
  const out: DailyStats[] = [];
  const day = new Date(from);
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  while (day.getTime() <= end) {
    const date = day.toISOString().slice(0, 10);
    out.push(byDate.get(date) ?? { date, total: 0, pending: 0, sent: 0, delivered: 0, bounced: 0, failed: 0 });
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return out;
}

export type DeliveryInsights = Schemas["DeliveryInsights"];

/** Rates, the most common failure reasons, queue times and the slowest sends of the period (server SQL). */
export function useDeliveryInsights(from: string) {
  return useQuery({
    queryKey: ["admin", "emailInsights", from],
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/email/stats/insights", { signal, params: { query: { from } } })),
    placeholderData: keepPreviousData,
    refetchInterval: 60_000,
  });
}
