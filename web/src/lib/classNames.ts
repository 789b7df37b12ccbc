// Joins conditional class names; for the few utility groups our components let callers override
// (size, padding, margin-y, background, rounding), a later class replaces an earlier one of the same
// group. A 30-line stand-in for tailwind-merge, which cost ~8 KB gzipped of the member-route budget.
import { clsx, type ClassValue } from "clsx";

const GROUPS: [string, RegExp][] = [
  ["h", /^h-/],
  ["w", /^w-/],
  ["p", /^p-/],
  ["px", /^px-/],
  ["py", /^py-/],
  ["my", /^-?my-/],
  ["bg", /^bg-/],
  ["rounded", /^rounded(-|$)/],
];

function group(cls: string): string | null {
  const bare = cls.slice(cls.lastIndexOf(":") + 1);
  const variant = cls.slice(0, cls.lastIndexOf(":") + 1);
  for (const [name, re] of GROUPS) if (re.test(bare)) return variant + name;
  return null;
}

export function cn(...inputs: ClassValue[]): string {
  const classes = clsx(inputs).split(" ").filter(Boolean);
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = classes.length - 1; i >= 0; i--) {
    const g = group(classes[i]);
    if (g) {
      if (seen.has(g)) continue;
      seen.add(g);
    }
    out.push(classes[i]);
  }
  return out.reverse().join(" ");
}
