"""The push worker process: the sender (push/sender.py) and the chat-message push sweeper
(push/messages.py), supervised and restarted if they fail; run in-process by `serve` (WORKER=inline)
or alone (`ticket-comms push-worker`). The claim/recover discipline is in push/sender.py."""

from __future__ import annotations

import asyncio
import logging
import signal

import httpx

from ticket_comms.config import Settings
from ticket_comms.database import Database
from ticket_comms.observability import Metrics
from ticket_comms.push.sender import PushSender
from ticket_comms.push.vapid import load_signer

log = logging.getLogger(__name__)


class Worker:
    """The push sender plus the chat-message push sweeper, supervised: restarted if they fail."""

    def __init__(self, settings: Settings, db: Database, metrics: Metrics | None = None):
        self.settings = settings
        self.db = db
        self.metrics = metrics
        self.signer = load_signer(settings)
        self.clients: dict[str, list[httpx.AsyncClient]] = {}
        self.sender: PushSender | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="push-worker")

    async def _supervise(self) -> None:
        while not self._stopping:
            self.sender = PushSender(self.settings, self.db, self.signer, self.clients, self.metrics)
            sweeper = asyncio.create_task(self._run_message_pushes(), name="message-push-sweeper")
            try:
                await self.sender.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("push worker failed; restarting in 2 s")
                await asyncio.sleep(2)
            finally:
                sweeper.cancel()
                await asyncio.gather(sweeper, return_exceptions=True)

    async def _run_message_pushes(self) -> None:
        """Chat messages left unread for PUSH_MESSAGE_DELAY_SECONDS. Their schedule rows are written with
        the message, so nothing is lost if a process dies; a sweep every quarter of the delay (at most
        every second) keeps them on time."""
        from ticket_comms.push import messages

        interval = max(0.2, min(1.0, self.settings.push_message_delay_seconds / 4))
        while True:
            try:
                while await messages.run_due(self.settings, self.db) > 0:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("message push sweep failed")
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        self._stopping = True
        if self.sender is not None:
            self.sender.stop()
        if self._task is not None:
            try:
                await asyncio.wait_for(
                    asyncio.shield(self._task), timeout=self.settings.push_timeout_seconds + 10
                )
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for clients in self.clients.values():
            for client in clients:
                await client.aclose()


def start_inline(settings: Settings, db: Database, metrics: Metrics | None = None) -> Worker:
    """The worker inside `serve`; the app calls it only with WORKER=inline (and imports this module
    only then: the sender's httpx is ~7 MB a `serve` without it does not need)."""
    worker = Worker(settings, db, metrics)
    worker.start()
    return worker


async def _standalone(settings: Settings) -> int:
    from ticket_comms.database import release_embedded_postgres, resolve_database_url

    url = await asyncio.to_thread(resolve_database_url, settings)
    db = Database(url, max_size=max(4, min(settings.database_pool_size, 10)))
    await db.open()
    worker = Worker(settings, db, Metrics())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    worker.start()
    log.info("ticket-comms push worker running")
    try:
        await stop.wait()
        await worker.stop()
    finally:
        await db.close()
        await asyncio.to_thread(release_embedded_postgres)
    return 0


def run(settings: Settings) -> int:
    """`ticket-comms push-worker`."""
    try:
        import uvloop

        return uvloop.run(_standalone(settings))
    except ImportError:
        return asyncio.run(_standalone(settings))
