"""A message as each reader gets it: attachment links bound to the reader, over HTTP, in acks and in
broadcasts (one copy per participant; attachments/signing.py says why links are bound)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ticket_comms.attachments import signing
from ticket_comms.auth.service import CurrentUser
from ticket_comms.context import AppContext

# Copies of an attachment message a broadcast binds links for: the participant cap of a ticket
# (tickets/permissions.py, a layer above chat).
MAX_BOUND_COPIES = 50


def for_reader(ctx: AppContext, user: CurrentUser, message: dict[str, Any]) -> dict[str, Any]:
    """A message as handed to `user`: its attachment links bound to them (attachments/signing.py)."""
    return signing.for_viewer(message, ctx.settings, user.id)


async def announce(ctx: AppContext, event: str, ticket_id: UUID, message: dict[str, Any]) -> None:
    """Broadcast a committed message to the ticket's room; one with an attachment goes to each
    participant with links bound to them (at most MAX_BOUND_COPIES copies), to anyone else without."""
    bound = None
    if message.get("attachment"):
        async with ctx.db.connection() as conn:
            cur = await conn.execute(
                "SELECT user_id FROM ticket_participants WHERE ticket_id = %s ORDER BY joined_at, user_id LIMIT %s",
                (ticket_id, MAX_BOUND_COPIES),
            )
            bound = {
                r["user_id"]: signing.for_viewer(message, ctx.settings, r["user_id"])
                for r in await cur.fetchall()
            }
    emit = ctx.broadcast.new_message if event == "newMessage" else ctx.broadcast.message_updated
    await emit(ticket_id, signing.without_links(message), bound)
