"""Notification email throughput, end to end: event accepted -> rendered -> sent -> relay has it, with every
state change persisted.

Processes (as in production, all on this machine): `ticket-comms serve` (WORKER=off) takes the events
over HTTP; ONE `ticket-comms worker` process renders and sends; an aiosmtpd sink (its own process) is the
relay and stamps each email's arrival. PostgreSQL is the embedded server (or DATABASE_URL's).

The driver posts EVENTS events of RECIPIENTS recipients each (EMAILS emails) with CLIENTS concurrent
clients, then waits until every email log is `Sent` in the database. It prints one JSON object:
emails/s (first event posted -> last email persisted as Sent), the event->relay latency (event's 202
-> the sink has the email) percentiles, the API's events/s, and the worker's CPU seconds.

`python -m bench.email_throughput` (EMAILS, RECIPIENTS, CLIENTS environment variables override).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.common import JWT_SECRET, ROOT, database, free_port, percentiles, serve, token

EMAILS = int(os.environ.get("EMAILS", "10000"))
RECIPIENTS = int(os.environ.get("RECIPIENTS", "5"))
CLIENTS = int(os.environ.get("CLIENTS", "8"))
EVENTS = EMAILS // RECIPIENTS
# The second phase offers emails at this steady rate, below capacity, for a latency that is not queueing.
PACED_RATE = float(os.environ.get("PACED_RATE", "300"))


# ---------------------------------------------------------------------------------------------
# The sink (runs as `python -m bench.email_throughput --sink PORT OUT`)


def run_sink(port: int, out: str) -> None:
    from aiosmtpd.smtp import SMTP

    arrivals: list[tuple[float, str]] = []
    marker = b"X-Email-Log-Id: "

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            raw = envelope.original_content or b""
            at = raw.find(marker)
            log_id = raw[at + len(marker) : raw.find(b"\r\n", at)].decode() if at >= 0 else ""
            arrivals.append((time.time(), log_id))
            return "250 2.0.0 Ok"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        handler = Handler()
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="sink", loop=loop), "127.0.0.1", port
        )
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await stop.wait()
        server.close()
        Path(out).write_text(json.dumps(arrivals))

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


# ---------------------------------------------------------------------------------------------
# The driver


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU seconds of the embedded PostgreSQL (postmaster and backends); 0 when DATABASE_URL is used."""
    pidfile = ROOT / ".data" / "bench" / "postgres" / "postmaster.pid"
    if os.environ.get("DATABASE_URL") or not pidfile.exists():
        return 0.0
    master = int(pidfile.read_text().split()[0])
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == master or int(fields[1]) == master:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def reset(url: str, users: list[str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE events, notifications, email_logs, email_suppressions, notification_preferences, "
            "message_digests, users CASCADE"
        )
        conn.execute(
            "INSERT INTO users (id, email, name) SELECT u, u || '@example.com', initcap(u) "
            "FROM unnest(%s::text[]) u",
            (users,),
        )


def sent_count(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM email_logs WHERE status = 'Sent'").fetchone()
        return int(row[0]) if row else 0


async def post_events(
    base: str, users: list[str], rate: float | None = None, offset: int = 0
) -> tuple[dict[str, float], float, float]:
    """Post EVENTS events, as fast as they are accepted or paced at `rate` emails/s.
    Returns ({email log id: accepted at}, first post time, last accept time)."""
    accepted: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {token('billing', 'service')}"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(EVENTS):
        queue.put_nowait(i)
    started = time.time()
    interval = RECIPIENTS / rate if rate else 0.0

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            while not queue.empty():
                i = queue.get_nowait()
                if interval:
                    await asyncio.sleep(max(0.0, started + i * interval - time.time()))
                recipients = [users[(i * RECIPIENTS + k) % len(users)] for k in range(RECIPIENTS)]
                body = {
                    "type": "InvoiceGenerated",
                    "recipientIds": recipients,
                    "data": {
                        "invoice": {
                            "number": f"INV-{offset + i:05d}",
                            "total": 1250 + i,
                            "dueDate": "2026-12-31",
                            "url": "https://billing.example.com/i/1",
                        }
                    },
                }
                r = await http.post("/api/v1/events", json=body)
                at = time.time()
                if r.status_code != 202:
                    raise RuntimeError(f"event refused: {r.status_code} {r.text}")
                for d in r.json()["deliveries"]:
                    if "emailLogId" in d:
                        accepted[d["emailLogId"]] = at

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return accepted, started, time.time()


def run() -> dict[str, Any]:
    url = database("bench_email_throughput")
    users = [f"user{i:04d}" for i in range(max(RECIPIENTS, 1000))]
    reset(url, users)
    workdir = Path(tempfile.mkdtemp(prefix="bench-email-"))
    sink_port = free_port()
    arrivals_file = workdir / "arrivals.json"
    sink = subprocess.Popen(
        [sys.executable, "-m", "bench.email_throughput", "--sink", str(sink_port), str(arrivals_file)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert sink.stdout is not None
    sink.stdout.readline()
    smtp_url = f"smtp://127.0.0.1:{sink_port}"
    env = {"SMTP_URL": smtp_url, "EMAIL_FROM": "Tickets <no-reply@tickets.example>", "DATA_DIR": str(workdir)}
    worker: subprocess.Popen[bytes] | None = None
    try:
        with serve(url, **env) as (base, api):
            worker_env = {
                **os.environ,
                "DATABASE_URL": url,
                "JWT_SECRET": JWT_SECRET,
                "LOG_LEVEL": "WARNING",
                **env,
            }
            worker = subprocess.Popen(
                [str(Path(sys.executable).parent / "ticket-comms"), "worker"], env=worker_env, cwd=workdir
            )
            time.sleep(2)  # the worker is up and idle
            phases = []
            for rate in (None, PACED_RATE):
                cpu_before, api_before, machine_before = (
                    cpu_seconds(worker.pid),
                    cpu_seconds(api.pid),
                    machine_cpu(),
                )
                sink_before, pg_before = cpu_seconds(sink.pid), postgres_cpu()
                already = sent_count(url)
                accepted, started, posted = asyncio.run(
                    post_events(base, users, rate, offset=len(phases) * EVENTS)
                )
                while (done := sent_count(url) - already) < EMAILS:
                    if time.time() - started > 600:
                        raise RuntimeError(f"only {done} of {EMAILS} emails sent after 10 minutes")
                    time.sleep(0.05)
                finished = time.time()
                machine_after = machine_cpu()
                phases.append(
                    {
                        "rate": rate,
                        "accepted": accepted,
                        "started": started,
                        "posted": posted,
                        "finished": finished,
                        "cpu": cpu_seconds(worker.pid) - cpu_before,
                        "apiCpu": cpu_seconds(api.pid) - api_before,
                        "sinkCpu": cpu_seconds(sink.pid) - sink_before,
                        "pgCpu": postgres_cpu() - pg_before,
                        "busy": (machine_after[0] - machine_before[0])
                        / max(1, machine_after[1] - machine_before[1]),
                    }
                )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        sink.send_signal(signal.SIGTERM)
        sink.wait(30)
    arrivals = json.loads(arrivals_file.read_text())
    result: dict[str, Any] = {
        "scenario": "email_throughput",
        "emails": EMAILS,
        "events": EVENTS,
        "recipientsPerEvent": RECIPIENTS,
        "clients": CLIENTS,
        "target": {"emailsPerSecond": 500},
    }
    for name, phase in zip(("throughput", "paced"), phases, strict=True):
        accepted = phase["accepted"]
        latencies = [(at - accepted[log_id]) * 1000 for at, log_id in arrivals if log_id in accepted]
        elapsed = phase["finished"] - phase["started"]
        result[name] = {
            "offeredEmailsPerSecond": phase["rate"] or "unpaced",
            "emailsPerSecond": round(EMAILS / elapsed, 1),
            "seconds": round(elapsed, 2),
            "eventsPerSecondAccepted": round(EVENTS / (phase["posted"] - phase["started"]), 1),
            "eventToRelayMs": percentiles(latencies),
            "relayReceived": len(latencies),
            "workerCpuSecondsPer1000": round(phase["cpu"] / EMAILS * 1000, 3),
            "apiCpuSecondsPer1000": round(phase["apiCpu"] / EMAILS * 1000, 3),
            "sinkCpuSecondsPer1000": round(phase["sinkCpu"] / EMAILS * 1000, 3),
            "postgresCpuSecondsPer1000": round(phase["pgCpu"] / EMAILS * 1000, 3),
            "machineBusy": round(phase["busy"], 3),
        }
    return result


def main() -> None:
    print(json.dumps(run()), flush=True)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--sink":
        run_sink(int(sys.argv[2]), sys.argv[3])
    else:
        main()
