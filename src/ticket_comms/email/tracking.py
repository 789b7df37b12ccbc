"""Open and click tracking, per template and off by default (EMAIL_TRACK_OPENS_TEMPLATES,
EMAIL_TRACK_CLICKS_TEMPLATES: JSON lists of template names).

A tracked email's HTML gets a 1x1 pixel at `/api/v1/email/t/o/<log id>/<signature>.gif` and its links
point at `/api/v1/email/t/c/<log id>/<signature>?u=<the URL>`. Each signature is an HMAC (key derived from
SIGNING_SECRET) over the log id and, for a link, the URL: the redirect goes only to a URL that was in
that email (no open redirect), and nobody can make opens or clicks of an email they did not get.

Opens and clicks are `opened` / `clicked` entries in the email log's timeline (the first open; clicks up
to MAX_CLICK_EVENTS per email) and rates in the stats. They never change an email's status: an image
fetched by a mail scanner or a privacy proxy proves nothing about delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

from ticket_comms.config import Settings
from ticket_comms.database import Connection
from ticket_comms.wire import jsonb

# The smallest transparent GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
MAX_CLICK_EVENTS = 20
MAX_URL = 2048
HREF_RE = re.compile(r'(<a\b[^>]*?\bhref\s*=\s*)(["\'])(https?://[^"\'<>\s]{1,2048})\2', re.IGNORECASE)


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.signing_key.encode(), b"ticket-comms email tracking v1", hashlib.sha256).digest()


def _sign(settings: Settings, log_hex: str, what: str) -> str:
    digest = hmac.new(_key(settings), f"{log_hex}\x00{what}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def tracks(settings: Settings, template_name: str) -> tuple[bool, bool]:
    """(opens, clicks) tracked for emails of this template."""
    return (
        template_name in settings.email_track_opens_templates,
        template_name in settings.email_track_clicks_templates,
    )


def pixel_url(settings: Settings, log_id: UUID | str) -> str:
    log_hex = UUID(str(log_id)).hex
    return f"{settings.base_url}/api/v1/email/t/o/{log_hex}/{_sign(settings, log_hex, 'open')}.gif"


def click_url(settings: Settings, log_id: UUID | str, url: str) -> str:
    log_hex = UUID(str(log_id)).hex
    return (
        f"{settings.base_url}/api/v1/email/t/c/{log_hex}/{_sign(settings, log_hex, url)}"
        f"?u={quote(url, safe='')}"
    )


def _untracked(settings: Settings, url: str) -> bool:
    # Unsubscribing must work without a detour, and must never count as engagement.
    return url.startswith(f"{settings.base_url}/api/v1/email/unsubscribe")


def tracked_html(settings: Settings, template_name: str, log_id: UUID | str, html: str) -> str:
    """`html` with its links through the click redirect and the pixel, as the template asks."""
    opens, clicks = tracks(settings, template_name)
    if clicks:

        def rewrite(match: re.Match[str]) -> str:
            url = match[3].replace("&amp;", "&")
            if _untracked(settings, url):
                return match[0]
            target = click_url(settings, log_id, url).replace("&", "&amp;")
            return f"{match[1]}{match[2]}{target}{match[2]}"

        html = HREF_RE.sub(rewrite, html)
    if opens:
        pixel = f'<img src="{pixel_url(settings, log_id)}" width="1" height="1" alt="" style="display:block;border:0">'
        at = html.lower().rfind("</body>")
        html = html[:at] + pixel + html[at:] if at >= 0 else html + pixel
    return html


def verify(settings: Settings, log_hex: str, signature: str, what: str) -> UUID | None:
    """The email a tracking URL is about, when its signature is ours; None otherwise."""
    try:
        log_id = UUID(hex=log_hex)
    except ValueError:
        return None
    if log_id.hex != log_hex or not hmac.compare_digest(signature, _sign(settings, log_hex, what)):
        return None
    return log_id


RECORD = """
UPDATE email_logs SET events = events || jsonb_build_array(%(event)s::jsonb), updated_at = now()
WHERE id = %(id)s AND CASE WHEN %(kind)s = 'opened'
    THEN NOT events @> '[{"type": "opened"}]'::jsonb
    ELSE (SELECT count(*) FROM jsonb_array_elements(events) e WHERE e->>'type' = 'clicked') < %(max)s END
"""


async def record(conn: Connection, log_id: UUID, kind: str, detail: dict[str, Any]) -> None:
    """An `opened` (the first only) or `clicked` entry in the email's timeline; its status stays."""
    event = {"type": kind, "at": datetime.now(UTC).isoformat(), "detail": detail}
    await conn.execute(RECORD, {"id": log_id, "kind": kind, "event": jsonb(event), "max": MAX_CLICK_EVENTS})
