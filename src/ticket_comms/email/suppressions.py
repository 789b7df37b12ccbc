"""Suppressed addresses: the one statement that suppresses one, the admin list and the lift.

A suppressed address gets no email until an admin lifts it (bounces and complaints put it here).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.errors import NotFound
from ticket_comms.wire import iso

SUPPRESS = """
INSERT INTO email_suppressions (email, reason, detail, email_log_id)
VALUES (lower(%(email)s), %(reason)s, %(detail)s, %(log_id)s)
ON CONFLICT (email) DO UPDATE SET reason = EXCLUDED.reason, detail = EXCLUDED.detail,
    email_log_id = EXCLUDED.email_log_id, created_at = now()
"""


async def suppress(conn: Connection, email: str, *, reason: str, detail: str | None, log_id: Any) -> None:
    """Stop emailing `email` (in the caller's transaction); `log_id` is the email that proved it."""
    await conn.execute(SUPPRESS, {"email": email, "reason": reason, "detail": detail, "log_id": log_id})


class SuppressionOut(BaseModel):
    email: str
    reason: str
    detail: str | None
    emailLogId: str | None
    createdAt: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> SuppressionOut:
        return cls(
            email=row["email"],
            reason=row["reason"],
            detail=row["detail"],
            emailLogId=str(row["email_log_id"]) if row["email_log_id"] else None,
            createdAt=iso(row["created_at"]) or "",
        )


class SuppressionPage(BaseModel):
    items: list[SuppressionOut]
    nextCursor: str | None


async def list_suppressions(
    ctx: AppContext, *, limit: int, cursor: str | None, q: str | None = None
) -> SuppressionPage:
    """By address; `q` keeps the addresses containing it (any case), with the same keyset paging."""
    rows = await ctx.db.fetch_all(
        "SELECT * FROM email_suppressions WHERE (%(after)s::text IS NULL OR email > %(after)s) "
        "AND (%(q)s::text IS NULL OR strpos(email, %(q)s) > 0) ORDER BY email LIMIT %(limit)s",
        {"after": cursor, "limit": limit + 1, "q": q.strip().lower() if q and q.strip() else None},
    )
    page = rows[:limit]
    return SuppressionPage(
        items=[SuppressionOut.of(r) for r in page],
        nextCursor=page[-1]["email"] if len(rows) > limit else None,
    )


async def delete_suppression(ctx: AppContext, email: str) -> None:
    row = await ctx.db.fetch_one(
        "DELETE FROM email_suppressions WHERE email = lower(%s) RETURNING email", (email.strip(),)
    )
    if row is None:
        raise NotFound("That address is not suppressed.", code="suppression_not_found")


def suppressed_sql(email_expression: str) -> str:
    """A boolean SQL expression: the address `email_expression` is suppressed (for recipient queries)."""
    return f"EXISTS (SELECT 1 FROM email_suppressions s WHERE s.email = lower({email_expression}))"
