// Emails per day by status, drawn with uPlot on a canvas. The canvas is an image with a label; the same
// numbers are in the table beside it, which is what screen readers and keyboard users read.
import { useEffect, useRef, useSyncExternalStore } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { isDark, subscribeTheme } from "@/lib/theme";
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
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
        axes: [
          { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
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
  return <div ref={host} role="img" aria-label={label} className="min-w-0 text-xs text-muted [&_.u-legend]:text-ink" />;
}
