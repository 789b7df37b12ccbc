"""Chat-message digests: scheduling one with each chat message, and the sweep that emails the due ones.

- Sending a (non-System) message schedules one `message_digests` row per other unmuted participant who
  has none pending (`due_at` = now + MESSAGE_EMAIL_DELAY_SECONDS), inside the message's own statement
  (`schedule_digests_cte`): the row is the durable record of the digest, committed or rolled back
  with the message.
- The sweep (run beside the email worker) picks due rows with `FOR UPDATE SKIP LOCKED`, so several
  workers can sweep. A digest emails the unread messages if the oldest has waited the delay, moves
  `due_at` when only newer ones are unread, and clears itself when everything was read; its event's
  idempotency key includes the last seq covered, so a repeat never sends twice.
- A message sent while its ticket's digest is being built is never lost. The builder holds an
  advisory lock on (ticket, user) for its whole transaction; a message's statement counts a pending
  digest as covering it only if it can take that lock shared, that is, only if nobody is building it.
  Otherwise it upserts, which waits for the builder's row lock and then re-arms the digest the builder
  cleared (ON CONFLICT sees the committed row, not the statement's snapshot). Shared locks never wait
  for each other, so busy threads still skip without writing; a builder waits for messages in flight.
- No job per digest: a job queue's insert trigger NOTIFYs, which serialises commits (chat sends fell
  from about 800/s to about 400/s in bench/chat_http.py).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.notifications.events import Outbox, publish, raise_event

log = logging.getLogger(__name__)

DIGEST_MAX_MESSAGES = 100
# Advisory locks (class, hashtext of "ticket:user") held while a digest is built; see the docstring.
DIGEST_LOCK_CLASS = 726_100_432


def schedule_digests_cte(message_cte: str = "m") -> str:
    """The body of a CTE for the statement that inserts a chat message, whose CTE `message_cte` is the new
    message or messages (columns ticket_id, sender_id, type). Parameter: `digest_delay` (seconds).

    Each other unmuted participant gets a pending digest unless one is pending already. Those who have
    one are skipped before the upsert, so a busy thread neither writes nor locks their rows. Being
    part of the message's own statement, it commits (or rolls back) with the message. DISTINCT: when
    several messages of one ticket are written together, each participant is still one row (an upsert
    may not touch a row twice).
    """
    return f"""
INSERT INTO message_digests (ticket_id, user_id, due_at)
SELECT DISTINCT p.ticket_id, p.user_id, now() + make_interval(secs => %(digest_delay)s)
FROM {message_cte} JOIN ticket_participants p ON p.ticket_id = {message_cte}.ticket_id
WHERE {message_cte}.type <> 'System' AND p.user_id <> {message_cte}.sender_id AND NOT p.is_muted
  AND NOT EXISTS (SELECT 1 FROM message_digests d
                  WHERE d.ticket_id = p.ticket_id AND d.user_id = p.user_id AND d.due_at IS NOT NULL
                    AND pg_try_advisory_xact_lock_shared({DIGEST_LOCK_CLASS},
                                                         hashtext(d.ticket_id::text || ':' || d.user_id)))
ON CONFLICT (ticket_id, user_id) DO UPDATE SET due_at = EXCLUDED.due_at WHERE message_digests.due_at IS NULL
"""


DIGEST_STATE = """
SELECT d.last_emailed_seq, d.due_at, p.last_read_seq, t.id, t.title, t.status
FROM message_digests d
JOIN tickets t ON t.id = d.ticket_id
LEFT JOIN ticket_participants p ON p.ticket_id = d.ticket_id AND p.user_id = d.user_id
WHERE d.ticket_id = %(ticket_id)s AND d.user_id = %(user_id)s
FOR UPDATE OF d SKIP LOCKED
"""

UNREAD_FOR_DIGEST = """
SELECT m.seq, m.content, m.created_at, m.edited_at, m.attachment_name, m.type,
       coalesce(u.name, u.email, m.sender_id) AS sender_name
FROM messages m LEFT JOIN users u ON u.id = m.sender_id
WHERE m.ticket_id = %(ticket_id)s AND m.seq > %(after)s AND m.type <> 'System'
  AND m.sender_id <> %(user_id)s AND m.deleted_at IS NULL
