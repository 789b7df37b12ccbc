// The admin console's frame: a section nav (Templates, Email log, Inbound mail, Delivery, Suppressions) above each screen.
import { NavLink, Outlet } from "react-router";
import { BarChart3, FileCode2, Inbox, MailOpen, ShieldOff } from "lucide-react";
import { cn } from "@/lib/classNames";

const SECTIONS = [
  { to: "/admin/templates", label: "Templates", icon: FileCode2 },
  { to: "/admin/emails", label: "Email log", icon: Inbox },
  { to: "/admin/inbound", label: "Inbound mail", icon: MailOpen },
  { to: "/admin/delivery", label: "Delivery", icon: BarChart3 },
  { to: "/admin/suppressions", label: "Suppressions", icon: ShieldOff },
];

export function AdminLayout() {
  return (
    <div className="flex min-h-0 flex-1 flex-col bg-canvas">
      <nav aria-label="Admin" className="shrink-0 overflow-x-auto border-b border-line bg-panel">
        <ul className="mx-auto flex max-w-7xl gap-1 px-2 sm:px-4">
          {SECTIONS.map(({ to, label, icon: Icon }) => (
            <li key={to}>
              <NavLink
                to={to}
                className={({ isActive }) =>
                  cn(
                    "flex h-11 items-center gap-1.5 whitespace-nowrap border-b-2 px-2 text-sm font-medium sm:px-2.5",
                    isActive ? "border-accent text-ink-strong" : "border-transparent text-muted hover:text-ink",
                  )
                }
              >
                <Icon className="hidden h-4 w-4 sm:block" aria-hidden="true" />
                {label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="flex min-h-0 flex-1 flex-col">
        <Outlet />
      </div>
    </div>
  );
}
