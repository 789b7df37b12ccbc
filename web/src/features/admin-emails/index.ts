// Admin: the email log (filtered, paged list) and one email's timeline.
export { EmailsPage } from "./components/EmailsPage";
export { EmailDetailPage } from "./components/EmailDetailPage";
