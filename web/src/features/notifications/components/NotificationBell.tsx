// The bell in the header: a button whose name carries the unread count ("Notifications, 3 unread").
import { useNavigate } from "react-router";
import { Bell } from "lucide-react";
import { useUnreadNotifications } from "../api/notifications";

export function NotificationBell() {
  const unread = useUnreadNotifications();
  const navigate = useNavigate();
  return (
    <button
      type="button"
      onClick={() => navigate("/notifications")}
      aria-label={unread ? `Notifications, ${unread} unread` : "Notifications"}
      title="Notifications"
      className="relative inline-flex h-10 w-10 items-center justify-center rounded-lg text-muted hover:bg-surface hover:text-ink"
    >
      <Bell className="h-5 w-5" aria-hidden="true" />
      {unread > 0 && (
        <span aria-hidden="true" className="absolute right-1 top-1 inline-flex h-4 min-w-4 items-center justify-center rounded-full bg-danger px-1 text-[10px] font-bold text-white tabular">
          {unread > 99 ? "99+" : unread}
        </span>
      )}
    </button>
  );
}
