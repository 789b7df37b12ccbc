"""`ticket-comms worker` killed with SIGKILL in the middle of a batch, then restarted: every email is sent,
none is lost, and only emails whose SMTP transaction was in flight at the kill arrive twice, with the same
Message-ID."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tests.conftest import make_settings, start_app
from tests.email.support import Sink
from ticket_comms.email.transports import parse_smtp_url

EMAILS = 600


def start_worker(database_url: str, sink: Sink, data_dir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SMTP_URL": sink.url,
        "DATA_DIR": str(data_dir),
        "JWT_SECRET": "test-secret-" + "x" * 40,
        "EMAIL_FROM": "Tickets <no-reply@tickets.test>",
        "LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).parent / "ticket-comms"), "worker"]
    with open(data_dir / "worker.log", "ab") as log:
        return subprocess.Popen(command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT)


async def count_sent(database_url: str) -> int:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        cur = await conn.execute("SELECT count(*) FROM email_logs WHERE status = 'Sent'")
        row = await cur.fetchone()
        return row[0] if row else 0


@pytest.fixture
async def crash_sink():
    server = Sink(data_delay=0.03)
    await server.start()
    yield server
    await server.stop()


async def test_sigkill_mid_batch_then_restart_loses_nothing(database_url, tmp_path, crash_sink: Sink):
    sink = crash_sink
    app = await start_app(
        make_settings(
            database_url,
            tmp_path / "app",
            worker="off",
            smtp_url=sink.url,
            email_from="Tickets <no-reply@tickets.test>",
        )
    )
    worker: subprocess.Popen | None = None
    try:
        users = [f"user{i:04d}" for i in range(EMAILS)]
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            await conn.execute(
                "INSERT INTO users (id, email, name) SELECT u, u || '@example.com', u FROM unnest(%s::text[]) u",
                (users,),
            )
        async with app.client("billing", "service") as service:
            r = await service.post(
                "/api/v1/events",
                json={"type": "PaymentReceived", "recipientIds": users, "data": {"payment": {"amount": 12}}},
            )
            assert r.status_code == 202, r.text
        assert await count_sent(database_url) == 0  # nothing runs the outbox yet (WORKER=off)

        worker = start_worker(database_url, sink, tmp_path)
        await sink.wait_for(100, timeout=60)
        worker.send_signal(signal.SIGKILL)
        await asyncio.to_thread(worker.wait, 10)
        killed_at = time.monotonic()
        before_kill = len(sink.messages)
        sent_at_kill = await count_sent(database_url)
        assert before_kill < EMAILS and sent_at_kill < EMAILS, "the kill came too late to be mid-batch"
        await asyncio.sleep(0.5)
        assert len(sink.messages) == before_kill  # the worker is really gone

        worker = start_worker(database_url, sink, tmp_path)
        deadline = time.monotonic() + 90
        while await count_sent(database_url) < EMAILS:
            assert time.monotonic() < deadline, f"only {await count_sent(database_url)} of {EMAILS} sent"
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            await asyncio.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        # Waiting in a thread: the SMTP server answering the worker's QUIT runs on this event loop.
        assert await asyncio.to_thread(worker.wait, 30) == 0, (tmp_path / "worker.log").read_text()
        worker = None

        # Each caught email parsed once: parsing 600 emails per lookup made this loop minutes long under load.
        arrivals = [(m.header("Message-ID"), m.at) for m in sink.messages]
        received = Counter(mid for mid, _ in arrivals)
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            cur = await conn.execute("SELECT message_id, attempts, events FROM email_logs")
            logs = await cur.fetchall()
        assert len(logs) == EMAILS
        assert {row[0] for row in logs} == set(received)  # every email arrived, none is missing
        repeats = {mid for mid, n in received.items() if n > 1}
        assert all(n <= 2 for n in received.values())
        # Only SMTP transactions in flight at the kill can repeat: at most one per pooled connection,
        # and their first copy arrived before the kill.
        assert len(repeats) <= parse_smtp_url(sink.url).pool_size
        for mid in repeats:
            first = min(at for m, at in arrivals if m == mid)
            assert first <= killed_at
        # The emails the killed worker held were taken back and retried, visibly in their timelines.
        recovered = [row for row in logs if any(e["type"] == "recovered" for e in row[2])]
        assert recovered and all(row[1] == 2 for row in recovered)
        assert len(sink.messages) == EMAILS + len(repeats)
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
            worker.wait()
        await app.stop()
