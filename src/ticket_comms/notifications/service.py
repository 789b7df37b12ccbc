"""Events and who hears about them: recipients, preferences, mutes, in-app notifications, email outbox,
and the chat-message digests.

`raise_event` is the one path every event takes, from `POST /events` and from inside the service
(tickets, chat digests). It runs on the caller's connection, inside the caller's transaction, and
writes the event, the in-app notifications and the `Pending` email log rows in ONE statement; the
rows are the outbox the email worker drains (woken by a NOTIFY that PostgreSQL delivers only on
commit). So a rollback sends and shows nothing, and a commit loses nothing. What must happen after
commit (socket events) comes back as an `Outbox` for `publish`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
from psycopg.types.json import Jsonb

from ticket_comms.auth.service import CurrentUser
from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email import templates
from ticket_comms.email.service import message_id_for, ticket_url
from ticket_comms.errors import NotFound, ValidationFailed
from ticket_comms.notifications.catalogue import ALWAYS_EMAILED, EVENT_TYPES, NO_IN_APP, summary
from ticket_comms.pagination import decode_cursor, encode_cursor

log = logging.getLogger(__name__)

OUTBOX_CHANNEL = "email_outbox"
MAX_RECIPIENTS = 1000
DIGEST_MAX_MESSAGES = 100


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _jsonb(value: Any) -> Jsonb:
    return Jsonb(value, dumps=_dumps)


@dataclass
class Outbox:
    """What a committed event still owes: the in-app `notification` socket events."""

    notifications: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def extend(self, other: Outbox) -> None:
        self.notifications.extend(other.notifications)


async def publish(ctx: AppContext, outbox: Outbox | None) -> None:
    """After commit: emit each in-app notification to its recipient's sockets."""
    if outbox is None:
        return
    for user_id, payload in outbox.notifications:
        await ctx.broadcast.notification(user_id, payload)


# One round trip for everything a recipient decision needs: the user, their preferences, whether they
# muted the ticket, and whether their address is suppressed.
RECIPIENTS_BY_ID = """
SELECT u.id, u.email, u.name, coalesce(np.email_enabled, true) AS email_enabled,
       coalesce(np.chat_enabled, true) AS chat_enabled, coalesce(np.email_events_off, '{}') AS events_off,
       coalesce(tp.is_muted, false) AS is_muted, s.email IS NOT NULL AS suppressed
FROM users u
LEFT JOIN notification_preferences np ON np.user_id = u.id
LEFT JOIN ticket_participants tp ON tp.ticket_id = %(ticket_id)s AND tp.user_id = u.id
LEFT JOIN email_suppressions s ON s.email = lower(u.email)
WHERE u.id = ANY(%(ids)s)
"""

RECIPIENTS_OF_TICKET = """
SELECT u.id, u.email, u.name, coalesce(np.email_enabled, true) AS email_enabled,
       coalesce(np.chat_enabled, true) AS chat_enabled, coalesce(np.email_events_off, '{}') AS events_off,
       tp.is_muted, s.email IS NOT NULL AS suppressed
FROM ticket_participants tp
JOIN users u ON u.id = tp.user_id
LEFT JOIN notification_preferences np ON np.user_id = u.id
LEFT JOIN email_suppressions s ON s.email = lower(u.email)
WHERE tp.ticket_id = %(ticket_id)s AND tp.user_id IS DISTINCT FROM %(actor_id)s
ORDER BY tp.joined_at, tp.user_id
"""

# The event, its in-app notifications and its email log rows, in one statement; nothing at all when
# the idempotency key was already used. The NOTIFY reaches the email worker when this commits.
WRITE_EVENT = """
WITH e AS (
    INSERT INTO events (id, type, ticket_id, actor_id, data, idempotency_key, deliveries)
    VALUES (%(event_id)s, %(type)s, %(ticket_id)s, %(actor_id)s, %(data)s, %(key)s, %(deliveries)s)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
), n AS (
    INSERT INTO notifications (id, user_id, event_id, type, title, body, ticket_id, data)
    SELECT x.id, x.user_id, e.id, %(type)s, x.title, x.body, %(ticket_id)s, %(note_data)s
    FROM e, unnest(%(n_ids)s::uuid[], %(n_users)s::text[], %(n_titles)s::text[], %(n_bodies)s::text[])
         AS x(id, user_id, title, body)
    RETURNING id, user_id, created_at
), l AS (
    INSERT INTO email_logs (id, event_id, template_name, recipient_id, recipient_email, recipient_name,
                            message_id, events)
    SELECT x.id, e.id, %(type)s, x.user_id, x.email, x.name, x.message_id,
           jsonb_build_array(jsonb_build_object('type', 'queued', 'at', now(), 'detail', '{}'::jsonb))
    FROM e, unnest(%(l_ids)s::uuid[], %(l_users)s::text[], %(l_emails)s::text[], %(l_names)s::text[],
                   %(l_message_ids)s::text[]) AS x(id, user_id, email, name, message_id)
    RETURNING id
)
SELECT (SELECT count(*) FROM e) AS inserted,
       (SELECT coalesce(json_agg(json_build_object('id', n.id, 'userId', n.user_id, 'createdAt', n.created_at)),
                        '[]'::json) FROM n) AS notes,
       (SELECT count(*) FROM (SELECT pg_notify(%(channel)s, '') FROM (SELECT 1 FROM l LIMIT 1) one) x) AS notified
"""


