"""The record of every inbound mail (inbound_emails) and the admin list of them, keyset paged."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.pagination import decode_cursor, encode_cursor
from ticket_comms.replies.parse import ParsedMail
from ticket_comms.wire import iso

COLUMNS = (
    "id, received_at, channel, message_id, from_address, to_address, subject, size_bytes, outcome, reason, "
    "detail, ticket_id, user_id, email_log_id, chat_message_ids"
)

INSERT = f"""
INSERT INTO inbound_emails (channel, message_id, from_address, to_address, subject, size_bytes, outcome,
                            reason, detail, ticket_id, user_id, email_log_id)
VALUES (%(channel)s, %(message_id)s, %(from_address)s, %(to_address)s, %(subject)s, %(size)s, %(outcome)s,
        %(reason)s, %(detail)s, %(ticket_id)s, %(user_id)s, %(email_log_id)s)
{{conflict}}
RETURNING {COLUMNS}
"""
# The accepted row is written before the chat message: a second delivery of the same Message-ID finds it
# (the partial unique index) and becomes a Duplicate, also when both arrive at once.
CLAIM = INSERT.format(conflict="ON CONFLICT (message_id) WHERE outcome = 'Accepted' DO NOTHING")
RECORD = INSERT.format(conflict="")


def _params(
    mail: ParsedMail,
    *,
    channel: str,
    to_address: str | None,
    outcome: str,
    reason: str | None = None,
    detail: str | None = None,
    ticket_id: UUID | None = None,
    user_id: str | None = None,
    email_log_id: UUID | None = None,
) -> dict[str, Any]:
    return {
        "channel": channel,
        "message_id": mail.message_id,
        "from_address": mail.from_address,
        "to_address": to_address,
        "subject": (mail.subject or "")[:300] or None,
        "size": mail.size,
        "outcome": outcome,
        "reason": reason,
        "detail": (detail or "")[:1000] or None,
        "ticket_id": ticket_id,
        "user_id": user_id,
        "email_log_id": email_log_id,
    }


async def record(conn: Connection, mail: ParsedMail, **fields: Any) -> dict[str, Any]:
    cur = await conn.execute(RECORD, _params(mail, **fields))
    row = await cur.fetchone()
    assert row is not None
    return row


async def claim(conn: Connection, mail: ParsedMail, **fields: Any) -> dict[str, Any] | None:
    """The Accepted row of `mail` (its Message-ID deduplicated), or None when one exists already."""
    params = _params(mail, outcome="Accepted", **fields)
    params["message_id"] = mail.dedupe_id
    cur = await conn.execute(CLAIM, params)
    return await cur.fetchone()


async def settle(
    conn: Connection, record_id: UUID, *, message_ids: list[UUID], refused: str | None, detail: str | None
) -> None:
    """What the accepted row became: its chat messages, or a refusal after all (the chat refused it)."""
    await conn.execute(
        "UPDATE inbound_emails SET chat_message_ids = %(ids)s, detail = coalesce(%(detail)s, detail), "
        "outcome = CASE WHEN %(refused)s::text IS NULL THEN outcome ELSE 'Refused' END, "
        "reason = coalesce(%(refused)s, reason) WHERE id = %(id)s",
        {"ids": message_ids, "detail": detail, "refused": refused, "id": record_id},
    )


class InboundEmailOut(BaseModel):
    id: str
    receivedAt: str
    channel: str
    messageId: str | None
    fromAddress: str | None
    toAddress: str | None
    subject: str | None
    sizeBytes: int
    outcome: str
    reason: str | None
    detail: str | None
    ticketId: str | None
    userId: str | None
    emailLogId: str | None
    chatMessageIds: list[str]

    @classmethod
    def of(cls, row: dict[str, Any]) -> InboundEmailOut:
        return cls(
            id=str(row["id"]),
            receivedAt=iso(row["received_at"]) or "",
            channel=row["channel"],
            messageId=row["message_id"],
            fromAddress=row["from_address"],
            toAddress=row["to_address"],
            subject=row["subject"],
            sizeBytes=row["size_bytes"],
            outcome=row["outcome"],
            reason=row["reason"],
            detail=row["detail"],
            ticketId=str(row["ticket_id"]) if row["ticket_id"] else None,
            userId=row["user_id"],
            emailLogId=str(row["email_log_id"]) if row["email_log_id"] else None,
            chatMessageIds=[str(m) for m in row["chat_message_ids"] or []],
        )


class InboundEmailPage(BaseModel):
    items: list[InboundEmailOut]
    nextCursor: str | None


async def list_inbound(
    ctx: AppContext,
    *,
    outcome: str | None,
    ticket_id: UUID | None,
    limit: int,
    cursor: str | None,
) -> InboundEmailPage:
    after: tuple[datetime, UUID] | None = None
    if cursor:
        at, last = decode_cursor(cursor, datetime.fromisoformat, UUID)
        after = (at, last)
    rows = await ctx.db.fetch_all(
        f"SELECT {COLUMNS} FROM inbound_emails "
        "WHERE (%(outcome)s::text IS NULL OR outcome = %(outcome)s) "
        "AND (%(ticket)s::uuid IS NULL OR ticket_id = %(ticket)s) "
        "AND (%(at)s::timestamptz IS NULL OR (received_at, id) < (%(at)s, %(last)s)) "
        "ORDER BY received_at DESC, id DESC LIMIT %(limit)s",
        {
            "outcome": outcome,
            "ticket": ticket_id,
            "at": after[0] if after else None,
            "last": after[1] if after else None,
            "limit": limit + 1,
        },
    )
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(page[-1]["received_at"], page[-1]["id"])
    return InboundEmailPage(items=[InboundEmailOut.of(r) for r in page], nextCursor=next_cursor)
