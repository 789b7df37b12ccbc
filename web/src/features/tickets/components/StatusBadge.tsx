// A ticket's status as a small coloured pill.
import type { TicketStatus } from "@/lib/api/client";
import { cn } from "@/lib/classNames";
import { STATUS_LABEL } from "../api/tickets";

const TONE: Record<TicketStatus, string> = {
  Open: "bg-sky-100 text-sky-800 dark:bg-sky-400/15 dark:text-sky-300",
  Assigned: "bg-violet-100 text-violet-800 dark:bg-violet-400/15 dark:text-violet-300",
  InProgress: "bg-amber-100 text-amber-900 dark:bg-amber-400/15 dark:text-amber-300",
  OnHold: "bg-slate-200 text-slate-700 dark:bg-slate-400/15 dark:text-slate-300",
  Completed: "bg-emerald-100 text-emerald-800 dark:bg-emerald-400/15 dark:text-emerald-300",
  Cancelled: "bg-rose-100 text-rose-800 dark:bg-rose-400/15 dark:text-rose-300",
};

export function StatusBadge({ status, className }: { status: TicketStatus; className?: string }) {
  return (
    <span className={cn("inline-flex shrink-0 items-center rounded-full px-2 py-0.5 text-xs font-medium", TONE[status], className)}>
      {STATUS_LABEL[status]}
    </span>
  );
}