def _name(row: dict[str, Any]) -> str:
    return row.get("name") or row.get("email") or row["id"]


def ticket_data(settings: Any, ticket: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(ticket["id"]),
        "title": ticket["title"],
        "status": ticket["status"],
        "url": ticket_url(settings, ticket["id"]),
    }


async def _template(conn: Connection, name: str) -> templates.Template | None:
    """The template's declared variables and switch; its sources are not needed to check an event's data."""
    cur = await conn.execute(
        "SELECT id, name, subject, '' AS html_content, NULL AS text_content, variables, is_active, created_at, "
        "updated_at FROM email_templates WHERE name = %s",
        (name,),
    )
    row = await cur.fetchone()
    return templates.Template.from_row(row) if row else None


def _sample_context(ctx: AppContext, data: dict[str, Any], has_ticket: bool) -> dict[str, Any]:
    """The context a recipient's render will get, with stand-ins for the per-recipient parts."""
    base = ctx.settings.base_url
    links = {"preferences": base, "unsubscribe": base}
    if has_ticket:
        links["ticket"] = base
    return {
        **data,
        "recipient": {"name": "recipient", "email": "recipient@example.com"},
        "links": links,
        "app": {"name": ctx.settings.app_name, "url": base},
    }


async def raise_event(
    conn: Connection,
    ctx: AppContext,
    *,
    type: str,
    data: dict[str, Any],
    ticket: dict[str, Any] | None = None,
    ticket_id: UUID | None = None,
    actor_id: str | None = None,
    recipient_ids: list[str] | None = None,
    idempotency_key: str | None = None,
    strict: bool = True,
) -> tuple[dict[str, Any], Outbox]:
    """Record an event and its deliveries on `conn` (inside the caller's transaction).

    `ticket`: the ticket row when the caller has it (saves a query). `strict` (the public API): data
    missing a template variable or unknown recipients are a 422 and nothing is written; events raised
    inside the service never fail the operation that raised them (a broken template fails the email).
    Returns (`{eventId, deliveries}`, Outbox).
    """
    if type not in EVENT_TYPES:
        raise ValidationFailed(
            f"Unknown event type {type!r}.", code="unknown_event_type", details={"allowed": list(EVENT_TYPES)}
        )
    if idempotency_key is not None:
        cur = await conn.execute(
            "SELECT id, deliveries FROM events WHERE idempotency_key = %s", (idempotency_key,)
        )
        seen = await cur.fetchone()
        if seen is not None:
            return {"eventId": str(seen["id"]), "deliveries": seen["deliveries"], "duplicate": True}, Outbox()

    data = dict(data)
    if ticket is None and ticket_id is not None:
        cur = await conn.execute("SELECT id, title, status FROM tickets WHERE id = %s", (ticket_id,))
        ticket = await cur.fetchone()
        if ticket is None:
            raise NotFound("Ticket not found.", code="ticket_not_found")
    if ticket is not None:
        ticket_id = ticket["id"]
        given: dict[str, Any] = data["ticket"] if isinstance(data.get("ticket"), dict) else {}
        data["ticket"] = {**given, **ticket_data(ctx.settings, ticket)}
    if actor_id is not None and not isinstance(data.get("actor"), dict):
        cur = await conn.execute("SELECT id, email, name FROM users WHERE id = %s", (actor_id,))
        actor = await cur.fetchone()
        if actor is not None:
            data["actor"] = {"name": _name(actor)}

    template = await _template(conn, type)
    email_on = template is not None and template.is_active
    if template is not None:
        missing = templates.validate_context(template, _sample_context(ctx, data, ticket_id is not None))
        if missing:
            if strict:
                raise templates.MissingVariables(missing, type)
            log.warning("event %s lacks template variables %s; its emails will fail", type, missing)

    if recipient_ids is not None:
        ids = list(dict.fromkeys(recipient_ids))
        cur = await conn.execute(RECIPIENTS_BY_ID, {"ids": ids, "ticket_id": ticket_id})
        found = {r["id"]: r for r in await cur.fetchall()}
        unknown = [i for i in ids if i not in found]
        if unknown and strict:
            raise ValidationFailed(
                "Unknown recipients; register them with PUT /api/v1/users/{userId} first.",
                code="unknown_users",
                details={"userIds": unknown},
            )
        recipients = [found[i] for i in ids if i in found]
    elif ticket_id is not None:
        cur = await conn.execute(RECIPIENTS_OF_TICKET, {"ticket_id": ticket_id, "actor_id": actor_id})
        recipients = await cur.fetchall()
    else:
        recipients = []

    event_id = uuid.uuid4()
    always = type in ALWAYS_EMAILED
    title, body = summary(type, data)
    deliveries: list[dict[str, Any]] = []
    n_ids: list[UUID] = []
    n_users: list[str] = []
    l_ids: list[UUID] = []
    l_users: list[str] = []
    l_emails: list[str] = []
    l_names: list[str] = []
    l_message_ids: list[str] = []
    for r in recipients:
        muted = bool(r["is_muted"]) and not always
        # Email.
        if muted:
            status = "Muted"
        elif not email_on:
            status = "TemplateInactive"
        elif not always and (not r["email_enabled"] or type in r["events_off"]):
            status = "Disabled"
        elif not r["email"]:
            status = "NoAddress"
        elif r["suppressed"]:
            status = "Suppressed"
        else:
            status = "Pending"
        delivery: dict[str, Any] = {"recipientId": r["id"], "channel": "email", "status": status}
        if status == "Pending":
            log_id = uuid.uuid4()
            delivery["emailLogId"] = str(log_id)
            l_ids.append(log_id)
            l_users.append(r["id"])
            l_emails.append(r["email"])
            l_names.append(_name(r))
            l_message_ids.append(message_id_for(ctx.settings, log_id))
        deliveries.append(delivery)
        # In-app.
        if type in NO_IN_APP:
            continue
        if muted:
            status = "Muted"
        elif not r["chat_enabled"]:
            status = "Disabled"
        else:
            status = "Created"
            note_id = uuid.uuid4()
            n_ids.append(note_id)
            n_users.append(r["id"])
        in_app: dict[str, Any] = {"recipientId": r["id"], "channel": "inApp", "status": status}
        if status == "Created":
            in_app["notificationId"] = str(note_id)
        deliveries.append(in_app)

    note_data = {k: v for k, v in data.items() if k != "otp"}
    cur = await conn.execute(
        WRITE_EVENT,
        {
            "event_id": event_id,
            "type": type,
            "ticket_id": ticket_id,
            "actor_id": actor_id,
            "data": _jsonb(data),
            "key": idempotency_key,
            "deliveries": _jsonb(deliveries),
            "note_data": _jsonb(note_data),
            "n_ids": n_ids,
            "n_users": n_users,
            "n_titles": [title] * len(n_ids),
            "n_bodies": [body] * len(n_ids),
            "l_ids": l_ids,
            "l_users": l_users,
            "l_emails": l_emails,
            "l_names": l_names,
            "l_message_ids": l_message_ids,
            "channel": OUTBOX_CHANNEL,
        },
    )
    written = await cur.fetchone()
    assert written is not None
    if not written["inserted"]:
        # The same idempotency key committed by a concurrent request while we were deciding.
        cur = await conn.execute(
            "SELECT id, deliveries FROM events WHERE idempotency_key = %s", (idempotency_key,)
        )
        seen = await cur.fetchone()
        assert seen is not None
        return {"eventId": str(seen["id"]), "deliveries": seen["deliveries"], "duplicate": True}, Outbox()
    outbox = Outbox()
    for note in written["notes"]:
        outbox.notifications.append(
            (
                note["userId"],
                {
                    "id": note["id"],
                    "type": type,
                    "title": title,
                    "body": body,
                    "ticketId": str(ticket_id) if ticket_id else None,
                    "data": note_data,
                    "createdAt": note["createdAt"],
                },
            )
        )
    return {"eventId": str(event_id), "deliveries": deliveries, "duplicate": False}, outbox


