// The rendered email: subject, HTML in a sandboxed iframe (no scripts, no same-origin) at desktop or
// phone width, and the plain-text part. Says whether it shows the draft or the saved version.
import { useState } from "react";
import { Monitor, Smartphone } from "lucide-react";
import { Spinner } from "@/components/Spinner";
import { cn } from "@/lib/classNames";
import type { Rendered } from "../api/templates";

export interface PreviewState {
  rendered: Rendered | null;
  loading: boolean;
  error: string | null;
  missing: string[];
}

export function PreviewPane({ state, notice }: { state: PreviewState; notice: string | null }) {
  const [width, setWidth] = useState<"desktop" | "phone">("desktop");
  const { rendered, loading, error, missing } = state;
  return (
    <section aria-labelledby="preview-heading" className="flex min-w-0 flex-col gap-2">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="preview-heading" className="text-sm font-semibold text-ink-strong">
          Preview
        </h2>
        <div className="flex items-center gap-2">
          {loading && <Spinner label="Rendering…" className="text-xs" />}
          <div role="group" aria-label="Preview width" className="inline-flex rounded-lg border border-line bg-panel p-0.5">
            {(["desktop", "phone"] as const).map((w) => (
              <button
                key={w}
                type="button"
                aria-pressed={width === w}
                onClick={() => setWidth(w)}
                className={cn("inline-flex h-8 items-center gap-1.5 rounded-md px-2.5 text-[13px] font-medium", width === w ? "bg-accent-soft text-accent" : "text-muted hover:text-ink")}
              >
                {w === "desktop" ? <Monitor className="h-4 w-4" aria-hidden="true" /> : <Smartphone className="h-4 w-4" aria-hidden="true" />}
                {w === "desktop" ? "Desktop" : "Phone"}
              </button>
            ))}
          </div>
        </div>
      </div>
      {notice && <p className="rounded-lg border border-amber-300 bg-amber-50 px-3 py-2 text-[13px] text-amber-900 dark:border-amber-500/40 dark:bg-amber-500/10 dark:text-amber-200">{notice}</p>}
      <div role="status" aria-live="polite" className={error || missing.length ? "rounded-lg border border-red-300 bg-red-50 px-3 py-2 text-[13px] text-red-800 dark:border-red-500/40 dark:bg-red-500/10 dark:text-red-200" : "sr-only"}>
        {missing.length > 0 ? `The sample data lacks: ${missing.join(", ")}.` : error ? `The preview could not be rendered: ${error}` : rendered ? "Preview updated." : ""}
      </div>
      <div className="rounded-xl border border-line bg-surface p-2 sm:p-3">
        <p className="mb-2 truncate px-1 text-[13px] text-muted">
          <span className="font-medium text-ink">Subject:</span> <span data-testid="preview-subject">{rendered?.subject ?? "—"}</span>
        </p>
        <div className="flex justify-center">
          <iframe
            title="Preview"
            sandbox=""
            srcDoc={rendered?.html ?? ""}
            className={cn("h-[560px] rounded-lg border border-line bg-white", width === "phone" ? "w-[375px] max-w-full" : "w-full")}
          />
        </div>
      </div>
      <details className="rounded-xl border border-line bg-panel">
        <summary className="cursor-pointer px-3 py-2 text-sm font-medium text-ink">Plain-text part</summary>
        <pre className="max-h-80 overflow-auto whitespace-pre-wrap border-t border-line px-3 py-2 font-mono text-[13px] text-ink">{rendered?.text ?? ""}</pre>
      </details>
    </section>
  );
}
