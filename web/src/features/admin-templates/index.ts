// Admin: email templates (the list and the editor with its live preview).
export { TemplatesPage } from "./components/TemplatesPage";
export { TemplateEditorPage } from "./components/TemplateEditorPage";
