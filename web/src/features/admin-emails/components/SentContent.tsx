// The email as its recipient got it: subject, HTML in a sandboxed iframe (no scripts, no same-origin)
// and the text part. The server renders it again from the stored event with the template versions of
// the moment it was sent (bodies are not stored); one-time codes show redacted.
import { useState } from "react";
import { Eye } from "lucide-react";
import { Button } from "@/components/Button";
import { Spinner } from "@/components/Spinner";
import { formatDateTime } from "@/features/admin-layout";
import { useSentContent } from "../api/emailLogs";

export function SentContent({ id }: { id: string }) {
  const [open, setOpen] = useState(false);
  const content = useSentContent(id, open);
  return (
    <section aria-labelledby="content-h" className="mt-4 rounded-xl border border-line bg-panel p-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="content-h" className="text-sm font-semibold text-ink-strong">
          The email as sent
        </h2>
        {!open && (
          <Button size="sm" onClick={() => setOpen(true)}>
            <Eye className="h-4 w-4" aria-hidden="true" /> Show the email
          </Button>
        )}
      </div>
      {open &&
        (content.isPending ? (
          <Spinner label="Rendering the email…" className="mt-3" />
        ) : content.isError ? (
          <p role="alert" className="mt-3 text-sm text-danger">
            The email cannot be shown: {content.error.message}
          </p>
        ) : (
          <div className="mt-3 flex flex-col gap-3">
            <p className="text-xs text-muted">
              Rendered again from the stored event with the templates as they were on {formatDateTime(content.data.at)}
              {content.data.templateVersion ? ` (template version ${content.data.templateVersion})` : " (the current template: it has no older saved version)"}. One-time codes show as [redacted].
            </p>
            <p className="break-words text-sm">
              <span className="font-medium text-ink">Subject:</span> <span data-testid="sent-subject">{content.data.subject}</span>
            </p>
            <iframe title="The email as sent" sandbox="" srcDoc={content.data.html} className="h-[520px] w-full rounded-lg border border-line bg-white" />
            <details className="rounded-lg border border-line">
              <summary className="cursor-pointer px-3 py-2 text-sm font-medium text-ink">Plain-text part</summary>
              <pre className="max-h-80 overflow-auto whitespace-pre-wrap border-t border-line px-3 py-2 font-mono text-[13px] text-ink">{content.data.text}</pre>
            </details>
          </div>
        ))}
    </section>
  );
}
