"""Read marks: moving a participant's read mark forward, and the unread counts it leaves."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ticket_comms.auth.service import CurrentUser
from ticket_comms.context import AppContext
from ticket_comms.errors import ValidationFailed
from ticket_comms.ticket_access import require_access


async def mark_read(
    ctx: AppContext, user: CurrentUser, ticket_id: UUID, up_to_seq: int | None
) -> dict[str, Any]:
    """Move the caller's read mark forward (never backwards), to `up_to_seq` or to the end of the thread."""
    async with ctx.db.connection() as conn:
        cur = await conn.execute(
            """
            UPDATE ticket_participants p
            SET last_read_seq = GREATEST(p.last_read_seq, LEAST(coalesce(%(up_to)s, t.last_seq), t.last_seq)),
                last_read_at = CASE WHEN LEAST(coalesce(%(up_to)s, t.last_seq), t.last_seq) > p.last_read_seq
                                    THEN now() ELSE p.last_read_at END
            FROM tickets t
            WHERE p.ticket_id = %(ticket_id)s AND p.user_id = %(user_id)s AND t.id = p.ticket_id
            RETURNING p.last_read_seq, p.last_read_at,
                      -- a subquery here still sees the row as it was before this UPDATE
                      (SELECT q.last_read_seq FROM ticket_participants q
                       WHERE q.ticket_id = p.ticket_id AND q.user_id = p.user_id) AS previous_seq
            """,
            {"up_to": up_to_seq, "ticket_id": ticket_id, "user_id": user.id},
        )
        row = await cur.fetchone()
        if row is None:
            await require_access(conn, user, ticket_id)
            raise ValidationFailed("Only participants have a read mark.", code="not_a_participant")
    result = {
        "ticketId": str(ticket_id),
        "userId": user.id,
        "lastReadSeq": row["last_read_seq"],
        "lastReadAt": row["last_read_at"].isoformat() if row["last_read_at"] else None,
    }
    if row["last_read_seq"] != row["previous_seq"]:
        await ctx.broadcast.messages_read(ticket_id, user.id, row["last_read_seq"], result["lastReadAt"])
    return result


UNREAD_COUNTS = """
SELECT p.ticket_id, count(*) AS unread
FROM ticket_participants p
JOIN messages m ON m.ticket_id = p.ticket_id AND m.seq > p.last_read_seq
WHERE p.user_id = %s AND m.type <> 'System' AND m.sender_id <> p.user_id AND m.deleted_at IS NULL
GROUP BY p.ticket_id
"""


async def unread_counts(ctx: AppContext, user: CurrentUser) -> dict[str, int]:
    rows = await ctx.db.fetch_all(UNREAD_COUNTS, (user.id,))
    return {str(r["ticket_id"]): r["unread"] for r in rows}
