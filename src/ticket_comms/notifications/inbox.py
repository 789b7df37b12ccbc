"""The in-app inbox: how each event reads as a notification, the caller's list (keyset pages) and marking read."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ticket_comms.auth.service import CurrentUser
from ticket_comms.context import AppContext
from ticket_comms.notifications.schemas import NotificationOut, NotificationPage, NotificationsRead
from ticket_comms.pagination import decode_cursor, encode_cursor
from ticket_comms.wire import iso


def _get(data: dict[str, Any], *path: str) -> str:
    value: Any = data
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def _money(amount: str, currency: str) -> str:
    return f"{currency or 'AED'} {amount}".strip()


def summary(event_type: str, data: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of the in-app notification for an event."""
    title = _get(data, "ticket", "title")
    actor = _get(data, "actor", "name")
    by = f" by {actor}" if actor else ""
    match event_type:
        case "TicketCreated":
            return "New ticket", f"{title} was created{by}."
        case "TicketAssigned":
            assignee = _get(data, "assignee", "name") or "someone"
            return "Ticket assigned", f"{title} was assigned to {assignee}{by}."
        case "TicketStatusChanged":
            status = _get(data, "ticket", "status")
            previous = _get(data, "previousStatus")
            change = f"from {previous} to {status}" if previous else f"to {status}"
            return "Ticket status changed", f"{title} moved {change}{by}."
        case "TicketCompleted":
            return "Ticket completed", f"{title} was completed{by}."
        case "QuoteCreated" | "QuoteApproved" | "QuoteDeclined":
            verb = {
                "QuoteCreated": "is ready",
                "QuoteApproved": "was approved",
                "QuoteDeclined": "was declined",
            }
            number = _get(data, "quote", "number")
            total = _money(_get(data, "quote", "total"), _get(data, "quote", "currency"))
            return f"Quote {verb[event_type].split()[-1]}", f"Quote {number} ({total}) {verb[event_type]}."
        case "InvoiceGenerated":
            number = _get(data, "invoice", "number")
            total = _money(_get(data, "invoice", "total"), _get(data, "invoice", "currency"))
            return "New invoice", f"Invoice {number} for {total}."
        case "PaymentReceived":
            amount = _money(_get(data, "payment", "amount"), _get(data, "payment", "currency"))
            return "Payment received", f"We received your payment of {amount}."
        case "MessageReceived":
            messages = data.get("messages")
            count = len(messages) if isinstance(messages, list) else 0
            plural = "" if count == 1 else "s"
            return "New messages", f"{count} unread message{plural} on {title}."
        case "OTPRequested":
            return "Verification code", "A verification code was sent to your email."
    return event_type, ""


def notification_out(row: dict[str, Any]) -> NotificationOut:
    return NotificationOut(
        id=str(row["id"]),
        type=row["type"],
        title=row["title"],
        body=row["body"],
        ticketId=str(row["ticket_id"]) if row["ticket_id"] else None,
        data=row["data"],
        createdAt=iso(row["created_at"]) or "",
        readAt=iso(row["read_at"]),
    )


async def list_notifications(
    ctx: AppContext, user: CurrentUser, *, limit: int, cursor: str | None, unread_only: bool = False
) -> NotificationPage:
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
    return NotificationPage(
        items=[notification_out(r) for r in page], nextCursor=next_cursor, unread=unread["n"] if unread else 0
    )


async def mark_notifications_read(
    ctx: AppContext, user: CurrentUser, ids: list[UUID] | None
) -> NotificationsRead:
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
    return NotificationsRead(updated=updated, unread=unread["n"] if unread else 0)
