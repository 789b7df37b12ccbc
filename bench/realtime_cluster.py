"""The fan-out scenario against two `serve` processes sharing one Redis and one database.

Each ticket's four participants are split two and two between the processes, so every message is
published on Redis and delivered by both: the latency measured is cross-process.
Prints one JSON object (same fields as realtime_fanout).
"""

from __future__ import annotations

import json
import os

from bench.common import serve
from bench.realtime_fanout import scenario, server_env
from bench.realtime_setup import redis_server, seeded_database


def main() -> None:
    url = seeded_database()
    os.environ.setdefault("RATES", "200,400,600,800,1000,1200")
    with (
        redis_server() as redis_url,
        serve(url, REDIS_URL=redis_url, **server_env()) as (a, proc_a),
        serve(url, REDIS_URL=redis_url, **server_env()) as (b, proc_b),
    ):
        result = scenario([a, b], [proc_a.pid, proc_b.pid], url, "realtime_cluster")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
