// Light/dark theme: follows the system unless the user picked one (kept in localStorage).
export type ThemeChoice = "system" | "light" | "dark";
const KEY = "tc.theme";
const listeners = new Set<() => void>();

export function themeChoice(): ThemeChoice {
  const v = localStorage.getItem(KEY);
  return v === "light" || v === "dark" ? v : "system";
}

function systemDark(): boolean {
  return matchMedia("(prefers-color-scheme: dark)").matches;
}

export function isDark(): boolean {
  const c = themeChoice();
  return c === "dark" || (c === "system" && systemDark());
}

export function applyTheme(): void {
  document.documentElement.classList.toggle("dark", isDark());
  document.querySelector('meta[name="theme-color"]')?.setAttribute("content", isDark() ? "#141a24" : "#3b63d6");
  for (const l of listeners) l();
}

export function setTheme(choice: ThemeChoice): void {
  if (choice === "system") localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, choice);
  applyTheme();
}

export function subscribeTheme(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function watchSystemTheme(): void {
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", applyTheme);
}
