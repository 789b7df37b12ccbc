"""Events: the one path every event takes (`raise_event`, from `POST /events` and from inside the service),
writing the event, its in-app notifications, its queued emails and its queued pushes in one statement.

`raise_event` runs on the caller's connection, inside the caller's transaction, and writes the event,
the in-app notifications and the `Pending` email log rows (the email outbox) in ONE statement; the
worker is woken by a NOTIFY that PostgreSQL delivers only on commit. So a rollback sends and shows
nothing, and a commit loses nothing. What must happen after commit (socket events) comes back as an
`Outbox` for `publish`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from ticket_comms.auth.service import CurrentUser
from ticket_comms.catalogue import EVENT_TYPES
from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email import templates
from ticket_comms.email.addresses import message_id_for
from ticket_comms.email.links import ticket_url
from ticket_comms.email.outbox import OUTBOX_CHANNEL, queue_emails_cte
from ticket_comms.errors import Conflict, NotFound, ValidationFailed
from ticket_comms.notifications import recipients as who
from ticket_comms.notifications.inbox import summary
from ticket_comms.push import outbox as push_outbox
from ticket_comms.wire import jsonb

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 1000


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


# The event, its in-app notifications, its email log rows and its push rows (one per device), in one
# statement; nothing at all when the idempotency key was already used. The NOTIFYs reach the email and
# push workers when this commits.
WRITE_EVENT = f"""
WITH e AS (
    INSERT INTO events (id, type, ticket_id, actor_id, data, idempotency_key, request_hash, deliveries)
    VALUES (%(event_id)s, %(type)s, %(ticket_id)s, %(actor_id)s, %(data)s, %(key)s, %(request_hash)s, %(deliveries)s)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
), n AS (
    INSERT INTO notifications (id, user_id, event_id, type, title, body, ticket_id, data)
    SELECT x.id, x.user_id, e.id, %(type)s, x.title, x.body, %(ticket_id)s, %(note_data)s
    FROM e, unnest(%(n_ids)s::uuid[], %(n_users)s::text[], %(n_titles)s::text[], %(n_bodies)s::text[])
         AS x(id, user_id, title, body)
    RETURNING id, user_id, created_at
), l AS ({queue_emails_cte("e")}
), p AS ({push_outbox.queue_pushes_cte("e")})
SELECT (SELECT count(*) FROM e) AS inserted,
       {push_outbox.notify_sql("p")} AS push_notified,
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
    request_hash: str | None = None,
    strict: bool = True,
) -> tuple[dict[str, Any], Outbox]:
    """Record an event and its deliveries on `conn` (inside the caller's transaction).

    `ticket`: the ticket row when the caller has it (saves a query). `strict` (the public API): data
    missing a template variable or unknown recipients are a 422 and nothing is written; events raised
    inside the service never fail the operation that raised them (a broken template fails the email).
    `request_hash`: the fingerprint of the request that carried `idempotency_key`; a key seen with
    another fingerprint is a 409 (a client bug that would otherwise drop an event silently).
    Returns (`{eventId, deliveries}`, Outbox).
    """
    if type not in EVENT_TYPES:
        raise ValidationFailed(
            f"Unknown event type {type!r}.", code="unknown_event_type", details={"allowed": list(EVENT_TYPES)}
        )
    if idempotency_key is not None:
        seen = await _seen(conn, idempotency_key, request_hash)
        if seen is not None:
            return seen, Outbox()

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

    template = await templates.declared(conn, type)
    email_on = template is not None and template.is_active
    if template is not None:
        missing = templates.validate_context(template, _sample_context(ctx, data, ticket_id is not None))
        if missing:
            if strict:
                raise templates.MissingVariables(missing, type)
            log.warning("event %s lacks template variables %s; its emails will fail", type, missing)

    if recipient_ids is not None:
        ids = list(dict.fromkeys(recipient_ids))
        found = await who.by_id(conn, ids, ticket_id)
        unknown = [i for i in ids if i not in found]
        if unknown and strict:
            raise ValidationFailed(
                "Unknown recipients; register them with PUT /api/v1/users/{userId} first.",
                code="unknown_users",
                details={"userIds": unknown},
            )
        recipients = [found[i] for i in ids if i in found]
    elif ticket_id is not None:
        recipients = await who.of_ticket(conn, ticket_id, actor_id)
    else:
        recipients = []

    event_id = uuid.uuid4()
    event = who.Event(type, email_on)
    title, body = summary(type, data)
    deliveries: list[dict[str, Any]] = []
    n_ids: list[UUID] = []
    n_users: list[str] = []
    l_ids: list[UUID] = []
    l_users: list[str] = []
    l_emails: list[str] = []
    l_names: list[str] = []
    l_message_ids: list[str] = []
    pushes: list[push_outbox.PushItem] = []
    for r in recipients:
        decision = who.decide(r, event)
        delivery: dict[str, Any] = {"recipientId": r["id"], "channel": "email", "status": decision.email}
        if decision.email == "Pending":
            log_id = uuid.uuid4()
            delivery["emailLogId"] = str(log_id)
            l_ids.append(log_id)
            l_users.append(r["id"])
            l_emails.append(r["email"])
            l_names.append(_name(r))
            l_message_ids.append(message_id_for(ctx.settings, log_id))
        deliveries.append(delivery)
        note_id: UUID | None = None
        if decision.in_app is not None:
            in_app: dict[str, Any] = {"recipientId": r["id"], "channel": "inApp", "status": decision.in_app}
            if decision.in_app == "Created":
                note_id = uuid.uuid4()
                n_ids.append(note_id)
                n_users.append(r["id"])
                in_app["notificationId"] = str(note_id)
            deliveries.append(in_app)
        if decision.push is not None:
            deliveries.append({"recipientId": r["id"], "channel": "push", "status": decision.push})
            if decision.push == "Pending":
                # The push carries the in-app notification's id (the event's when there is none), so the
                # service worker and the notification list speak of the same thing.
                pushes.append(
                    push_outbox.for_notification(
                        r["id"],
                        id=note_id or event_id,
                        type=type,
                        title=title,
                        body=body,
                        ticket_id=ticket_id,
                    )
                )

    note_data = {k: v for k, v in data.items() if k != "otp"}
    cur = await conn.execute(
        WRITE_EVENT,
        {
            "event_id": event_id,
            "type": type,
            "ticket_id": ticket_id,
            "actor_id": actor_id,
            "data": jsonb(data),
            "key": idempotency_key,
            "request_hash": request_hash,
            "deliveries": jsonb(deliveries),
            "note_data": jsonb(note_data),
            "n_ids": n_ids,
            "n_users": n_users,
            "n_titles": [title] * len(n_ids),
            "n_bodies": [body] * len(n_ids),
            "l_ids": l_ids,
            "l_users": l_users,
            "l_emails": l_emails,
            "l_names": l_names,
            "l_message_ids": l_message_ids,
            "p_items": push_outbox.items_document(pushes),
            "channel": OUTBOX_CHANNEL,
        },
    )
    written = await cur.fetchone()
    assert written is not None
    if not written["inserted"]:
        # The same idempotency key committed by a concurrent request while we were deciding.
        assert idempotency_key is not None
        seen = await _seen(conn, idempotency_key, request_hash)
        assert seen is not None
        return seen, Outbox()
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


