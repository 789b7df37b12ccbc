// A labelled switch (a checkbox styled as one): screen readers announce its label and state.

export function Toggle({ id, label, hint, checked, disabled, describedBy, onChange }: { id: string; label: string; hint?: string; checked: boolean; disabled?: boolean; describedBy?: string; onChange: (v: boolean) => void }) {
  return (
    <div className="flex items-start justify-between gap-4 px-4 py-3">
      <label htmlFor={id} className="min-w-0 flex-1 cursor-pointer">
        <span className="block text-sm font-medium text-ink-strong">{label}</span>
        {hint && <span className="mt-0.5 block text-[13px] text-muted">{hint}</span>}
      </label>
      <input
        id={id}
        type="checkbox"
        checked={checked}
        disabled={disabled}
        aria-describedby={describedBy}
        onChange={(e) => onChange(e.target.checked)}
        className="peer relative mt-0.5 h-6 w-11 shrink-0 cursor-pointer appearance-none rounded-full bg-line transition-colors checked:bg-accent disabled:cursor-not-allowed disabled:opacity-50 before:absolute before:left-0.5 before:top-0.5 before:h-5 before:w-5 before:rounded-full before:bg-white before:shadow before:transition-transform checked:before:translate-x-5"
      />
    </div>
  );
}
