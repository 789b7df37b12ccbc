"""Socket.IO fan-out: 2,000 tickets x 4 connected participants, rising message rate, one `serve` process.

Every message is sent with `sendMessage` (ack requested) by one of the ticket's participants,
persisted, and delivered as `newMessage` to all four participants' sockets (the sender's included).
Latency is send -> the last of the four receives it. Steps of a fixed open-loop rate; the result
names the highest rate whose p99 stays within 100 ms, and each step reports the CPU (in cores)
of the server, the generator and PostgreSQL, so it says which side saturated.
Prints one JSON object. RATES, STEP_SECONDS and TICKETS can be overridden from the environment.
"""

from __future__ import annotations

import json
import os
from typing import Any

from bench.common import serve
from bench.realtime_setup import run_generator, seeded_database, tickets

P99_LIMIT_MS = 100.0
DEFAULT_RATES = "200,400,600,800,900,1000,1100,1200,1400,1600"


def capacity(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The highest sustained step within the limit, and the step where p99 passed it."""
    good = [
        s
        for s in steps
        if s["latency_ms"].get("p99", 1e9) <= P99_LIMIT_MS
        and s["undelivered_messages"] == 0
        and s["sent_rate"] >= 0.95 * s["target_rate"]
    ]
    bad = [s for s in steps if s not in good]
    return {
        "sustained_msgs_per_s_p99_within_100ms": good[-1]["sent_rate"] if good else 0,
        "first_rate_over_limit": bad[0]["target_rate"] if bad else None,
    }


def saturated_side(step: dict[str, Any] | None) -> str | None:
    if step is None:
        return None
    loads = {
        "server": max(step["server_cores"]),
        "generator": step["generator_cores"],
        "postgres": step["postgres_cores"],
    }
    side = max(loads, key=lambda k: loads[k])
    return f"{side} ({loads[side]:.2f} cores)"


def scenario(bases: list[str], pids: list[int], url: str, name: str) -> dict[str, Any]:
    count = int(os.environ.get("TICKETS", "2000"))
    config = {
        "bases": bases,
        "server_pids": pids,
        "tickets": tickets(url, count),
        "rates": [int(r) for r in os.environ.get("RATES", DEFAULT_RATES).split(",")],
        "step_seconds": float(os.environ.get("STEP_SECONDS", "10")),
        "connect_rate": float(os.environ.get("CONNECT_RATE", "300")),
    }
    result = run_generator("fanout", config)
    steps = result.get("steps", [])
    over = next((s for s in steps if s["latency_ms"].get("p99", 1e9) > P99_LIMIT_MS), None)
    return {
        "scenario": name,
        "tickets": count,
        "participants_per_ticket": 4,
        "server_processes": len(bases),
        **capacity(steps),
        "busiest_at_first_rate_over_limit": saturated_side(over),
        **result,
    }


def main() -> None:
    url = seeded_database()
    with serve(url) as (base, proc):
        result = scenario([base], [proc.pid], url, "realtime_fanout")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
