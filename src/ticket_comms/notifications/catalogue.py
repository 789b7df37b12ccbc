"""The event types the service knows, and how each reads as an in-app notification."""

from __future__ import annotations

from typing import Any

from ticket_comms.email import builtin

EVENT_TYPES: tuple[str, ...] = builtin.EVENT_TYPES
TICKET_EVENTS = frozenset({"TicketCreated", "TicketAssigned", "TicketStatusChanged", "TicketCompleted"})
# Security mail is not optional: sent whatever the preferences and mutes say, and never in-app
# (the code belongs in the mailbox it was requested for).
ALWAYS_EMAILED = frozenset({"OTPRequested"})
NO_IN_APP = frozenset({"OTPRequested"})


def _get(data: dict[str, Any], *path: str) -> str:
    value: Any = data
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def _money(amount: str, currency: str) -> str:
    return f"{currency or 'AED'} {amount}".strip()


def summary(event_type: str, data: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of the in-app notification for an event."""
    title = _get(data, "ticket", "title")
    actor = _get(data, "actor", "name")
    by = f" by {actor}" if actor else ""
    match event_type:
        case "TicketCreated":
            return "New ticket", f"{title} was created{by}."
        case "TicketAssigned":
            assignee = _get(data, "assignee", "name") or "someone"
            return "Ticket assigned", f"{title} was assigned to {assignee}{by}."
        case "TicketStatusChanged":
            status = _get(data, "ticket", "status")
            previous = _get(data, "previousStatus")
            change = f"from {previous} to {status}" if previous else f"to {status}"
            return "Ticket status changed", f"{title} moved {change}{by}."
        case "TicketCompleted":
            return "Ticket completed", f"{title} was completed{by}."
        case "QuoteCreated" | "QuoteApproved" | "QuoteDeclined":
            verb = {
                "QuoteCreated": "is ready",
                "QuoteApproved": "was approved",
                "QuoteDeclined": "was declined",
            }
            number = _get(data, "quote", "number")
            total = _money(_get(data, "quote", "total"), _get(data, "quote", "currency"))
            return f"Quote {verb[event_type].split()[-1]}", f"Quote {number} ({total}) {verb[event_type]}."
        case "InvoiceGenerated":
            number = _get(data, "invoice", "number")
            total = _money(_get(data, "invoice", "total"), _get(data, "invoice", "currency"))
            return "New invoice", f"Invoice {number} for {total}."
        case "PaymentReceived":
            amount = _money(_get(data, "payment", "amount"), _get(data, "payment", "currency"))
            return "Payment received", f"We received your payment of {amount}."
        case "MessageReceived":
            messages = data.get("messages")
            count = len(messages) if isinstance(messages, list) else 0
            plural = "" if count == 1 else "s"
            return "New messages", f"{count} unread message{plural} on {title}."
        case "OTPRequested":
            return "Verification code", "A verification code was sent to your email."
    return event_type, ""
