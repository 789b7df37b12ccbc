// Admin: the delivery dashboard (counts, rates and the per-day chart).
export { DeliveryPage } from "./components/DeliveryPage";
