"""10,000 idle authenticated Socket.IO connections to one `serve` process, opened at 200 connects/s.

Reports the server's resident memory once they are all connected and have been held through a
ping interval (target < 400 MB for the whole process), and the connect latency (WebSocket open ->
Socket.IO connect ack: token check, user upsert, the user's ticket rooms), p99 target < 50 ms.
Prints one JSON object. CONNECTIONS, CONNECT_RATE and HOLD_SECONDS can be overridden from the environment.
"""

from __future__ import annotations

import json
import os

from bench.common import serve
from bench.realtime_setup import USERS, run_generator, seeded_database


def main() -> None:
    url = seeded_database()
    connections = int(os.environ.get("CONNECTIONS", str(USERS)))
    with serve(url) as (base, proc):
        result = run_generator(
            "idle",
            {
                "bases": [base],
                "server_pids": [proc.pid],
                "users": [f"rt{i % USERS}" for i in range(connections)],
                "connect_rate": float(os.environ.get("CONNECT_RATE", "200")),
                "hold_seconds": float(os.environ.get("HOLD_SECONDS", "30")),
            },
        )
    print(json.dumps({"scenario": "realtime_idle", **result}, indent=2))


if __name__ == "__main__":
    main()
