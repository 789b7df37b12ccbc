"""Tickets and their participants. Every change posts a System message in the ticket's chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ticket_comms.auth.service import CurrentUser
from ticket_comms.chat import overview
from ticket_comms.chat import service as chat
from ticket_comms.chat.schemas import message_out
from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.errors import Forbidden, NotFound, ValidationFailed
from ticket_comms.notifications import ticket_events as notifications
from ticket_comms.pagination import decode_cursor, encode_cursor
from ticket_comms.ticket_access import TicketNotFound, require_access
from ticket_comms.tickets.schemas import CreateTicket, UpdateTicket, ticket_out

TICKET_COLUMNS = (
    "t.id, t.title, t.description, t.status, t.created_by, t.assignee_id, t.created_at, "
    "t.updated_at, t.last_activity_at, t.last_seq"
)


def display_name(user: CurrentUser | dict[str, Any]) -> str:
    if isinstance(user, CurrentUser):
        return user.name or user.email or user.id
    return user.get("name") or user.get("email") or user["id"]


async def _users(conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    cur = await conn.execute("SELECT id, email, name FROM users WHERE id = ANY(%s)", (ids,))
    found = {r["id"]: r for r in await cur.fetchall()}
    missing = sorted(set(ids) - found.keys())
    if missing:
        raise ValidationFailed(
            "Unknown users; register them with PUT /api/v1/users/{userId} first.",
            code="unknown_users",
            details={"userIds": missing},
        )
    return found


async def _ticket_row(conn: Connection, ticket_id: UUID, *, lock: bool = False) -> dict[str, Any]:
    cur = await conn.execute(
        f"SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id = %s{' FOR UPDATE' if lock else ''}", (ticket_id,)
    )
    row = await cur.fetchone()
    if row is None:
        raise TicketNotFound()
    return row


async def _decorate(
    conn: Connection, ctx: AppContext, user: CurrentUser, rows: list[dict[str, Any]]
) -> list[dict]:
    """Add the caller's unread count and the last message to each ticket, in two queries for the page."""
    if not rows:
        return []
    unread = await overview.unread_in_tickets(conn, user.id, [r["id"] for r in rows])
    last = await overview.messages_at(
        conn, ctx.settings, [(r["id"], r["last_seq"]) for r in rows if r["last_seq"] > 0]
    )
    return [ticket_out(r, unread.get(r["id"], 0), last.get(r["id"])) for r in rows]


async def create_ticket(ctx: AppContext, user: CurrentUser, body: CreateTicket) -> dict[str, Any]:
    participant_ids = list(dict.fromkeys([user.id, *body.participant_ids]))
    async with ctx.db.transaction() as conn:
        await _users(conn, participant_ids)
        cur = await conn.execute(
            f"INSERT INTO tickets AS t (title, description, created_by) VALUES (%s, %s, %s) RETURNING {TICKET_COLUMNS}",
            (body.title, body.description, user.id),
        )
        row = await cur.fetchone()
        assert row is not None
        await conn.execute(
            "INSERT INTO ticket_participants (ticket_id, user_id) SELECT %s, unnest(%s::text[])",
            (row["id"], participant_ids),
        )
        outbox = await notifications.ticket_created(conn, ctx, row, user)
        ticket = (await _decorate(conn, ctx, user, [row]))[0]
    for participant_id in participant_ids:
        await ctx.broadcast.participant_added(row["id"], participant_id)
    await ctx.broadcast.ticket_update(row["id"], ticket, "created")
    await notifications.publish(ctx, outbox)
    return ticket


