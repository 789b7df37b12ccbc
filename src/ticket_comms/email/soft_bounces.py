"""Soft bounces (4.x.x: a full mailbox, a greylisting server, a host down): one means nothing, but
SOFT_BOUNCE_THRESHOLD of them to one address within SOFT_BOUNCE_WINDOW_SECONDS suppress it for
SOFT_BOUNCE_SUPPRESS_SECONDS (reason `SoftBounce`, an expiry that lifts itself), so we stop knocking
on a door that stays shut without giving up on the address for good.

Each email counts once, however many reports arrive about it (its timeline gets one `soft_bounce`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ticket_comms.config import Settings
from ticket_comms.database import Connection
from ticket_comms.wire import jsonb

COUNTED = """
UPDATE email_logs SET events = events || jsonb_build_array(%(event)s::jsonb), updated_at = now()
WHERE id = %(id)s AND NOT events @> '[{"type": "soft_bounce"}]'::jsonb
RETURNING id
"""

COUNT = """
INSERT INTO email_soft_bounces AS b (email, count, first_at, last_at)
VALUES (lower(%(email)s), 1, now(), now())
ON CONFLICT (email) DO UPDATE SET
    count = CASE WHEN b.first_at < now() - make_interval(secs => %(window)s) THEN 1 ELSE b.count + 1 END,
    first_at = CASE WHEN b.first_at < now() - make_interval(secs => %(window)s) THEN now() ELSE b.first_at END,
    last_at = now()
RETURNING count, first_at
"""


async def count_soft_bounce(
    conn: Connection, settings: Settings, row: dict[str, Any], *, status: str, diagnostic: str | None
) -> tuple[int, bool]:
    """Count a soft bounce of the email `row` (in the caller's transaction). Returns (the address's
    count in the window, whether this one reached the threshold: the caller then suppresses it)."""
    event = {
        "type": "soft_bounce",
        "at": datetime.now(UTC).isoformat(),
        "detail": {"status": status, "diagnostic": diagnostic},
    }
    cur = await conn.execute(COUNTED, {"id": row["id"], "event": jsonb(event)})
    if await cur.fetchone() is None:
        return 0, False  # this email was counted already
    cur = await conn.execute(
        COUNT, {"email": row["recipient_email"], "window": settings.soft_bounce_window_seconds}
    )
    counted = await cur.fetchone()
    assert counted is not None
    if counted["count"] < settings.soft_bounce_threshold:
        return counted["count"], False
    # Reached: the suppression takes over; counting starts again once it has lifted.
    await conn.execute("DELETE FROM email_soft_bounces WHERE email = lower(%s)", (row["recipient_email"],))
    return counted["count"], True


def soft_bounce_detail(settings: Settings, count: int, status: str, diagnostic: str | None) -> str:
    days = settings.soft_bounce_window_seconds / 86400
    last = f"{status} {diagnostic or ''}".strip()
    return f"{count} soft bounces within {days:g} days; the last: {last}"[:1000]
