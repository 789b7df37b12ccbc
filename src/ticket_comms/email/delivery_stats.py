"""The delivery dashboard's figures beyond the counts (logs.stats): rates, the most common failure
reasons, and the slowest emails from queued to sent, for the emails created in [from, to).

All of it is SQL over indexed columns, in one connection:
- counts and a queue-time histogram summed over the hourly rollup (email/rollup.py: whole hours from
  `email_stats_hourly`, the partial edge hours from email_logs), exact and kept by triggers;
- failure reasons from `email_failure_reasons_hourly` the same way, grouped by `email_failure_reason`
  (addresses taken out of the server replies), so one reason is one line and not one per recipient;
- the slowest sends read in queue-time order from `ix_email_logs_queue_time`, stopping at the first
  few of the period;
- complaints from the suppressions they caused (a small table), joined to the period's emails.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ticket_comms.context import AppContext
from ticket_comms.email.rollup import QUEUE_BUCKETS, email_cells, reason_cells, total
from ticket_comms.wire import iso

TOP_REASONS = 5
SLOWEST = 5
# A reason is cut at 160 characters by email_failure_reason() (migration 0013).

# Queue-time buckets (upper bounds in seconds; the last is open): counted per hour in the rollup
# (cumulative le_* columns), where an exact percentile would sort every email of the period.
BUCKETS = QUEUE_BUCKETS
PASS_SUMS = ", ".join(
    [
        total("total", "total"),
        total("total", "delivered", "Delivered"),
        total("total", "bounced", "Bounced"),
        total("total", "failed", "Failed"),
        total("sent_ever", "sent_ever"),
        *[total(f"le_{b}", f"le_{b}") for b in BUCKETS],
    ]
)
REASONS = f"""
SELECT reason, sum(n)::bigint AS count FROM ({{cells}}) c
GROUP BY 1 HAVING sum(n) > 0 ORDER BY 2 DESC, 1 LIMIT {TOP_REASONS}
"""

SLOW = f"""
SELECT id, template_name, recipient_email, created_at, sent_at
FROM email_logs
WHERE sent_at IS NOT NULL
  AND (%(start)s::timestamptz IS NULL OR created_at >= %(start)s)
  AND (%(end)s::timestamptz IS NULL OR created_at < %(end)s)
ORDER BY sent_at - created_at DESC LIMIT {SLOWEST}
"""

COMPLAINTS = """
SELECT count(*) AS n FROM email_suppressions s JOIN email_logs l ON l.id = s.email_log_id
WHERE s.reason = 'Complaint'
  AND (%(start)s::timestamptz IS NULL OR l.created_at >= %(start)s)
  AND (%(end)s::timestamptz IS NULL OR l.created_at < %(end)s)
"""


class FailureReason(BaseModel):
    reason: str = Field(description="The server's reply or diagnostic, addresses replaced by <address>")
    count: int


class SlowEmail(BaseModel):
    id: str
    templateName: str
    recipientEmail: str
    queuedAt: str
    sentAt: str
    seconds: float


class DeliveryRates(BaseModel):
    """Shares of the emails the mail server accepted (ever sent), 0..1; null when none was sent."""

    delivery: float | None
    bounce: float | None
    complaint: float | None
    failure: float | None = Field(description="Failed emails as a share of all emails of the period")


class QueueBucket(BaseModel):
    underSeconds: int | None = Field(description="The bucket's upper bound; null: the rest (slower)")
    count: int


class DeliveryInsights(BaseModel):
    rates: DeliveryRates
    complaints: int
    queueToSent: list[QueueBucket] = Field(description="How long sent emails waited from queued to sent")
    queueToSentP50Under: int | None = Field(description="Half the sent emails waited less than this (s)")
    queueToSentP95Under: int | None = Field(description="95% of the sent emails waited less than this (s)")
    topFailures: list[FailureReason]
    slowest: list[SlowEmail]


def _buckets(row: dict[str, Any]) -> list[QueueBucket]:
    out, below = [], 0
    for bound in BUCKETS:
        cumulative = row[f"le_{bound}"]
        out.append(QueueBucket(underSeconds=bound, count=cumulative - below))
        below = cumulative
    out.append(QueueBucket(underSeconds=None, count=row["sent_ever"] - below))
    return out


def _under(buckets: list[QueueBucket], sent: int, share: float) -> int | None:
    """The smallest bucket bound under which `share` of the sent emails fall (None: slower than all)."""
    seen = 0
    for bucket in buckets:
        seen += bucket.count
        if sent and seen >= share * sent:
            return bucket.underSeconds
    return None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def insights(ctx: AppContext, *, start: datetime | None, end: datetime | None) -> DeliveryInsights:
    params = {"start": start, "end": end}
    cells, cell_params = email_cells(start, end)
    reason_sql, reason_params = reason_cells(start, end)
    async with ctx.db.connection() as conn:
        row = await (await conn.execute(f"SELECT {PASS_SUMS} FROM ({cells}) c", cell_params)).fetchone()
        reasons = await (await conn.execute(REASONS.format(cells=reason_sql), reason_params)).fetchall()
        slow = await (await conn.execute(SLOW, params)).fetchall()
        complaint_row = await (await conn.execute(COMPLAINTS, params)).fetchone()
    assert row is not None and complaint_row is not None
    sent, complaints = row["sent_ever"], complaint_row["n"]
    buckets = _buckets(row)
    return DeliveryInsights(
        rates=DeliveryRates(
            delivery=_ratio(row["delivered"], sent),
            bounce=_ratio(row["bounced"], sent),
            complaint=_ratio(complaints, sent),
            failure=_ratio(row["failed"], row["total"]),
        ),
        complaints=complaints,
        queueToSent=buckets,
        queueToSentP50Under=_under(buckets, sent, 0.5),
        queueToSentP95Under=_under(buckets, sent, 0.95),
        topFailures=[FailureReason(reason=r["reason"], count=r["count"]) for r in reasons],
        slowest=[
            SlowEmail(
                id=str(r["id"]),
                templateName=r["template_name"],
                recipientEmail=r["recipient_email"],
                queuedAt=iso(r["created_at"]) or "",
                sentAt=iso(r["sent_at"]) or "",
                seconds=round((r["sent_at"] - r["created_at"]).total_seconds(), 3),
            )
            for r in slow
        ],
    )
