"""The addresses and ids our mail carries: the sender's domain, the bounce address, Message-IDs."""

from __future__ import annotations

from email.utils import parseaddr
from functools import lru_cache
from uuid import UUID

from ticket_comms.config import Settings


@lru_cache(maxsize=16)
def parsed_from(email_from: str) -> tuple[str, str]:
    """EMAIL_FROM as (display name, address)."""
    return parseaddr(email_from)


def sender_domain(settings: Settings) -> str:
    address = parsed_from(settings.email_from)[1]
    return address.rpartition("@")[2] or "localhost"


def bounce_address(settings: Settings) -> str:
    return settings.bounce_address or f"bounces@{sender_domain(settings)}"


def message_id_for(settings: Settings, log_id: UUID | str) -> str:
    """Our Message-ID carries the log id, so any report quoting it finds its email log."""
    return f"<{log_id}@{sender_domain(settings)}>"


def log_id_from_message_id(message_id: str) -> UUID | None:
    local = message_id.strip().strip("<>").partition("@")[0]
    try:
        return UUID(local)
    except ValueError:
        return None