async def submit_event(ctx: AppContext, caller: CurrentUser, body: Any) -> dict[str, Any]:
    """`POST /events`: one transaction, then the in-app notifications."""
    if body.recipient_ids is not None and len(body.recipient_ids) > MAX_RECIPIENTS:
        raise ValidationFailed(f"At most {MAX_RECIPIENTS} recipients per event.")
    if body.ticket_id is None and body.recipient_ids is None:
        raise ValidationFailed(
            "Give a ticketId (its participants are the recipients) or recipientIds.", code="no_recipients"
        )
    async with ctx.db.transaction() as conn:
        result, outbox = await raise_event(
            conn,
            ctx,
            type=body.type,
            data=body.data,
            ticket_id=body.ticket_id,
            actor_id=body.actor_id,
            recipient_ids=body.recipient_ids,
            idempotency_key=body.idempotency_key,
            strict=True,
        )
    await publish(ctx, outbox)
    return result


# ---------------------------------------------------------------------------------------------
# Events raised inside the service (same path; called inside the tickets' own transactions)


async def ticket_created(
    conn: Connection, ctx: AppContext, ticket: dict[str, Any], actor: CurrentUser
) -> Outbox:
    _, outbox = await raise_event(
        conn,
        ctx,
        type="TicketCreated",
        data={"actor": {"name": _actor(actor)}},
        ticket=ticket,
        actor_id=actor.id,
        strict=False,
    )
    return outbox


