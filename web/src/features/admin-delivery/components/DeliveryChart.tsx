// Emails per day by status, drawn with uPlot on a canvas. The canvas is an image with a label; the same
// numbers are in the table beside it, which is what screen readers and keyboard users read.
import { useEffect, useRef, useSyncExternalStore } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { isDark, subscribeTheme } from "@/lib/theme";
import { formatDay } from "@/features/admin-layout";
import type { DailyStats } from "../api/stats";

export const SERIES = [
  { key: "delivered", label: "Delivered", light: "#1f9d63", dark: "#5cc795" },
  { key: "sent", label: "Sent", light: "#3b63d6", dark: "#6d8ff0" },
  { key: "pending", label: "Pending", light: "#8a94a3", dark: "#9aa5b5" },
  { key: "bounced", label: "Bounced", light: "#d97706", dark: "#fbbf24" },
  { key: "failed", label: "Failed", light: "#dc2626", dark: "#f07171" },
] as const;

export function DeliveryChart({ days, label }: { days: DailyStats[]; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  const dark = useSyncExternalStore(subscribeTheme, isDark);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const axis = dark ? "#9aa5b5" : "#5b6675";
    const grid = dark ? "#2a3443" : "#e6eaf0";
    const data: uPlot.AlignedData = [days.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000), ...SERIES.map((s) => days.map((d) => d[s.key]))];
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 280),
        height: 260,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          // One day alone would make uPlot stretch the axis over years: give it a day of room.
          x: { time: true, range: (_u, min, max) => (min === max ? [min - 43200, max + 43200] : [min, max]) },
          y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
        axes: [
          // Whole days only (the series is per UTC day), labelled like the table: "Nov 26".
          { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, incrs: [86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400], values: (_u, splits) => splits.map((v) => formatDay(new Date(v * 1000).toISOString().slice(0, 10))) },
          { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 48 },
        ],
        series: [{ label: "Day" }, ...SERIES.map((s) => ({ label: s.label, stroke: dark ? s.dark : s.light, width: 2, points: { size: 5 } }))],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 280), height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [days, dark]);
  return (
    <div className="min-w-0">
      <div ref={host} role="img" aria-label={label} className="min-w-0 text-xs text-muted" />
      <ul className="mt-2 flex flex-wrap justify-center gap-x-4 gap-y-1 text-xs text-ink" aria-hidden="true">
        {SERIES.map((s) => (
          <li key={s.key} className="flex items-center gap-1.5">
            <span className="h-0.5 w-4 rounded" style={{ background: dark ? s.dark : s.light }} />
            {s.label}
          </li>
        ))}
      </ul>
    </div>
  );
}
