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
from bench.realtime_setup import postgres_data_dir, run_generator, seeded_database, tickets

P99_LIMIT_MS = 100.0
DEFAULT_RATES = "200,400,600,800,900,1000,1100,1200,1300,1400,1600"


def within_limit(step: dict[str, Any]) -> bool:
    return (
        step["latency_ms"].get("p99", 1e9) <= P99_LIMIT_MS
        and step["undelivered_messages"] == 0
        and step["sent_rate"] >= 0.95 * step["target_rate"]
    )


def capacity(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The highest rate whose p99 stayed within the limit, the first rate above it that did not,
    and the lower rates that failed anyway (isolated stalls, reported rather than hidden)."""
    good = [s["target_rate"] for s in steps if within_limit(s)]
    best = max(good, default=0)
    return {
        "sustained_msgs_per_s_p99_within_100ms": best,
        "first_rate_over_limit": next((s["target_rate"] for s in steps if s["target_rate"] > best), None),
        "rates_below_that_missed_the_limit": [
            s["target_rate"] for s in steps if s["target_rate"] < best and not within_limit(s)
        ],
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


def summary(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The capacity figures of a run's steps and which side was busiest just above it."""
    found = capacity(steps)
    best = found["sustained_msgs_per_s_p99_within_100ms"]
    over = next((s for s in steps if s["target_rate"] > best), None)
    return {**found, "busiest_at_first_rate_over_limit": saturated_side(over)}


def scenario(bases: list[str], pids: list[int], url: str, name: str) -> dict[str, Any]:
    count = int(os.environ.get("TICKETS", "2000"))
    config = {
        "bases": bases,
        "server_pids": pids,
        "postgres_data_dir": postgres_data_dir(url),
        "tickets": tickets(url, count),
        "rates": [int(r) for r in os.environ.get("RATES", DEFAULT_RATES).split(",")],
        "step_seconds": float(os.environ.get("STEP_SECONDS", "10")),
        "connect_rate": float(os.environ.get("CONNECT_RATE", "300")),
    }
    result = run_generator("fanout", config)
    return {
        "scenario": name,
        "tickets": count,
        "participants_per_ticket": 4,
        "server_processes": len(bases),
        **summary(result.get("steps", [])),
        **result,
    }


def server_env() -> dict[str, str]:
    """DATABASE_POOL_SIZE for the server(s) under test, when the run sets it."""
    size = os.environ.get("DATABASE_POOL_SIZE")
    return {"DATABASE_POOL_SIZE": size} if size else {}


def main() -> None:
    url = seeded_database()
    with serve(url, **server_env()) as (base, proc):
        result = scenario([base], [proc.pid], url, "realtime_fanout")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
