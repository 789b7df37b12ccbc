// A CodeMirror 6 editor for one part of a template (Subject, HTML or Text): Jinja highlighting (over HTML
// for the HTML part), completion of the event's variables, and the server's errors shown at their line.
// This module is loaded on demand by the template editor, so CodeMirror never enters other bundles.
import { useEffect, useRef } from "react";
import { basicSetup, minimalSetup } from "codemirror";
import { EditorView, keymap, placeholder as placeholderExt } from "@codemirror/view";
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import { html } from "@codemirror/lang-html";
import { jinja } from "@codemirror/lang-jinja";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import type { Completion } from "@codemirror/autocomplete";
import { tags as t } from "@lezer/highlight";
import { FILTERS, FUNCTIONS, type VariableNode } from "../sampleData";

export interface LineError {
  line: number | null;
  message: string;
}

export interface CodeEditorProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  mode: "subject" | "html" | "text";
  variables: VariableNode[];
  errors: LineError[];
  /** Bumped by the parent when `value` is replaced from outside (reset, restore, reload). */
  revision: number;
  describedBy?: string;
  placeholder?: string;
}

// Colours come from CSS variables set on the wrapper, so one style serves the light and the dark theme.
const highlight = HighlightStyle.define([
  { tag: [t.tagName, t.angleBracket], color: "var(--cm-tag)" },
  { tag: t.attributeName, color: "var(--cm-attr)" },
  { tag: [t.attributeValue, t.string], color: "var(--cm-string)" },
  { tag: [t.keyword, t.controlKeyword, t.definitionKeyword, t.operatorKeyword], color: "var(--cm-keyword)", fontWeight: "600" },
  { tag: [t.brace, t.special(t.brace), t.processingInstruction, t.meta], color: "var(--cm-brace)", fontWeight: "600" },
  { tag: [t.variableName, t.propertyName], color: "var(--cm-var)" },
  { tag: [t.number, t.bool], color: "var(--cm-number)" },
  { tag: [t.comment, t.lineComment, t.blockComment], color: "var(--cm-comment)", fontStyle: "italic" },
  { tag: t.invalid, color: "var(--danger)" },
]);

const frame = EditorView.theme({
  "&": { backgroundColor: "var(--panel)", color: "var(--ink)", fontSize: "13px" },
  ".cm-content": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", caretColor: "var(--ink-strong)" },
  ".cm-gutters": { backgroundColor: "var(--surface)", color: "var(--muted)", borderRight: "1px solid var(--line)" },
  ".cm-activeLine": { backgroundColor: "color-mix(in srgb, var(--accent) 6%, transparent)" },
  ".cm-activeLineGutter": { backgroundColor: "color-mix(in srgb, var(--accent) 12%, transparent)" },
  "&.cm-focused": { outline: "none" },
  ".cm-selectionBackground, &.cm-focused .cm-selectionBackground, ::selection": { backgroundColor: "color-mix(in srgb, var(--accent) 28%, transparent) !important" },
  ".cm-tooltip": { backgroundColor: "var(--panel)", color: "var(--ink)", border: "1px solid var(--line)", borderRadius: "8px" },
  ".cm-tooltip-autocomplete ul li[aria-selected]": { backgroundColor: "var(--accent)", color: "var(--on-accent)" },
  ".cm-diagnostic-error": { borderLeftColor: "var(--danger)" },
  ".cm-lintRange-error": { backgroundImage: "none", textDecoration: "underline wavy var(--danger)" },
  ".cm-panels": { backgroundColor: "var(--surface)", color: "var(--ink)" },
});

function completions(nodes: VariableNode[]): Completion[] {
  return nodes.map((n) => ({ label: n.name, type: n.children ? "namespace" : "variable", detail: n.detail }));
}

