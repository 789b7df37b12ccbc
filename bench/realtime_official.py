"""Our Socket.IO server driven by the official client, beside a lean Node.js reference server.

The load generator is bench/node/generator.js, built on the official `socket.io-client` with the
options of our web app (websocket transport, `auth: {token}`); it runs the same `fanout` and `idle`
modes, with the same config and output, as the raw-protocol generator (bench/realtime_load.py), and
also counts every delivery per socket (nothing lost, nothing doubled). The reference is
bench/node/reference_server.js: express + socket.io v4 (default options) + a pg Pool doing the same
chat path (handshake JWT, a room per ticket, one statement taking the seq and inserting, the emit
and the ack) on the same seeded database.

Back to back, each run in a fresh server process on a freshly reset database: ours fanout, ours idle,
reference fanout, reference idle. Prints one JSON object: both results and the ratios ours/reference.
Environment: RATES, STEP_SECONDS, TICKETS, CONNECT_RATE (fanout connects/s), IDLE_SOCKETS,
IDLE_CONNECT_RATE, HOLD_SECONDS, ONLY=ours|reference, DATABASE_POOL_SIZE (both servers).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from bench.common import JWT_SECRET, ROOT, free_port, run_json, serve, serving, token
from bench.realtime_fanout import server_env, summary
from bench.realtime_setup import USERS, postgres_data_dir, seeded_database, tickets

NODE_DIR = ROOT / "bench" / "node"
DEFAULT_RATES = "200,400,600,800,1000,1200,1400,1600,1800,2000"
REFERENCE_RATE = 800  # the p99 compared at this rate


def ensure_node_modules() -> None:
    """`npm ci` in bench/node when its node_modules is missing (its output goes to stderr)."""
    if (NODE_DIR / "node_modules").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, stdout=sys.stderr)


def node() -> str:
    binary = shutil.which("node")
    if binary is None:
        raise RuntimeError("node is not installed")
    return binary


def run_official(mode: str, config: dict[str, Any]) -> dict[str, Any]:
    """bench/node/generator.js in its own process; its per-step lines pass through on stderr."""
    # A larger young generation: fewer scavenges pausing the generator (measured as latency).
    return run_json(
        [node(), "--max-semi-space-size=64", str(NODE_DIR / "generator.js"), mode], config, NODE_DIR
    )


@contextmanager
def reference_server(database_url: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """bench/node/reference_server.js on a free port, serving once /healthz answers."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": JWT_SECRET,
        "PORT": str(port),
        **server_env(),
    }
    with serving([node(), str(NODE_DIR / "reference_server.js")], environment, port, NODE_DIR) as running:
        yield running


def server_for(name: str, url: str) -> AbstractContextManager[tuple[str, subprocess.Popen[bytes]]]:
    if name == "ours":
        return serve(url, **server_env())
    return reference_server(url)