async def _seen(conn: Connection, key: str, request_hash: str | None) -> dict[str, Any] | None:
    """The first answer for an idempotency key already used; 409 if it came with another request."""
    cur = await conn.execute(
        "SELECT id, deliveries, request_hash FROM events WHERE idempotency_key = %s", (key,)
    )
    seen = await cur.fetchone()
    if seen is None:
        return None
    if request_hash is not None and seen["request_hash"] != request_hash:
        raise IdempotencyKeyReused()
    return {"eventId": str(seen["id"]), "deliveries": seen["deliveries"], "duplicate": True}


class IdempotencyKeyReused(Conflict):
    """This idempotency key was already used for a different event."""

    code = "idempotency_key_reused"


def caller_scoped_key(caller: CurrentUser, key: str) -> str:
    """Idempotency keys are the caller's own: two product backends (or an admin and a service) that
    pick the same key never answer for each other. Length-prefixed, so no pair of (caller, key)
    collides with another, nor with the service's own `digest:` keys."""
    return f"api:{len(caller.id)}:{caller.id}:{key}"


def request_fingerprint(body: Any) -> str:
    """A hash of what a `POST /events` asked for (everything but the key), to spot a reused key."""
    asked = body.model_dump(mode="json", exclude={"idempotency_key"})
    canonical = json.dumps(asked, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
            idempotency_key=caller_scoped_key(caller, body.idempotency_key) if body.idempotency_key else None,
            request_hash=request_fingerprint(body) if body.idempotency_key else None,
            strict=True,
        )
    await publish(ctx, outbox)
    return result