async def ticket_updated(
    conn: Connection,
    ctx: AppContext,
    before: dict[str, Any],
    after: dict[str, Any],
    actor: CurrentUser,
    assignee: dict[str, Any] | None,
) -> Outbox:
    """The events a ticket change fires: assignment, status change, completion."""
    outbox = Outbox()
    common = {"actor": {"name": _actor(actor)}}
    if assignee is not None:
        _, o = await raise_event(
            conn,
            ctx,
            type="TicketAssigned",
            ticket=after,
            actor_id=actor.id,
            strict=False,
            data={**common, "assignee": {"name": _name(assignee), "id": assignee["id"]}},
        )
        outbox.extend(o)
    if after["status"] != before["status"]:
        data = {**common, "previousStatus": before["status"]}
        _, o = await raise_event(
            conn, ctx, type="TicketStatusChanged", data=data, ticket=after, actor_id=actor.id, strict=False
        )
        outbox.extend(o)
        if after["status"] == "Completed":
            _, o = await raise_event(
                conn, ctx, type="TicketCompleted", data=data, ticket=after, actor_id=actor.id, strict=False
            )
            outbox.extend(o)
    return outbox


def _actor(user: CurrentUser) -> str:
    return user.name or user.email or user.id


# ---------------------------------------------------------------------------------------------
# Chat-message digests


# A CTE for the statement that inserts a chat message (chat.service.INSERT_MESSAGE, whose CTE `m` is
# the new message): each other unmuted participant gets a pending digest unless one is pending already.
# Those who have one are skipped before the upsert, so a busy thread neither writes nor locks their rows.
# Being part of the message's own statement, it commits (or rolls back) with the message.
SCHEDULE_DIGESTS_CTE = """
INSERT INTO message_digests (ticket_id, user_id, due_at)
SELECT p.ticket_id, p.user_id, now() + make_interval(secs => %(digest_delay)s)
FROM m JOIN ticket_participants p ON p.ticket_id = m.ticket_id
WHERE m.type <> 'System' AND p.user_id <> m.sender_id AND NOT p.is_muted
  AND NOT EXISTS (SELECT 1 FROM message_digests d
                  WHERE d.ticket_id = p.ticket_id AND d.user_id = p.user_id AND d.due_at IS NOT NULL)
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


# ---------------------------------------------------------------------------------------------
# Preferences


def preferences_out(row: dict[str, Any] | None) -> dict[str, Any]:
    off = set(row["email_events_off"]) if row else set()
    return {
        "emailEnabled": row["email_enabled"] if row else True,
        "pushEnabled": row["push_enabled"] if row else True,
        "chatEnabled": row["chat_enabled"] if row else True,
        "emailEvents": [t for t in EVENT_TYPES if t not in off],
    }


async def get_preferences(ctx: AppContext, user: CurrentUser) -> dict[str, Any]:
    row = await ctx.db.fetch_one("SELECT * FROM notification_preferences WHERE user_id = %s", (user.id,))
    return preferences_out(row)


async def put_preferences(ctx: AppContext, user: CurrentUser, body: Any) -> dict[str, Any]:
    sent = body.model_fields_set
    events_off = None
    if "email_events" in sent and body.email_events is not None:
        unknown = sorted(set(body.email_events) - set(EVENT_TYPES))
        if unknown:
            raise ValidationFailed(
                "Unknown event types in emailEvents.",
                code="unknown_event_type",
                details={"unknown": unknown, "allowed": list(EVENT_TYPES)},
            )
        events_off = [t for t in EVENT_TYPES if t not in body.email_events]
    row = await ctx.db.fetch_one(
        """
        INSERT INTO notification_preferences AS np (user_id, email_enabled, push_enabled, chat_enabled,
                                                    email_events_off)
        VALUES (%(user_id)s, coalesce(%(email)s, true), coalesce(%(push)s, true), coalesce(%(chat)s, true),
                coalesce(%(off)s::text[], '{}'))
        ON CONFLICT (user_id) DO UPDATE SET
            email_enabled = coalesce(%(email)s, np.email_enabled),
            push_enabled = coalesce(%(push)s, np.push_enabled),
            chat_enabled = coalesce(%(chat)s, np.chat_enabled),
            email_events_off = coalesce(%(off)s::text[], np.email_events_off),
            updated_at = now()
        RETURNING *
        """,
        {
            "user_id": user.id,
            "email": body.email_enabled,
            "push": body.push_enabled,
            "chat": body.chat_enabled,
            "off": events_off,
        },
    )
    return preferences_out(row)


async def unsubscribe(ctx: AppContext, user_id: str, event_type: str) -> bool:
    """Turn one event type's emails off for a user (the one-click link). False if the user is unknown."""
    row = await ctx.db.fetch_one(
        """
        INSERT INTO notification_preferences AS np (user_id, email_events_off)
        SELECT u.id, ARRAY[%(type)s] FROM users u WHERE u.id = %(user_id)s
        ON CONFLICT (user_id) DO UPDATE SET
            email_events_off = CASE WHEN %(type)s = ANY(np.email_events_off) THEN np.email_events_off
                                    ELSE np.email_events_off || %(type)s END,
            updated_at = now()
        RETURNING user_id
        """,
        {"user_id": user_id, "type": event_type},
    )
    return row is not None


