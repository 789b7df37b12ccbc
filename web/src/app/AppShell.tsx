// The signed-in frame: top bar (brand, navigation, bell, theme, account), connection status, and the page.
import { Link, NavLink, Outlet, useNavigate } from "react-router";
import { Menu } from "@/components/Menu";
import { LogOut, Settings, TicketCheck } from "lucide-react";
import { Avatar } from "@/components/Avatar";
import { ConnectionStatus } from "@/components/ConnectionStatus";
import { ThemeToggle } from "@/components/ThemeToggle";
import { cn } from "@/lib/classNames";
import { signOut } from "@/lib/auth/session";
import { NotificationBell } from "@/features/notifications";
import type { Me } from "@/features/auth";

export function AppShell({ me }: { me: Me }) {
  const name = me.name || me.email || me.id;
  const navigate = useNavigate();
  const nav = ({ isActive }: { isActive: boolean }) =>
    cn("hidden h-9 items-center rounded-lg px-3 text-sm font-medium sm:inline-flex", isActive ? "bg-surface text-ink-strong" : "text-muted hover:text-ink");
  return (
    <div className="flex h-dvh flex-col overflow-hidden">
      <a href="#main" className="sr-only-focusable absolute left-2 top-2 z-50 rounded bg-panel px-3 py-2 text-sm">
        Skip to content
      </a>
      <header className="flex h-14 shrink-0 items-center gap-1 border-b border-line bg-panel px-2 sm:px-4">
        <Link to="/tickets" className="mr-2 flex items-center gap-2 rounded-lg px-1 font-semibold text-ink-strong">
          <span className="flex h-8 w-8 items-center justify-center rounded-lg bg-accent text-on-accent">
            <TicketCheck className="h-[18px] w-[18px]" aria-hidden="true" />
          </span>
          <span className="text-[15px]">Tickets</span>
        </Link>
        <nav aria-label="Main" className="flex items-center gap-1">
          <NavLink to="/tickets" className={nav}>
            Inbox
          </NavLink>
          <NavLink to="/notifications" className={nav}>
            Notifications
          </NavLink>
        </nav>
        <div className="ml-auto flex items-center gap-0.5">
          <NotificationBell />
          <ThemeToggle />
          <Menu
            triggerLabel={`Account: ${name}`}
            triggerClassName="ml-1 rounded-full p-1 hover:bg-surface"
            trigger={<Avatar id={me.id} name={name} size={30} />}
            align="end"
            heading={
              <div className="border-b border-line px-3 pb-2 pt-1.5 mb-1">
                <p className="truncate text-sm font-medium text-ink-strong">{name}</p>
                {me.email && <p className="truncate text-xs text-muted">{me.email}</p>}
              </div>
            }
            items={[
              { label: "Notification preferences", icon: <Settings className="h-4 w-4" aria-hidden="true" />, onSelect: () => navigate("/settings/notifications") },
              { label: "Sign out", icon: <LogOut className="h-4 w-4" aria-hidden="true" />, onSelect: signOut },
            ]}
          />
        </div>
      </header>
      <ConnectionStatus />
      <div id="main" className="flex min-h-0 flex-1 flex-col overflow-y-auto">
        <Outlet />
      </div>
    </div>
  );
}
