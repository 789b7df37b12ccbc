"""Garbage collection on a clock (realtime/heap.py) frees every cycle in the end, frozen ones too."""

from __future__ import annotations

import asyncio
import gc
import weakref

from ticket_comms.realtime import heap


class Node:
    """A container that refers to itself: only the cycle collector can free it."""

    def __init__(self) -> None:
        self.me = self


def _is_frozen(obj: object) -> bool:
    # gc.get_objects() lists the three generations, not the permanent one that freeze() fills.
    return gc.is_tracked(obj) and not any(o is obj for o in gc.get_objects())


async def _until(condition, seconds: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def test_cyclic_garbage_made_after_start_up_is_reclaimed_even_once_frozen():
    heap.settle()
    collector = asyncio.create_task(
        heap.collect_on_a_clock(young_seconds=0.01, middle_every=2, full_seconds=0.1, whole_heap_every=3)
    )
    try:
        young = Node()
        young_ref = weakref.ref(young)
        del young
        assert await _until(lambda: young_ref() is None), "a young cycle was not collected"

        old = Node()
        old_ref = weakref.ref(old)
        # It lives through a full collection, which freezes it with everything that survived.
        assert await _until(lambda: _is_frozen(old_ref())), "a full collection did not freeze it"
        del old
        # Only a collection of the whole heap can see a cycle among frozen objects.
        assert await _until(lambda: old_ref() is None), "a frozen cycle was never freed"
    finally:
        collector.cancel()
        await asyncio.gather(collector, return_exceptions=True)


async def test_the_collector_gives_collection_back_when_stopped():
    enabled = gc.isenabled()
    heap.settle()
    assert not gc.isenabled()
    collector = asyncio.create_task(heap.collect_on_a_clock(young_seconds=0.01))
    await asyncio.sleep(0.05)
    collector.cancel()
    await asyncio.gather(collector, return_exceptions=True)
    assert gc.isenabled() == enabled
