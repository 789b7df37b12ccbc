// `/admin/templates`: every template with its event, whether it is sent, and when it last changed;
// a filter, a switch per row, and "New template".
import { useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { FileCode2, Plus, Search } from "lucide-react";
import { Button } from "@/components/Button";
import { TextInput, inputClass } from "@/components/Field";
import { CenteredSpinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { relativeTime } from "@/lib/relativeTime";
import { cn } from "@/lib/classNames";
import { LoadError, PageHeader, formatDateTime } from "@/features/admin-layout";
import { useTemplates, useToggleActive, type Template } from "../api/templates";
import { eventLabel } from "../sampleData";
import { ActiveSwitch } from "./ActiveSwitch";
import { NewTemplateDialog } from "./NewTemplateDialog";

type Show = "all" | "active" | "off" | "builtin" | "custom";

function kindOf(t: Template): string {
  if (t.name === "layout") return "Layout";
  return t.isBuiltin ? eventLabel(t.name) : "Custom";
}

export function TemplatesPage() {
  const templates = useTemplates();
  const toggle = useToggleActive();
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const show = (params.get("show") as Show | null) ?? "all";
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    document.title = "Templates · Admin · Tickets";
  }, []);

  const set = (key: string, value: string) =>
    setParams((p) => {
      if (value && value !== "all") p.set(key, value);
      else p.delete(key);
      return p;
    }, { replace: true });

  const rows = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return (templates.data ?? []).filter((t) => {
      if (needle && !`${t.name} ${kindOf(t)} ${t.subject}`.toLowerCase().includes(needle)) return false;
      if (show === "active") return t.isActive;
      if (show === "off") return !t.isActive;
      if (show === "builtin") return t.isBuiltin;
      if (show === "custom") return !t.isBuiltin;
      return true;
    });
  }, [templates.data, q, show]);

  return (
    <div className="mx-auto w-full max-w-6xl px-3 py-4 sm:px-6">
      <PageHeader
        title="Email templates"
        description="What each notification email says. Built-in templates are sent for their event; switch one off to stop that email."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)} disabled={!templates.data}>
            <Plus className="h-4 w-4" aria-hidden="true" /> New template
          </Button>
        }
      />
      <div className="mb-3 flex flex-wrap gap-2" role="search">
        <div className="relative min-w-0 flex-1 basis-56">
          <Search className="pointer-events-none absolute left-3 top-1/2 h-4 w-4 -translate-y-1/2 text-muted" aria-hidden="true" />
          <TextInput type="search" aria-label="Filter templates" placeholder="Filter by name, event or subject" value={q} onChange={(e) => set("q", e.target.value)} className="pl-9" />
        </div>
        <select aria-label="Show" value={show} onChange={(e) => set("show", e.target.value)} className={cn(inputClass, "h-10 w-auto shrink-0")}>
          <option value="all">All templates</option>
          <option value="active">Active</option>
          <option value="off">Switched off</option>
          <option value="builtin">Built-in</option>
          <option value="custom">Custom</option>
        </select>
      </div>
      {toggle.isError && (
        <p role="alert" className="mb-3 rounded-lg border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-500/40 dark:bg-red-500/10 dark:text-red-200">
          Not changed: {toggle.error.message}
        </p>
      )}
      {templates.isPending ? (
        <CenteredSpinner label="Loading templates…" />
      ) : templates.isError ? (
        <LoadError what="Templates" error={templates.error} onRetry={() => templates.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState icon={<FileCode2 className="h-7 w-7" />} title={templates.data.length ? "No template matches" : "No templates yet"}>
          {templates.data.length ? "Try another word or show all templates." : "Create one with New template."}
        </EmptyState>
      ) : (
        <div className="overflow-hidden rounded-xl border border-line bg-panel">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Email templates</caption>
            <thead className="border-b border-line bg-surface text-xs font-medium uppercase tracking-wide text-muted">
              <tr>
                <th scope="col" className="px-4 py-2.5">Template</th>
                <th scope="col" className="hidden px-4 py-2.5 md:table-cell">Event</th>
                <th scope="col" className="px-4 py-2.5">Sent</th>
                <th scope="col" className="hidden px-4 py-2.5 sm:table-cell">Last change</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {rows.map((t) => (
                <tr key={t.id} className="hover:bg-surface/60">
                  <td className="max-w-0 px-4 py-2.5">
                    <Link to={`/admin/templates/${encodeURIComponent(t.name)}`} className="font-medium text-ink-strong hover:text-accent hover:underline">
                      {t.name}
                    </Link>
                    <p className="truncate text-xs text-muted">{t.subject}</p>
                    <p className="text-xs text-muted md:hidden">{kindOf(t)}</p>
                  </td>
                  <td className="hidden px-4 py-2.5 md:table-cell">
                    {kindOf(t)}
                    {!t.isBuiltin && <span className="ml-2 rounded bg-surface px-1.5 py-0.5 text-xs text-muted">custom</span>}
                  </td>
                  <td className="px-4 py-1.5">
                    {t.name === "layout" ? (
                      <span className="text-[13px] text-muted">Always</span>
                    ) : (
                      <ActiveSwitch checked={t.isActive} label={`${t.name} active`} disabled={toggle.isPending && toggle.variables?.name === t.name} onChange={() => toggle.mutate(t)} />
                    )}
                  </td>
                  <td className="hidden px-4 py-2.5 text-muted sm:table-cell">
                    <time dateTime={t.updatedAt} title={formatDateTime(t.updatedAt)} className="tabular">
                      {relativeTime(t.updatedAt)}
                    </time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {templates.data && <NewTemplateDialog open={creating} onOpenChange={setCreating} templates={templates.data} />}
    </div>
  );
}
