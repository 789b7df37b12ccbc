"""Signed, expiring download URLs: an HMAC (SIGNING_SECRET) over the attachment id, the variant, the
expiry and, for a link handed to one person, that person's user id.

Every link is bound to the user it is handed to, and works only while that user may still see the
attachment (checked when it is served): a participant removed from a ticket loses the links they were
given at once. A link bound to no one is refused (a leaked copy would otherwise work for anyone until
it expires); payloads built before they know their reader carry no links (`without_links`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import quote

from ticket_comms.config import Settings
from ticket_comms.errors import Forbidden

URL_TTL_SECONDS = 7 * 24 * 3600
# Expiries are rounded up to this step so the same attachment gets the same URL for a while:
# browsers and email clients can then cache images.
EXPIRY_STEP_SECONDS = 3600


def _signature(
    secret: str, attachment_id: str, variant: str, expires: int, user_id: str | None = None
) -> str:
    msg = f"{attachment_id}:{variant}:{expires}"
    if user_id is not None:
        msg += f":user:{user_id}"
    return hmac.new(f"attachments:{secret}".encode(), msg.encode(), hashlib.sha256).hexdigest()[:32]


def signed_url(
    settings: Settings,
    attachment_id: str,
    *,
    thumbnail: bool = False,
    user_id: str | None = None,
    now: float | None = None,
) -> str:
    """The download URL; with `user_id`, it works only for as long as that user may see the attachment."""
    now = time.time() if now is None else now
    expires = (int(now + URL_TTL_SECONDS) // EXPIRY_STEP_SECONDS + 1) * EXPIRY_STEP_SECONDS
    variant = "thumbnail" if thumbnail else "original"
    sig = _signature(settings.signing_key, attachment_id, variant, expires, user_id)
    suffix = "/thumbnail" if thumbnail else ""
    user = f"&user={quote(user_id, safe='')}" if user_id is not None else ""
    return f"{settings.base_url}/api/v1/attachments/{attachment_id}{suffix}?expires={expires}{user}&signature={sig}"


def verify(
    settings: Settings,
    attachment_id: str,
    *,
    thumbnail: bool,
    expires: int,
    signature: str,
    user_id: str | None = None,
) -> None:
    """Raise Forbidden unless the link was signed by us, for this attachment, variant and a user, and is current.
    The caller then checks that a bound user may still see the attachment."""
    if user_id is None:
        raise Forbidden("The download link is not valid.", code="bad_signature")
    variant = "thumbnail" if thumbnail else "original"
    expected = _signature(settings.signing_key, attachment_id, variant, expires, user_id)
    if not hmac.compare_digest(expected, signature):
        raise Forbidden("The download link is not valid.", code="bad_signature")
    if expires < time.time():
        raise Forbidden("The download link has expired.", code="link_expired")


def for_viewer(message: dict[str, Any], settings: Settings, user_id: str) -> dict[str, Any]:
    """A Message (its JSON) whose attachment links are bound to the user it is handed to."""
    attachment = message.get("attachment")
    if not attachment:
        return message
    return {**message, "attachment": attachment_for_viewer(attachment, settings, user_id)}


def attachment_for_viewer(attachment: dict[str, Any], settings: Settings, user_id: str) -> dict[str, Any]:
    attachment_id = attachment["id"]
    bound = {**attachment, "url": signed_url(settings, attachment_id, user_id=user_id)}
    if attachment.get("thumbnailUrl"):
        bound["thumbnailUrl"] = signed_url(settings, attachment_id, thumbnail=True, user_id=user_id)
    return bound


def without_links(message: dict[str, Any]) -> dict[str, Any]:
    """A Message for a reader we cannot bind links to (a watcher of the room): the attachment's links
    are null, and the reader fetches the message over HTTP to get links of its own."""
    attachment = message.get("attachment")
    if not attachment:
        return message
    return {**message, "attachment": {**attachment, "url": None, "thumbnailUrl": None}}
