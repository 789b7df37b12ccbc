// Loading indicator with a text alternative.
import { LoaderCircle } from "lucide-react";
import { cn } from "@/lib/classNames";

export function Spinner({ label = "Loading…", className }: { label?: string; className?: string }) {
  return (
    <span role="status" className={cn("inline-flex items-center gap-2 text-sm text-muted", className)}>
      <LoaderCircle className="h-4 w-4 animate-spin motion-reduce:animate-none" aria-hidden="true" />
      <span>{label}</span>
    </span>
  );
}

export function CenteredSpinner({ label }: { label?: string }) {
  return (
    <div className="flex h-full min-h-40 items-center justify-center">
      <Spinner label={label} />
    </div>
  );
}
