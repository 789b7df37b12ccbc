"""The delivery dashboard's insights: rates, the most common failure reasons (addresses taken out),
the queue-time histogram and the slowest sends, for a period; admins only; bad ranges are 422."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tests.email.support import Mail

COMPLETED = {
    "ticket": {"id": "7", "title": "Leaking tap", "status": "Completed", "url": "https://t.example.com/t/7"},
    "actor": {"name": "Bob"},
}


async def test_insights_count_rates_reasons_and_slowest(mail: Mail) -> None:
    await mail.users("carol", "dave", "erin")
    for who in ("dave@example.com", "erin@example.com"):
        mail.sink.script(who, f"550 5.1.1 <{who}>: Recipient address rejected")
    r = await mail.service.post(
        "/api/v1/events",
        json={"type": "TicketCompleted", "recipientIds": ["carol", "dave", "erin"], "data": COMPLETED},
    )
    assert r.status_code == 202, r.text
    await mail.settled(3)
    admin = mail.admin
    r = await admin.get("/api/v1/email/stats/insights")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rates"]["failure"] == round(2 / 3, 4)
    assert body["rates"]["delivery"] == 0.0 and body["rates"]["bounce"] == 0.0  # 1 sent, none reported yet
    # One reason for both recipients: the addresses are taken out of the reply.
    assert body["topFailures"] == [{"reason": "550 5.1.1 <address>: Recipient address rejected", "count": 2}]
    assert sum(b["count"] for b in body["queueToSent"]) == 1
    assert body["queueToSentP50Under"] is not None
    [slowest] = body["slowest"]
    assert slowest["recipientEmail"] == "carol@example.com" and slowest["seconds"] >= 0

    # A period without emails has no rates, and the stats agree with the counts endpoint.
    empty = (await admin.get("/api/v1/email/stats/insights", params={"to": "2020-01-01T00:00:00Z"})).json()
    assert empty["rates"] == {"delivery": None, "bounce": None, "complaint": None, "failure": None}
    assert empty["topFailures"] == [] and empty["slowest"] == [] and empty["queueToSentP50Under"] is None


async def test_insights_refuse_bad_ranges_and_members(mail: Mail) -> None:
    admin = mail.admin
    bad = await admin.get(
        "/api/v1/email/stats/insights", params={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    )
    assert bad.status_code == 422
    assert (
        await admin.get("/api/v1/email/stats/insights", params={"from": "2026-01-01T00:00:00"})
    ).status_code == 422
    assert (await admin.get("/api/v1/email/stats/insights", params={"from": "soon"})).status_code == 422
    assert (await mail.client("carol").get("/api/v1/email/stats/insights")).status_code == 403


async def test_daily_stats_over_a_far_off_range_list_only_days_with_emails(mail: Mail) -> None:
    await mail.users("carol")
    r = await mail.service.post(
        "/api/v1/events", json={"type": "TicketCompleted", "recipientIds": ["carol"], "data": COMPLETED}
    )
    assert r.status_code == 202, r.text
    await mail.settled(1)
    params = {"from": "0001-01-01T00:00:00Z", "to": "9999-01-01T00:00:00Z", "daily": "true"}
    body = (await mail.admin.get("/api/v1/email/stats", params=params)).json()
    assert body["total"] == 1 and len(body["daily"]) == 1 and body["daily"][0]["total"] == 1
    none = (
        await mail.admin.get("/api/v1/email/stats", params={**params, "to": "0002-01-01T00:00:00Z"})
    ).json()
    assert none["total"] == 0 and none["daily"] == []
    # Bounds next to year 1 and 9999 in other offsets (hour arithmetic there would overflow).
    edge = {"from": "0001-01-01T00:00:00+05:00", "to": "9999-12-31T23:59:59-05:00"}
    for path in ("/api/v1/email/stats", "/api/v1/email/stats/insights"):
        r = await mail.admin.get(path, params=edge)
        assert r.status_code == 200, r.text
    assert (await mail.admin.get("/api/v1/email/stats", params=edge)).json()["total"] == 1


# The hourly rollups (migration 0013, email/rollup.py) against a straight COUNT over email_logs.

BASE = datetime(2025, 3, 10, 22, 0, tzinfo=UTC)  # two UTC days, hour edges every 60 minutes
SEED = """
INSERT INTO email_logs (id, template_name, recipient_email, status, message_id, error_message, sent_at,
                        created_at, events)
