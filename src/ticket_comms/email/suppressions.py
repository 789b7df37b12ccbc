"""Suppressed addresses: the one statement that suppresses one, the admin list and the lift.

A suppressed address gets no email until an admin lifts it (hard bounces and complaints put it here), or
until its `expires_at` (repeated soft bounces suppress for a while: delivery_reports.py). An expired row
suppresses nothing and is replaced by the next suppression of that address.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.errors import NotFound
from ticket_comms.wire import iso

ACTIVE = "(expires_at IS NULL OR expires_at > now())"

# A suppression for a while never shortens or replaces one that holds until lifted.
SUPPRESS = """
INSERT INTO email_suppressions AS s (email, reason, detail, email_log_id, expires_at)
VALUES (lower(%(email)s), %(reason)s, %(detail)s, %(log_id)s,
        now() + make_interval(secs => %(seconds)s::float8))
ON CONFLICT (email) DO UPDATE SET reason = EXCLUDED.reason, detail = EXCLUDED.detail,
    email_log_id = EXCLUDED.email_log_id, created_at = now(), expires_at = EXCLUDED.expires_at
WHERE EXCLUDED.expires_at IS NULL OR s.expires_at IS NOT NULL
"""


async def suppress(
    conn: Connection,
    email: str,
    *,
    reason: str,
    detail: str | None,
    log_id: Any,
    for_seconds: float | None = None,
) -> None:
    """Stop emailing `email` (in the caller's transaction), until lifted or for `for_seconds`;
    `log_id` is the email that proved it."""
    await conn.execute(
        SUPPRESS,
        {"email": email, "reason": reason, "detail": detail, "log_id": log_id, "seconds": for_seconds},
    )


class SuppressionOut(BaseModel):
    email: str
    reason: str
    detail: str | None
    emailLogId: str | None
    createdAt: str
    # Extension: when it lifts itself (repeated soft bounces); null until an admin lifts it.
    expiresAt: str | None = None

    @classmethod
    def of(cls, row: dict[str, Any]) -> SuppressionOut:
        return cls(
            email=row["email"],
            reason=row["reason"],
            detail=row["detail"],
            emailLogId=str(row["email_log_id"]) if row["email_log_id"] else None,
            createdAt=iso(row["created_at"]) or "",
            expiresAt=iso(row.get("expires_at")),
        )


class SuppressionPage(BaseModel):
    items: list[SuppressionOut]
    nextCursor: str | None


async def list_suppressions(
    ctx: AppContext, *, limit: int, cursor: str | None, q: str | None = None
) -> SuppressionPage:
    """By address; `q` keeps the addresses containing it (any case), with the same keyset paging."""
    rows = await ctx.db.fetch_all(
        f"SELECT * FROM email_suppressions WHERE {ACTIVE} AND (%(after)s::text IS NULL OR email > %(after)s) "
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
    return (
        f"EXISTS (SELECT 1 FROM email_suppressions s WHERE s.email = lower({email_expression}) "
        "AND (s.expires_at IS NULL OR s.expires_at > now()))"
    )
