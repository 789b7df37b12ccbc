"""Email template rendering, the render step of every notification email.

Renders the built-in templates through `templates.render` (one query for the template and the layout,
Jinja2 sandbox in the render threads, CSS inlining, text part) against a real PostgreSQL, in this process:
- latency of one render per template (sequential, warm cache), p50/p99;
- throughput with 32 renders in flight for 5 s (the worker's situation), renders/s.
Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace
from typing import Any

from bench.common import database, percentiles
from ticket_comms.config import Settings
from ticket_comms.database import Database
from ticket_comms.email import templates
from ticket_comms.email.templates import builtin

BASE = {
    "recipient": {"name": "Carol", "email": "carol@example.com"},
    "links": {
        "ticket": "https://t.example.com/t/1",
        "preferences": "https://t.example.com/p",
        "unsubscribe": "https://t.example.com/u?token=abc",
    },
    "actor": {"name": "Alice"},
    "assignee": {"name": "Bob"},
    "previousStatus": "Open",
    "ticket": {
        "id": "1",
        "title": "Leaking tap in the kitchen",
        "status": "InProgress",
        "url": "https://t.example.com/t/1",
    },
    "quote": {"number": "Q-1", "total": 1250.5},
    "invoice": {"number": "INV-1", "total": 3400, "dueDate": "2026-12-15"},
    "payment": {"amount": 3400, "reference": "PAY-1"},
    "otp": {"code": "482913", "expiresInMinutes": 10},
    "messages": [
        {"senderName": "Bob", "content": f"Message {i} about the leak.", "createdAt": "2026-11-25T10:00:00Z"}
        for i in range(5)
    ],
}


async def run() -> dict[str, Any]:
    db = Database(database("bench_email"), max_size=10)
    await db.open()
    ctx: Any = SimpleNamespace(settings=Settings(_env_file=None), db=db)  # type: ignore[call-arg]
    try:
        latency: dict[str, Any] = {}
        for name in builtin.EVENT_TYPES:
            samples = []
            for i in range(220):
                started = time.perf_counter()
                await templates.render(ctx, name, BASE)
                if i >= 20:
                    samples.append((time.perf_counter() - started) * 1000)
            latency[name] = percentiles(samples)

        done = 0
        stop = time.perf_counter() + 5

        async def loop(i: int) -> None:
            nonlocal done
            names = builtin.EVENT_TYPES
            while time.perf_counter() < stop:
                await templates.render(ctx, names[(i + done) % len(names)], BASE)
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(loop(i) for i in range(32)))
        elapsed = time.perf_counter() - started
        return {
            "scenario": "email_render",
            "latency_ms": latency,
            "throughput_per_s": round(done / elapsed, 1),
            "in_flight": 32,
        }
    finally:
        await db.close()


def main() -> None:
    print(json.dumps(asyncio.run(run())))


if __name__ == "__main__":
    main()
