// The error state of an admin screen: what failed, the server's message, and a retry.
import { TriangleAlert } from "lucide-react";
import { Button } from "@/components/Button";
import { EmptyState } from "@/components/EmptyState";

export function LoadError({ what, error, onRetry, className }: { what: string; error: unknown; onRetry?: () => void; className?: string }) {
  return (
    <EmptyState
      tone="error"
      className={className}
      icon={<TriangleAlert className="h-7 w-7" />}
      title={`${what} could not be loaded`}
      action={onRetry && <Button onClick={onRetry}>Try again</Button>}
    >
      {error instanceof Error ? error.message : "Check your connection and try again."}
    </EmptyState>
  );
}
