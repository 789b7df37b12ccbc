"""Tickets and their participants. Every change posts a System message in the ticket's chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ticket_comms.attachments import signing
from ticket_comms.auth.service import CurrentUser
from ticket_comms.chat import overview
from ticket_comms.chat import service as chat
from ticket_comms.chat.schemas import message_out
from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email.templates.filters import humanize
from ticket_comms.errors import NotFound, ValidationFailed
from ticket_comms.notifications import ticket_events as notifications
from ticket_comms.pagination import decode_cursor, encode_cursor
from ticket_comms.ticket_access import TicketNotFound, require_access
from ticket_comms.tickets import permissions
from ticket_comms.tickets.permissions import MAX_PARTICIPANTS, Role, state_of
from ticket_comms.tickets.schemas import CreateTicket, UpdateTicket, ticket_out

TICKET_COLUMNS = (
    "t.id, t.title, t.description, t.status, t.created_by, t.assignee_id, t.created_at, "
    "t.updated_at, t.last_activity_at, t.last_seq"
)


def display_name(user: CurrentUser | dict[str, Any]) -> str:
    if isinstance(user, CurrentUser):
        return user.name or user.email or user.id
    return user.get("name") or user.get("email") or user["id"]


async def _users(conn: Connection, ids: list[str], *, caller: CurrentUser) -> dict[str, dict[str, Any]]:
    """The users with these ids; unknown ids are a 422.

    Only admins and services (who may register users) are told which ids are unknown: anyone else
    could otherwise learn which user ids exist by asking about many at once.
    """
    if not ids:
        return {}
    cur = await conn.execute("SELECT id, email, name FROM users WHERE id = ANY(%s)", (ids,))
    found = {r["id"]: r for r in await cur.fetchall()}
    missing = sorted(set(ids) - found.keys())
    if missing:
        if caller.is_admin or caller.is_service:
            raise ValidationFailed(
                "Unknown users; register them with PUT /api/v1/users/{userId} first.",
                code="unknown_users",
                details={"userIds": missing},
            )
        raise ValidationFailed("One or more of these users cannot be added.", code="unknown_users")
    return found


def _check_cap(count: int) -> None:
    if count > MAX_PARTICIPANTS:
        raise ValidationFailed(
            f"A ticket has at most {MAX_PARTICIPANTS} participants.",
            code="too_many_participants",
            details={"max": MAX_PARTICIPANTS},
        )


async def _participant_count(conn: Connection, ticket_id: UUID) -> int:
    cur = await conn.execute(
        "SELECT count(*) AS n FROM ticket_participants WHERE ticket_id = %s", (ticket_id,)
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def _open_for_change(
    conn: Connection, user: CurrentUser, ticket_id: UUID
) -> tuple[dict[str, Any], frozenset[Role]]:
    """The ticket, locked for this transaction, and the caller's roles in it; 404 for outsiders."""
    cur = await conn.execute(
        f"SELECT {TICKET_COLUMNS}, EXISTS (SELECT 1 FROM ticket_participants p "
        "WHERE p.ticket_id = t.id AND p.user_id = %s) AS participant FROM tickets t WHERE t.id = %s FOR UPDATE OF t",
        (user.id, ticket_id),
    )
    row = await cur.fetchone()
    if row is None:
        raise TicketNotFound()
    roles = permissions.roles_of(
        user.id,
        is_staff=user.is_admin or user.is_service,
        is_participant=row["participant"],
        ticket=state_of(row),
    )
    if not roles:
        raise TicketNotFound()
    return row, roles


def _require(roles: frozenset[Role], action: permissions.Action, ticket: dict[str, Any]) -> None:
    refusal = permissions.decide_for(roles, action, state_of(ticket))
    if refusal is not None:
        raise refusal


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


def for_caller(ctx: AppContext, user: CurrentUser, ticket: dict[str, Any]) -> dict[str, Any]:
    """A ticket as the caller gets it over HTTP: the last message's attachment links bound to them."""
    if ticket["lastMessage"] is None:
        return ticket
    return {**ticket, "lastMessage": signing.for_viewer(ticket["lastMessage"], ctx.settings, user.id)}


def room_view(ticket: dict[str, Any]) -> dict[str, Any]:
    """A ticket as every participant may see it in `ticketUpdate`: without the acting user's own
    unread count (each client keeps its own) and without attachment links."""
    view = {k: v for k, v in ticket.items() if k != "unreadCount"}
    if view.get("lastMessage") is not None:
        # Links are bound to one reader; the room's copy has none (each reader's HTTP copy has theirs).
        view["lastMessage"] = signing.without_links(view["lastMessage"])
    return view


