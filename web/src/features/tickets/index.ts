// Tickets: the list, creation, the ticket header and details, and live cache updates.
export { TicketListPane } from "./components/TicketListPane";
export { TicketHeader } from "./components/TicketHeader";
export { TicketDetails } from "./components/TicketDetails";
export { StatusBadge } from "./components/StatusBadge";
export { useLiveTickets, useTicket, useTicketList, useParticipants, ticketKeys, type Caller } from "./api/tickets";
