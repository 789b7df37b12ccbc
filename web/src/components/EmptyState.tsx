// Empty and error states: an icon, a line of text, and what to do next.
import type { ReactNode } from "react";
import { cn } from "@/lib/classNames";

export function EmptyState({
  icon,
  title,
  children,
  action,
  className,
  tone = "neutral",
}: {
  icon?: ReactNode;
  title: string;
  children?: ReactNode;
  action?: ReactNode;
  className?: string;
  tone?: "neutral" | "error";
}) {
  return (
    <div role={tone === "error" ? "alert" : undefined} className={cn("flex flex-col items-center justify-center gap-2 px-6 py-12 text-center", className)}>
      {icon && <div className={cn("mb-1 text-muted", tone === "error" && "text-danger")}>{icon}</div>}
      <p className="text-[15px] font-semibold text-ink-strong">{title}</p>
      {children && <div className="max-w-sm text-sm text-muted">{children}</div>}
      {action && <div className="mt-3">{action}</div>}
    </div>
  );
}
