"""Web Push throughput from ONE `ticket-comms push-worker` process to a local push endpoint: each push
encrypted (aes128gcm, a fresh ECDH key per push), VAPID-signed, POSTed over HTTP, its result persisted.

Processes (all on this machine): the push worker; a push endpoint (aiohttp, its own process) that
answers 201 and counts arrivals; PostgreSQL (embedded, or DATABASE_URL's). SUBSCRIBERS users have one
subscription each at the endpoint; PUSHES pushes are queued in one transaction while the worker idles,
and the clock runs from that commit until every push is `Sent` in the database.

Prints one JSON object: pushes/s, the queue->arrival latency percentiles, and the worker's CPU seconds
per 1,000 pushes. `python -m bench.push_throughput` (PUSHES, SUBSCRIBERS environment variables override;
PROFILE=file.prof runs the worker under cProfile).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bench.common import JWT_SECRET, database, free_port, percentiles
from bench.email_throughput import cpu_seconds, machine_cpu
from ticket_comms.push import outbox

PUSHES = int(os.environ.get("PUSHES", "10000"))
SUBSCRIBERS = int(os.environ.get("SUBSCRIBERS", "1000"))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ---------------------------------------------------------------------------------------------
# The push endpoint (runs as `python -m bench.push_throughput --endpoint PORT OUT`)


def run_endpoint(port: int, out: str) -> None:
    from aiohttp import web

    arrivals: list[float] = []

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        arrivals.append(time.time())
        return web.Response(status=201)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/push/{token}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await stop.wait()
        await runner.cleanup()
        Path(out).write_text(json.dumps(arrivals))

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


# ---------------------------------------------------------------------------------------------
# The driver


def setup(url: str, endpoint_base: str) -> list[str]:
    users = [f"pushbench{i:05d}" for i in range(SUBSCRIBERS)]
    keys = [
        b64(
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        )
        for _ in users
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE push_outbox, push_subscriptions, push_message_schedules")
        conn.execute("DELETE FROM users WHERE id LIKE 'pushbench%'")
        conn.execute("INSERT INTO users (id, name) SELECT u, u FROM unnest(%s::text[]) u", (users,))
        conn.execute(
            "INSERT INTO push_subscriptions (user_id, endpoint, origin, p256dh, auth) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[])",
            (
                users,
                [f"{endpoint_base}/push/{u}" for u in users],
                [endpoint_base] * len(users),
                keys,
                [b64(os.urandom(16)) for _ in users],
            ),
        )
    return users


async def enqueue_all(url: str, users: list[str]) -> float:
    """Queue PUSHES pushes (round-robin over the users) in one transaction; returns its commit time."""
    async with await psycopg.AsyncConnection.connect(url, row_factory=psycopg.rows.dict_row) as conn:
        async with conn.transaction():
            for start in range(0, PUSHES, 1000):
                items = [
                    outbox.for_notification(
                        users[i % len(users)],
                        id=uuid.uuid4(),
                        type="TicketStatusChanged",
                        title="Ticket status changed",
                        body="Boiler repair moved from Open to In progress by Sam.",
                        ticket_id=None,
                    )
                    for i in range(start, min(PUSHES, start + 1000))
                ]
                for item in items:
                    item.topic = uuid.uuid4().hex  # a Topic as a ticket's push has (no ticket rows here)
                await outbox.enqueue(conn, items)
        return time.time()


def count_sent(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM push_outbox WHERE status = 'Sent'").fetchone()
        return int(row[0]) if row else 0


def main() -> None:
    url = database("bench_push")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    users = setup(url, base)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "arrivals.json")
        endpoint = subprocess.Popen(
            [sys.executable, "-m", "bench.push_throughput", "--endpoint", str(port), out],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert endpoint.stdout is not None and endpoint.stdout.readline().strip() == "ready"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DATA_DIR": tmp,
            "JWT_SECRET": JWT_SECRET,
            "VAPID_PRIVATE_KEY": pem,
            "VAPID_SUBJECT": "mailto:ops@example.com",
            "LOG_LEVEL": "WARNING",
        }
        command = [str(Path(sys.executable).parent / "ticket-comms"), "push-worker"]
        if os.environ.get("PROFILE"):
            # PROFILE=out.prof: the worker under cProfile (slower; for finding where its time goes).
            command = [
                sys.executable,
                "-m",
                "cProfile",
                "-o",
                os.environ["PROFILE"],
                "-m",
                "ticket_comms.cli",
                "push-worker",
            ]
        worker = subprocess.Popen(command, env=env)
        try:
            time.sleep(2)  # started and idle, LISTENing
            cpu_before = cpu_seconds(worker.pid)
            machine_before = machine_cpu()
            started = time.time()
            committed = asyncio.run(enqueue_all(url, users))
            deadline = time.time() + 600
            while (sent := count_sent(url)) < PUSHES:
                if time.time() > deadline or worker.poll() is not None:
                    raise RuntimeError(f"only {sent} of {PUSHES} pushes sent")
                time.sleep(0.05)
            finished = time.time()
            worker_cpu = cpu_seconds(worker.pid) - cpu_before
            machine_after = machine_cpu()
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
            endpoint.send_signal(signal.SIGTERM)
            endpoint.wait(30)
        arrivals = sorted(orjson.loads(Path(out).read_text()))
    busy = (machine_after[0] - machine_before[0]) / max(1, machine_after[1] - machine_before[1])
    result: dict[str, Any] = {
        "bench": "push_throughput",
        "pushes": PUSHES,
        "subscribers": SUBSCRIBERS,
        "pushes_per_s": round(PUSHES / (finished - committed), 1),
        "seconds": round(finished - committed, 3),
        "enqueue_seconds": round(committed - started, 3),
        "arrived": len(arrivals),
        "arrival_after_commit_ms": percentiles([(a - committed) * 1000 for a in arrivals]),
        "worker_cpu_seconds_per_1000": round(worker_cpu / PUSHES * 1000, 3),
        "machine_busy_fraction": round(busy, 3),
        "note": "2 shared cores; other processes may be running",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--endpoint":
        run_endpoint(int(sys.argv[2]), sys.argv[3])
    else:
        main()
