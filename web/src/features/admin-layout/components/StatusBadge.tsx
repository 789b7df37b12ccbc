// An email's delivery status as a badge: a word and a dot (colour is never the only signal).
import { cn } from "@/lib/classNames";

export const EMAIL_STATUSES = ["Pending", "Sent", "Delivered", "Bounced", "Failed"] as const;
export type EmailStatus = (typeof EMAIL_STATUSES)[number];

const TONES: Record<string, string> = {
  Pending: "bg-surface text-ink [--dot:#8a94a3]",
  Sent: "bg-accent-soft text-accent [--dot:var(--accent)]",
  Delivered: "bg-emerald-50 text-emerald-800 dark:bg-emerald-500/15 dark:text-emerald-300 [--dot:#1f9d63]",
  Bounced: "bg-amber-50 text-amber-900 dark:bg-amber-500/15 dark:text-amber-200 [--dot:#d97706]",
  Failed: "bg-red-50 text-red-800 dark:bg-red-500/15 dark:text-red-300 [--dot:#dc2626]",
};

export function StatusBadge({ status, className }: { status: string; className?: string }) {
  return (
    <span className={cn("inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium", TONES[status] ?? TONES.Pending, className)}>
      <span className="h-1.5 w-1.5 rounded-full bg-[var(--dot)]" aria-hidden="true" />
      {status}
    </span>
  );
}