async def create_ticket(ctx: AppContext, user: CurrentUser, body: CreateTicket) -> dict[str, Any]:
    participant_ids = list(dict.fromkeys([user.id, *body.participant_ids]))
    _check_cap(len(participant_ids))
    async with ctx.db.transaction() as conn:
        await _users(conn, participant_ids, caller=user)
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
    await ctx.broadcast.ticket_update(row["id"], room_view(ticket), "created")
    await notifications.publish(ctx, outbox)
    return for_caller(ctx, user, ticket)


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
        "items": [for_caller(ctx, user, t) for t in items],
        "nextCursor": encode_cursor(page[-1]["last_activity_at"], page[-1]["id"])
        if len(rows) > limit
        else None,
    }


async def get_ticket(ctx: AppContext, user: CurrentUser, ticket_id: UUID) -> dict[str, Any]:
    async with ctx.db.connection() as conn:
        await require_access(conn, user, ticket_id)
        row = await _ticket_row(conn, ticket_id)
        return for_caller(ctx, user, (await _decorate(conn, ctx, user, [row]))[0])


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
        before, roles = await _open_for_change(conn, user, ticket_id)
        changes: dict[str, Any] = {}
        notes: list[str] = []
        # Every change is checked before anything is written: a refused part refuses the whole request.
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
        if "title" in changes or "description" in changes:
            _require(roles, permissions.EditDetails(), before)
        if "assignee_id" in fields and body.assignee_id != before["assignee_id"]:
            _require(roles, permissions.ChangeAssignee(body.assignee_id), before)
            changes["assignee_id"] = body.assignee_id
            if body.assignee_id is None:
                notes.append(f"{actor} unassigned the ticket")
            else:
                new_assignee = (await _users(conn, [body.assignee_id], caller=user))[body.assignee_id]
                notes.append(f"{actor} assigned the ticket to {display_name(new_assignee)}")
        if "status" in fields and body.status is not None and body.status != before["status"]:
            _require(roles, permissions.ChangeStatus(body.status), before)
            changes["status"] = body.status
            # Written as the badges show them ("In progress", not the enum "InProgress").
            notes.append(
                f"{actor} changed the status from {humanize(before['status'])} to {humanize(body.status)}"
            )
        if new_assignee is not None:
            cur = await conn.execute(
                "INSERT INTO ticket_participants (ticket_id, user_id) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING RETURNING user_id",
                (ticket_id, new_assignee["id"]),
            )
            if await cur.fetchone():
                joined = new_assignee["id"]
                _check_cap(await _participant_count(conn, ticket_id))
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
        await ctx.broadcast.ticket_update(ticket_id, room_view(ticket), "updated")
    await notifications.publish(ctx, outbox)
    return for_caller(ctx, user, ticket)


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
        ticket, roles = await _open_for_change(conn, user, ticket_id)
        _require(roles, permissions.AddParticipant(user_id), ticket)
        newcomer = (await _users(conn, [user_id], caller=user))[user_id]
        cur = await conn.execute(
            "INSERT INTO ticket_participants (ticket_id, user_id) VALUES (%s, %s) ON CONFLICT DO NOTHING "
            "RETURNING user_id, last_read_seq, last_read_at, is_muted",
            (ticket_id, user_id),
        )
        created = await cur.fetchone() is not None
        message = None
        if created:
            _check_cap(await _participant_count(conn, ticket_id))
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
        ticket, roles = await _open_for_change(conn, user, ticket_id)
        _require(roles, permissions.RemoveParticipant(user_id, by_self=user_id == user.id), ticket)
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
        messages = [await chat.post_system_message(conn, ticket_id, note)]
        updated = None
        if ticket["assignee_id"] == user_id:
            # An assignee who can no longer see the ticket cannot work it: it goes back to the queue.
            await conn.execute(
                "UPDATE tickets SET assignee_id = NULL, updated_at = now() WHERE id = %s", (ticket_id,)
            )
            messages.append(
                await chat.post_system_message(conn, ticket_id, f"{display_name(user)} unassigned the ticket")
            )
            updated = (await _decorate(conn, ctx, user, [await _ticket_row(conn, ticket_id)]))[0]
    # Cut the socket access first, so the removed user does not receive the System messages.
    await ctx.broadcast.participant_removed(ticket_id, user_id)
    for message in messages:
        await ctx.broadcast.new_message(ticket_id, message_out(message, ctx.settings))
    if updated is not None:
        await ctx.broadcast.ticket_update(ticket_id, room_view(updated), "updated")


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
