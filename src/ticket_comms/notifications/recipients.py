"""Who gets what: the recipients of an event with everything a decision needs (one query), and the pure
`decide(recipient, event)` that says, per recipient, whether the email is queued, the in-app
notification created and the push queued, or why not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ticket_comms.catalogue import ALWAYS_EMAILED, NO_IN_APP, NO_PUSH
from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email.suppressions import suppressed_sql

# One round trip for everything a recipient decision needs: the user, their preferences, whether they
# muted the ticket, whether their address is suppressed and whether they have a device to push to.
PUSH_COLUMNS = """coalesce(np.push_enabled, true) AS push_enabled,
       EXISTS (SELECT 1 FROM push_subscriptions ps WHERE ps.user_id = u.id) AS has_device"""

RECIPIENTS_BY_ID = f"""
SELECT u.id, u.email, u.name, coalesce(np.email_enabled, true) AS email_enabled,
       coalesce(np.chat_enabled, true) AS chat_enabled, coalesce(np.email_events_off, '{{}}') AS events_off,
       coalesce(tp.is_muted, false) AS is_muted, {suppressed_sql("u.email")} AS suppressed,
       {PUSH_COLUMNS}
FROM users u
LEFT JOIN notification_preferences np ON np.user_id = u.id
LEFT JOIN ticket_participants tp ON tp.ticket_id = %(ticket_id)s AND tp.user_id = u.id
WHERE u.id = ANY(%(ids)s)
"""

RECIPIENTS_OF_TICKET = f"""
SELECT u.id, u.email, u.name, coalesce(np.email_enabled, true) AS email_enabled,
       coalesce(np.chat_enabled, true) AS chat_enabled, coalesce(np.email_events_off, '{{}}') AS events_off,
       tp.is_muted, {suppressed_sql("u.email")} AS suppressed, {PUSH_COLUMNS}
FROM ticket_participants tp
JOIN users u ON u.id = tp.user_id
LEFT JOIN notification_preferences np ON np.user_id = u.id
WHERE tp.ticket_id = %(ticket_id)s AND tp.user_id IS DISTINCT FROM %(actor_id)s
ORDER BY tp.joined_at, tp.user_id
"""


@dataclass(frozen=True, slots=True)
class Event:
    """What a decision needs to know of the event."""

    type: str
    # The event's email template exists and is switched on.
    email_on: bool


@dataclass(frozen=True, slots=True)
class Decision:
    """Email: Pending (queued), Muted, TemplateInactive, Disabled, NoAddress or Suppressed.
    In-app: Created, Muted or Disabled; None when the event type is never shown in-app.
    Push: Pending (queued for each device), Muted, Disabled or NoDevice; None when never pushed."""

    email: str
    in_app: str | None
    push: str | None = None


def decide(recipient: dict[str, Any], event: Event) -> Decision:
    """Whether `recipient` (a row of RECIPIENTS_*) gets `event` by email and in-app, and why not.

    Security mail (ALWAYS_EMAILED) ignores mutes and preferences, never a suppressed or missing address.
    """
    always = event.type in ALWAYS_EMAILED
    muted = bool(recipient["is_muted"]) and not always
    if muted:
        email = "Muted"
    elif not event.email_on:
        email = "TemplateInactive"
    elif not always and (not recipient["email_enabled"] or event.type in recipient["events_off"]):
        email = "Disabled"
    elif not recipient["email"]:
        email = "NoAddress"
    elif recipient["suppressed"]:
        email = "Suppressed"
    else:
        email = "Pending"
    if event.type in NO_IN_APP:
        in_app = None
    elif muted:
        in_app = "Muted"
    elif not recipient["chat_enabled"]:
        in_app = "Disabled"
    else:
        in_app = "Created"
    if event.type in NO_PUSH:
        push = None
    elif muted:
        push = "Muted"
    elif not recipient["push_enabled"]:
        push = "Disabled"
    elif not recipient["has_device"]:
        push = "NoDevice"
    else:
        push = "Pending"
    return Decision(email, in_app, push)


async def by_id(conn: Connection, ids: list[str], ticket_id: UUID | None) -> dict[str, dict[str, Any]]:
    """The users named, by id (unknown ids are absent), with their mute of `ticket_id` if any."""
    cur = await conn.execute(RECIPIENTS_BY_ID, {"ids": ids, "ticket_id": ticket_id})
    return {r["id"]: r for r in await cur.fetchall()}


async def of_ticket(conn: Connection, ticket_id: UUID, actor_id: str | None) -> list[dict[str, Any]]:
    """The ticket's participants other than the actor, in the order they joined."""
    cur = await conn.execute(RECIPIENTS_OF_TICKET, {"ticket_id": ticket_id, "actor_id": actor_id})
    return await cur.fetchall()


# The same facts as RECIPIENTS_*, now, for emails already queued: one query per claimed batch.
CURRENT_WISHES = f"""
SELECT x.id, x.email, coalesce(np.email_enabled, true) AS email_enabled, true AS chat_enabled,
       coalesce(np.email_events_off, '{{}}') AS events_off, coalesce(tp.is_muted, false) AS is_muted,
       {suppressed_sql("x.email")} AS suppressed,
       true AS push_enabled, true AS has_device  -- only the email decision is used here
FROM unnest(%(ids)s::uuid[], %(users)s::text[], %(emails)s::text[], %(tickets)s::uuid[])
     AS x(id, user_id, email, ticket_id)
LEFT JOIN notification_preferences np ON np.user_id = x.user_id
LEFT JOIN ticket_participants tp ON tp.ticket_id = x.ticket_id AND tp.user_id = x.user_id
"""

WITHDRAWN_BECAUSE = {
    "Muted": "the recipient muted the ticket after the email was queued",
    "Disabled": "the recipient switched these emails off after the email was queued",
    "Suppressed": "the address was suppressed after the email was queued",
    "NoAddress": "the recipient has no email address",
}


async def withdrawn(ctx: AppContext, rows: list[dict[str, Any]]) -> dict[UUID, str]:
    """Of the claimed emails `rows` (outbox rows: id, recipient_id, recipient_email, ticket_id,
    event_type), those whose recipient no longer wants them, judged by `decide` on current preferences,
    mutes and suppressions; by log id, with the reason."""
    cur_rows = await ctx.db.fetch_all(
        CURRENT_WISHES,
        {
            "ids": [r["id"] for r in rows],
            "users": [r["recipient_id"] for r in rows],
            "emails": [r["recipient_email"] for r in rows],
            "tickets": [r["ticket_id"] for r in rows],
        },
    )
    wishes = {w["id"]: w for w in cur_rows}
    out: dict[UUID, str] = {}
    for row in rows:
        wish = wishes.get(row["id"])
        if wish is None or row["recipient_id"] is None:
            continue
        decision = decide(wish, Event(row["event_type"], email_on=True))
        if decision.email != "Pending":
            out[row["id"]] = WITHDRAWN_BECAUSE.get(decision.email, decision.email)
    return out
