"""The push deliveries (outbox rows with their attempts), for admins: by user, event or status."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ticket_comms.context import AppContext
from ticket_comms.errors import ValidationFailed
from ticket_comms.pagination import decode_cursor, encode_cursor

STATUSES = ("Pending", "Sent", "Failed", "Expired", "Cancelled")

COLUMNS = """
    id, user_id, subscription_id, event_id, ticket_id, status, attempts, payload, topic, urgency, ttl,
    sent_at, error_message, next_attempt_at, created_at, updated_at, events
"""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def delivery_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "userId": row["user_id"],
        "subscriptionId": str(row["subscription_id"]) if row["subscription_id"] else None,
        "eventId": str(row["event_id"]) if row["event_id"] else None,
        "ticketId": str(row["ticket_id"]) if row["ticket_id"] else None,
        "status": row["status"],
        "attempts": row["attempts"],
        "payload": row["payload"],
        "topic": row["topic"],
        "urgency": row["urgency"],
        "ttl": row["ttl"],
        "sentAt": _iso(row["sent_at"]),
        "errorMessage": row["error_message"],
        "nextAttemptAt": _iso(row["next_attempt_at"]) if row["status"] == "Pending" else None,
        "createdAt": row["created_at"].isoformat(),
        "updatedAt": row["updated_at"].isoformat(),
        "events": row["events"],
    }


async def list_deliveries(
    ctx: AppContext,
    *,
    user_id: str | None,
    event_id: UUID | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    if status is not None and status not in STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}.", code="bad_status")
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit + 1}
    if user_id:
        where.append("user_id = %(user_id)s")
        params["user_id"] = user_id
    if event_id is not None:
        where.append("event_id = %(event_id)s")
        params["event_id"] = event_id
    if status is not None:
        where.append("status = %(status)s")
        params["status"] = status
    if cursor:
        params["c_at"], params["c_id"] = decode_cursor(cursor, datetime.fromisoformat, UUID)
        where.append("(created_at, id) < (%(c_at)s, %(c_id)s)")
    sql = f"SELECT {COLUMNS} FROM push_outbox"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at DESC, id DESC LIMIT %(limit)s"
    rows = await ctx.db.fetch_all(sql, params)
    page = rows[:limit]
    return {
        "items": [delivery_out(r) for r in page],
        "nextCursor": encode_cursor(page[-1]["created_at"], page[-1]["id"]) if len(rows) > limit else None,
    }
