"""Who may see a ticket: its participants, and admins. Everyone else is told it does not exist."""

from __future__ import annotations

from uuid import UUID

from ticket_comms.auth.service import CurrentUser
from ticket_comms.database import Connection
from ticket_comms.errors import NotFound


class TicketNotFound(NotFound):
    """Ticket not found."""

    code = "ticket_not_found"


async def require_access(conn: Connection, user: CurrentUser, ticket_id: UUID) -> None:
    """Raise TicketNotFound unless the user participates in the ticket (or is an admin and it exists)."""
    if user.is_admin:
        sql = "SELECT 1 FROM tickets WHERE id = %s"
        params: tuple[object, ...] = (ticket_id,)
    else:
        sql = "SELECT 1 FROM ticket_participants WHERE ticket_id = %s AND user_id = %s"
        params = (ticket_id, user.id)
    cur = await conn.execute(sql, params)
    if await cur.fetchone() is None:
        raise TicketNotFound()


async def ticket_ids_of(conn: Connection, user_id: str) -> list[UUID]:
    cur = await conn.execute("SELECT ticket_id FROM ticket_participants WHERE user_id = %s", (user_id,))
    return [row["ticket_id"] for row in await cur.fetchall()]


async def is_participant(conn: Connection, user_id: str, ticket_id: UUID) -> bool:
    cur = await conn.execute(
        "SELECT 1 FROM ticket_participants WHERE ticket_id = %s AND user_id = %s", (ticket_id, user_id)
    )
    return await cur.fetchone() is not None
