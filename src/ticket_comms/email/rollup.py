"""Reading the delivery dashboard's hourly rollups (migration 0013) for a period [from, to).

The whole UTC hours of the period come from the rollup tables (a few rows per hour, whatever the
volume); the partial hours at either edge come from email_logs itself, as range scans of at most an
hour each over `ix_email_logs_created_at`. Both sides are per-email contributions with the same
columns, so the sums are exact to the microsecond and equal to a COUNT over the log; the triggers keep
the rollups in the transaction of every write, so the answer is as consistent as the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

QUEUE_BUCKETS = (1, 5, 30, 60, 300, 3600)
HOUR = timedelta(hours=1)
# No email is created before year 2 or after 9998: a bound beyond them bounds nothing (and hour
# arithmetic next to year 1 or 9999 overflows), so it is moved to them, which keeps the answer exact.
EARLIEST = datetime(2, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 1, 1, tzinfo=UTC)

_HOUR_OF = "date_trunc('hour', created_at, 'UTC') AS hour"
_LE = ", ".join(
    f"coalesce(sent_at - created_at < interval '{b} seconds', false)::int AS le_{b}" for b in QUEUE_BUCKETS
)
# One email's contribution, as the trigger computes it (migration 0013's _contribution).
_EMAIL_ROW = f"""{_HOUR_OF}, status, 1 AS total,
       (events @> '[{{"type": "opened"}}]'::jsonb)::int AS opened,
       (events @> '[{{"type": "clicked"}}]'::jsonb)::int AS clicked,
       (sent_at IS NOT NULL)::int AS sent_ever, {_LE}"""
_EMAIL_COLUMNS = "hour, status, total, opened, clicked, sent_ever, " + ", ".join(
    f"le_{b}" for b in QUEUE_BUCKETS
)


@dataclass(slots=True)
class Period:
    """[lo, hi) of whole hours read from the rollup (None: unbounded; `whole` False: none), and the
    partial-hour ranges read from email_logs."""

    whole: bool
    lo: datetime | None
    hi: datetime | None
    edges: list[tuple[datetime, datetime]] = field(default_factory=list)


def _floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def split(start: datetime | None, end: datetime | None) -> Period:
    if start is not None:
        start = None if start < EARLIEST else min(start, LATEST)
    if end is not None:
        end = None if end > LATEST else max(end, EARLIEST)
    lo = None if start is None else _floor(start) + (HOUR if _floor(start) < start else timedelta(0))
    hi = None if end is None else _floor(end)
    if start is not None and end is not None and lo is not None and hi is not None and lo >= hi:
        return Period(whole=False, lo=None, hi=None, edges=[(start, end)])  # within one or two partial hours
    period = Period(whole=True, lo=lo, hi=hi)
    if start is not None and lo is not None and start < lo:
        period.edges.append((start, lo))
    if end is not None and hi is not None and hi < end:
        period.edges.append((hi, end))
    return period


def _union(
    period: Period, table: str, columns: str, email_row: str, where: str
) -> tuple[str, dict[str, Any]]:
    parts: list[str] = []
    params: dict[str, Any] = {}
    if period.whole:
        bounds = []
        if period.lo is not None:
            bounds.append("hour >= %(h_lo)s")
            params["h_lo"] = period.lo
        if period.hi is not None:
            bounds.append("hour < %(h_hi)s")
            params["h_hi"] = period.hi
        parts.append(f"SELECT {columns} FROM {table}" + (" WHERE " + " AND ".join(bounds) if bounds else ""))
    for i, (lo, hi) in enumerate(period.edges):
        parts.append(
            f"SELECT {email_row} FROM email_logs "
            f"WHERE created_at >= %(e{i}_lo)s AND created_at < %(e{i}_hi)s{where}"
        )
        params[f"e{i}_lo"], params[f"e{i}_hi"] = lo, hi
    return " UNION ALL ".join(parts), params


def email_cells(start: datetime | None, end: datetime | None) -> tuple[str, dict[str, Any]]:
    """A subquery of (hour, status, total, opened, clicked, sent_ever, le_*) rows to sum over."""
    return _union(split(start, end), "email_stats_hourly", _EMAIL_COLUMNS, _EMAIL_ROW, "")


def reason_cells(start: datetime | None, end: datetime | None) -> tuple[str, dict[str, Any]]:
    """A subquery of (reason, n) rows of the Failed and Bounced emails to sum over."""
    return _union(
        split(start, end),
        "email_failure_reasons_hourly",
        "reason, n",
        "email_failure_reason(error_message) AS reason, 1 AS n",
        " AND status IN ('Failed', 'Bounced')",
    )


def total(expr: str, name: str, status: str | None = None) -> str:
    """A sum over the cells as a bigint (0 when there are none), of one status's cells if given."""
    only = f" FILTER (WHERE status = '{status}')" if status else ""
    return f"coalesce(sum({expr}){only}, 0)::bigint AS {name}"
