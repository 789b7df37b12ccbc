// Create a custom template: a name, and a start (blank, or a copy of an existing template).
import { useId, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { Button } from "@/components/Button";
import { Label, TextInput, inputClass } from "@/components/Field";
import { Modal } from "@/components/Modal";
import { useCreateTemplate, type Template } from "../api/templates";

const BLANK_HTML = `<h1>Hello {{ recipient.name }}</h1>
<p>Write the email here.</p>
`;
const NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;

export function NewTemplateDialog({ open, onOpenChange, templates }: { open: boolean; onOpenChange: (open: boolean) => void; templates: Template[] }) {
  const id = useId();
  const [name, setName] = useState("");
  const [from, setFrom] = useState("");
  const [touched, setTouched] = useState(false);
  const create = useCreateTemplate();
  const navigate = useNavigate();
  const nameError = !name ? "Give the template a name." : NAME.test(name) ? null : "Start with a letter; then letters, digits, dots, dashes or underscores (at most 100).";
  const sources = templates.filter((t) => t.name !== "layout");

  function submit(e: FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (nameError) return;
    const source = sources.find((t) => t.name === from);
    create.mutate(
      {
        name,
        subject: source?.subject ?? "{{ app.name }}: an update",
        htmlContent: source?.htmlContent ?? BLANK_HTML,
        textContent: source?.textContent ?? null,
        variables: source?.variables ?? [],
        isActive: true,
      },
      { onSuccess: (t) => navigate(`/admin/templates/${encodeURIComponent(t.name)}`) },
    );
  }

  return (
    <Modal open={open} onOpenChange={onOpenChange} title="New template" description="A custom template, sent in the shared layout.">
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        <div>
          <Label htmlFor={`${id}-name`}>Name</Label>
          <TextInput
            id={`${id}-name`}
            value={name}
            onChange={(e) => setName(e.target.value.trim())}
            autoComplete="off"
            placeholder="e.g. WelcomeEmail"
            aria-invalid={touched && nameError ? true : undefined}
            aria-describedby={touched && nameError ? `${id}-name-err` : undefined}
          />
          {touched && nameError && (
            <p id={`${id}-name-err`} className="mt-1 text-[13px] text-danger">
              {nameError}
            </p>
          )}
        </div>
        <div>
          <Label htmlFor={`${id}-from`}>Start from</Label>
          <select id={`${id}-from`} value={from} onChange={(e) => setFrom(e.target.value)} className={`${inputClass} h-10`}>
            <option value="">A blank template</option>
            {sources.map((t) => (
              <option key={t.id} value={t.name}>
                A copy of {t.name}
              </option>
            ))}
          </select>
        </div>
        {create.isError && (
          <p role="alert" className="text-sm text-danger">
            Not created: {create.error.message}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={create.isPending}>
            Create template
          </Button>
        </div>
      </form>
    </Modal>
  );
}
