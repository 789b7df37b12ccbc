// Email templates for admins: list, read, create, save (with the stale-edit check), reset, preview,
// version history and test sends. The template endpoints answer untyped JSON in the OpenAPI document,
// so the shapes are declared here; history, test sends and draft previews are newer endpoints that
// older servers lack (their errors are shown as they are, never papered over).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { fetchJson } from "@/lib/api/client";

export interface Template {
  id: string;
  name: string;
  subject: string;
  htmlContent: string;
  textContent: string | null;
  variables: string[];
  isActive: boolean;
  isBuiltin: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Rendered {
  subject: string;
  html: string;
  text: string;
}

export interface TemplateVersion {
  id: string;
  version: number;
  subject: string;
  htmlContent: string;
  textContent: string | null;
  createdAt: string;
  createdBy: string | null;
  createdByName?: string | null;
}

/** The fields of a template the editor changes. */
export interface Draft {
  subject: string;
  htmlContent: string;
  textContent: string;
}

const BASE = "/api/v1/email/templates";
const path = (name: string, rest = "") => `${BASE}/${encodeURIComponent(name)}${rest}`;

export const templateKeys = {
  all: ["admin", "templates"] as const,
  one: (name: string) => ["admin", "templates", name] as const,
  versions: (name: string) => ["admin", "templates", name, "versions"] as const,
};

export function useTemplates() {
  return useQuery({
    queryKey: templateKeys.all,
    queryFn: () => fetchJson<{ items: Template[] }>(BASE).then((page) => page.items),
  });
}

export function useTemplate(name: string) {
  return useQuery({
    queryKey: templateKeys.one(name),
    queryFn: () => fetchJson<Template>(path(name)),
    // The editor holds a draft: a background refetch must not move the base it was started from.
    refetchOnWindowFocus: false,
  });
}

function useStoreTemplate() {
  const qc = useQueryClient();
  return (template: Template) => {
    qc.setQueryData(templateKeys.one(template.name), template);
    qc.setQueryData<Template[]>(templateKeys.all, (list) => list?.map((t) => (t.name === template.name ? template : t)));
    void qc.invalidateQueries({ queryKey: templateKeys.versions(template.name) });
  };
}

/**
 * PUT the changed fields with the `updatedAt` the edit started from: a server with the stale-edit
 * check answers 409 `stale_template` when someone saved in between.
 */
export function useSaveTemplate(name: string) {
  const store = useStoreTemplate();
  return useMutation({
    mutationFn: (body: Partial<Draft> & { isActive?: boolean; updatedAt: string }) =>
      fetchJson<Template>(path(name), { method: "PUT", body: JSON.stringify(body) }),
    onSuccess: store,
  });
}

/** Switch a template on or off from the list (each row saves against its own `updatedAt`). */
export function useToggleActive() {
  const store = useStoreTemplate();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (t: Template) =>
      fetchJson<Template>(path(t.name), { method: "PUT", body: JSON.stringify({ isActive: !t.isActive, updatedAt: t.updatedAt }) }),
    onSuccess: store,
    // A refusal (409 `stale_template`: saved elsewhere since the list loaded) reloads the list, so the
    // next click works on what is there now.
    onError: () => void qc.invalidateQueries({ queryKey: templateKeys.all }),
  });
}

export function useCreateTemplate() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; subject: string; htmlContent: string; textContent: string | null; variables: string[]; isActive: boolean }) =>
      fetchJson<Template>(BASE, { method: "POST", body: JSON.stringify(body) }),
    onSuccess: (t) => {
      qc.setQueryData(templateKeys.one(t.name), t);
      void qc.invalidateQueries({ queryKey: templateKeys.all });
    },
  });
}

export function useResetTemplate(name: string) {
  const store = useStoreTemplate();
  return useMutation({
    mutationFn: () => fetchJson<Template>(path(name, "/reset"), { method: "POST" }),
    onSuccess: store,
  });
}

export function previewTemplate(name: string, context: Record<string, unknown>, draft: Draft | null, signal?: AbortSignal): Promise<Rendered> {
  const body = draft ? { context, subject: draft.subject, htmlContent: draft.htmlContent, textContent: draft.textContent || null } : { context };
  return fetchJson<Rendered>(path(name, "/preview"), { method: "POST", body: JSON.stringify(body), signal });
}

/**
 * Whether this server previews unsaved drafts (its preview body declares `htmlContent`). An older
 * server ignores the overrides and renders the saved template, so the editor must say which it shows.
 */
export function useDraftPreviewSupport() {
  return useQuery({
    queryKey: ["admin", "openapi", "draftPreview"],
    staleTime: Infinity,
    queryFn: async () => {
      const doc = await fetchJson<{ components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> } }>("/openapi.json");
      return Boolean(doc.components?.schemas?.PreviewTemplate?.properties?.htmlContent);
    },
  });
}

export function useTemplateVersions(name: string, enabled: boolean) {
  return useQuery({
    queryKey: templateKeys.versions(name),
    queryFn: () => fetchJson<{ items: TemplateVersion[] }>(path(name, "/versions")).then((page) => page.items),
    enabled,
    retry: false,
  });
}

export function useRestoreVersion(name: string) {
  const store = useStoreTemplate();
  return useMutation({
    mutationFn: (versionId: string) => fetchJson<Template>(path(name, `/versions/${encodeURIComponent(versionId)}/restore`), { method: "POST" }),
    onSuccess: store,
  });
}

export function useSendTest(name: string) {
  return useMutation({
    mutationFn: (context: Record<string, unknown>) =>
      fetchJson<{ emailLogId: string }>(path(name, "/test"), { method: "POST", body: JSON.stringify({ context }) }),
  });
}
