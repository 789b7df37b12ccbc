"""The built-in email templates shipped with the service: one per event type of the catalogue, plus the layout.

Each template's HTML body lives in `<name>.html` and its plain-text part in `<name>.txt` beside this
file; the subject and the variables each template relies on are listed here. Resetting an edited
built-in template restores these files. Migrations never read them (a migration must mean the same
thing forever): 0003 inserts its own frozen copy, and a built-in template added later reaches existing
databases through a data migration of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ticket_comms.catalogue import EVENT_TYPES

HERE = Path(__file__).resolve().parent

LAYOUT = "layout"


@dataclass(frozen=True, slots=True)
class BuiltinSpec:
    subject: str
    variables: tuple[str, ...]


SPECS: dict[str, BuiltinSpec] = {
    # The layout wraps every email: `content` is the rendered body, `subject` the rendered subject.
    LAYOUT: BuiltinSpec("{{ subject }}", ()),
    "TicketCreated": BuiltinSpec("New ticket: {{ ticket.title }}", ("ticket.title",)),
    "TicketAssigned": BuiltinSpec(
        "{% if assignee.id and assignee.id == recipient.id or assignee.email and assignee.email == recipient.email"
        " %}Assigned to you{% elif assignee.name %}Assigned to {{ assignee.name }}{% else %}Assigned{% endif %}: "
        "{{ ticket.title }}",
        ("ticket.title",),
    ),
    "TicketStatusChanged": BuiltinSpec(
        "{{ ticket.title }} is now {{ ticket.status|humanize|lower }}", ("ticket.title", "ticket.status")
    ),
    "TicketCompleted": BuiltinSpec("Completed: {{ ticket.title }}", ("ticket.title",)),
    "QuoteCreated": BuiltinSpec(
        "Your quote {{ quote.number }} is ready ({{ quote.total|formatCurrency(quote.currency) }})",
        ("quote.number", "quote.total"),
    ),
    "QuoteApproved": BuiltinSpec("Quote {{ quote.number }} approved", ("quote.number", "quote.total")),
    "QuoteDeclined": BuiltinSpec("Quote {{ quote.number }} was declined", ("quote.number", "quote.total")),
    "MessageReceived": BuiltinSpec(
        "{% set n = messages|length %}{{ n }} new message{{ '' if n == 1 else 's' }} on {{ ticket.title }}",
        ("ticket.title", "messages"),
    ),
    "OTPRequested": BuiltinSpec(
        "{{ otp.code }} is your {{ app.name }} verification code", ("otp.code", "otp.expiresInMinutes")
    ),
    "InvoiceGenerated": BuiltinSpec(
        "Invoice {{ invoice.number }} for {{ invoice.total|formatCurrency(invoice.currency) }}",
        ("invoice.number", "invoice.total"),
    ),
    "PaymentReceived": BuiltinSpec(
        "Payment received: {{ payment.amount|formatCurrency(payment.currency) }}", ("payment.amount",)
    ),
}

# The templates follow the catalogue of events, not the other way round.
if set(SPECS) != {LAYOUT, *EVENT_TYPES}:
    raise RuntimeError("every event type of ticket_comms.catalogue needs exactly one built-in template")


@dataclass(frozen=True, slots=True)
class BuiltinTemplate:
    name: str
    subject: str
    html_content: str
    text_content: str | None
    variables: list[str]


def load(name: str) -> BuiltinTemplate:
    """The shipped version of built-in template `name` (KeyError if there is none)."""
    spec = SPECS[name]
    text_path = HERE / f"{name}.txt"
    return BuiltinTemplate(
        name=name,
        subject=spec.subject,
        html_content=(HERE / f"{name}.html").read_text(encoding="utf-8"),
        text_content=text_path.read_text(encoding="utf-8") if text_path.exists() else None,
        variables=list(spec.variables),
    )


def load_all() -> list[BuiltinTemplate]:
    return [load(name) for name in SPECS]
