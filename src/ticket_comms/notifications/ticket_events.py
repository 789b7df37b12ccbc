"""The events a ticket's life raises (created, assigned, status changed, completed), on the tickets' own
connection and inside their transactions, through the same path as every event."""

from __future__ import annotations

from typing import Any

from ticket_comms.auth.service import CurrentUser
from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.notifications.events import Outbox, publish, raise_event

# What tickets needs besides the events: the Outbox they return and `publish` after commit.
__all__ = ["Outbox", "publish", "ticket_created", "ticket_updated"]


def _name(row: dict[str, Any]) -> str:
    return row.get("name") or row.get("email") or row["id"]


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
