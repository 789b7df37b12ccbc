// Notifications: the bell, the list page, live updates and the unread count (for the tab title).
export { NotificationBell } from "./components/NotificationBell";
export { useLiveNotifications, useUnreadNotifications } from "./api/notifications";
