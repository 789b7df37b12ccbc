// Notification preferences page.
export { PreferencesPage } from "./components/PreferencesPage";
