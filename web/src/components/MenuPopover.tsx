// The menu itself (Menu.tsx loads it on first use): Radix Popover, a list of buttons with arrow-key
// movement and Esc to close. (Radix DropdownMenu would add ~8 KB gzipped for the same two menus.)
import { Popover } from "radix-ui";
import { useState, type KeyboardEvent } from "react";
import { cn } from "@/lib/classNames";
import type { MenuProps } from "./Menu";

export function MenuPopover({ trigger, triggerLabel, triggerClassName, heading, items, align = "start" }: MenuProps) {
  const [open, setOpen] = useState(true); // mounted by the first click on the trigger
  function keyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    e.preventDefault();
    const buttons = [...e.currentTarget.querySelectorAll<HTMLButtonElement>("[role=menuitem]")];
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    buttons[(i + (e.key === "ArrowDown" ? 1 : -1) + buttons.length) % buttons.length]?.focus();
  }
  return (
    <Popover.Root open={open} onOpenChange={setOpen}>
      <Popover.Trigger aria-label={triggerLabel} aria-haspopup="menu" className={triggerClassName}>
        {trigger}
      </Popover.Trigger>
      <Popover.Portal>
        <Popover.Content
          align={align}
          sideOffset={6}
          onKeyDown={keyDown}
          onOpenAutoFocus={(e) => {
            e.preventDefault();
            (e.currentTarget as HTMLElement | null)?.querySelector<HTMLButtonElement>("[role=menuitem]")?.focus();
          }}
          className="z-50 min-w-48 rounded-xl border border-line bg-panel p-1 shadow-lg"
        >
          {heading}
          <div role="menu" aria-label={triggerLabel}>
            {items.map((item, i) => (
              <button
                key={i}
                type="button"
                role="menuitem"
                onClick={() => {
                  setOpen(false);
                  item.onSelect();
                }}
                className={cn("flex w-full items-center gap-2 rounded-md px-3 py-2 text-left text-sm text-ink outline-none hover:bg-surface focus-visible:bg-surface")}
              >
                {item.icon}
                {item.label}
              </button>
            ))}
          </div>
        </Popover.Content>
      </Popover.Portal>
    </Popover.Root>
  );
}