SELECT gen_random_uuid(), 'TicketCreated', 'u' || i || '@example.com',
       (ARRAY['Pending','Sent','Delivered','Bounced','Failed'])[1 + i %% 5], %(tag)s || i,
       CASE WHEN i %% 5 IN (3, 4) THEN '550 <u' || i || '@example.com> rejected (' || (i %% 2) || ')' END,
       CASE WHEN i %% 5 > 0 THEN %(base)s::timestamptz + i * interval '7 minutes' + (i %% 7) * interval '9 seconds' END,
       %(base)s::timestamptz + i * interval '7 minutes',
       CASE WHEN i %% 3 = 0 THEN '[{"type": "opened"}]'::jsonb ELSE '[]'::jsonb END
FROM generate_series(%(first)s::int, %(last)s::int) AS i
"""
STRAIGHT = """
SELECT count(*) AS total, count(*) FILTER (WHERE status = 'Pending') AS pending,
       count(*) FILTER (WHERE status = 'Sent') AS sent, count(*) FILTER (WHERE status = 'Delivered') AS delivered,
       count(*) FILTER (WHERE status = 'Bounced') AS bounced, count(*) FILTER (WHERE status = 'Failed') AS failed,
       count(*) FILTER (WHERE events @> '[{"type": "opened"}]') AS opened,
       count(*) FILTER (WHERE events @> '[{"type": "clicked"}]') AS clicked,
       count(*) FILTER (WHERE sent_at - created_at < interval '30 seconds') AS under_30,
       count(*) FILTER (WHERE sent_at - created_at >= interval '60 seconds') AS over_60