function language(mode: CodeEditorProps["mode"], variables: VariableNode[]): Extension {
  const config = {
    variables: [...completions(variables), ...FILTERS.map((f) => ({ label: f, type: "function", detail: "filter" })),
      ...FUNCTIONS.map((f) => ({ label: f, type: "function", detail: "function" })),
    ],
    properties: (path: readonly string[]) => {
      let level: VariableNode[] | undefined = variables;
      for (const part of path) level = level?.find((n) => n.name === part)?.children;
      return completions(level ?? []);
    },
  };
  return mode === "html" ? jinja({ ...config, base: html() }) : jinja(config);
}

function diagnostics(state: EditorState, errors: LineError[]): Diagnostic[] {
  return errors.map((e) => {
    const line = state.doc.line(Math.min(Math.max(e.line ?? 1, 1), state.doc.lines));
    return { from: line.from, to: Math.max(line.to, line.from), severity: "error", message: e.line ? `Line ${e.line}: ${e.message}` : e.message };
  });
}

export default function CodeEditor({ label, value, onChange, mode, variables, errors, revision, describedBy, placeholder }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const lang = useRef(new Compartment());
  const changed = useRef(onChange);
  changed.current = onChange;

  useEffect(() => {
    const single = mode === "subject";
    const attrs: Record<string, string> = { "aria-label": label, "aria-multiline": single ? "false" : "true" };
    if (describedBy) attrs["aria-describedby"] = describedBy;
    const extensions: Extension[] = [
      single ? minimalSetup : basicSetup,
      lang.current.of(language(mode, variables)),
      syntaxHighlighting(highlight),
      frame,
      EditorView.contentAttributes.of(attrs),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) changed.current(u.state.doc.toString());
      }),
    ];
    if (single) {
      // The subject is one line: Enter does nothing and pasted line breaks become spaces.
      extensions.push(
        keymap.of([{ key: "Enter", run: () => true }]),
        EditorState.transactionFilter.of((tr) => (tr.newDoc.lines > 1 ? [tr, { changes: { from: 0, to: tr.newDoc.length, insert: tr.newDoc.toString().replace(/\s*\n\s*/g, " ") }, sequential: true }] : tr)),
      );
    } else {
      extensions.push(EditorView.lineWrapping, lintGutter());
    }
    if (placeholder) extensions.push(placeholderExt(placeholder));
    const v = new EditorView({ parent: host.current!, state: EditorState.create({ doc: value, extensions }) });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The editor is built once per mode; value and variables flow in through the effects below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [mode, label]);

  // A value replaced from outside (reset, restore, reload): swap the document, keep the editor.
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [revision]);

  useEffect(() => {
    view.current?.dispatch({ effects: lang.current.reconfigure(language(mode, variables)) });
  }, [mode, variables]);

  useEffect(() => {
    const v = view.current;
    if (v) v.dispatch(setDiagnostics(v.state, diagnostics(v.state, errors)));
  }, [errors]);

  return (
    <div
      ref={host}
      className={
        "overflow-hidden rounded-lg border border-line focus-within:border-accent focus-within:ring-2 focus-within:ring-accent/25 " +
        "[--cm-tag:#1d4ed8] [--cm-attr:#7c3aed] [--cm-string:#0f7a4a] [--cm-keyword:#b4237a] [--cm-brace:#b4532a] [--cm-var:#0e6e8c] [--cm-number:#9a5b00] [--cm-comment:#6b7380] " +
        "dark:[--cm-tag:#8fb0ff] dark:[--cm-attr:#c8a6ff] dark:[--cm-string:#7fd6a4] dark:[--cm-keyword:#ff8ac6] dark:[--cm-brace:#ffb27a] dark:[--cm-var:#7fd0eb] dark:[--cm-number:#ffd27a] dark:[--cm-comment:#9aa5b5] " +
        // The editor grows with its text (the page scrolls, not a box inside it: one scroll area, reachable by keyboard).
        (mode === "subject" ? "" : "[&_.cm-editor]:min-h-64")
      }
    />
  );
}
