// A small action menu. The trigger is a plain button until first used; the popover (Radix Popover and
// its positioning engine, ~10 KB gzipped) loads then, so no member route pays for it up front.
import { lazy, Suspense, useState, type ReactNode } from "react";

export interface MenuItem {
  label: ReactNode;
  onSelect: () => void;
  icon?: ReactNode;
}

export interface MenuProps {
  trigger: ReactNode;
  triggerLabel: string;
  triggerClassName?: string;
  heading?: ReactNode;
  items: MenuItem[];
  align?: "start" | "end";
}

const MenuPopover = lazy(() => import("./MenuPopover").then((m) => ({ default: m.MenuPopover })));

export function Menu(props: MenuProps) {
  const [used, setUsed] = useState(false);
  const plain = (
    <button type="button" aria-label={props.triggerLabel} aria-haspopup="menu" aria-expanded={false} className={props.triggerClassName} onClick={() => setUsed(true)}>
      {props.trigger}
    </button>
  );
  if (!used) return plain;
  return (
    <Suspense fallback={plain}>
      <MenuPopover {...props} />
    </Suspense>
  );
}
