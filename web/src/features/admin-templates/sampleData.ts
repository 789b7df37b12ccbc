// Sample data for previews and the variables offered by completion, per event, from the contract's
// table of event data (plus `recipient`, `app` and `links`, which every template receives).
export const EVENT_TYPES = [
  "TicketCreated",
  "TicketAssigned",
  "TicketStatusChanged",
  "TicketCompleted",
  "QuoteCreated",
  "QuoteApproved",
  "QuoteDeclined",
  "MessageReceived",
  "OTPRequested",
  "InvoiceGenerated",
  "PaymentReceived",
] as const;

/** "TicketStatusChanged" → "Ticket status changed", "OTPRequested" → "OTP requested". */
export function eventLabel(name: string): string {
  const words = name.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2").toLowerCase().replace(/\botp\b/, "OTP");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const origin = typeof location === "undefined" ? "https://tickets.example.com" : location.origin;
const ticket = { id: "5f0c7c1e-2b1a-4c49-9a51-3f3b9e1d2a10", title: "Kitchen tap is leaking", status: "InProgress", url: `${origin}/tickets/5f0c7c1e-2b1a-4c49-9a51-3f3b9e1d2a10` };

const common = {
  recipient: { name: "Alice Carter", email: "alice@example.com" },
  app: { name: "Tickets", url: origin },
  links: { ticket: ticket.url, preferences: `${origin}/settings/notifications`, unsubscribe: `${origin}/api/v1/email/unsubscribe?token=sample` },
};

const ticketEvent = { ticket, actor: { name: "Tom Reyes" } };

const BY_EVENT: Record<string, Record<string, unknown>> = {
  TicketCreated: ticketEvent,
  TicketAssigned: { ...ticketEvent, ticket: { ...ticket, status: "Assigned" }, assignee: { name: "Priya Shah" } },
  TicketStatusChanged: { ...ticketEvent, previousStatus: "Assigned" },
  TicketCompleted: { ...ticketEvent, ticket: { ...ticket, status: "Completed" } },
  QuoteCreated: { quote: { number: "Q-1042", total: 1250, currency: "AED", url: `${origin}/quotes/Q-1042` } },
  QuoteApproved: { quote: { number: "Q-1042", total: 1250, currency: "AED", url: `${origin}/quotes/Q-1042` } },
  QuoteDeclined: { quote: { number: "Q-1042", total: 1250, currency: "AED", url: `${origin}/quotes/Q-1042` } },
  InvoiceGenerated: { invoice: { number: "INV-2207", total: 1312.5, currency: "AED", dueDate: "2026-12-31", url: `${origin}/invoices/INV-2207` } },
  PaymentReceived: { payment: { amount: 1312.5, currency: "AED", reference: "PAY-88231" } },
  OTPRequested: { otp: { code: "482913", expiresInMinutes: 10 } },
  MessageReceived: {
    ticket,
    messages: [
      { senderName: "Tom Reyes", content: "I can come by tomorrow at 10 to look at the tap.", createdAt: "2026-11-25T09:12:00Z" },
      { senderName: "Tom Reyes", content: "Here is the part I will bring.", createdAt: "2026-11-25T09:13:30Z", attachmentName: "cartridge.jpg" },
    ],
  },
  layout: { subject: "A sample subject", content: "The body of each email goes here." },
};

/** Sample data for template `name`: its event's data, or every event's for a custom template. */
export function sampleContext(name: string): Record<string, unknown> {
  const own = BY_EVENT[name];
  if (own) return structuredClone({ ...own, ...common });
  // A custom template can be sent for any event: offer the ticket event's data as a start.
  return structuredClone({ ...ticketEvent, ...common });
}

export interface VariableNode {
  name: string;
  detail: string;
  children?: VariableNode[];
}

/** The variable tree of a sample context, for completion after `{{ ` and after a dot. */
export function variableTree(context: unknown): VariableNode[] {
  if (!context || typeof context !== "object" || Array.isArray(context)) return [];
  return Object.entries(context as Record<string, unknown>).map(([name, value]) => {
    if (Array.isArray(value)) return { name, detail: "list", children: variableTree(value[0]) };
    if (value && typeof value === "object") return { name, detail: "object", children: variableTree(value) };
    return { name, detail: typeof value };
  });
}

/** The filters and functions the server's template sandbox adds to Jinja's own. */
export const FILTERS = ["formatDate", "formatCurrency", "humanize"];
export const FUNCTIONS = ["button"];
