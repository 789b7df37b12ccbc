"""Reply by email, the outgoing half: the signed Reply-To address of a ticket email and the thread headers
that make a ticket's emails one conversation in mail clients.

`<REPLY_LOCAL_PART>+<32 hex of the email log id><16 hex of signature>@REPLY_DOMAIN`. The signature covers
the log id, the ticket and the recipient, so the address names one email and only we can make one: a
token is checked against the email log it names (that log's ticket and recipient must give the same
signature), and expires REPLY_TOKEN_MAX_AGE_DAYS after that email (replies/verify.py).

Thread headers: one stable root per ticket and recipient, `<ticket.<ticket id>.<tag>@sender domain>`,
never sent itself: every email about the ticket names it in `In-Reply-To` and `References`, which is
what Gmail, Apple Mail and Thunderbird group by; Outlook groups by `Thread-Index` (22 bytes of the root,
then 5 bytes per message), which we derive from the same root.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from uuid import UUID

from ticket_comms.config import Settings
from ticket_comms.email.addresses import sender_domain

# `<local>+<32 hex><16 hex>@<domain>`: 6 + 48 characters with the default local part, under 64.
REPLY_RE = re.compile(r"^(?P<local>[^@+\s]+)\+(?P<id>[0-9a-f]{32})(?P<tag>[0-9a-f]{16})@(?P<domain>[^@\s]+)$")


def _key(settings: Settings, purpose: bytes) -> bytes:
    return hmac.new(settings.signing_key.encode(), purpose, hashlib.sha256).digest()


def _tag(settings: Settings, log_hex: str, ticket_id: UUID | str, recipient_id: str) -> str:
    message = f"{log_hex}\x00{UUID(str(ticket_id)).hex}\x00{recipient_id}".encode()
    key = _key(settings, b"ticket-comms reply address v1")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:16]


def reply_enabled(settings: Settings) -> bool:
    return bool(settings.reply_domain)


def reply_address_for(
    settings: Settings, log_id: UUID | str, ticket_id: UUID | str, recipient_id: str
) -> str:
    """The Reply-To address of one ticket email (REPLY_DOMAIN must be set)."""
    log_hex = UUID(str(log_id)).hex
    tag = _tag(settings, log_hex, ticket_id, recipient_id)
    return f"{settings.reply_local_part.lower()}+{log_hex}{tag}@{(settings.reply_domain or '').lower()}"


def parse_reply_address(settings: Settings, address: str) -> tuple[UUID, str] | None:
    """(log id, tag) of an address shaped like ours at REPLY_DOMAIN; None otherwise. Not yet verified:
    `tag_matches` with the named log's ticket and recipient does that."""
    if not settings.reply_domain:
        return None
    match = REPLY_RE.match(address.strip().strip("<>").lower())
    if match is None:
        return None
    if (match["local"], match["domain"]) != (
        settings.reply_local_part.lower(),
        settings.reply_domain.lower(),
    ):
        return None
    return UUID(match["id"]), match["tag"]


def is_reply_address(settings: Settings, address: str) -> bool:
    """Shaped like one of our reply addresses (the inbound SMTP listener accepts it; replies/ verifies it)."""
    return parse_reply_address(settings, address) is not None


def tag_matches(settings: Settings, tag: str, log_id: UUID, ticket_id: UUID | str, recipient_id: str) -> bool:
    return hmac.compare_digest(tag, _tag(settings, log_id.hex, ticket_id, recipient_id))


def thread_root(settings: Settings, ticket_id: UUID | str, recipient_id: str) -> str:
    """The Message-ID every email about `ticket_id` to `recipient_id` refers to (never sent itself).
    The recipient appears only as a keyed hash: the header is visible to anyone the mail is forwarded to."""
    ticket_hex = UUID(str(ticket_id)).hex
    key = _key(settings, b"ticket-comms thread root v1")
    tag = hmac.new(key, f"{ticket_hex}\x00{recipient_id}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"<ticket.{ticket_hex}.{tag}@{sender_domain(settings)}>"


def thread_index(root: str, log_id: UUID | str) -> str:
    """Outlook's Thread-Index: 22 bytes that name the conversation (from the root), then a 5-byte child
    block per message (from the log id), base64."""
    head = hashlib.sha256(root.encode()).digest()[:22]
    child = UUID(str(log_id)).bytes[:5]
    return base64.b64encode(head + child).decode()


def is_our_message_id(settings: Settings, message_id: str) -> bool:
    """A Message-ID we made (an email's `<log id@domain>`, a thread root): mail carrying one as its own id
    is our own mail come back. Others' ids at the same domain (staff mail clients) are not ours."""
    local, _, domain = message_id.strip().strip("<>").lower().rpartition("@")
    if domain != sender_domain(settings).lower():
        return False
    if local.startswith("ticket."):
        return True
    try:
        UUID(local)
    except ValueError:
        return False
    return True
