"""Chat-message pushes: a participant who has not read a message PUSH_MESSAGE_DELAY_SECONDS after it
arrived gets one push for that ticket, covering everything unread since their last one. Reading in
time cancels it. Like the email digests (notifications/), but faster and with no event of its own.

Scheduling is part of the message's own statement (`schedule_pushes_cte` in chat.service's
INSERT_MESSAGE), so it commits or rolls back with the message. Only participants
who can receive a push (a subscription, push on, ticket not muted) get a row, and one with a push
pending is skipped without a write or a lock. The worker sweeps due rows (`run_due`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from ticket_comms.config import Settings
from ticket_comms.database import Database
from ticket_comms.push import outbox

log = logging.getLogger(__name__)


def schedule_pushes_cte(message_cte: str = "m") -> str:
    """The body of a CTE for the statement that inserts a chat message, whose CTE `message_cte` is the new
    message or messages (columns ticket_id, sender_id, type), as notifications.digests.schedule_digests_cte
    (which says why DISTINCT).
    Parameter (`schedule_params`): `push_delay` seconds. Only participants a push can reach get a row:
    a device, push on, the ticket not muted."""
    return f"""
INSERT INTO push_message_schedules (ticket_id, user_id, due_at)
SELECT DISTINCT p.ticket_id, p.user_id, now() + make_interval(secs => %(push_delay)s)
FROM {message_cte} JOIN ticket_participants p ON p.ticket_id = {message_cte}.ticket_id
LEFT JOIN notification_preferences np ON np.user_id = p.user_id
WHERE {message_cte}.type <> 'System' AND p.user_id <> {message_cte}.sender_id AND NOT p.is_muted
  AND coalesce(np.push_enabled, true)
  AND EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = p.user_id)
  AND NOT EXISTS (SELECT 1 FROM push_message_schedules d
                  WHERE d.ticket_id = p.ticket_id AND d.user_id = p.user_id AND d.due_at IS NOT NULL)
ON CONFLICT (ticket_id, user_id) DO UPDATE SET due_at = EXCLUDED.due_at
WHERE push_message_schedules.due_at IS NULL
"""


def schedule_params(settings: Settings | None) -> dict[str, Any]:
    """The parameters schedule_pushes_cte needs, to merge into the message statement's own (settings
    None: a System message, which is never pushed)."""
    return {"push_delay": settings.push_message_delay_seconds if settings is not None else 0}


# Locked so two sweepers never push the same messages; the participant's current state decides.
STATE = """
SELECT d.last_pushed_seq, d.due_at, p.last_read_seq, p.is_muted, t.title,
       coalesce(np.push_enabled, true) AS push_enabled
FROM push_message_schedules d
JOIN tickets t ON t.id = d.ticket_id
LEFT JOIN ticket_participants p ON p.ticket_id = d.ticket_id AND p.user_id = d.user_id
LEFT JOIN notification_preferences np ON np.user_id = d.user_id
WHERE d.ticket_id = %(ticket_id)s AND d.user_id = %(user_id)s
FOR UPDATE OF d SKIP LOCKED
"""

UNREAD = """
SELECT m.id, m.seq, m.content, m.created_at, m.type, m.attachment_name,
       coalesce(u.name, u.email, m.sender_id) AS sender_name
FROM messages m LEFT JOIN users u ON u.id = m.sender_id
WHERE m.ticket_id = %(ticket_id)s AND m.seq > %(after)s AND m.type <> 'System'
  AND m.sender_id <> %(user_id)s AND m.deleted_at IS NULL
ORDER BY m.seq
LIMIT 100
"""

DUE = """
SELECT ticket_id, user_id FROM push_message_schedules
WHERE due_at <= now()
ORDER BY due_at
LIMIT %(limit)s
"""

CLEAR = """
UPDATE push_message_schedules
SET due_at = NULL, last_pushed_seq = greatest(last_pushed_seq, coalesce(%(seq)s, 0))
WHERE ticket_id = %(ticket_id)s AND user_id = %(user_id)s
"""


def _line(message: dict[str, Any]) -> str:
    sender = message["sender_name"] or "Someone"
    if message["type"] == "Image" and not message["content"]:
        return f"{sender} sent a picture"
    if message["type"] == "File" and not message["content"]:
        return f"{sender} sent {message['attachment_name'] or 'a file'}"
    return f"{sender}: {message['content']}"


def push_for(user_id: str, ticket_id: UUID, title: str, unread: list[dict[str, Any]]) -> outbox.PushItem:
    """One push for every unread message of a ticket: the latest one's text, and how many there are;
    a click opens the ticket at the first unread message."""
    latest = unread[-1]
    body = _line(latest)
    if len(unread) > 1:
        body = f"{len(unread)} new messages · {body}"
    return outbox.for_notification(
        user_id,
        id=latest["id"],
        type="MessageReceived",
        title=title,
        body=body,
        ticket_id=ticket_id,
        message_id=unread[0]["id"],
    )


async def run_one(settings: Settings, db: Database, ticket_id: UUID, user_id: str) -> bool:
    """Push the unread messages if the oldest has waited long enough; else wait more, or drop it.
    False when another sweeper holds the row (or it was done meanwhile)."""
    delay = timedelta(seconds=settings.push_message_delay_seconds)
    async with db.transaction() as conn:
        key = {"ticket_id": ticket_id, "user_id": user_id}
        cur = await conn.execute(STATE, key)
        state = await cur.fetchone()
        if state is None or state["due_at"] is None:
            return False
        if state["last_read_seq"] is None or state["is_muted"] or not state["push_enabled"]:
            # Left the ticket, muted it or turned push off since the message came.
            await conn.execute(CLEAR, {**key, "seq": None})
            return True
        after = max(state["last_pushed_seq"], state["last_read_seq"])
        cur = await conn.execute(UNREAD, {**key, "after": after})
        unread = await cur.fetchall()
        if not unread:
            await conn.execute(CLEAR, {**key, "seq": None})  # read in time: cancelled
            return True
        wake_at = unread[0]["created_at"] + delay
        if wake_at > datetime.now(UTC) + timedelta(milliseconds=50):
            # The messages that were due got read; the unread ones are newer and not due yet.
            await conn.execute(
                "UPDATE push_message_schedules SET due_at = %(at)s WHERE ticket_id = %(ticket_id)s "
                "AND user_id = %(user_id)s",
                {**key, "at": wake_at},
            )
            return True
        await outbox.enqueue(conn, [push_for(user_id, ticket_id, state["title"], unread)])
        await conn.execute(CLEAR, {**key, "seq": unread[-1]["seq"]})
    return True


async def run_due(settings: Settings, db: Database, limit: int = 100) -> int:
    """Handle every schedule that is due; returns how many were handled (not left to another sweeper)."""
    rows = await db.fetch_all(DUE, {"limit": limit})
    handled = 0
    for row in rows:
        try:
            handled += await run_one(settings, db, row["ticket_id"], row["user_id"])
        except Exception:
            # One bad row must not hold up the others; it is tried again a minute later.
            log.exception("message push for %s/%s failed", row["ticket_id"], row["user_id"])
            await db.fetch_one(
                "UPDATE push_message_schedules SET due_at = now() + interval '1 minute' "
                "WHERE ticket_id = %s AND user_id = %s AND due_at IS NOT NULL RETURNING 1",
                (row["ticket_id"], row["user_id"]),
            )
    return handled
