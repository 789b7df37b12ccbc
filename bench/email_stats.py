"""The delivery dashboard's SQL over 1,000,000 emails in one period: the counts by status (with the
per-day series) and the insights (rates, top failure reasons, slowest queued->sent), timed as the
service runs them (`logs.stats`, `delivery_stats.insights`), in this process, against a real PostgreSQL.

Seeds 1,000,000 email log rows over 30 days (statuses and failure replies in realistic shares; the
rollup triggers of migration 0013 fill the hourly rollups as the rows go in), then VACUUM ANALYZE (as
autovacuum would), then times each call 20 times: over the whole hours of the 30 days, and over a
period starting and ending mid-hour (the edge hours read from email_logs). `exact` checks the counts
against a straight COUNT over email_logs. Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import psycopg

from bench.common import database, percentiles
from ticket_comms.database import Database
from ticket_comms.email import delivery_stats, logs

ROWS = 1_000_000
RUNS = 20

SEED = """
INSERT INTO email_logs (id, template_name, recipient_email, status, attempts, message_id, error_message,
                        sent_at, delivered_at, created_at, updated_at)
SELECT gen_random_uuid(), (ARRAY['TicketCreated','TicketAssigned','MessageReceived','OTPRequested'])[1 + i %% 4],
       'user' || (i %% 50000) || '@example.com',
       s.status, 1, '<' || i || '@bench.test>',
       CASE s.status WHEN 'Failed' THEN '550 5.1.1 <user' || (i %% 50000) || '@example.com>: Recipient address rejected'
                     WHEN 'Bounced' THEN (ARRAY['smtp; 550 5.1.1 mailbox unavailable', 'smtp; 552 mailbox full'])[1 + i %% 2]
       END,
       CASE WHEN s.status <> 'Pending' THEN c.at + (random() * interval '3 seconds') END,
       CASE WHEN s.status = 'Delivered' THEN c.at + interval '10 seconds' END,
       c.at, c.at
FROM generate_series(1, %(rows)s) AS i,
LATERAL (SELECT %(start)s::timestamptz + (i::float / %(rows)s) * interval '30 days' AS at) c,
LATERAL (SELECT CASE WHEN i %% 100 < 80 THEN 'Delivered' WHEN i %% 100 < 93 THEN 'Sent'
                     WHEN i %% 100 < 96 THEN 'Bounced' WHEN i %% 100 < 99 THEN 'Failed' ELSE 'Pending' END AS status) s
"""


STRAIGHT = """
SELECT count(*) AS total, count(*) FILTER (WHERE status = 'Pending') AS pending,
       count(*) FILTER (WHERE status = 'Sent') AS sent, count(*) FILTER (WHERE status = 'Delivered') AS delivered,
       count(*) FILTER (WHERE status = 'Bounced') AS bounced, count(*) FILTER (WHERE status = 'Failed') AS failed
FROM email_logs WHERE created_at >= %(start)s AND created_at < %(end)s
"""


# The write cost of the rollup triggers: a worker's group commit of 100 results (Pending -> Sent) in one
# UPDATE, with the triggers and without them (session_replication_role = replica skips them), rolled back.
BATCH = """
UPDATE email_logs SET status = 'Sent', sent_at = now(), updated_at = now(),
       events = events || '[{"type": "sent"}]'::jsonb
WHERE id IN (SELECT id FROM email_logs WHERE status = 'Pending' ORDER BY created_at DESC LIMIT 100)
"""


def _write_cost(url: str) -> dict[str, dict[str, float]]:
    out: dict[str, list[float]] = {"with_rollup": [], "without": []}
    with psycopg.connect(url) as conn:
        for _ in range(RUNS):
            for name in out:
                if name == "without":
                    conn.execute("SET LOCAL session_replication_role = replica")
                t0 = time.perf_counter()
                conn.execute(BATCH)
                out[name].append((time.perf_counter() - t0) * 1000)
                conn.rollback()
    return {name: percentiles(samples) for name, samples in out.items()}


async def _time(call: Any) -> dict[str, float]:
    samples = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - t0) * 1000)
    return percentiles(samples)


async def run() -> dict[str, Any]:
    url = database("bench_email_stats")
    start = datetime(2026, 10, 1, tzinfo=UTC)
    end = start + timedelta(days=30)
    mid_start, mid_end = start + timedelta(minutes=17, seconds=3), end - timedelta(minutes=41)
    with psycopg.connect(url, autocommit=True) as conn:
        count = conn.execute("SELECT count(*) FROM email_logs").fetchone()
        if not count or count[0] != ROWS:
            conn.execute("TRUNCATE email_logs CASCADE")
            t0 = time.perf_counter()
            conn.execute(SEED, {"rows": ROWS, "start": start})
            seeded_s = round(time.perf_counter() - t0, 1)
            conn.execute("VACUUM ANALYZE email_logs")
        else:
            seeded_s = 0.0
    db = Database(url)
    await db.open()
    ctx: Any = SimpleNamespace(db=db)
    try:
        result = {
            "rows": ROWS,
            "seeded_seconds": seeded_s,
            "counts_ms": await _time(lambda: logs.stats(ctx, start=start, end=end, daily=False)),
            "counts_daily_ms": await _time(lambda: logs.stats(ctx, start=start, end=end, daily=True)),
            "insights_ms": await _time(lambda: delivery_stats.insights(ctx, start=start, end=end)),
            "insights_7d_ms": await _time(
                lambda: delivery_stats.insights(ctx, start=end - timedelta(days=7), end=end)
            ),
            "counts_daily_mid_hour_ms": await _time(
                lambda: logs.stats(ctx, start=mid_start, end=mid_end, daily=True)
            ),
            "insights_mid_hour_ms": await _time(
                lambda: delivery_stats.insights(ctx, start=mid_start, end=mid_end)
            ),
        }
        got = await logs.stats(ctx, start=mid_start, end=mid_end, daily=False)
        async with db.connection() as conn:
            want = await (await conn.execute(STRAIGHT, {"start": mid_start, "end": mid_end})).fetchone()
        assert want is not None
        result["exact"] = all(got[k] == want[k] for k in want)
        result["update_100_ms"] = _write_cost(url)
        sample = await delivery_stats.insights(ctx, start=start, end=end)
        result["sample"] = sample.model_dump(exclude={"slowest"})
    finally:
        await db.close()
    return result


def main() -> None:
    print(json.dumps(asyncio.run(run())), flush=True)


if __name__ == "__main__":
    main()
