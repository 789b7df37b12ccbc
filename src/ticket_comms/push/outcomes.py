"""What one push attempt's answer means for its outbox row, and recording it: the retry schedule
(429/5xx/timeouts back off, or wait for `Retry-After`, never past the TTL), expired subscriptions
(404/410) removed, and the group commit that writes results in batches before a push counts as done.
Results are written by the group commit of ticket_comms/group_commit.py, as email results are."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import orjson

from ticket_comms.config import Settings
from ticket_comms.database import Database
from ticket_comms.push import delivery

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10

# The outcomes, the subscriptions' last success, and the removal of expired subscriptions (their other
# queued pushes lose the subscription and are cancelled when claimed), in one statement.
WRITE_RESULTS = """
WITH r AS (
    SELECT * FROM jsonb_to_recordset(%(results)s::jsonb)
        AS r(id uuid, subscription_id uuid, status text, error text, next_at timestamptz, event jsonb,
             at timestamptz)
), done AS (
    UPDATE push_outbox o
    SET status = r.status, claimed_by = NULL, updated_at = now(),
        sent_at = CASE WHEN r.status = 'Sent' THEN r.at ELSE o.sent_at END,
        error_message = r.error,
        next_attempt_at = coalesce(r.next_at, o.next_attempt_at),
        events = o.events || jsonb_build_array(r.event)
    FROM r
    WHERE o.id = r.id AND o.claimed_by = %(worker)s
    RETURNING o.id
), ok AS (
    UPDATE push_subscriptions s SET last_success_at = x.at
    FROM (SELECT subscription_id, max(at) AS at FROM r WHERE status = 'Sent' GROUP BY 1) x
    WHERE s.id = x.subscription_id
    RETURNING s.id
), gone AS (
    DELETE FROM push_subscriptions s USING r
    WHERE r.status = 'Expired' AND s.id = r.subscription_id
    RETURNING s.id
)
SELECT (SELECT count(*) FROM done) AS written, (SELECT count(*) FROM gone) AS removed
"""


@dataclass(slots=True)
class Result:
    push_id: UUID
    subscription_id: UUID | None
    status: str
    error: str | None
    next_at: datetime | None
    event: dict[str, Any]
    at: datetime


def retry_delay(settings: Settings, attempts: int, retry_after: float | None) -> float:
    if retry_after is not None:
        return max(retry_after, 0.0)
    return float(
        min(settings.push_retry_base_seconds * (2 ** max(0, attempts - 1)), settings.push_retry_max_seconds)
    )


def result_for(settings: Settings, row: dict[str, Any], outcome: delivery.Outcome, now: datetime) -> Result:
    """What one attempt's outcome means for the outbox row."""
    at = now.isoformat()
    detail: dict[str, Any] = {"status": outcome.status, "reply": outcome.reply}
    sid = row["subscription_id"]
    if outcome.kind == "sent":
        return Result(row["id"], sid, "Sent", None, None, {"type": "sent", "at": at, "detail": detail}, now)
    if outcome.kind == "expired":
        error = f"The push service says the subscription is gone ({outcome.reply}); it was removed."
        return Result(
            row["id"], sid, "Expired", error, None, {"type": "expired", "at": at, "detail": detail}, now
        )
    if outcome.kind == "failed":
        return Result(
            row["id"], sid, "Failed", outcome.reply, None, {"type": "failed", "at": at, "detail": detail}, now
        )
    retry_at = now + timedelta(seconds=retry_delay(settings, row["attempts"], outcome.retry_after))
    if row["attempts"] >= MAX_ATTEMPTS or retry_at > row["created_at"] + timedelta(seconds=row["ttl"]):
        # Past its TTL the push service would drop it anyway.
        error = f"Gave up after {row['attempts']} attempts: {outcome.reply}"
        detail["gaveUp"] = True
        return Result(
            row["id"], sid, "Failed", error, None, {"type": "failed", "at": at, "detail": detail}, now
        )
    detail["retryAt"] = retry_at.isoformat()
    if outcome.retry_after is not None:
        detail["retryAfter"] = outcome.retry_after
    return Result(
        row["id"],
        sid,
        "Pending",
        outcome.reply,
        retry_at,
        {"type": "deferred", "at": at, "detail": detail},
        now,
    )


async def write_results(db: Database, worker_id: int, results: list[Result]) -> None:
    """Record a batch of outcomes; only rows still claimed by `worker_id` are written (a row recovered
    from this worker after it lost its session belongs to someone else now)."""
    document = orjson.dumps(
        [
            {
                "id": r.push_id,
                "subscription_id": r.subscription_id,
                "status": r.status,
                "error": r.error,
                "next_at": r.next_at,
                "event": r.event,
                "at": r.at,
            }
            for r in results
        ]
    ).decode()
    async with db.connection() as conn:
        await conn.execute(WRITE_RESULTS, {"results": document, "worker": worker_id})
