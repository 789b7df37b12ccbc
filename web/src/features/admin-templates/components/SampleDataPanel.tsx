// The sample data a preview and a test send render with: editable JSON, kept per template in this browser.
import { useId } from "react";
import { Button } from "@/components/Button";
import { TextArea } from "@/components/Field";

export function SampleDataPanel({ text, onText, error, required, onReset }: { text: string; onText: (text: string) => void; error: string | null; required: string[]; onReset: () => void }) {
  const id = useId();
  return (
    <section aria-labelledby={`${id}-h`} className="flex flex-col gap-2">
      <div className="flex items-center justify-between gap-2">
        <h2 id={`${id}-h`} className="text-sm font-semibold text-ink-strong">
          Variables
        </h2>
        <Button size="sm" variant="ghost" onClick={onReset}>
          Reset sample data
        </Button>
      </div>
      <label htmlFor={id} className="text-[13px] text-muted">
        Sample data (JSON) — what the preview and test emails are rendered with.
        {required.length > 0 && <> Required by this template: <code className="text-ink">{required.join(", ")}</code>.</>}
      </label>
      <TextArea
        id={id}
        value={text}
        onChange={(e) => onText(e.target.value)}
        spellCheck={false}
        rows={12}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-err` : undefined}
        className="font-mono text-[13px] sm:text-[13px]"
      />
      {error && (
        <p id={`${id}-err`} className="text-[13px] text-danger">
          {error}
        </p>
      )}
    </section>
  );
}
