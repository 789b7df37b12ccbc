// An inbound mail's outcome as a badge (a word and a dot), and a refusal's reason as a second, outlined one
// (it wraps rather than being cut off in a phone's narrow column).
import { cn } from "@/lib/classNames";
import { outcomeLabel, reasonText } from "../outcomes";

const TONES: Record<string, string> = {
  Accepted: "bg-emerald-50 text-emerald-800 dark:bg-emerald-500/15 dark:text-emerald-300 [--dot:#1f9d63]",
  Refused: "bg-red-50 text-red-800 dark:bg-red-500/15 dark:text-red-300 [--dot:#dc2626]",
  Duplicate: "bg-surface text-ink [--dot:#8a94a3]",
  DeliveryReport: "bg-accent-soft text-accent [--dot:var(--accent)]",
  Ignored: "bg-surface text-muted [--dot:#8a94a3]",
};

export function OutcomeBadge({ outcome, className }: { outcome: string; className?: string }) {
  return (
    <span className={cn("inline-flex items-center gap-1.5 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium", TONES[outcome] ?? TONES.Ignored, className)}>
      <span className="h-1.5 w-1.5 rounded-full bg-[var(--dot)]" aria-hidden="true" />
      {outcomeLabel(outcome)}
    </span>
  );
}

export function ReasonBadge({ reason, className }: { reason: string; className?: string }) {
  const { label, explanation } = reasonText(reason);
  return (
    <span title={explanation || undefined} className={cn("inline-block max-w-full break-words rounded-lg border border-line px-2 py-0.5 text-xs leading-snug text-ink", className)}>
      {label}
    </span>
  );
}
