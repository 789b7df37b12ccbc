// A template's saved versions (who, when), a line diff of each against the current draft, and restore.
import { useState } from "react";
import { History } from "lucide-react";
import { Button } from "@/components/Button";
import { Modal } from "@/components/Modal";
import { Spinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { ApiError } from "@/lib/api/client";
import { formatDateTime } from "@/features/admin-layout";
import { useRestoreVersion, useTemplateVersions, type Draft, type Template, type TemplateVersion } from "../api/templates";
import { lineDiff } from "../lineDiff";

export function HistoryDialog({ name, open, onOpenChange, current, onRestored }: { name: string; open: boolean; onOpenChange: (open: boolean) => void; current: Draft; onRestored: (t: Template) => void }) {
  const versions = useTemplateVersions(name, open);
  const restore = useRestoreVersion(name);
  const [selected, setSelected] = useState<TemplateVersion | null>(null);
  return (
    <Modal open={open} onOpenChange={onOpenChange} title={`History of ${name}`} description="Every saved version, newest first." className="w-[min(94vw,860px)]">
      {versions.isPending ? (
        <Spinner label="Loading versions…" />
      ) : versions.isError ? (
        <EmptyState tone="error" icon={<History className="h-7 w-7" />} title="Version history could not be loaded" action={<Button onClick={() => versions.refetch()}>Try again</Button>}>
          {versions.error.message}
          {versions.error instanceof ApiError && (versions.error.status === 404 || versions.error.status === 405) && " This server does not keep template versions yet."}
        </EmptyState>
      ) : versions.data.length === 0 ? (
        <EmptyState icon={<History className="h-7 w-7" />} title="No saved versions yet">Each save keeps a version here.</EmptyState>
      ) : (
        <div className="grid gap-4 md:grid-cols-[240px_1fr]">
          <ol className="flex max-h-[50dvh] flex-col gap-1 overflow-y-auto" aria-label="Versions">
            {versions.data.map((v) => (
              <li key={v.id}>
                <button
                  type="button"
                  aria-pressed={selected?.id === v.id}
                  onClick={() => setSelected(v)}
                  className="w-full rounded-lg border border-line px-3 py-2 text-left text-sm hover:bg-surface aria-pressed:border-accent aria-pressed:bg-accent-soft"
                >
                  <span className="font-medium text-ink-strong">Version {v.version}</span>
                  <span className="block text-xs text-muted">
                    {formatDateTime(v.createdAt)}
                    {v.createdBy ? ` · ${v.createdByName ?? v.createdBy}` : " · before history was kept"}
                  </span>
                </button>
              </li>
            ))}
          </ol>
          <div className="min-w-0">
            {selected ? (
              <>
                <DiffView title="Subject" before={selected.subject} after={current.subject} />
                <DiffView title="HTML" before={selected.htmlContent} after={current.htmlContent} />
                <DiffView title="Text" before={selected.textContent ?? ""} after={current.textContent} />
                {restore.isError && <p role="alert" className="mt-2 text-sm text-danger">Not restored: {restore.error.message}</p>}
                <div className="mt-3 flex justify-end">
                  <Button variant="primary" disabled={restore.isPending} onClick={() => restore.mutate(selected.id, { onSuccess: (t) => { onRestored(t); onOpenChange(false); } })}>
                    Restore version {selected.version}
                  </Button>
                </div>
              </>
            ) : (
              <p className="text-sm text-muted">Pick a version to compare it with your current draft.</p>
            )}
          </div>
        </div>
      )}
    </Modal>
  );
}

function DiffView({ title, before, after }: { title: string; before: string; after: string }) {
  const lines = lineDiff(before, after);
  const changed = lines.some((l) => l.kind !== "same");
  return (
    <section className="mb-3">
      <h3 className="mb-1 text-[13px] font-semibold text-ink">
        {title} {changed ? "" : <span className="font-normal text-muted">(no difference)</span>}
      </h3>
      {changed && (
        <pre className="max-h-56 overflow-auto rounded-lg border border-line bg-surface p-2 font-mono text-xs leading-5">
          {lines.map((l, i) => (
            <div key={i} className={l.kind === "added" ? "bg-emerald-100 text-emerald-900 dark:bg-emerald-500/15 dark:text-emerald-200" : l.kind === "removed" ? "bg-red-100 text-red-900 dark:bg-red-500/15 dark:text-red-200" : "text-muted"}>
              <span aria-hidden="true">{l.kind === "added" ? "+ " : l.kind === "removed" ? "- " : "  "}</span>
              <span className="sr-only">{l.kind === "added" ? "added: " : l.kind === "removed" ? "removed: " : ""}</span>
              {l.text}
            </div>
          ))}
        </pre>
      )}
    </section>
  );
}
