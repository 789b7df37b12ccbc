"""The Socket.IO load generator, run as its own process by the realtime_* scenarios.

`python -m bench.realtime_load fanout|idle CONFIG.json` prints one JSON object. It speaks the wire
protocol itself (bench/realtime_wire.py) on uvloop, so that one generator core can drive more
events than one server core can serve; it reports its own CPU use beside the server's and
PostgreSQL's so that a result says which side saturated.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import uvloop

from bench.common import percentiles, token
from bench.realtime_wire import WireSocket

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_cpu_seconds(data_dir: str | None) -> float | None:
    """CPU time of the PostgreSQL server whose data directory is `data_dir` (the postmaster, its live
    backends, and the backends that have exited); None when that server is not on this machine."""
    if not data_dir:
        return None
    postmaster = None
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() not in ("postgres", "postmaster"):
                continue
            if data_dir in (entry / "cmdline").read_bytes().decode(errors="replace"):
                postmaster = int(entry.name)
            children.append(int(entry.name))
        except OSError:
            continue
    if postmaster is None:
        return None
    try:
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    total = sum(int(f) for f in fields[11:15]) / CLOCK_TICKS  # utime, stime, cutime, cstime
    for pid in children:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == postmaster:
            total += (int(stat[11]) + int(stat[12])) / CLOCK_TICKS
    return total


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class CpuMeter:
    """CPU use (in cores) of the servers, this generator and PostgreSQL between two calls of `lap`."""

    def __init__(self, server_pids: list[int], postgres_data_dir: str | None):
        self.server_pids = server_pids
        self.postgres_data_dir = postgres_data_dir
        self.last = self._sample()

    def _sample(self) -> tuple[float, list[float], float, float | None]:
        return (
            time.monotonic(),
            [cpu_seconds(p) for p in self.server_pids],
            cpu_seconds(os.getpid()),
            postgres_cpu_seconds(self.postgres_data_dir),
        )

    def lap(self) -> dict[str, Any]:
        now = self._sample()
        elapsed = now[0] - self.last[0]
        result = {
            "server_cores": [round((b - a) / elapsed, 2) for a, b in zip(self.last[1], now[1], strict=True)],
            "generator_cores": round((now[2] - self.last[2]) / elapsed, 2),
            "postgres_cores": None
            if now[3] is None or self.last[3] is None
            else round((now[3] - self.last[3]) / elapsed, 2),
        }
        self.last = now
        return result


async def open_many(
    specs: list[tuple[str, str]],
    rate: float,
    on_event: Any = None,
    on_ack: Any = None,
) -> tuple[list[WireSocket | None], list[float], int]:
    """Open one socket per (base_url, user_id) at `rate` connects/s (open loop); return sockets and
    connect latencies (ms, WebSocket open to Socket.IO connect ack)."""
    latencies: list[float] = []
    timeline: list[tuple[float, float]] = []
    failures = 0
    sockets: list[WireSocket | None] = [None] * len(specs)

    async def one(i: int, base: str, user_id: str) -> None:
        nonlocal failures
        started = time.perf_counter()
        try:
            handler = on_event(i) if on_event is not None else None
            sockets[i] = await WireSocket.open(
                base, token(user_id), on_event=handler, on_ack=on_ack, timeout=30
            )
            latencies.append((time.perf_counter() - started) * 1000)
            timeline.append((round(started - begin, 2), round(latencies[-1], 1)))
        except Exception:
            failures += 1

    tasks = []
    begin = time.perf_counter()
    for i, (base, user_id) in enumerate(specs):
        delay = begin + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, base, user_id)))
    await asyncio.gather(*tasks)
    open_many.slowest = sorted(timeline, key=lambda t: -t[1])[:15]  # type: ignore[attr-defined]
    return sockets, latencies, failures


async def fanout(config: dict[str, Any]) -> dict[str, Any]:
    tickets: list[dict[str, Any]] = config["tickets"]
    bases: list[str] = config["bases"]
    per_ticket = len(tickets[0]["participants"])
    pending: dict[str, list[float]] = {}
    step_latencies: list[float] = []
    counters = {"delivered": 0, "acks": 0, "errors": 0}

    def on_event(_: int) -> Any:
        def handle(event: str, data: Any) -> None:
            if event != "newMessage":
                return
            entry = pending.get(data["message"]["content"])
            if entry is None:
                return
            entry[1] -= 1
            counters["delivered"] += 1
            if entry[1] == 0:
                step_latencies.append((time.perf_counter() - entry[0]) * 1000)
                del pending[data["message"]["content"]]

        return handle

    def on_ack(_: int, ack: Any) -> None:
        counters["acks"] += 1
        if not ack.get("ok"):
            counters["errors"] += 1

    # Participant k of a ticket connects to base k % len(bases): with two processes, each ticket's
    # participants are split between them, so every message crosses Redis.
    specs = [(bases[k % len(bases)], p) for t in tickets for k, p in enumerate(t["participants"])]
    sockets, connect_ms, failures = await open_many(specs, config.get("connect_rate", 500), on_event, on_ack)
    if failures:
        return {"error": f"{failures} connections failed"}
    meter = CpuMeter(config["server_pids"], config.get("postgres_data_dir"))
    # This process's own event-loop lag: if it stalls, latencies measure the generator, not the server.
    lags: list[float] = []

    async def watch_lag() -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append((time.perf_counter() - started - 0.01) * 1000)

    watcher = asyncio.create_task(watch_lag())

    ids = itertools.count()
    steps = []
    for rate in config["rates"]:
        step_latencies.clear()
        lags.clear()
        pending.clear()
        counters.update(delivered=0, acks=0, errors=0)
        meter.lap()
        duration = config["step_seconds"]
        begin = time.perf_counter()
        sent = 0
        round_robin = itertools.cycle(range(len(tickets)))
        while True:
            elapsed = time.perf_counter() - begin
            if elapsed >= duration:
                break
            due = int(rate * elapsed) - sent
            for _ in range(due):
                t = next(round_robin)
                n = next(ids)
                sender = sockets[t * per_ticket + n % per_ticket]
                assert sender is not None
                content = f"m{n}"
                pending[content] = [time.perf_counter(), per_ticket]
                await sender.emit_with_ack_id(
                    n, "sendMessage", {"ticketId": tickets[t]["id"], "content": content}
                )
                sent += 1
            await asyncio.sleep(0.002)
        send_seconds = time.perf_counter() - begin
        cpu = meter.lap()  # while sending: the steady state at this rate
        await asyncio.sleep(config.get("drain_seconds", 3))
        stats = percentiles(step_latencies)
        steps.append(
            {
                "target_rate": rate,
                "sent_rate": round(sent / send_seconds, 1),
                "completed": len(step_latencies),
                "undelivered_messages": len(pending),
                "acks": counters["acks"],
                "error_acks": counters["errors"],
                "latency_ms": stats,
                **cpu,
                "server_rss_mb": [rss_mb(p) for p in config["server_pids"]],
                "generator_loop_lag_ms": percentiles(lags),
            }
        )
        print(json.dumps(steps[-1]), file=sys.stderr, flush=True)
        # Stop once the server is saturated (half the messages late, or messages lost), not on a
        # noisy p99: on a shared machine a single stall can spoil one step's tail.
        if stats.get("p50", 1e9) > config.get("stop_above_p50_ms", 200) or len(pending) > sent * 0.05:
            break
    watcher.cancel()
    for sock in sockets:
        if sock is not None:
            await sock.close()
    return {"connections": len(specs), "connect_ms": percentiles(connect_ms), "steps": steps}


async def idle(config: dict[str, Any]) -> dict[str, Any]:
    server_pid = config["server_pids"][0]
    rss_before = rss_mb(server_pid)
    specs = [(config["bases"][0], u) for u in config["users"]]
    begin = time.perf_counter()
    sockets, connect_ms, failures = await open_many(specs, config["connect_rate"])
    connect_seconds = time.perf_counter() - begin
    await asyncio.sleep(config.get("hold_seconds", 30))
    alive = sum(1 for s in sockets if s is not None and not s.closed.is_set())
    result = {
        "connections": len(specs),
        "connected": len(connect_ms),
        "failed": failures,
        "still_connected_after_hold": alive,
        "connect_rate_target": config["connect_rate"],
        "connect_rate_achieved": round(len(specs) / connect_seconds, 1),
        "connect_ms": percentiles(connect_ms),
        "slowest_connects_at_s_ms": open_many.slowest,  # type: ignore[attr-defined]
        "server_rss_mb_before": rss_before,
        "server_rss_mb_connected": rss_mb(server_pid),
        "server_kb_per_connection": round((rss_mb(server_pid) - rss_before) * 1024 / max(1, alive), 1),
    }
    await asyncio.gather(*[s.close() for s in sockets if s is not None])
    return result


def run(argv: list[str]) -> int:
    mode, config_path = argv
    config = json.loads(Path(config_path).read_text())
    scenario = {"fanout": fanout, "idle": idle}[mode]
    # Thousands of client sockets here too, and the same miscounted young collections as in the
    # server (realtime/heap.py): they paused this process for up to 120 ms, which was measured as
    # server latency. A generator lives a few minutes, so it runs without the cyclic collector.
    gc.collect()
    gc.freeze()
    gc.disable()
    result = uvloop.run(scenario(config))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
