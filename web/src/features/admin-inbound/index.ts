// Admin: inbound mail (replies by email, delivery reports) and what became of each.
export { InboundPage } from "./components/InboundPage";
