"""The email worker's supervisor: runs the sender, and the loops the process gives it to keep company
(the digest sweep), and restarts them together when one fails.

The sending itself is in sender.py (claim, compose, send), the queue in outbox.py and what a failure
means in retry_policy.py. Which loops run beside the sender is decided by the process that builds the
worker (ticket_comms.background), so email knows nothing of the other domains.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from ticket_comms.context import AppContext
from ticket_comms.email.sender import EmailSender, Recheck
from ticket_comms.email.transports import Transport

log = logging.getLogger(__name__)

# A loop to run beside the sender: (name, a function that runs it until cancelled).
Companion = tuple[str, Callable[[], Coroutine[Any, Any, None]]]


class Worker:
    """The email sender plus its companion loops, supervised: restarted if they fail."""

    def __init__(
        self,
        ctx: AppContext,
        transport: Transport,
        companions: Sequence[Companion] = (),
        recheck: Recheck | None = None,
    ):
        self.ctx = ctx
        self.transport = transport
        self.companions = tuple(companions)
        self.recheck = recheck
        self.sender: EmailSender | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="email-worker")

    async def _supervise(self) -> None:
        while not self._stopping:
            self.sender = EmailSender(self.ctx, self.transport, recheck=self.recheck)
            companions = [asyncio.create_task(run(), name=name) for name, run in self.companions]
            try:
                await self.sender.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("email worker failed; restarting in 2 s")
                await asyncio.sleep(2)
            finally:
                for task in companions:
                    task.cancel()
                await asyncio.gather(*companions, return_exceptions=True)

    async def stop(self) -> None:
        self._stopping = True
        if self.sender is not None:
            self.sender.stop()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=35)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.transport.close()
