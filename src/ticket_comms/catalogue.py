"""The product's events: every event type the service knows, and how each one is delivered.

This list defines the events; the built-in email templates follow it (one per event type, checked by
tests/email/test_templates.py), and so do preferences (`emailEvents`), `POST /events` validation and
the in-app summaries. Adding an event means adding it here, then its built-in template, then a data
migration that inserts that template into existing databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    # Security mail is not optional: sent whatever the preferences and mutes say.
    always_emailed: bool = False
    # Shown in the in-app notification list (a one-time code belongs in the mailbox it was asked for).
    in_app: bool = True
    # Pushed to the recipient's devices (Web Push). Chat messages have their own, faster push
    # (push/messages.py), so the MessageReceived email digest is not pushed again.
    pushed: bool = True
    # Dotted names of the event's data that are secrets: redacted from what is kept once the email is
    # done with them (the stored event data, the email log's subject).
    secret_variables: tuple[str, ...] = ()


CATALOGUE: tuple[EventType, ...] = (
    EventType("TicketCreated"),
    EventType("TicketAssigned"),
    EventType("TicketStatusChanged"),
    EventType("TicketCompleted"),
    EventType("QuoteCreated"),
    EventType("QuoteApproved"),
    EventType("QuoteDeclined"),
    EventType("MessageReceived", pushed=False),
    EventType("OTPRequested", always_emailed=True, in_app=False, secret_variables=("otp.code",)),
    EventType("InvoiceGenerated"),
    EventType("PaymentReceived"),
)

EVENT_TYPES: tuple[str, ...] = tuple(e.name for e in CATALOGUE)
ALWAYS_EMAILED = frozenset(e.name for e in CATALOGUE if e.always_emailed)
NO_IN_APP = frozenset(e.name for e in CATALOGUE if not e.in_app)
NO_PUSH = frozenset(e.name for e in CATALOGUE if not e.pushed)
SECRET_VARIABLES: dict[str, tuple[str, ...]] = {
    e.name: e.secret_variables for e in CATALOGUE if e.secret_variables
}
REDACTED = "[redacted]"


def secret_values(event_type: str, data: Any) -> list[str]:
    """The values of the event's secret variables in `data` (as text, longest first)."""
    values = []
    for name in SECRET_VARIABLES.get(event_type, ()):
        value: Any = data
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None and str(value):
            values.append(str(value))
    return sorted(values, key=len, reverse=True)


def redact(text: str | None, secrets: list[str]) -> str | None:
    """`text` with every secret value replaced by REDACTED."""
    if text is None:
        return None
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text