async def list_tickets(
    ctx: AppContext, user: CurrentUser, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    params: dict[str, Any] = {"user_id": user.id, "limit": limit + 1}
    where = []
    if cursor:
        params["at"], params["id"] = decode_cursor(cursor, datetime.fromisoformat, UUID)
        where.append("(t.last_activity_at, t.id) < (%(at)s, %(id)s)")
    if user.is_admin:
        source = "tickets t"
    else:
        source = "ticket_participants p JOIN tickets t ON t.id = p.ticket_id"
        where.append("p.user_id = %(user_id)s")
    sql = f"SELECT {TICKET_COLUMNS} FROM {source}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY t.last_activity_at DESC, t.id DESC LIMIT %(limit)s"
    async with ctx.db.connection() as conn:
        cur = await conn.execute(sql, params)
        rows = await cur.fetchall()
        page = rows[:limit]
        items = await _decorate(conn, ctx, user, page)
    return {
        "items": items,
        "nextCursor": encode_cursor(page[-1]["last_activity_at"], page[-1]["id"])
        if len(rows) > limit
        else None,
    }


async def get_ticket(ctx: AppContext, user: CurrentUser, ticket_id: UUID) -> dict[str, Any]:
    async with ctx.db.connection() as conn:
        await require_access(conn, user, ticket_id)
        row = await _ticket_row(conn, ticket_id)
        return (await _decorate(conn, ctx, user, [row]))[0]


async def update_ticket(
    ctx: AppContext, user: CurrentUser, ticket_id: UUID, body: UpdateTicket
) -> dict[str, Any]:
    fields = body.model_fields_set
    system_messages: list[dict[str, Any]] = []
    joined: str | None = None
    new_assignee: dict[str, Any] | None = None
    outbox: notifications.Outbox | None = None
    actor = display_name(user)
    async with ctx.db.transaction() as conn:
        await require_access(conn, user, ticket_id)
        before = await _ticket_row(conn, ticket_id, lock=True)
        changes: dict[str, Any] = {}
        notes: list[str] = []
        if "title" in fields and body.title is not None and body.title.strip() != before["title"]:
            title = body.title.strip()
            if not title:
                raise ValidationFailed("title must not be empty")
            changes["title"] = title
            notes.append(f'{actor} renamed the ticket to "{title}"')
        if (
            "description" in fields
            and body.description is not None
            and body.description != before["description"]
        ):
            changes["description"] = body.description
            notes.append(f"{actor} updated the description")
        if "assignee_id" in fields and body.assignee_id != before["assignee_id"]:
            if body.assignee_id is None:
                changes["assignee_id"] = None
                notes.append(f"{actor} unassigned the ticket")
            else:
                assignee = (await _users(conn, [body.assignee_id]))[body.assignee_id]
                new_assignee = assignee
                changes["assignee_id"] = body.assignee_id
                notes.append(f"{actor} assigned the ticket to {display_name(assignee)}")
                cur = await conn.execute(
                    "INSERT INTO ticket_participants (ticket_id, user_id) VALUES (%s, %s) "
                    "ON CONFLICT DO NOTHING RETURNING user_id",
                    (ticket_id, body.assignee_id),
                )
                if await cur.fetchone():
                    joined = body.assignee_id
        if "status" in fields and body.status is not None and body.status != before["status"]:
            changes["status"] = body.status
            notes.append(f"{actor} changed the status from {before['status']} to {body.status}")
        if changes:
            assignments = ", ".join(f"{col} = %({col})s" for col in changes)
            await conn.execute(
                f"UPDATE tickets SET {assignments}, updated_at = now() WHERE id = %(ticket_id)s",
                {**changes, "ticket_id": ticket_id},
            )
            for note in notes:
                system_messages.append(await chat.post_system_message(conn, ticket_id, note))
        row = await _ticket_row(conn, ticket_id)
        if changes:
            outbox = await notifications.ticket_updated(conn, ctx, before, row, user, new_assignee)
        ticket = (await _decorate(conn, ctx, user, [row]))[0]
    if joined:
        await ctx.broadcast.participant_added(ticket_id, joined)
    for message in system_messages:
        await ctx.broadcast.new_message(ticket_id, message_out(message, ctx.settings))
    if changes:
        await ctx.broadcast.ticket_update(ticket_id, ticket, "updated")
    await notifications.publish(ctx, outbox)
    return ticket


async def list_participants(ctx: AppContext, user: CurrentUser, ticket_id: UUID) -> list[dict[str, Any]]:
    async with ctx.db.connection() as conn:
        await require_access(conn, user, ticket_id)
        cur = await conn.execute(
            "SELECT p.user_id, u.name, u.email, p.last_read_seq, p.last_read_at, p.is_muted "
            "FROM ticket_participants p JOIN users u ON u.id = p.user_id WHERE p.ticket_id = %s ORDER BY p.joined_at, p.user_id",
            (ticket_id,),
        )
        rows = await cur.fetchall()
    return [
        {
            "userId": r["user_id"],
            "name": r["name"] or r["user_id"],
            "lastReadSeq": r["last_read_seq"],
            "lastReadAt": r["last_read_at"].isoformat() if r["last_read_at"] else None,
            "isMuted": r["is_muted"],
        }
        for r in rows
    ]


async def add_participant(
    ctx: AppContext, user: CurrentUser, ticket_id: UUID, user_id: str
) -> tuple[dict, bool]:
    async with ctx.db.transaction() as conn:
        await require_access(conn, user, ticket_id)
        newcomer = (await _users(conn, [user_id]))[user_id]
        cur = await conn.execute(
            "INSERT INTO ticket_participants (ticket_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING "
            "RETURNING user_id, last_read_seq, last_read_at, is_muted",
            (ticket_id, user_id),
        )
        created = await cur.fetchone() is not None
        message = None
        if created:
            note = f"{display_name(newcomer)} joined the ticket"
            if user.id != user_id:
                note = f"{display_name(user)} added {display_name(newcomer)}"
            message = await chat.post_system_message(conn, ticket_id, note)
        cur = await conn.execute(
            "SELECT last_read_seq, last_read_at, is_muted FROM ticket_participants WHERE ticket_id = %s AND user_id = %s",
            (ticket_id, user_id),
        )
        p = await cur.fetchone()
        assert p is not None
    if created:
        await ctx.broadcast.participant_added(ticket_id, user_id)
        assert message is not None
        await ctx.broadcast.new_message(ticket_id, message_out(message, ctx.settings))
    return {
        "userId": user_id,
        "name": newcomer["name"] or user_id,
        "lastReadSeq": p["last_read_seq"],
        "lastReadAt": p["last_read_at"].isoformat() if p["last_read_at"] else None,
        "isMuted": p["is_muted"],
    }, created


async def remove_participant(ctx: AppContext, user: CurrentUser, ticket_id: UUID, user_id: str) -> None:
    async with ctx.db.transaction() as conn:
        await require_access(conn, user, ticket_id)
        ticket = await _ticket_row(conn, ticket_id, lock=True)
        if not (user.is_admin or user.id == user_id or user.id == ticket["created_by"]):
            raise Forbidden("Only the ticket's creator or an admin can remove other participants.")
        cur = await conn.execute(
            "DELETE FROM ticket_participants WHERE ticket_id = %s AND user_id = %s RETURNING user_id",
            (ticket_id, user_id),
        )
        if await cur.fetchone() is None:
            raise NotFound("That user is not a participant.", code="participant_not_found")
        cur = await conn.execute("SELECT id, email, name FROM users WHERE id = %s", (user_id,))
        leaver = await cur.fetchone()
        assert leaver is not None
        note = (
            f"{display_name(leaver)} left the ticket"
            if user.id == user_id
            else f"{display_name(user)} removed {display_name(leaver)}"
        )
        message = await chat.post_system_message(conn, ticket_id, note)
    # Cut the socket access first, so the removed user does not receive the System message.
    await ctx.broadcast.participant_removed(ticket_id, user_id)
    await ctx.broadcast.new_message(ticket_id, message_out(message, ctx.settings))


async def set_muted(ctx: AppContext, user: CurrentUser, ticket_id: UUID, muted: bool) -> dict[str, Any]:
    async with ctx.db.connection() as conn:
        cur = await conn.execute(
            "UPDATE ticket_participants SET is_muted = %s WHERE ticket_id = %s AND user_id = %s "
            "RETURNING user_id, last_read_seq, last_read_at, is_muted",
            (muted, ticket_id, user.id),
        )
        row = await cur.fetchone()
        if row is None:
            await require_access(conn, user, ticket_id)
            raise ValidationFailed("Only participants can mute a ticket.", code="not_a_participant")
    return {
        "userId": user.id,
        "name": user.name or user.id,
        "lastReadSeq": row["last_read_seq"],
        "lastReadAt": row["last_read_at"].isoformat() if row["last_read_at"] else None,
        "isMuted": row["is_muted"],
    }
