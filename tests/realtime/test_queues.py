"""LightQueue and Flag keep the asyncio.Queue / asyncio.Event behaviour their users rely on."""

from __future__ import annotations

import asyncio

import pytest

from ticket_comms.realtime.queues import Flag, LightQueue


async def test_queue_is_fifo_and_wakes_its_consumer() -> None:
    queue = LightQueue()
    assert queue.empty() and queue.qsize() == 0
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()
    queue.put_nowait("a")
    await queue.put("b")
    assert await getter == "a"
    assert queue.qsize() == 1
    assert queue.get_nowait() == "b"
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()


async def test_get_all_takes_everything_and_join_waits_for_it() -> None:
    queue = LightQueue()
    for item in range(3):
        queue.put_nowait(item)
    joined = asyncio.create_task(queue.join())
    await asyncio.sleep(0)
    assert not joined.done()
    assert await queue.get_all() == [0, 1, 2]
    await asyncio.wait_for(joined, 1)
    assert queue.empty()
    await queue.join()  # nothing unfinished: returns at once


async def test_task_done_counts_items_taken_one_by_one() -> None:
    queue = LightQueue()
    queue.put_nowait("x")
    queue.put_nowait("y")
    joined = asyncio.create_task(queue.join())
    queue.get_nowait()
    queue.task_done()
    await asyncio.sleep(0)
    assert not joined.done()
    queue.get_nowait()
    queue.task_done()
    await asyncio.wait_for(joined, 1)


async def test_a_cancelled_get_leaves_the_queue_usable() -> None:
    queue = LightQueue()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)
    queue.put_nowait(1)
    assert await asyncio.wait_for(queue.get(), 1) == 1


async def test_a_second_concurrent_consumer_is_refused() -> None:
    queue = LightQueue()
    first = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await queue.get()
    queue.put_nowait("only")
    assert await first == "only"


async def test_flag_wakes_every_waiter_and_can_be_cleared() -> None:
    flag = Flag(True)
    await asyncio.wait_for(flag.wait(), 1)
    flag.clear()
    assert not flag.is_set()
    waiters = [asyncio.create_task(flag.wait()) for _ in range(3)]
    cancelled = asyncio.create_task(flag.wait())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    flag.set()
    await asyncio.wait_for(asyncio.gather(*waiters), 1)
    assert flag.is_set()
