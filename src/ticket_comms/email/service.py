"""Email composition and the small email operations: Message-IDs, links, one-click unsubscribe tokens,
the MIME message, suppressions.

The MIME message is assembled by hand rather than through `email.message`: at hundreds of emails a
second the stdlib generator is a visible share of the worker's CPU, and a notification email is always
the same simple shape (multipart/alternative: a text part and an HTML part, quoted-printable).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

from ticket_comms.config import Settings
from ticket_comms.context import AppContext
from ticket_comms.errors import BadRequest, NotFound


@lru_cache(maxsize=16)
def _parsed_from(email_from: str) -> tuple[str, str]:
    return parseaddr(email_from)


def sender_domain(settings: Settings) -> str:
    address = _parsed_from(settings.email_from)[1]
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


def ticket_url(settings: Settings, ticket_id: Any) -> str:
    return f"{settings.base_url}/tickets/{ticket_id}"


def preferences_url(settings: Settings) -> str:
    return f"{settings.base_url}/settings/notifications"


# ---------------------------------------------------------------------------------------------
# One-click unsubscribe tokens: (user, event type) signed with a key derived from JWT_SECRET.


def _unsubscribe_key(settings: Settings) -> bytes:
    return hmac.new(settings.jwt_secret.encode(), b"ticket-comms unsubscribe v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsubscribe_token(settings: Settings, user_id: str, event_type: str) -> str:
    payload = f"{user_id}\n{event_type}".encode()
    mac = hmac.new(_unsubscribe_key(settings), payload, hashlib.sha256).digest()[:16]
    return f"{_b64(payload)}.{_b64(mac)}"


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[str, str]:
    """(user_id, event_type) from a token we signed; BadRequest for anything else."""
    try:
        payload_b64, mac_b64 = token.split(".", 1)
        payload = _unb64(payload_b64)
        mac = _unb64(mac_b64)
        expected = hmac.new(_unsubscribe_key(settings), payload, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(mac, expected):
            raise ValueError("bad signature")
        user_id, event_type = payload.decode().split("\n", 1)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("This unsubscribe link is not valid.", code="invalid_unsubscribe_token") from None
    return user_id, event_type


def unsubscribe_url(settings: Settings, user_id: str, event_type: str) -> str:
    return f"{settings.base_url}/api/v1/email/unsubscribe?token={quote(unsubscribe_token(settings, user_id, event_type))}"


# ---------------------------------------------------------------------------------------------
# The MIME message


def _clean(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ")


def _header_text(value: str) -> str:
    value = _clean(value)
    if value.isascii():
        return value
    return Header(value, "utf-8").encode(linesep="\r\n")


def _address(name: str | None, email: str) -> str:
    return formataddr((_clean(name or ""), _clean(email)), charset="utf-8")


@lru_cache(maxsize=16)
def _from_header(email_from: str) -> str:
    return _address(*_parsed_from(email_from))


def _qp(text: str) -> bytes:
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False).replace(b"\n", b"\r\n")


def build_message(
    settings: Settings,
    *,
    message_id: str,
    to_email: str,
    to_name: str | None,
    subject: str,
    html: str,
    text: str,
    unsubscribe: str | None,
    log_id: str,
) -> bytes:
    # Unique per email without a random draw; "=_" never occurs in quoted-printable text ("=" is "=3D").
    boundary = f"=_tc_{log_id.replace('-', '')}"
    headers = [
        f"From: {_from_header(settings.email_from)}",
        f"To: {_address(to_name, to_email)}",
        f"Subject: {_header_text(subject)}",
        f"Date: {formatdate(usegmt=True)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        # RFC 3834: tells auto-responders not to answer.
        "Auto-Submitted: auto-generated",
        f"X-Email-Log-Id: {log_id}",
    ]
    if unsubscribe:
        # RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click` to this URL.
        headers.append(f"List-Unsubscribe: <{unsubscribe}>")
        headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    headers.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    b = boundary.encode()
    parts = [
        "\r\n".join(headers).encode(),
        b"\r\n\r\n",
        b"--",
        b,
        b'\r\nContent-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
        _qp(text),
        b"\r\n",
        b"--",
        b,
        b'\r\nContent-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
        _qp(html),
        b"\r\n",
        b"--",
        b,
        b"--\r\n",
    ]
    return b"".join(parts)


# ---------------------------------------------------------------------------------------------
# DKIM


# Signed headers: the ones a receiver shows or acts on. RFC 8058 requires List-Unsubscribe and
# List-Unsubscribe-Post to be covered for one-click unsubscribe to be honoured.
DKIM_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"auto-submitted",
]


class DkimSigner:
    """Signs outgoing mail (rsa-sha256, relaxed/simple) with DKIM_PRIVATE_KEY for DKIM_DOMAIN/DKIM_SELECTOR."""

    def __init__(self, private_key: bytes, selector: str, domain: str):
        self.private_key = private_key
        self.selector = selector.encode()
        self.domain = domain.encode()

    def sign(self, raw: bytes) -> bytes:
        import dkim

        header = dkim.sign(
            raw,
            self.selector,
            self.domain,
            self.private_key,
            include_headers=DKIM_HEADERS,
            canonicalize=(b"relaxed", b"simple"),
        )
        return header + raw


def build_signer(settings: Settings) -> DkimSigner | None:
    """The signer when DKIM_PRIVATE_KEY (PEM text or a file path) is set, else None (unsigned mail)."""
    if not settings.dkim_private_key:
        return None
    if not settings.dkim_selector:
        raise ValueError("DKIM_PRIVATE_KEY is set but DKIM_SELECTOR is not")
    key = settings.dkim_private_key
    pem = key.encode() if "-----BEGIN" in key else Path(key).expanduser().read_bytes()
    return DkimSigner(pem, settings.dkim_selector, settings.dkim_domain or sender_domain(settings))


# ---------------------------------------------------------------------------------------------
# Suppressions


def suppression_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "email": row["email"],
        "reason": row["reason"],
        "detail": row["detail"],
        "emailLogId": str(row["email_log_id"]) if row["email_log_id"] else None,
        "createdAt": row["created_at"].isoformat(),
    }


async def list_suppressions(ctx: AppContext, *, limit: int, cursor: str | None) -> dict[str, Any]:
    rows = await ctx.db.fetch_all(
        "SELECT * FROM email_suppressions WHERE %(after)s::text IS NULL OR email > %(after)s "
        "ORDER BY email LIMIT %(limit)s",
        {"after": cursor, "limit": limit + 1},
    )
    page = rows[:limit]
    return {
        "items": [suppression_out(r) for r in page],
        "nextCursor": page[-1]["email"] if len(rows) > limit else None,
    }


async def delete_suppression(ctx: AppContext, email: str) -> None:
    row = await ctx.db.fetch_one(
        "DELETE FROM email_suppressions WHERE email = lower(%s) RETURNING email", (email.strip(),)
    )
    if row is None:
        raise NotFound("That address is not suppressed.", code="suppression_not_found")
