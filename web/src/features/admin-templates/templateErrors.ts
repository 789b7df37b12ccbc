// Turning the server's template errors into errors at a line of the Subject, HTML or Text editor.
import { ApiError } from "@/lib/api/client";
import type { LineError } from "./components/CodeEditor";

export type Field = "subject" | "htmlContent" | "textContent";
export type FieldErrors = Record<Field, LineError[]>;

export const NO_ERRORS: FieldErrors = { subject: [], htmlContent: [], textContent: [] };
const FIELDS: Field[] = ["subject", "htmlContent", "textContent"];

/**
 * Save answers 422 `template_invalid` with `details: [{field, line, message}]`; a render (preview)
 * answers `template_render_failed` with `details: {part: "<name>:<field>", line}`. Anything else
 * (or an error in the shared layout) has no line in these editors and is returned as `general`.
 */
export function fieldErrors(error: unknown, templateName: string): { fields: FieldErrors; general: string | null } {
  const fields: FieldErrors = { subject: [], htmlContent: [], textContent: [] };
  if (!(error instanceof ApiError)) return { fields, general: error instanceof Error ? error.message : null };
  const details = error.details;
  let placed = false;
  if (Array.isArray(details)) {
    for (const d of details as { field?: string; line?: number | null; message?: string }[]) {
      const field = FIELDS.find((f) => f === d.field);
      if (!field) continue;
      fields[field].push({ line: d.line ?? null, message: d.message ?? error.message });
      placed = true;
    }
  } else if (details && typeof details === "object") {
    const { part, line } = details as { part?: string; line?: number };
    const [owner, field] = (part ?? "").split(":");
    const target = FIELDS.find((f) => f === field);
    if (owner === templateName && target) {
      fields[target].push({ line: line ?? null, message: error.message.replace(/^\S+ failed to render: /, "") });
      placed = true;
    }
  }
  return { fields, general: placed ? null : error.message };
}

export function fieldLabel(field: Field): string {
  return field === "htmlContent" ? "HTML" : field === "textContent" ? "Text" : "Subject";
}
