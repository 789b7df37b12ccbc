"""The addresses and ids our mail carries: the sender's domain, the bounce address (signed per email,
VERP), Message-IDs.

Each email goes out with its own envelope sender `bounces+<log id><signature>@domain`: a delivery report
sent back to it names the email it is about, and only we can make such an address, so a report to a
forged or altered one proves nothing (tests/email/test_tracking.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
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


def _verp_key(settings: Settings) -> bytes:
    return hmac.new(settings.signing_key.encode(), b"ticket-comms bounce address v1", hashlib.sha256).digest()


def _verp_tag(settings: Settings, log_hex: str) -> str:
    return hmac.new(_verp_key(settings), log_hex.encode(), hashlib.sha256).hexdigest()[:16]


# `<local>+<32 hex of the log id><16 hex of signature>@<domain>`; the local part stays under 64 characters.
VERP_RE = re.compile(r"^(?P<local>[^@+\s]+)\+(?P<id>[0-9a-f]{32})(?P<tag>[0-9a-f]{16})@(?P<domain>[^@\s]+)$")


def bounce_address_for(settings: Settings, log_id: UUID | str) -> str:
    """The envelope sender of one email: the bounce address tagged with the email's signed log id."""
    local, _, domain = bounce_address(settings).rpartition("@")
    log_hex = UUID(str(log_id)).hex
    return f"{local}+{log_hex}{_verp_tag(settings, log_hex)}@{domain}"


def log_id_from_bounce_address(settings: Settings, address: str) -> UUID | None:
    """The email a signed bounce address was made for; None for anything we did not sign."""
    match = VERP_RE.match(address.strip().strip("<>").lower())
    if match is None:
        return None
    if not hmac.compare_digest(match["tag"], _verp_tag(settings, match["id"])):
        return None
    local, _, domain = bounce_address(settings).lower().rpartition("@")
    if (match["local"], match["domain"]) != (local, domain):
        return None
    return UUID(match["id"])


def message_id_for(settings: Settings, log_id: UUID | str) -> str:
    """Our Message-ID carries the log id, so any report quoting it finds its email log."""
    return f"<{log_id}@{sender_domain(settings)}>"


def log_id_from_message_id(message_id: str) -> UUID | None:
    local = message_id.strip().strip("<>").partition("@")[0]
    try:
        return UUID(local)
    except (ValueError, TypeError):
        return None
