"""`ticket-comms push-worker` killed with SIGKILL in the middle of a batch, then restarted: every push
arrives, none is lost, and only pushes whose HTTP request was in flight at the kill arrive twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tests.conftest import make_settings, start_app
from tests.push.service import PushService
from ticket_comms import claim_loop
from ticket_comms.push import outbox, sender

PUSHES = 600


def start_worker(database_url: str, data_dir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        # The app's DATA_DIR: the same generated VAPID key signs for both.
        "DATA_DIR": str(data_dir),
        "JWT_SECRET": "test-secret-" + "x" * 40,
        "LOG_LEVEL": "WARNING",
        # A push answered after a timeout is retried and so arrives twice; that is not what this test
        # is about, and the push service here shares a busy machine: give it all the time it needs.
        "PUSH_TIMEOUT_SECONDS": "60",
    }
    command = [str(Path(sys.executable).parent / "ticket-comms"), "push-worker"]
    with open(data_dir / "push-worker.log", "ab") as log:
        return subprocess.Popen(command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT)


async def count_sent(database_url: str) -> int:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT count(*) FROM push_outbox WHERE status = 'Sent'")
        row = await cur.fetchone()
        return row[0] if row else 0


@pytest.fixture
async def slow_service():
    service = PushService(delay=0.05)
    await service.start()
    yield service
    await service.stop()


async def test_sigkill_mid_batch_then_restart_loses_nothing(
    database_url, tmp_path, slow_service: PushService
):
    service = slow_service
    data_dir = tmp_path / "app"
    app = await start_app(make_settings(database_url, data_dir, worker="off"))
    process: subprocess.Popen | None = None
    try:
        async with app.client("probe") as c:
            service.vapid_key = (await c.get("/api/v1/push/public-key")).json()["publicKey"]
        users = [f"user{i:04d}" for i in range(PUSHES)]
        subs = [service.subscriber() for _ in users]
        async with app.ctx.db.transaction() as conn:
            await conn.execute("INSERT INTO users (id, name) SELECT u, u FROM unnest(%s::text[]) u", (users,))
            await conn.execute(
                "INSERT INTO push_subscriptions (user_id, endpoint, origin, p256dh, auth) "
                "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[])",
                (
                    users,
                    [s.endpoint for s in subs],
                    [service.origin] * PUSHES,
                    [s.subscription_json()["keys"]["p256dh"] for s in subs],
                    [s.subscription_json()["keys"]["auth"] for s in subs],
                ),
            )
            queued = await outbox.enqueue(
                conn,
                [
                    outbox.for_notification(
                        u, id=uuid.uuid4(), type="PaymentReceived", title="Paid", body="", ticket_id=None
                    )
                    for u in users
                ],
            )
        assert sum(len(v) for v in queued.values()) == PUSHES
        assert await count_sent(database_url) == 0  # nothing runs the outbox yet (WORKER=off)

        process = start_worker(database_url, data_dir)
        await service.wait_for(100, timeout=60)
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait, 10)
        killed_at = time.monotonic()
        before_kill = len(service.requests)
        assert before_kill < PUSHES and await count_sent(database_url) < PUSHES, "the kill came too late"
        await asyncio.sleep(0.5)
        assert len(service.requests) == before_kill  # the worker is really gone

        process = start_worker(database_url, data_dir)
        deadline = time.monotonic() + 90
        while await count_sent(database_url) < PUSHES:
            assert time.monotonic() < deadline, f"only {await count_sent(database_url)} of {PUSHES} sent"
            assert process.poll() is None, (data_dir / "push-worker.log").read_text()
            await asyncio.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 30) == 0, (data_dir / "push-worker.log").read_text()
        process = None

        assert service.rejected == []
        arrived = Counter(r.payload["id"] for r in service.received)
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            cur = await conn.execute("SELECT payload->>'id', attempts, events FROM push_outbox")
            rows = await cur.fetchall()
        assert len(rows) == PUSHES
        assert {row[0] for row in rows} == set(arrived)  # every push arrived, none is missing
        repeats = {pid for pid, n in arrived.items() if n > 1}
        assert all(n <= 2 for n in arrived.values())
        # The pushes the killed worker held were taken back and retried, visibly in their timelines;
        # it never holds more than one origin's share of pushes plus one claimed batch.
        recovered = {row[0] for row in rows if any(e["type"] == "recovered" for e in row[2])}
        assert recovered and all(row[1] == 2 for row in rows if row[0] in recovered)
        assert len(recovered) <= sender.PER_ORIGIN_IN_HAND + claim_loop.CLAIM_BATCH
        # Only those can repeat (sent before the kill, result not yet recorded), and their first copy
        # reached the push service before the kill.
        assert repeats <= recovered, [
            [(e["type"], e["detail"]) for e in row[2]] for row in rows if row[0] in repeats - recovered
        ]
        for pid in repeats:
            assert min(r.at for r in service.received if r.payload["id"] == pid) <= killed_at
        assert len(service.received) == PUSHES + len(repeats)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        await app.stop()