FROM email_logs WHERE created_at >= %(start)s AND created_at < %(end)s
"""
STRAIGHT_DAILY = """
SELECT (created_at AT TIME ZONE 'UTC')::date::text AS date, count(*) AS total FROM email_logs
WHERE created_at >= %(start)s AND created_at < %(end)s GROUP BY 1 ORDER BY 1
"""
STRAIGHT_REASONS = """
SELECT regexp_replace(coalesce(error_message, '(no reply recorded)'), '<[^>]*>', '<address>', 'g') AS reason, count(*) AS count FROM email_logs
WHERE status IN ('Failed', 'Bounced') AND created_at >= %(start)s AND created_at < %(end)s
GROUP BY 1 ORDER BY 2 DESC, 1
"""
PERIODS = [
    (BASE - timedelta(days=1), BASE + timedelta(days=2)),  # everything, whole hours
    (BASE + timedelta(minutes=13), BASE + timedelta(hours=3, minutes=1)),  # partial hours at both edges
    (BASE + timedelta(minutes=10), BASE + timedelta(minutes=50)),  # within one hour
    (BASE + timedelta(minutes=50), BASE + timedelta(hours=1, minutes=20)),  # across one hour edge only
    (BASE + timedelta(hours=1), BASE + timedelta(hours=1)),  # empty
]


async def _agrees_with_the_log(mail: Mail, conn: Any) -> None:
    for start, end in PERIODS:
        for offset in (timedelta(0), timedelta(hours=5, minutes=30)):  # the same instants, written in +05:30
            tz = timezone(offset)
            params = {"from": start.astimezone(tz).isoformat(), "to": end.astimezone(tz).isoformat()}
            want = (await (await conn.execute(STRAIGHT, {"start": start, "end": end})).fetchone()) or {}
            got = (await mail.admin.get("/api/v1/email/stats", params={**params, "daily": "true"})).json()
            for key in ("total", "pending", "sent", "delivered", "bounced", "failed", "opened", "clicked"):
                assert got[key] == want[key], (start, end, key)
            daily = await (await conn.execute(STRAIGHT_DAILY, {"start": start, "end": end})).fetchall()
            assert [(d["date"], d["total"]) for d in got["daily"]] == [(d["date"], d["total"]) for d in daily]
            insights = (await mail.admin.get("/api/v1/email/stats/insights", params=params)).json()
            buckets = {b["underSeconds"]: b["count"] for b in insights["queueToSent"]}
            assert buckets[1] + buckets[5] + buckets[30] == want["under_30"], (start, end)
            assert sum(buckets[b] for b in (300, 3600, None)) == want["over_60"], (start, end)
            reasons = await (await conn.execute(STRAIGHT_REASONS, {"start": start, "end": end})).fetchall()
            assert insights["topFailures"] == [dict(r) for r in reasons][:5], (start, end)


async def test_rollup_answers_equal_a_straight_count_through_inserts_updates_and_deletes(mail: Mail) -> None:
    url = mail.app.settings.database_url
    # Writers on different connections (so different shards), as the workers are.
    async with (
        await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=dict_row) as conn,
        await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=dict_row) as other,
    ):
        await conn.execute(SEED, {"tag": "a", "base": BASE, "first": 0, "last": 59})
        await other.execute(SEED, {"tag": "b", "base": BASE, "first": 60, "last": 80})
        await _agrees_with_the_log(mail, conn)
        # Status changes in one statement (a worker's group commit), a slow send, an open and a click.
        await other.execute(
            "UPDATE email_logs SET status = 'Failed', error_message = '421 <x@y.z> try later', sent_at = NULL "
            "WHERE status = 'Pending' AND message_id <> 'a0'"
        )
        await conn.execute(
            "UPDATE email_logs SET status = 'Sent', sent_at = created_at + interval '2 minutes' WHERE message_id = 'a0'"
        )
        await conn.execute(
            "UPDATE email_logs SET events = events || '[{\"type\": \"clicked\"}]'::jsonb WHERE message_id LIKE 'b%'"
        )
        await other.execute("UPDATE email_logs SET attempts = attempts + 1")  # counts nothing: writes nothing
        # A change of created_at moves an email to another hour and day.
        await conn.execute(
            "UPDATE email_logs SET created_at = created_at + interval '1 day' WHERE message_id = 'a7'"
        )
        # A rolled-back change leaves the rollup as it was.
        async with conn.transaction(force_rollback=True):
            await conn.execute("UPDATE email_logs SET status = 'Delivered'")
            await conn.execute("DELETE FROM email_logs")
        await _agrees_with_the_log(mail, conn)
        # A retention sweep deletes the oldest emails.
        await other.execute(
            "DELETE FROM email_logs WHERE created_at < %s", (BASE + timedelta(hours=2, minutes=5),)
        )
        # The hours it emptied keep no rollup rows (the shards folded, the zeros dropped).
        for table in ("email_stats_hourly", "email_failure_reasons_hourly"):
            left = await (
                await conn.execute(
                    f"SELECT count(*) AS n FROM {table} WHERE hour < %s", (BASE + timedelta(hours=2),)
                )
            ).fetchone()
            assert left == {"n": 0}, table
        await conn.execute(SEED, {"tag": "c", "base": BASE, "first": 81, "last": 90})
        await _agrees_with_the_log(mail, conn)
        # Every rollup row sums to what the log holds, whichever shard wrote it.
        drift = await (
            await conn.execute("""
            SELECT hour, status FROM (
                SELECT hour, status, sum(total) AS n FROM email_stats_hourly GROUP BY 1, 2
                UNION ALL
                SELECT date_trunc('hour', created_at, 'UTC'), status, -count(*) FROM email_logs GROUP BY 1, 2) d
            GROUP BY 1, 2 HAVING sum(n) <> 0""")
        ).fetchall()
        assert drift == []
        shards = await (
            await conn.execute("SELECT count(DISTINCT shard) AS n FROM email_stats_hourly")
        ).fetchone()
        assert shards is not None and shards["n"] >= 1
        await conn.execute("TRUNCATE email_logs CASCADE")
        empty = await (await conn.execute("SELECT count(*) AS n FROM email_stats_hourly")).fetchone()
        assert empty == {"n": 0}


async def test_concurrent_writers_of_the_same_hours_neither_deadlock_nor_drift(mail: Mail) -> None:
    """Workers committing batches of their own emails (as claimed) for the same hours at once, and a
    delete among them: only the rollup rows are shared."""
    url = mail.app.settings.database_url
    async with await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=dict_row) as conn:
        await conn.execute(SEED, {"tag": "s", "base": BASE, "first": 0, "last": 199})

    async def writer(n: int) -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as own:
            for round_ in range(8):
                statuses = ("Sent", "Delivered", "Failed", "Bounced")
                await own.execute(
                    "UPDATE email_logs SET status = %s, sent_at = coalesce(sent_at, now()) "
                    "WHERE substr(message_id, 2)::int %% 6 = %s AND (substr(message_id, 2)::int + %s) %% 2 = 0",
                    (statuses[(n + round_) % 4], n, round_),
                )
                if n == 0 and round_ == 4:
                    await own.execute(
                        "DELETE FROM email_logs WHERE created_at < %s", (BASE + timedelta(hours=1),)
                    )

    await asyncio.gather(*(writer(n) for n in range(6)))
    async with await psycopg.AsyncConnection.connect(url, autocommit=True, row_factory=dict_row) as conn:
        await _agrees_with_the_log(mail, conn)