def cpu_per_message(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """Server CPU seconds (all server processes, while sending) per message sent: per step and overall."""
    per_step = {
        str(s["target_rate"]): round(s["server_cpu_seconds"] / s["sent"] * 1e6, 1) if s["sent"] else None
        for s in steps
    }
    sent = sum(s["sent"] for s in steps)
    overall = round(sum(s["server_cpu_seconds"] for s in steps) / sent * 1e6, 1) if sent else None
    return {"server_cpu_us_per_message_by_rate": per_step, "server_cpu_us_per_message": overall}


def fanout(name: str) -> dict[str, Any]:
    url = seeded_database()  # empty threads, last_seq 0: every run starts alike
    count = int(os.environ.get("TICKETS", "2000"))
    chosen = tickets(url, count)
    users = {p for t in chosen for p in t["participants"]}
    with server_for(name, url) as (base, proc):
        config = {
            "bases": [base],
            "server_pids": [proc.pid],
            "postgres_data_dir": postgres_data_dir(url),
            "tickets": chosen,
            "tokens": {u: token(u) for u in users},
            "rates": [int(r) for r in os.environ.get("RATES", DEFAULT_RATES).split(",")],
            "step_seconds": float(os.environ.get("STEP_SECONDS", "10")),
            "connect_rate": float(os.environ.get("CONNECT_RATE", "300")),
        }
        result = run_official("fanout", config)
    steps = result.get("steps", [])
    return {
        "server": name,
        "tickets": count,
        "participants_per_ticket": 4,
        **summary(steps),
        **cpu_per_message(steps),
        **result,
    }


def idle(name: str) -> dict[str, Any]:
    url = seeded_database()
    connections = int(os.environ.get("IDLE_SOCKETS", str(USERS)))
    users = [f"rt{i % USERS}" for i in range(connections)]
    with server_for(name, url) as (base, proc):
        result = run_official(
            "idle",
            {
                "bases": [base],
                "server_pids": [proc.pid],
                "users": users,
                "tokens": {u: token(u) for u in set(users)},
                "connect_rate": float(os.environ.get("IDLE_CONNECT_RATE", "200")),
                "hold_seconds": float(os.environ.get("HOLD_SECONDS", "30")),
            },
        )
    return {"server": name, **result}


def p99_at(steps: list[dict[str, Any]], rate: int) -> float | None:
    step = next((s for s in steps if s["target_rate"] == rate), None)
    return None if step is None else step["latency_ms"].get("p99")


def ratio(ours: float | None, reference: float | None) -> float | None:
    if ours is None or reference is None or reference == 0:
        return None
    return round(ours / reference, 2)


def ratios(ours: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """ours / reference for each headline figure (above 1: ours is higher)."""
    of, rf = ours["fanout"], reference["fanout"]
    oi, ri = ours["idle"], reference["idle"]
    return {
        "sustained_msgs_per_s_p99_within_100ms": ratio(
            of.get("sustained_msgs_per_s_p99_within_100ms"), rf.get("sustained_msgs_per_s_p99_within_100ms")
        ),
        f"p99_ms_at_{REFERENCE_RATE}": ratio(
            p99_at(of.get("steps", []), REFERENCE_RATE), p99_at(rf.get("steps", []), REFERENCE_RATE)
        ),
        "idle_server_rss_mb_connected": ratio(
            oi.get("server_rss_mb_connected"), ri.get("server_rss_mb_connected")
        ),
        "idle_server_kb_per_connection": ratio(
            oi.get("server_kb_per_connection"), ri.get("server_kb_per_connection")
        ),
        "idle_connect_p99_ms": ratio(
            oi.get("connect_ms", {}).get("p99"), ri.get("connect_ms", {}).get("p99")
        ),
        "server_cpu_per_message": ratio(
            of.get("server_cpu_us_per_message"), rf.get("server_cpu_us_per_message")
        ),
        "server_cpu_per_message_by_rate": {
            rate: ratio(us, rf.get("server_cpu_us_per_message_by_rate", {}).get(rate))
            for rate, us in of.get("server_cpu_us_per_message_by_rate", {}).items()
        },
    }


def main() -> None:
    ensure_node_modules()
    only = os.environ.get("ONLY")
    names = [n for n in ("ours", "reference") if only in (None, "", n)]
    if not names:
        raise SystemExit(f"ONLY must be ours or reference, not {only!r}")
    results: dict[str, Any] = {}
    for name in names:
        print(f"# realtime_official: {name} fanout", file=sys.stderr, flush=True)
        results[name] = {"fanout": fanout(name)}
        print(f"# realtime_official: {name} idle", file=sys.stderr, flush=True)
        results[name]["idle"] = idle(name)
    output: dict[str, Any] = {
        "scenario": "realtime_official",
        "generator": "socket.io-client (bench/node)",
        **results,
    }
    if "ours" in results and "reference" in results:
        output["ours_over_reference"] = ratios(results["ours"], results["reference"])
    print(json.dumps(output, indent=2))


if __name__ == "__main__":
    main()