ORDER BY m.seq
LIMIT %(limit)s
"""


async def run_digest(ctx: AppContext, ticket_id: str, user_id: str) -> None:
    """The digest job: email the unread messages if the oldest has waited long enough, else wait more."""
    outbox: Outbox | None = None
    delay = timedelta(seconds=ctx.settings.message_email_delay_seconds)
    async with ctx.db.transaction() as conn:
        # Messages in flight finish first; those sent from now on wait for this transaction (see above).
        await conn.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s::text || ':' || %s::text))",
            (DIGEST_LOCK_CLASS, ticket_id, user_id),
        )
        cur = await conn.execute(DIGEST_STATE, {"ticket_id": ticket_id, "user_id": user_id})
        state = await cur.fetchone()
        if state is None or state["due_at"] is None:
            return
        if state["last_read_seq"] is None:  # left the ticket
            await _clear_digest(conn, ticket_id, user_id, None)
            return
        after = max(state["last_emailed_seq"], state["last_read_seq"])
        cur = await conn.execute(
            UNREAD_FOR_DIGEST,
            {
                "ticket_id": ticket_id,
                "user_id": user_id,
                "after": after,
                "limit": DIGEST_MAX_MESSAGES,
            },
        )
        messages = await cur.fetchall()
        if not messages:
            # Read in time (or deleted): nothing to send.
            await _clear_digest(conn, ticket_id, user_id, None)
            return
        wake_at = messages[0]["created_at"] + delay
        if wake_at > datetime.now(UTC) + timedelta(milliseconds=50):
            # The messages the reader missed were read; the unread ones are newer and not due yet.
            await conn.execute(
                "UPDATE message_digests SET due_at = %s WHERE ticket_id = %s AND user_id = %s",
                (wake_at, ticket_id, user_id),
            )
            return
        last_seq = messages[-1]["seq"]
        data = {
            "messages": [
                {
                    # The seq lets a later deletion find this copy of the text (forget_message).
                    "seq": m["seq"],
                    "senderName": m["sender_name"] or "Someone",
                    "content": m["content"],
                    "createdAt": m["created_at"].isoformat(),
                    **({"attachmentName": m["attachment_name"]} if m["attachment_name"] else {}),
                    **({"editedAt": m["edited_at"].isoformat()} if m["edited_at"] else {}),
                }
                for m in messages
            ],
        }
        _, outbox = await raise_event(
            conn,
            ctx,
            type="MessageReceived",
            data=data,
            ticket=state,
            recipient_ids=[user_id],
            idempotency_key=f"digest:{ticket_id}:{user_id}:{last_seq}",
            strict=False,
        )
        await _clear_digest(conn, ticket_id, user_id, last_seq)
    await publish(ctx, outbox)


DUE_DIGESTS = """
SELECT ticket_id, user_id FROM message_digests
WHERE due_at <= now()
ORDER BY due_at
LIMIT %(limit)s
"""


async def run_due_digests(ctx: AppContext, limit: int = 100) -> int:
    """Send (or reschedule) every digest that is due; returns how many were looked at.

    Several workers may sweep at once: run_digest locks the digest row with SKIP LOCKED, and the
    digest event's idempotency key (ticket, user, last seq) makes a repeat send nothing.
    """
    rows = await ctx.db.fetch_all(DUE_DIGESTS, {"limit": limit})
    for row in rows:
        try:
            await run_digest(ctx, str(row["ticket_id"]), row["user_id"])
        except Exception:
            # One bad digest must not hold up the others; it is tried again a minute later.
            log.exception("digest for %s/%s failed", row["ticket_id"], row["user_id"])
            await ctx.db.fetch_one(
                "UPDATE message_digests SET due_at = now() + interval '1 minute' "
                "WHERE ticket_id = %s AND user_id = %s AND due_at IS NOT NULL RETURNING 1",
                (row["ticket_id"], row["user_id"]),
            )
    return len(rows)


async def _clear_digest(conn: Connection, ticket_id: str, user_id: str, emailed_seq: int | None) -> None:
    await conn.execute(
        "UPDATE message_digests SET due_at = NULL, last_emailed_seq = greatest(last_emailed_seq, coalesce(%s, 0)) "
        "WHERE ticket_id = %s AND user_id = %s",
        (emailed_seq, ticket_id, user_id),
    )


# A deleted message leaves no copy of its text in the digests that carried it: the event (which a
# Pending retry would still render) and the in-app notifications keep the entry, marked deleted.
FORGET_IN = """
UPDATE {table} SET data = jsonb_set(data, '{{messages}}', (
    SELECT jsonb_agg(CASE WHEN (m->>'seq')::bigint = %(seq)s
                          THEN (m - 'content' - 'attachmentName') || '{{"content": "", "deleted": true}}'::jsonb
                          ELSE m END ORDER BY n)
    FROM jsonb_array_elements(data->'messages') WITH ORDINALITY AS x(m, n)))
WHERE type = 'MessageReceived' AND ticket_id = %(ticket_id)s
  AND data->'messages' @> jsonb_build_array(jsonb_build_object('seq', %(seq)s::bigint))
"""


async def forget_message(conn: Connection, ticket_id: Any, seq: int) -> None:
    """Blank the text of deleted message `seq` wherever a digest copied it (in the caller's transaction)."""
    for table in ("events", "notifications"):
        await conn.execute(FORGET_IN.format(table=table), {"ticket_id": ticket_id, "seq": seq})


async def sweep(ctx: AppContext) -> None:
    """Sweep due digests until cancelled. Their rows are written with the message, so nothing is lost if
    a process dies; a sweep every fraction of MESSAGE_EMAIL_DELAY_SECONDS keeps them on time."""
    interval = max(0.2, min(2.0, ctx.settings.message_email_delay_seconds / 4))
    while True:
        try:
            while await run_due_digests(ctx) > 0:
                pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("digest sweep failed")
        await asyncio.sleep(interval)
