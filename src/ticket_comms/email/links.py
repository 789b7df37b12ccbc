"""The links our emails carry: the ticket, the notification preferences, and the signed one-click
unsubscribe link (a token naming the user and the event type, under a key derived from SIGNING_SECRET)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any
from urllib.parse import quote

from ticket_comms.config import Settings
from ticket_comms.errors import BadRequest


def ticket_url(settings: Settings, ticket_id: Any) -> str:
    return f"{settings.base_url}/tickets/{ticket_id}"


def preferences_url(settings: Settings) -> str:
    return f"{settings.base_url}/settings/notifications"


def _unsubscribe_key(settings: Settings) -> bytes:
    return hmac.new(settings.signing_key.encode(), b"ticket-comms unsubscribe v1", hashlib.sha256).digest()


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
