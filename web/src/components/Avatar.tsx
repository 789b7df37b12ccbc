// A round avatar with initials, its colour derived from the user id so each person keeps one colour.
import { cn } from "@/lib/classNames";

// Each colour keeps white initials at a contrast of at least 4.5:1 (WCAG AA).
const PALETTE = ["#3556c4", "#0b6e55", "#9c3f1c", "#7338bd", "#a82457", "#1c6594", "#55610d", "#884322"];

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return Math.abs(h);
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  return (parts[0][0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

export function Avatar({ id, name, size = 32, className }: { id: string; name: string; size?: number; className?: string }) {
  return (
    <span
      aria-hidden="true"
      className={cn("inline-flex shrink-0 select-none items-center justify-center rounded-full font-semibold text-white", className)}
      style={{ width: size, height: size, fontSize: size * 0.38, background: PALETTE[hash(id) % PALETTE.length] }}
    >
      {initials(name)}
    </span>
  );
}
