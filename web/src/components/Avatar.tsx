// A round avatar with initials, its colour derived from the user id so each person keeps one colour.
import { cn } from "@/lib/classNames";

const PALETTE = ["#3b63d6", "#0f8a6c", "#b4532a", "#8a4fd1", "#c0306b", "#2a7fb4", "#6b7a12", "#a1552f"];

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
