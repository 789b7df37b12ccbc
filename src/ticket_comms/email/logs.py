"""Email logs (list with filters, one with its timeline) and delivery statistics, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from ticket_comms.context import AppContext
from ticket_comms.email.rollup import email_cells, total
from ticket_comms.errors import NotFound, ValidationFailed
from ticket_comms.pagination import decode_cursor, encode_cursor
from ticket_comms.wire import iso

# The delivery statuses an email log moves through (the contract's EmailStatus).
EMAIL_STATUSES = ("Pending", "Sent", "Delivered", "Bounced", "Failed")

# The wire shapes (the answers, and the OpenAPI document).


class EmailLogEvent(BaseModel):
    type: str
    at: str
    detail: dict[str, Any]


class EmailLogOut(BaseModel):
    id: str
    templateName: str
    recipientEmail: str
    recipientId: str | None
    subject: str | None
    status: str
    attempts: int
    sentAt: str | None
    deliveredAt: str | None
    errorMessage: str | None
    providerMessageId: str | None
    messageId: str
    eventId: str | None
    nextAttemptAt: str | None
    createdAt: str
    updatedAt: str
    resentFrom: str | None = None
    events: list[EmailLogEvent] | None = None

    @classmethod
    def of(cls, row: dict[str, Any], *, with_events: bool = False) -> EmailLogOut:
        log = cls(
            id=str(row["id"]),
            templateName=row["template_name"],
            recipientEmail=row["recipient_email"],
            recipientId=row["recipient_id"],
            subject=row["subject"],
            status=row["status"],
            attempts=row["attempts"],
            sentAt=iso(row["sent_at"]),
            deliveredAt=iso(row["delivered_at"]),
            errorMessage=row["error_message"],
            providerMessageId=row["provider_message_id"],
            messageId=row["message_id"],
            eventId=str(row["event_id"]) if row["event_id"] else None,
            nextAttemptAt=iso(row["next_attempt_at"]) if row["status"] == "Pending" else None,
            createdAt=iso(row["created_at"]) or "",
            updatedAt=iso(row["updated_at"]) or "",
            resentFrom=str(row["resent_from"]) if row.get("resent_from") else None,
        )
        if with_events:
            log.events = [EmailLogEvent.model_validate(e) for e in row["events"]]
        return log

    def dump(self) -> dict[str, Any]:
        """The answer: `events` only on a single log (the list leaves the timelines out)."""
        return self.model_dump(exclude={"events"} if self.events is None else set())


class EmailLogPage(BaseModel):
    items: list[EmailLogOut]
    nextCursor: str | None


class DailyStats(BaseModel):
    date: str
    total: int
    pending: int
    sent: int
    delivered: int
    bounced: int
    failed: int


class EmailStats(BaseModel):
    total: int
    pending: int
    sent: int
    delivered: int
    bounced: int
    failed: int
    # Open and click tracking (email/tracking.py): emails opened / clicked at least once, and their share
    # of the emails that left (Sent, Delivered, Bounced); 0 when none left.
    opened: int = 0
    clicked: int = 0
    openRate: float = 0.0
    clickRate: float = 0.0
    daily: list[DailyStats] | None = None


LOG_COLUMNS = """
    id, event_id, template_name, recipient_email, recipient_id, subject, status, attempts, sent_at,
    delivered_at, error_message, provider_message_id, message_id, next_attempt_at, created_at, updated_at,
    resent_from
"""


def check_range(start: datetime | None, end: datetime | None) -> None:
    for value, name in ((start, "from"), (end, "to")):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(f"`{name}` needs a UTC offset (ISO 8601, e.g. 2026-11-25T00:00:00Z).")
    if start is not None and end is not None and end < start:
        raise ValidationFailed("`to` is before `from`.")


async def list_logs(
    ctx: AppContext,
    *,
    status: str | None,
    recipient: str | None,
    template_name: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    check_range(start, end)
    if status is not None and status not in EMAIL_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(EMAIL_STATUSES)}.", code="bad_status")
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit + 1}
    if status is not None:
        where.append("status = %(status)s")
        params["status"] = status
    if recipient:
        where.append("lower(recipient_email) = lower(%(recipient)s)")
        params["recipient"] = recipient.strip()
    if template_name:
        where.append("template_name = %(template)s")
        params["template"] = template_name
    if start is not None:
        where.append("created_at >= %(start)s")
        params["start"] = start
    if end is not None:
        where.append("created_at < %(end)s")
        params["end"] = end
    if cursor:
        params["c_at"], params["c_id"] = decode_cursor(cursor, datetime.fromisoformat, UUID)
        where.append("(created_at, id) < (%(c_at)s, %(c_id)s)")
    sql = f"SELECT {LOG_COLUMNS} FROM email_logs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at DESC, id DESC LIMIT %(limit)s"
    rows = await ctx.db.fetch_all(sql, params)
    page = rows[:limit]
    return {
        "items": [EmailLogOut.of(r).dump() for r in page],
        "nextCursor": encode_cursor(page[-1]["created_at"], page[-1]["id"]) if len(rows) > limit else None,
    }


async def get_log(ctx: AppContext, log_id: UUID) -> dict[str, Any]:
    row = await ctx.db.fetch_one(f"SELECT {LOG_COLUMNS}, events FROM email_logs WHERE id = %s", (log_id,))
    if row is None:
        raise NotFound("Email log not found.", code="email_log_not_found")
    return EmailLogOut.of(row, with_events=True).dump()


# Counts by status, summed over the period's hourly cells (email/rollup.py); the same columns serve the
# totals and the per-day (UTC) series.
SUMS = ",\n       ".join(
    [
        total("total", "total"),
        *[total("total", s.lower(), s) for s in EMAIL_STATUSES],
        total("opened", "opened"),
        total("clicked", "clicked"),
    ]
)

COUNTS = ("total", "pending", "sent", "delivered", "bounced", "failed")


async def stats(
    ctx: AppContext, *, start: datetime | None, end: datetime | None, daily: bool
) -> dict[str, Any]:
    """Counts by status of the emails created in [from, to); `daily` adds a per-day (UTC) series."""
    check_range(start, end)
    cells, params = email_cells(start, end)
    async with ctx.db.connection() as conn:
        cur = await conn.execute(f"SELECT {SUMS} FROM ({cells}) c", params)
        row = await cur.fetchone()
        assert row is not None
        left = row["sent"] + row["delivered"] + row["bounced"]
        out = EmailStats(
            **{k: row[k] for k in COUNTS},
            opened=row["opened"],
            clicked=row["clicked"],
            openRate=round(row["opened"] / left, 4) if left else 0.0,
            clickRate=round(row["clicked"] / left, 4) if left else 0.0,
        )
        if not daily:
            return out.model_dump(exclude={"daily"})
        cur = await conn.execute(
            f"SELECT (hour AT TIME ZONE 'UTC')::date AS day, {SUMS} FROM ({cells}) c "
            "GROUP BY 1 HAVING sum(total) > 0 ORDER BY 1",
            params,
        )
        out.daily = [
            DailyStats(date=r["day"].isoformat(), **{k: r[k] for k in COUNTS}) for r in await cur.fetchall()
        ]
    return out.model_dump()
