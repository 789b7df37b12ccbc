"""Soak: one `serve` process under steady mixed load for SOAK_SECONDS; resources must plateau.

Load, all at once: SOCKETS Socket.IO clients that keep connecting and leaving (each stays a random
STAY_SECONDS, 30-120 s by default, after a 30 s ramp; the official `socket.io-client` in a Node process,
bench/node/generator.js `churn`), chat messages at MESSAGE_RATE per second over HTTP, an admin editing and previewing a
template every 2 s, and events that send email through the inline worker (to the dev mailbox).

Every SAMPLE_SECONDS the server's resident memory, open file descriptors, threads, asyncio tasks
(/metrics) and PostgreSQL connections are recorded; the report gives the curve and each resource's slope over the second half
of the run (a steady climb there is a leak). The issue's target run is 30 minutes, 2,000 sockets and
200 messages/s on a quiet machine: `SOAK_SECONDS=1800 SOCKETS=2000 MESSAGE_RATE=200 make soak`.
Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psycopg

from bench.common import database, run_json, serve, token
from bench.realtime_official import NODE_DIR, ensure_node_modules, node

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "1800"))
SOCKETS = int(os.environ.get("SOCKETS", "2000"))
# How long each socket stays before it leaves and the next one connects: "min,max" seconds.
STAY_SECONDS = tuple(float(x) for x in os.environ.get("STAY_SECONDS", "30,120").split(","))
MESSAGE_RATE = float(os.environ.get("MESSAGE_RATE", "200"))
SAMPLE_SECONDS = float(os.environ.get("SAMPLE_SECONDS", str(max(5.0, SOAK_SECONDS / 60))))
USERS = int(os.environ.get("SOAK_USERS", "400"))
TICKETS = USERS // 2
TEMPLATE = "SoakNotice"


def _proc_stats(pid: int) -> dict[str, float]:
    proc = Path(f"/proc/{pid}")
    rss_pages = int((proc / "statm").read_text().split()[1])
    threads = next(
        int(line.split()[1])
        for line in (proc / "status").read_text().splitlines()
        if line.startswith("Threads:")
    )
    return {
        "rss_mb": round(rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1),
        "fds": len(os.listdir(proc / "fd")),
        "threads": threads,
        "children_rss_mb": _children_rss_mb(pid),
    }


def _children_rss_mb(pid: int) -> float:
    """The server's child processes (the template render workers) together."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                total += int(Path(f"/proc/{child}/statm").read_text().split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
    return round(total * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def _slope(samples: list[dict[str, Any]], key: str) -> float | None:
    """Least-squares slope of `key` per minute over the second half of the run."""
    half = [s for s in samples if s["t"] >= samples[-1]["t"] / 2 and s[key] is not None]
    if len(half) < 3:
        return None
    n = len(half)
    mean_t = sum(s["t"] for s in half) / n
    mean_v = sum(s[key] for s in half) / n
    var = sum((s["t"] - mean_t) ** 2 for s in half)
    if var == 0:
        return 0.0
    cov = sum((s["t"] - mean_t) * (s[key] - mean_v) for s in half)
    return round(cov / var * 60, 3)


class Soak:
    def __init__(self, base: str, pid: int, db_url: str):
        self.base = base
        self.pid = pid
        self.db_url = db_url
        self.stop_at = time.monotonic() + SOAK_SECONDS
        self.counts = {"messages": 0, "message_errors": 0, "connects": 0, "connect_errors": 0, "previews": 0}
        self.counts |= {"template_errors": 0, "events": 0, "event_errors": 0}
        self.socket_status = Path(tempfile.gettempdir()) / f"soak-sockets-{os.getpid()}.json"
        self.connect_error_messages: dict[str, int] = {}
        self.tickets: list[tuple[str, list[str]]] = []
        # What the server acknowledged, to check afterwards that each is stored exactly once.
        self.acked_messages: list[str] = []
        self.accepted_emails: list[str] = []

    def running(self) -> bool:
        return time.monotonic() < self.stop_at

    async def seed(self, http: httpx.AsyncClient) -> None:
        svc = {"Authorization": f"Bearer {token('soak-svc', 'service')}"}
        for i in range(USERS):
            r = await http.put(
                f"/api/v1/users/soak{i}",
                json={"name": f"Soak {i}", "email": f"soak{i}@example.com"},
                headers=svc,
            )
            r.raise_for_status()
        for t in range(TICKETS):
            owner, other = f"soak{2 * t}", f"soak{2 * t + 1}"
            r = await http.post(
                "/api/v1/tickets",
                json={"title": f"Soak ticket {t}", "participantIds": [other]},
                headers={"Authorization": f"Bearer {token(owner)}"},
            )
            r.raise_for_status()
            self.tickets.append((r.json()["id"], [owner, other]))
        admin = {"Authorization": f"Bearer {token('soak-admin', 'admin')}"}
        r = await http.post(
            "/api/v1/email/templates",
            json={"name": TEMPLATE, "subject": "Notice {{ n }}", "htmlContent": "<p>Hello {{ n }}</p>"},
            headers=admin,
        )
        if r.status_code not in (201, 409):
            r.raise_for_status()

    async def messages(self) -> None:
        # aiohttp, not httpx, for the one high-rate stream: httpx costs ~3 ms of CPU per request, which
        # capped this generator near 50 messages/s (bench/push_throughput.py measured the same).
        interval = 1 / MESSAGE_RATE
        next_at = time.monotonic()
        pending: set[asyncio.Task[None]] = set()
        connector = aiohttp.TCPConnector(limit=100)
        async with aiohttp.ClientSession(self.base, connector=connector) as session:
            while self.running():
                ticket, people = random.choice(self.tickets)
                task = asyncio.create_task(self._send(session, ticket, random.choice(people)))
                pending.add(task)
                task.add_done_callback(pending.discard)
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            await asyncio.gather(*pending, return_exceptions=True)

    async def _send(self, session: aiohttp.ClientSession, ticket: str, user: str) -> None:
        try:
            async with session.post(
                f"/api/v1/tickets/{ticket}/messages",
                json={"content": f"soak message {random.random()}"},
                headers={"Authorization": f"Bearer {token(user)}"},
                timeout=aiohttp.ClientTimeout(total=30),
            ) as r:
                body = await r.json() if r.status == 201 else None
            self.counts["messages" if r.status == 201 else "message_errors"] += 1
            if body is not None:
                self.acked_messages.append(body["id"])
        except (aiohttp.ClientError, TimeoutError):
            self.counts["message_errors"] += 1

    async def sockets(self) -> None:
        """SOCKETS official Socket.IO clients connecting and leaving (bench/node/generator.js churn):
        a Node process, so that the clients' own cost does not starve this generator's HTTP load."""
        ensure_node_modules()
        users = [f"soak{i}" for i in range(USERS)]
        config = {
            "bases": [self.base],
            "users": users,
            "tokens": {u: token(u) for u in users},
            "sockets": SOCKETS,
            "seconds": max(0.0, self.stop_at - time.monotonic()),
            "stay_min": STAY_SECONDS[0],
            "stay_max": STAY_SECONDS[1],
            "ramp_seconds": 30,
            "status_path": str(self.socket_status),
        }
        result = await asyncio.to_thread(
            run_json, [node(), str(NODE_DIR / "generator.js"), "churn"], config, NODE_DIR
        )
        self.counts["connects"] = result["connects"]
        self.counts["connect_errors"] = result["connect_errors"]
        self.connect_error_messages = result["connect_error_messages"]

    def sockets_connected(self) -> int:
        try:
            return int(json.loads(self.socket_status.read_text())["connected"])
        except (OSError, ValueError, KeyError):
            return 0

    async def templates(self, http: httpx.AsyncClient) -> None:
        admin = {"Authorization": f"Bearer {token('soak-admin', 'admin')}"}
        n = 0
        while self.running():
            n += 1
            try:
                edit = await http.put(
                    f"/api/v1/email/templates/{TEMPLATE}",
                    json={
                        "subject": f"Notice {{{{ n }}}} v{n}",
                        "htmlContent": f"<p>Hello {{{{ n }}}} ({n})</p>",
                    },
                    headers=admin,
                )
                preview = await http.post(
                    f"/api/v1/email/templates/{TEMPLATE}/preview", json={"context": {"n": n}}, headers=admin
                )
                ok = edit.status_code == 200 and preview.status_code == 200
            except httpx.HTTPError:  # an overloaded server is a figure of the run, not its end
                ok = False
            self.counts["previews" if ok else "template_errors"] += 1
            await asyncio.sleep(2)

    async def emails(self, http: httpx.AsyncClient) -> None:
        svc = {"Authorization": f"Bearer {token('soak-svc', 'service')}"}
        while self.running():
            event = {
                "type": "PaymentReceived",
                "recipientIds": [f"soak{random.randrange(USERS)}"],
                "data": {"payment": {"amount": 10, "currency": "USD", "reference": "SOAK"}},
            }
            try:
                r = await http.post("/api/v1/events", json=event, headers=svc)
            except httpx.HTTPError:
                self.counts["event_errors"] += 1
                await asyncio.sleep(1)
                continue
            self.counts["events" if r.status_code == 202 else "event_errors"] += 1
            if r.status_code == 202:
                self.accepted_emails += [
                    d["emailLogId"] for d in r.json()["deliveries"] if d.get("emailLogId")
                ]
            await asyncio.sleep(1)

    async def _tasks(self, http: httpx.AsyncClient) -> int | None:
        """The server's asyncio task count (the `asyncio_tasks` gauge of /metrics, set every 5 s)."""
        try:
            r = await http.get(
                "/metrics", headers={"Authorization": f"Bearer {token('soak-admin', 'admin')}"}
            )
        except httpx.HTTPError:
            return None
        for line in r.text.splitlines():
            if line.startswith("asyncio_tasks "):
                return int(float(line.split()[-1]))
        return None

    async def sample(self, http: httpx.AsyncClient, samples: list[dict[str, Any]]) -> None:
        started = time.monotonic()
        while True:
            with psycopg.connect(self.db_url, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                ).fetchone()
            db_connections = (row[0] if row else 0) - 1  # minus this sampler's own
            samples.append(
                {
                    "t": round(time.monotonic() - started, 1),
                    **_proc_stats(self.pid),
                    "db_connections": db_connections,
                    "tasks": await self._tasks(http),
                    "sockets_connected": self.sockets_connected(),
                    "messages": self.counts["messages"],
                }
            )
            if not self.running():
                return
            await asyncio.sleep(min(SAMPLE_SECONDS, max(0.1, self.stop_at - time.monotonic())))

    async def integrity(self) -> dict[str, Any]:
        """Lost and doubled: every acknowledged message stored once, per-ticket seqs without gaps,
        every accepted email settled (waiting up to a minute for the last ones) and none twice."""
        async with await psycopg.AsyncConnection.connect(self.db_url, autocommit=True) as conn:
            cur = await conn.execute(
                "SELECT count(*) FROM messages WHERE id = ANY(%s::uuid[])", (self.acked_messages,)
            )
            found = (await cur.fetchone() or (0,))[0]
            cur = await conn.execute(
                "SELECT count(*) FROM (SELECT content FROM messages WHERE content LIKE 'soak message %%'"
                " GROUP BY content HAVING count(*) > 1) d"
            )
            doubled = (await cur.fetchone() or (0,))[0]
            cur = await conn.execute(
                "SELECT count(*) FROM (SELECT ticket_id FROM messages GROUP BY ticket_id"
                " HAVING max(seq) - min(seq) + 1 <> count(*)) g"
            )
            gaps = (await cur.fetchone() or (0,))[0]
            deadline = time.monotonic() + 60
            while True:
                cur = await conn.execute(
                    "SELECT status, count(*) FROM email_logs WHERE id = ANY(%s::uuid[]) GROUP BY status",
                    (self.accepted_emails,),
                )
                statuses = {row[0]: row[1] for row in await cur.fetchall()}
                if not statuses.get("Pending") or time.monotonic() > deadline:
                    break
                await asyncio.sleep(2)
            cur = await conn.execute(
                "SELECT count(*) FROM (SELECT event_id, recipient_email FROM email_logs WHERE event_id IS NOT NULL"
                " GROUP BY event_id, recipient_email HAVING count(*) > 1) d"
            )
            emails_doubled = (await cur.fetchone() or (0,))[0]
        return {
            "messages_acknowledged": len(self.acked_messages),
            "messages_lost": len(self.acked_messages) - found,
            "messages_doubled": doubled,
            "tickets_with_seq_gaps": gaps,
            "emails_accepted": len(self.accepted_emails),
            "emails_by_status": statuses,
            "emails_lost": len(self.accepted_emails) - sum(statuses.values()),
            "emails_doubled": emails_doubled,
        }


async def run(base: str, pid: int, db_url: str) -> dict[str, Any]:
    soak = Soak(base, pid, db_url)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        await soak.seed(http)
        soak.stop_at = time.monotonic() + SOAK_SECONDS
        samples: list[dict[str, Any]] = []
        await asyncio.gather(
            soak.messages(),
            soak.sockets(),
            soak.templates(http),
            soak.emails(http),
            soak.sample(http, samples),
        )
        integrity = await soak.integrity()
    keys = ("rss_mb", "fds", "threads", "tasks", "db_connections", "children_rss_mb")
    return {
        "scenario": "soak",
        "params": {
            "seconds": SOAK_SECONDS,
            "sockets": SOCKETS,
            "message_rate": MESSAGE_RATE,
            "users": USERS,
            "sample_seconds": SAMPLE_SECONDS,
        },
        "counts": soak.counts,
        "connect_error_messages": soak.connect_error_messages,
        "integrity": integrity,
        "slope_per_minute_second_half": {k: _slope(samples, k) for k in keys},
        "start": samples[0] if samples else None,
        "end": samples[-1] if samples else None,
        "peak": {k: max(s[k] or 0 for s in samples) for k in keys} if samples else None,
        "samples": samples,
    }


def soak() -> None:
    # Not `main`: `make bench` runs every scenario's main, and a soak is a run of its own (`make soak`).
    url = database("bench_soak")
    # Inline email worker, dev mailbox as the SMTP sink (SMTP_URL unset): emails really flow.
    env = {"WORKER": "inline", "MESSAGE_EMAIL_DELAY_SECONDS": "5"}
    os.environ.pop("SMTP_URL", None)
    with serve(url, **env) as (base, proc):
        result = asyncio.run(run(base, proc.pid, url))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    soak()
