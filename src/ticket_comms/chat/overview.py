"""What the ticket list shows of each ticket's chat: the caller's unread counts and the last messages.

Tickets asks here instead of reading the messages table itself.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ticket_comms.chat.schemas import message_out
from ticket_comms.chat.service import SELECT_MESSAGES
from ticket_comms.config import Settings
from ticket_comms.database import Connection


async def unread_in_tickets(conn: Connection, user_id: str, ticket_ids: list[UUID]) -> dict[UUID, int]:
    """The user's unread count in each of `ticket_ids` they participate in (others' non-System messages)."""
    cur = await conn.execute(
        """
        SELECT p.ticket_id, (SELECT count(*) FROM messages m
            WHERE m.ticket_id = p.ticket_id AND m.seq > p.last_read_seq AND m.type <> 'System'
              AND m.sender_id <> p.user_id AND m.deleted_at IS NULL) AS unread
        FROM ticket_participants p WHERE p.user_id = %s AND p.ticket_id = ANY(%s)
        """,
        (user_id, ticket_ids),
    )
    return {r["ticket_id"]: r["unread"] for r in await cur.fetchall()}


async def messages_at(
    conn: Connection, settings: Settings, keys: list[tuple[UUID, int]]
) -> dict[UUID, dict[str, Any]]:
    """The message at each (ticket id, seq) in `keys`, by ticket id, as the wire shows it."""
    if not keys:
        return {}
    cur = await conn.execute(
        f"{SELECT_MESSAGES} JOIN unnest(%s::uuid[], %s::bigint[]) AS k(ticket_id, seq) "
        "ON m.ticket_id = k.ticket_id AND m.seq = k.seq",
        ([k[0] for k in keys], [k[1] for k in keys]),
    )
    return {r["ticket_id"]: message_out(r, settings) for r in await cur.fetchall()}
