"""Image decoding in separate, reused worker processes whose memory and CPU are capped by the OS.

Pillow's pixel and frame budgets (attachments/images.py) refuse what a header declares, but a small
file can still decode into a lot of work: a PNG of 190 KB peaked near 1 GB, a 112 KB GIF took 7 s of
CPU. Running the decoder in the server would let one such upload starve every other request. Here a
worker's address space is capped with RLIMIT_AS (allocation past it is a MemoryError in the worker,
not an out-of-memory kill of the server), each job gets an RLIMIT_CPU budget (past it the kernel
stops the worker with SIGXCPU), and a dead worker is replaced: the pool is built again.
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from ticket_comms.attachments import images

log = logging.getLogger(__name__)

# Jobs a worker runs before it is replaced: a bound on whatever the decoders leave behind.
TASKS_PER_WORKER = 200


@dataclass(frozen=True)
class Limits:
    workers: int
    memory_bytes: int
    cpu_seconds: int


def _start_worker(memory_bytes: int) -> None:
    """Pool initializer: cap this process's address space for the rest of its life."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _run(data: bytes, fmt: str, cpu_seconds: int) -> tuple[str, Any]:
    """One job, in the worker: ("ok", ProcessedImage) or (error code, message)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    # The soft limit counts the process's whole life, so each job moves it to "now + budget".
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (spent + cpu_seconds, hard))
    try:
        return "ok", images.process(io.BytesIO(data), fmt)
    except images.ImageTooLarge as exc:
        return exc.code, exc.message
    except images.InvalidImage as exc:
        return exc.code, exc.message
    except MemoryError:
        return images.ImageTooLarge.code, "The image needs more memory to decode than is allowed."


class ImageWorkers:
    """A small process pool for images.process; jobs beyond `workers` queue for a free worker."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.limits.workers,
                # spawn, never fork: the server has threads (a forked child could inherit a held lock).
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.limits.memory_bytes,),
                max_tasks_per_child=TASKS_PER_WORKER,
            )
        return self._pool

    async def process(self, data: bytes, fmt: str) -> images.ProcessedImage:
        pool = self._executor()
        loop = asyncio.get_running_loop()
        try:
            status, result = await loop.run_in_executor(pool, _run, data, fmt, self.limits.cpu_seconds)
        except BrokenProcessPool:
            # The worker was killed (its CPU budget, or memory outside Python's reach): the image
            # cost too much. Other jobs queued on the same pool fail with it and are answered alike.
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            log.warning("an image worker was stopped by its resource limits")
            raise images.ImageTooLarge("The image needs more work to decode than is allowed.") from None
        if status == "ok":
            return result
        if status == images.ImageTooLarge.code:
            raise images.ImageTooLarge(result)
        raise images.InvalidImage(result)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
