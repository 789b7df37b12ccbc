// The admin console's frame and the pieces every admin screen shares (status badges, dates, page states).
export { AdminLayout } from "./components/AdminLayout";
export { PageHeader } from "./components/PageHeader";
export { StatusBadge, EMAIL_STATUSES, type EmailStatus } from "./components/StatusBadge";
export { LoadError } from "./components/LoadError";
export { formatDateTime, formatDay } from "./dates";