# ---------------------------------------------------------------------------------------------
# In-app notifications


def notification_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "type": row["type"],
        "title": row["title"],
        "body": row["body"],
        "ticketId": str(row["ticket_id"]) if row["ticket_id"] else None,
        "data": row["data"],
        "createdAt": row["created_at"].isoformat(),
        "readAt": row["read_at"].isoformat() if row["read_at"] else None,
    }


async def list_notifications(
    ctx: AppContext, user: CurrentUser, *, limit: int, cursor: str | None, unread_only: bool = False
) -> dict[str, Any]:
    params: dict[str, Any] = {"user_id": user.id, "limit": limit + 1}
    where = ["user_id = %(user_id)s"]
    if cursor:
        params["at"], params["id"] = decode_cursor(cursor, datetime.fromisoformat, UUID)
        where.append("(created_at, id) < (%(at)s, %(id)s)")
    if unread_only:
        where.append("read_at IS NULL")
    async with ctx.db.connection() as conn:
        cur = await conn.execute(
            f"SELECT id, type, title, body, ticket_id, data, created_at, read_at FROM notifications "
            f"WHERE {' AND '.join(where)} ORDER BY created_at DESC, id DESC LIMIT %(limit)s",
            params,
        )
        rows = await cur.fetchall()
        cur = await conn.execute(
            "SELECT count(*) AS n FROM notifications WHERE user_id = %s AND read_at IS NULL", (user.id,)
        )
        unread = await cur.fetchone()
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]["created_at"], page[-1]["id"]) if len(rows) > limit else None
    return {
        "items": [notification_out(r) for r in page],
        "nextCursor": next_cursor,
        "unread": unread["n"] if unread else 0,
    }


async def mark_notifications_read(
    ctx: AppContext, user: CurrentUser, ids: list[UUID] | None
) -> dict[str, Any]:
    async with ctx.db.connection() as conn:
        if ids is None:
            cur = await conn.execute(
                "UPDATE notifications SET read_at = now() WHERE user_id = %s AND read_at IS NULL RETURNING id",
                (user.id,),
            )
        else:
            cur = await conn.execute(
                "UPDATE notifications SET read_at = now() WHERE user_id = %s AND read_at IS NULL AND id = ANY(%s) "
                "RETURNING id",
                (user.id, ids),
            )
        updated = len(await cur.fetchall())
        cur = await conn.execute(
            "SELECT count(*) AS n FROM notifications WHERE user_id = %s AND read_at IS NULL", (user.id,)
        )
        unread = await cur.fetchone()
    return {"updated": updated, "unread": unread["n"] if unread else 0}
