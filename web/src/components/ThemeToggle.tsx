// Cycles the theme: system → light → dark.
import { useSyncExternalStore } from "react";
import { Monitor, Moon, Sun } from "lucide-react";
import { setTheme, subscribeTheme, themeChoice, type ThemeChoice } from "@/lib/theme";

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: "light", light: "dark", dark: "system" };
const LABEL: Record<ThemeChoice, string> = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };

export function ThemeToggle() {
  const choice = useSyncExternalStore(subscribeTheme, themeChoice);
  const Icon = choice === "dark" ? Moon : choice === "light" ? Sun : Monitor;
  return (
    <button
      type="button"
      onClick={() => setTheme(NEXT[choice])}
      aria-label={`${LABEL[choice]}. Switch to ${NEXT[choice]}`}
      title={LABEL[choice]}
      className="inline-flex h-10 w-10 items-center justify-center rounded-lg text-muted hover:bg-surface hover:text-ink"
    >
      <Icon className="h-5 w-5" aria-hidden="true" />
    </button>
  );
}
