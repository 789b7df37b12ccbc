"""Garbage collection for a process that holds thousands of long-lived sockets.

Each connected socket is a few hundred container objects (protocol, Engine.IO socket, queues,
tasks, rooms) that live as long as the connection. A full (generation 2) collection walks all of
them while the event loop stands still: measured here, 150-330 ms with 2,000 sockets and seconds
with 8,000, which lands on every message in flight at that moment. So:

- the objects that exist once the app has started (modules, app, pool) are frozen out of
  collection for good;
- young collections (generations 0 and 1) stay small: they are what frees the short-lived
  cycles of each request, and a small young generation means pauses of a few milliseconds. The
  first generation is a little larger than CPython's 700, which cuts the collector's share of
  the CPU per message without lengthening those pauses noticeably;
- full collections never start on their own; one runs every FULL_COLLECTION_SECONDS instead, to
  reclaim long-lived cycles (the objects of closed connections), and logs how long it paused.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger(__name__)

YOUNG_THRESHOLDS = (2_000, 10)
NEVER = 2**30
FULL_COLLECTION_SECONDS = 600.0


def settle() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*YOUNG_THRESHOLDS, NEVER)


async def full_collections(interval: float = FULL_COLLECTION_SECONDS) -> None:
    while True:
        await asyncio.sleep(interval)
        started = time.perf_counter()
        found = gc.collect()
        log.info(
            "full garbage collection: %d objects freed in %.0f ms",
            found,
            (time.perf_counter() - started) * 1000,
        )
