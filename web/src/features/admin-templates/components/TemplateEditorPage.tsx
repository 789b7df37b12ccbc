// `/admin/templates/:name`: Subject, HTML and Text editors beside a live preview and the sample data;
// Save (refused when someone saved in between), Reset to built-in, Send a test to me, and history.
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useBlocker, useParams } from "react-router";
import { ArrowLeft, History, RotateCcw, Send, SearchX } from "lucide-react";
import { Button } from "@/components/Button";
import { Modal } from "@/components/Modal";
import { CenteredSpinner, Spinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { ApiError, fetchJson } from "@/lib/api/client";
import { LoadError, PageHeader, formatDateTime } from "@/features/admin-layout";
import { previewTemplate, useDraftPreviewSupport, useResetTemplate, useSaveTemplate, useSendTest, useTemplate, type Draft, type Template } from "../api/templates";
import { eventLabel, sampleContext, variableTree } from "../sampleData";
import { NO_ERRORS, fieldErrors, fieldLabel, type Field, type FieldErrors } from "../templateErrors";
import { ActiveSwitch } from "./ActiveSwitch";
import { HistoryDialog } from "./HistoryDialog";
import { PreviewPane, type PreviewState } from "./PreviewPane";
import { SampleDataPanel } from "./SampleDataPanel";

// CodeMirror is big: it loads with the first editor, in its own chunk.
const CodeEditor = lazy(() => import("./CodeEditor"));

const PREVIEW_DELAY_MS = 350;

function toDraft(t: Template): Draft {
  return { subject: t.subject, htmlContent: t.htmlContent, textContent: t.textContent ?? "" };
}

function sameDraft(a: Draft, b: Draft): boolean {
  return a.subject === b.subject && a.htmlContent === b.htmlContent && a.textContent === b.textContent;
}

const sampleKey = (name: string) => `tc.admin.sample.${name}`;

function initialSample(name: string): string {
  return localStorage.getItem(sampleKey(name)) ?? JSON.stringify(sampleContext(name), null, 2);
}

export function TemplateEditorPage() {
  const { name = "" } = useParams();
  const template = useTemplate(name);
  if (template.isError) {
    const missing = template.error instanceof ApiError && template.error.status === 404;
    return missing ? (
      <EmptyState className="flex-1" icon={<SearchX className="h-7 w-7" />} title={`There is no template named ${name}`} action={<Link className="text-sm font-medium text-accent hover:underline" to="/admin/templates">All templates</Link>} />
    ) : (
      <LoadError className="flex-1" what="The template" error={template.error} onRetry={() => template.refetch()} />
    );
  }
  if (!template.data) return <CenteredSpinner label="Loading template…" />;
  return <Editor key={name} initial={template.data} />;
}

type SaveResult = { kind: "saved"; at: string } | { kind: "error"; message: string } | { kind: "stale" } | null;

function Editor({ initial }: { initial: Template }) {
  const name = initial.name;
  const [base, setBase] = useState(initial);
  const [draft, setDraft] = useState(() => toDraft(initial));
  const [revision, setRevision] = useState(0);
  const [errors, setErrors] = useState<FieldErrors>(NO_ERRORS);
  const [saveResult, setSaveResult] = useState<SaveResult>(null);
  const [sampleText, setSampleText] = useState(() => initialSample(name));
  const [historyOpen, setHistoryOpen] = useState(false);
  const [confirmReset, setConfirmReset] = useState(false);
  const save = useSaveTemplate(name);
  const reset = useResetTemplate(name);
  const sendTest = useSendTest(name);
  const draftPreview = useDraftPreviewSupport();
  const dirty = !sameDraft(draft, toDraft(base));

  const sample = useMemo((): { context: Record<string, unknown> | null; error: string | null } => {
    try {
      const value: unknown = JSON.parse(sampleText);
      if (!value || typeof value !== "object" || Array.isArray(value)) return { context: null, error: "The sample data must be a JSON object." };
      return { context: value as Record<string, unknown>, error: null };
    } catch (e) {
      return { context: null, error: `Not valid JSON: ${(e as Error).message}` };
    }
  }, [sampleText]);
  const lastContext = useRef<Record<string, unknown>>(sample.context ?? {});
  if (sample.context) lastContext.current = sample.context;
  const context = sample.context ?? lastContext.current;
  const variables = useMemo(() => variableTree(context), [context]);

  useEffect(() => {
    if (sample.context) localStorage.setItem(sampleKey(name), sampleText);
  }, [name, sampleText, sample.context]);

  // Replace what the editors hold (after reset, restore or loading someone else's save).
  const replaceWith = useCallback((t: Template) => {
    setBase(t);
    setDraft(toDraft(t));
    setRevision((r) => r + 1);
    setErrors(NO_ERRORS);
  }, []);

  const setField = useCallback((field: Field) => (value: string) => {
    setDraft((d) => ({ ...d, [field]: value }));
    setSaveResult((r) => (r?.kind === "saved" ? null : r));
  }, []);
  const onSubject = useMemo(() => setField("subject"), [setField]);
  const onHtml = useMemo(() => setField("htmlContent"), [setField]);
  const onText = useMemo(() => setField("textContent"), [setField]);

  // Debounced live preview of the draft (a server without draft previews renders the saved version).
  const [preview, setPreview] = useState<PreviewState>({ rendered: null, loading: true, error: null, missing: [] });
  const [previewErrors, setPreviewErrors] = useState<FieldErrors>(NO_ERRORS);
  useEffect(() => {
    const controller = new AbortController();
    setPreview((p) => ({ ...p, loading: true }));
    const timer = setTimeout(() => {
      previewTemplate(name, context, draft, controller.signal)
        .then((rendered) => {
          setPreview({ rendered, loading: false, error: null, missing: [] });
          setPreviewErrors(NO_ERRORS);
        })
        .catch((e: unknown) => {
          if (controller.signal.aborted) return;
          const missing = e instanceof ApiError && e.code === "missing_variables" ? ((e.details as { missing?: string[] })?.missing ?? []) : [];
          const { fields, general } = fieldErrors(e, name);
          setPreviewErrors(fields);
          setPreview((p) => ({ ...p, loading: false, missing, error: missing.length ? null : (general ?? (e as Error).message) }));
        });
    }, PREVIEW_DELAY_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
    // `base.updatedAt`: a save re-renders the saved version on servers without draft previews.
  }, [name, context, draft, base.updatedAt]);

  const shownErrors = useMemo((): FieldErrors => {
    const merged = { ...NO_ERRORS };
    for (const f of ["subject", "htmlContent", "textContent"] as Field[]) merged[f] = errors[f].length ? errors[f] : previewErrors[f];
    return merged;
  }, [errors, previewErrors]);

  function doSave(updatedAt: string) {
    setSaveResult(null);
    save.mutate(
      { subject: draft.subject, htmlContent: draft.htmlContent, textContent: draft.textContent, updatedAt },
      {
        onSuccess: (t) => {
          setBase(t);
          setErrors(NO_ERRORS);
          setSaveResult({ kind: "saved", at: t.updatedAt });
        },
        onError: (e) => {
          if (e instanceof ApiError && e.status === 409 && e.code === "stale_template") {
            setSaveResult({ kind: "stale" });
            return;
          }
          const { fields } = fieldErrors(e, name);
          setErrors(fields);
          setSaveResult({ kind: "error", message: e.message });
        },
      },
    );
  }

  function loadLatest(): Promise<Template> {
    return fetchJson<Template>(`/api/v1/email/templates/${encodeURIComponent(name)}`);
  }

  // Leaving with unsaved edits asks first (in-app navigation and closing the tab).
  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && currentLocation.pathname !== nextLocation.pathname);
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  useEffect(() => {
    document.title = `${name} · Templates · Tickets`;
  }, [name]);

  const isLayout = name === "layout";
  const toggle = useSaveTemplate(name);
  const notice =
    draftPreview.data === false && dirty
      ? "This server previews the saved version only: your unsaved changes show here after you save."
      : null;
  const editorProps = { variables, revision };

  return (
    <div className="mx-auto w-full max-w-[1600px] px-3 py-4 sm:px-6">
      <PageHeader
        back={
          <Link to="/admin/templates" className="mb-1 inline-flex items-center gap-1 text-[13px] font-medium text-accent hover:underline">
            <ArrowLeft className="h-3.5 w-3.5" aria-hidden="true" /> Templates
          </Link>
        }
        title={name}
        description={
          <>
            {initial.isBuiltin ? (isLayout ? "Shared layout around every email" : `Built-in · sent for “${eventLabel(name)}”`) : "Custom template"} · last saved {formatDateTime(base.updatedAt)}
            {dirty && <span className="ml-2 rounded bg-amber-100 px-1.5 py-0.5 text-xs font-medium text-amber-900 dark:bg-amber-500/15 dark:text-amber-200">Unsaved changes</span>}
          </>
        }
        actions={
          <>
            {!isLayout && (
              <ActiveSwitch
                checked={base.isActive}
                label="Active"
                disabled={toggle.isPending}
                onChange={() => toggle.mutate({ isActive: !base.isActive, updatedAt: base.updatedAt }, { onSuccess: (t) => setBase((b) => ({ ...b, isActive: t.isActive, updatedAt: t.updatedAt })) })}
              />
            )}
            <Button variant="ghost" className="px-2.5 sm:px-4" onClick={() => setHistoryOpen(true)}>
              <History className="h-4 w-4" aria-hidden="true" /> History
            </Button>
            {initial.isBuiltin && (
              <Button variant="ghost" aria-label="Reset to built-in" onClick={() => setConfirmReset(true)}>
                <RotateCcw className="h-4 w-4" aria-hidden="true" /> Reset<span className="-ml-0.5 hidden sm:inline">to built-in</span>
              </Button>
            )}
            <Button aria-label="Send a test to me" disabled={sendTest.isPending || !sample.context} onClick={() => sendTest.mutate(context)}>
              <Send className="h-4 w-4" aria-hidden="true" /> <span className="sm:hidden">Test</span><span className="hidden sm:inline">Send a test to me</span>
            </Button>
            <Button variant="primary" disabled={save.isPending} onClick={() => doSave(base.updatedAt)}>
              {save.isPending ? "Saving…" : "Save"}
            </Button>
          </>
        }
      />

      <div aria-live="polite" role="status" className="empty:hidden">
        {saveResult?.kind === "saved" && (
          <p className="mb-3 rounded-lg border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900 dark:border-emerald-500/40 dark:bg-emerald-500/10 dark:text-emerald-200">
            Saved at {formatDateTime(saveResult.at)}. The next {isLayout ? "emails use" : `${name} email uses`} this version.
          </p>
        )}
        {sendTest.isSuccess && (
          <p className="mb-3 rounded-lg border border-line bg-panel px-3 py-2 text-sm">
            Test email queued to you with the sample data. <Link className="font-medium text-accent hover:underline" to={`/admin/emails/${sendTest.data.emailLogId}`}>Follow it in the email log</Link>
          </p>
        )}
      </div>
      {saveResult?.kind === "error" && (
        <p role="alert" className="mb-3 rounded-lg border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-500/40 dark:bg-red-500/10 dark:text-red-200">
          Not saved: {saveResult.message}
        </p>
      )}
      {sendTest.isError && (
        <p role="alert" className="mb-3 rounded-lg border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-500/40 dark:bg-red-500/10 dark:text-red-200">
          The test email was not sent: {sendTest.error.message}
          {sendTest.error instanceof ApiError && (sendTest.error.status === 404 || sendTest.error.status === 405) && " This server cannot send test emails yet."}
        </p>
      )}
      {toggle.isError && (
        <p role="alert" className="mb-3 rounded-lg border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-500/40 dark:bg-red-500/10 dark:text-red-200">
          Not switched {base.isActive ? "off" : "on"}: {toggle.error.message}
        </p>
      )}
      {saveResult?.kind === "stale" && (
        <div role="alert" className="mb-3 flex flex-wrap items-center gap-3 rounded-lg border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-500/40 dark:bg-amber-500/10 dark:text-amber-100">
          <span className="min-w-0 flex-1">Someone else saved this template after you opened it. Your changes are not saved.</span>
          <Button size="sm" onClick={() => loadLatest().then((t) => { replaceWith(t); setSaveResult(null); })}>
            Discard mine and load theirs
          </Button>
          <Button size="sm" variant="danger" onClick={() => loadLatest().then((t) => doSave(t.updatedAt))}>
            Overwrite with mine
          </Button>
        </div>
      )}

      <div className="grid gap-5 xl:grid-cols-2">
        <div className="flex min-w-0 flex-col gap-4">
          <Suspense fallback={<Spinner label="Loading editor…" />}>
            <EditorField label="Subject" errors={shownErrors.subject}>
              <CodeEditor label="Subject" mode="subject" value={draft.subject} onChange={onSubject} errors={shownErrors.subject} {...editorProps} />
            </EditorField>
            <EditorField label="HTML" errors={shownErrors.htmlContent} hint={isLayout ? "Place the email's body with {{ content }}." : "Jinja over HTML. Type {{ to insert a variable; Ctrl+Space lists them."}>
              <CodeEditor label="HTML" mode="html" value={draft.htmlContent} onChange={onHtml} errors={shownErrors.htmlContent} {...editorProps} />
            </EditorField>
            <EditorField label="Text" errors={shownErrors.textContent} hint="The plain-text part. Leave empty to generate it from the HTML.">
              <CodeEditor label="Text" mode="text" value={draft.textContent} onChange={onText} errors={shownErrors.textContent} placeholder="Generated from the HTML" {...editorProps} />
            </EditorField>
          </Suspense>
        </div>
        <div className="flex min-w-0 flex-col gap-5">
          <PreviewPane state={preview} notice={notice} />
          <SampleDataPanel
            text={sampleText}
            onText={setSampleText}
            error={sample.error}
            required={initial.variables}
            onReset={() => {
              localStorage.removeItem(sampleKey(name));
              setSampleText(JSON.stringify(sampleContext(name), null, 2));
            }}
          />
        </div>
      </div>

      <HistoryDialog name={name} open={historyOpen} onOpenChange={setHistoryOpen} current={draft} onRestored={replaceWith} />

      <Modal open={confirmReset} onOpenChange={setConfirmReset} title="Reset to the built-in version?" description={`${name} goes back to the version shipped with the service and is switched on. Your changes to it are replaced.`}>
        {reset.isError && <p role="alert" className="mb-3 text-sm text-danger">Not reset: {reset.error.message}</p>}
        <div className="flex justify-end gap-2">
          <Button onClick={() => setConfirmReset(false)}>Cancel</Button>
          <Button variant="primary" disabled={reset.isPending} onClick={() => reset.mutate(undefined, { onSuccess: (t) => { replaceWith(t); setConfirmReset(false); setSaveResult({ kind: "saved", at: t.updatedAt }); } })}>
            Reset template
          </Button>
        </div>
      </Modal>

      <Modal open={blocker.state === "blocked"} onOpenChange={(open) => !open && blocker.reset?.()} title="Leave without saving?" description="Your changes to this template are not saved yet.">
        <div className="flex justify-end gap-2">
          <Button onClick={() => blocker.reset?.()}>Stay</Button>
          <Button variant="danger" onClick={() => blocker.proceed?.()}>
            Leave and discard
          </Button>
        </div>
      </Modal>
    </div>
  );
}

function EditorField({ label, hint, errors, children }: { label: string; hint?: string; errors: { line: number | null; message: string }[]; children: React.ReactNode }) {
  return (
    <div>
      <div className="mb-1 flex items-baseline justify-between gap-2">
        <span className="text-[13px] font-semibold text-ink" aria-hidden="true">
          {label}
        </span>
        {hint && <span className="truncate text-xs text-muted">{hint}</span>}
      </div>
      {children}
      {errors.map((e, i) => (
        <p key={i} className="mt-1 text-[13px] text-danger">
          {fieldLabel(label === "HTML" ? "htmlContent" : label === "Text" ? "textContent" : "subject")}
          {e.line ? ` line ${e.line}` : ""}: {e.message}
        </p>
      ))}
    </div>
  );
}
