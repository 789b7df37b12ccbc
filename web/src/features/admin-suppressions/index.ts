// Admin: suppressed addresses and lifting them.
export { SuppressionsPage } from "./components/SuppressionsPage";
