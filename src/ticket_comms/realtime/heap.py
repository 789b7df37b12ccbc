"""Garbage collection for a process that holds thousands of long-lived sockets: on a clock.

CPython starts a young collection when (allocations - deallocations) of container objects passes
a threshold. In this process that count is wrong: every message a socket receives replaces the
chain of live objects its reader waits on (coroutines, futures, the WebSocket parser's
generators), so old objects die as fast as young ones are born and the count hardly moves while
the youngest generation grows. Measured under chat fan-out (2,000 tickets x 4 sockets, 1,000
messages/s): young collections found 50,000-110,000 objects and paused the event loop for 25-100 ms,
which is the p99 of every message in flight. A full collection walks every object of every
connection (seconds with 8,000 sockets), so it must not start on its own either.

So the automatic collector is off, and this module collects on a clock instead:

- the objects that exist once the app has started (modules, app, pool) are frozen out of
  collection for good;
- generation 0 every YOUNG_SECONDS, generation 1 every MIDDLE_EVERY of those: each finds only
  what that short interval left behind (about a millisecond's work), and the short-lived cycles of
  requests are still freed within a second;
- a full collection every FULL_COLLECTION_SECONDS reclaims long-lived cycles, and then freezes
  what survived it, so that the next one only walks what has become old since. Without that a
  full collection walks every connection's objects: 415 ms with 9,000 sockets, to free a few dozen
  objects;
- and every WHOLE_HEAP_EVERY-th full collection (hourly) unfreezes everything first, so it walks
  the whole heap. Frozen objects are still freed by reference counting, but a cycle among them is
  invisible to every other collection: an evicted compiled template, a closed pool connection, a
  finished request's exception and traceback that had been frozen would otherwise never be freed
  (the earlier policy, freeze after each full collection and never unfreeze, leaked exactly that).
  So no cyclic garbage lives longer than FULL_COLLECTION_SECONDS x WHOLE_HEAP_EVERY, at the price
  of one whole-heap pause an hour (the same walk the first full collection after start-up makes).

Every pause is measured by observability.RuntimeWatch (`gc_pause_seconds`, and a log line when long).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger(__name__)

YOUNG_SECONDS = 0.1
MIDDLE_EVERY = 10
FULL_COLLECTION_SECONDS = 600.0
WHOLE_HEAP_EVERY = 6


# Apps settled in this process and not yet stopped (tests run several in one process).
_settled = 0


def settle() -> None:
    global _settled
    _settled += 1
    gc.collect()
    gc.freeze()
    gc.disable()


def restore() -> None:
    """Give collection back to CPython once the last app has stopped (a test process goes on)."""
    global _settled
    _settled -= 1
    if _settled == 0:
        gc.unfreeze()
        gc.enable()


async def collect_on_a_clock(
    young_seconds: float = YOUNG_SECONDS,
    middle_every: int = MIDDLE_EVERY,
    full_seconds: float = FULL_COLLECTION_SECONDS,
    whole_heap_every: int = WHOLE_HEAP_EVERY,
) -> None:
    """Run from `settle` until cancelled; then `restore`."""
    loop = asyncio.get_running_loop()
    next_full = loop.time() + full_seconds
    ticks = 0
    fulls = 0
    try:
        while True:
            await asyncio.sleep(young_seconds)
            ticks += 1
            if loop.time() >= next_full:
                next_full = loop.time() + full_seconds
                fulls += 1
                whole_heap = fulls % whole_heap_every == 0
                started = time.perf_counter()
                if whole_heap:
                    gc.unfreeze()  # into the oldest generation: this collection walks them too
                found = gc.collect(2)
                gc.freeze()
                log.info(
                    "full garbage collection%s: %d objects freed in %.0f ms",
                    " of the whole heap" if whole_heap else "",
                    found,
                    (time.perf_counter() - started) * 1000,
                )
            else:
                gc.collect(1 if ticks % middle_every == 0 else 0)
    finally:
        restore()
