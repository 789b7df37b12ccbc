// An on/off switch for whether a template is sent (role "switch", so screen readers say on or off).
import { cn } from "@/lib/classNames";

export function ActiveSwitch({ checked, onChange, label, disabled, showText = true }: { checked: boolean; onChange: () => void; label: string; disabled?: boolean; showText?: boolean }) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      aria-label={label}
      disabled={disabled}
      onClick={onChange}
      className="inline-flex min-h-10 items-center gap-2 rounded-lg px-1 text-sm text-ink disabled:cursor-not-allowed disabled:opacity-60"
    >
      <span className={cn("relative inline-flex h-5 w-9 shrink-0 rounded-full border transition-colors", checked ? "border-accent bg-accent" : "border-line bg-surface")} aria-hidden="true">
        <span className={cn("absolute top-0.5 h-3.5 w-3.5 rounded-full bg-white shadow transition-transform", checked ? "translate-x-[18px]" : "translate-x-0.5")} />
      </span>
      {showText && <span aria-hidden="true">{checked ? "Active" : "Off"}</span>}
    </button>
  );
}
