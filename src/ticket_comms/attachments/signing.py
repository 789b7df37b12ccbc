"""Signed, expiring download URLs: an HMAC over the attachment id, the variant and the expiry."""

from __future__ import annotations

import hashlib
import hmac
import time

from ticket_comms.config import Settings
from ticket_comms.errors import Forbidden

URL_TTL_SECONDS = 7 * 24 * 3600
# Expiries are rounded up to this step so the same attachment gets the same URL for a while:
# browsers and email clients can then cache images.
EXPIRY_STEP_SECONDS = 3600


def _signature(secret: str, attachment_id: str, variant: str, expires: int) -> str:
    msg = f"{attachment_id}:{variant}:{expires}".encode()
    return hmac.new(f"attachments:{secret}".encode(), msg, hashlib.sha256).hexdigest()[:32]


def signed_url(
    settings: Settings, attachment_id: str, *, thumbnail: bool = False, now: float | None = None
) -> str:
    now = time.time() if now is None else now
    expires = (int(now + URL_TTL_SECONDS) // EXPIRY_STEP_SECONDS + 1) * EXPIRY_STEP_SECONDS
    variant = "thumbnail" if thumbnail else "original"
    sig = _signature(settings.signing_key, attachment_id, variant, expires)
    suffix = "/thumbnail" if thumbnail else ""
    return f"{settings.base_url}/api/v1/attachments/{attachment_id}{suffix}?expires={expires}&signature={sig}"


def verify(settings: Settings, attachment_id: str, *, thumbnail: bool, expires: int, signature: str) -> None:
    variant = "thumbnail" if thumbnail else "original"
    expected = _signature(settings.signing_key, attachment_id, variant, expires)
    if not hmac.compare_digest(expected, signature):
        raise Forbidden("The download link is not valid.", code="bad_signature")
    if expires < time.time():
        raise Forbidden("The download link has expired.", code="link_expired")
