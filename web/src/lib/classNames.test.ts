// The class merge keeps the caller's override of a size, padding or background.
import { describe, expect, it } from "vitest";
import { cn } from "./classNames";

describe("cn", () => {
  it("lets a later class of the same group win and keeps the rest", () => {
    expect(cn("h-10 w-10 text-muted", "h-8 w-8")).toBe("text-muted h-8 w-8");
    expect(cn("py-12 flex", null, "py-8")).toBe("flex py-8");
    expect(cn("bg-panel hover:bg-surface", "bg-accent")).toBe("hover:bg-surface bg-accent");
  });
});
