"""The push outbox: pushes are written as rows in the caller's transaction (one per subscription of
each recipient) and sent by the push worker, woken by a NOTIFY that PostgreSQL delivers on commit.
So a rolled-back transaction pushes nothing, and a committed push is never lost.

Also what a push says: the payload `{id, type, title, body, ticketId, url}` the service worker shows,
and the RFC 8030 headers (TTL, Urgency, a Topic per ticket so a newer push replaces an unseen one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson

from ticket_comms.database import Connection

OUTBOX_CHANNEL = "push_outbox"

# A push nobody saw within this long is not worth showing any more (RFC 8030 TTL, seconds).
DEFAULT_TTL_SECONDS = 86_400
# A verification code expires in minutes; a push saying "a code was sent" is useless after that.
TTL_SECONDS = {"OTPRequested": 600}
# RFC 8030 §5.3: `high` wakes a device in power-saving mode. Only time-critical pushes ask for it.
HIGH_URGENCY = frozenset({"OTPRequested"})
# The code stays in the email: whatever the caller passes, these pushes say only this.
OTP_TITLE = "Verification code"
OTP_BODY = "A verification code was sent to your email."
# Whole payload well under the 4 KiB a push service accepts after encryption (RFC 8291 §4).
MAX_TITLE = 120
MAX_BODY = 600


def topic_for(ticket_id: UUID | str | None) -> str | None:
    """RFC 8030 Topic: at most 32 characters of the base64url alphabet. A UUID's 32 hex digits are."""
    if ticket_id is None:
        return None
    return (ticket_id if isinstance(ticket_id, UUID) else UUID(str(ticket_id))).hex


def url_for(ticket_id: UUID | str | None, message_id: UUID | str | None = None) -> str:
    """The web app route a click opens (relative: the service worker resolves it on its own origin)."""
    if ticket_id is None:
        return "/notifications"
    if message_id is not None:
        return f"/tickets/{ticket_id}?message={message_id}"
    return f"/tickets/{ticket_id}"


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(slots=True)
class PushItem:
    """One push to every subscription of `user_id`."""

    user_id: str
    payload: dict[str, Any]
    ttl: int = DEFAULT_TTL_SECONDS
    urgency: str = "normal"
    topic: str | None = None
    event_id: UUID | None = None
    ticket_id: UUID | None = None


def for_notification(
    user_id: str,
    *,
    id: UUID | str,
    type: str,
    title: str,
    body: str,
    ticket_id: UUID | str | None,
    event_id: UUID | None = None,
    message_id: UUID | str | None = None,
) -> PushItem:
    """The push for a notification (an event's in-app notification, or a chat message)."""
    if type == "OTPRequested":
        title, body = OTP_TITLE, OTP_BODY
    ticket = None if ticket_id is None else UUID(str(ticket_id))
    return PushItem(
        user_id=user_id,
        payload={
            "id": str(id),
            "type": type,
            "title": _cut(title, MAX_TITLE),
            "body": _cut(body, MAX_BODY),
            "ticketId": str(ticket) if ticket else None,
            "url": url_for(ticket, message_id),
        },
        ttl=TTL_SECONDS.get(type, DEFAULT_TTL_SECONDS),
        urgency="high" if type in HIGH_URGENCY else "normal",
        topic=topic_for(ticket),
        event_id=event_id,
        ticket_id=ticket,
    )


def queue_pushes_cte(event_cte: str | None = None) -> str:
    """The body of a CTE that queues one push row per (item, subscription of the item's user), in the
    caller's statement; users without a subscription get none. With `event_cte`, the rows belong to
    that CTE's event (column `id`, as email.outbox.queue_emails_cte). Parameter: `p_items`
    (`items_document(...)`). Returns (id, user_id)."""
    event_id = f"{event_cte}.id" if event_cte else "x.event_id"
    source = f"{event_cte}, " if event_cte else ""
    return f"""
    INSERT INTO push_outbox (subscription_id, user_id, event_id, ticket_id, payload, topic, urgency, ttl, events)
    SELECT s.id, x.user_id, {event_id}, x.ticket_id, x.payload, x.topic, x.urgency, x.ttl,
           jsonb_build_array(jsonb_build_object('type', 'queued', 'at', now(), 'detail', '{{}}'::jsonb))
    FROM {source}jsonb_to_recordset(%(p_items)s::jsonb)
         AS x(user_id text, payload jsonb, ttl int, urgency text, topic text, event_id uuid, ticket_id uuid)
    JOIN push_subscriptions s ON s.user_id = x.user_id
    RETURNING id, user_id
    """


def notify_sql(cte: str) -> str:
    """A scalar subquery that wakes the push workers (on commit) if the CTE `cte` queued anything."""
    return f"(SELECT count(*) FROM (SELECT pg_notify('{OUTBOX_CHANNEL}', '') FROM (SELECT 1 FROM {cte} LIMIT 1) one) pn)"


def items_document(items: list[PushItem]) -> str:
    return orjson.dumps(
        [
            {
                "user_id": i.user_id,
                "payload": i.payload,
                "ttl": i.ttl,
                "urgency": i.urgency,
                "topic": i.topic,
                "event_id": i.event_id,
                "ticket_id": i.ticket_id,
            }
            for i in items
        ]
    ).decode()


# The NOTIFY is delivered when the caller commits, and not at all if it rolls back.
ENQUEUE = f"""
WITH ins AS ({queue_pushes_cte()})
SELECT (SELECT coalesce(json_agg(json_build_object('id', ins.id, 'userId', ins.user_id)), '[]'::json)
        FROM ins) AS pushes,
       {notify_sql("ins")} AS notified
"""


async def enqueue(conn: Connection, items: list[PushItem]) -> dict[str, list[str]]:
    """Queue `items` on `conn`, inside the caller's transaction. Returns the push ids per user
    (a user missing from it has no subscription: nothing was queued for them)."""
    if not items:
        return {}
    cur = await conn.execute(ENQUEUE, {"p_items": items_document(items)})
    row = await cur.fetchone()
    assert row is not None
    by_user: dict[str, list[str]] = {}
    for push in row["pushes"]:
        by_user.setdefault(push["userId"], []).append(str(push["id"]))
    return by_user
