"""A process's background work: the email worker with the chat-digest sweep beside it, run inside `serve`
(WORKER=inline) or alone (`ticket-comms worker`, which also runs the push worker; `serve` starts that
itself).

It sits above the domains and composes them, so `email` need not know about `notifications`' digests;
`build_context` is the AppContext every process (serve, worker, seed) builds alike.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING, Any

from ticket_comms.context import AppContext
from ticket_comms.database import Database
from ticket_comms.email.dev_mailbox.sink import relay_url
from ticket_comms.email.transports import build_transport
from ticket_comms.email.worker import Worker
from ticket_comms.notifications import digests, recipients

if TYPE_CHECKING:
    from ticket_comms.config import Settings
    from ticket_comms.realtime.broadcast import Broadcaster

log = logging.getLogger(__name__)


def build_context(settings: Settings, db: Database, broadcast: Broadcaster, **extra: Any) -> AppContext:
    """The context every process builds alike (`serve`, `worker`, `seed`); `extra` holds what only some
    have (rate limits, image workers, the SNS certificate cache, ...)."""
    from ticket_comms.attachments.storage import build_storage
    from ticket_comms.auth.service import Users
    from ticket_comms.auth.tokens import TokenVerifier
    from ticket_comms.chat.writer import MessageWriter

    return AppContext(
        settings=settings,
        db=db,
        verifier=TokenVerifier(settings),
        users=Users(db),
        broadcast=broadcast,
        storage=build_storage(settings),
        messages=MessageWriter(db),
        **extra,
    )


def relay_for(ctx: AppContext) -> str | None:
    """SMTP_URL, else the dev mailbox's relay (in this process, or published by a `serve` beside us)."""
    if ctx.settings.smtp_url:
        return ctx.settings.smtp_url
    if ctx.dev_mailbox is not None:
        return ctx.dev_mailbox.url
    return relay_url(ctx.settings)


def build_worker(ctx: AppContext, relay: str | None) -> Worker:
    """The email worker, re-checking each batch against the recipients' current wishes, with the digest
    sweep beside it."""
    return Worker(
        ctx,
        build_transport(ctx.settings, relay),
        companions=[("digest-sweeper", lambda: digests.sweep(ctx))],
        recheck=recipients.withdrawn,
    )


async def start_inline(ctx: AppContext) -> Worker | None:
    """The worker inside `serve` (WORKER=inline)."""
    if ctx.settings.worker != "inline":
        return None
    worker = build_worker(ctx, relay_for(ctx))
    worker.start()
    return worker


async def _standalone(settings: Any) -> int:
    import socketio

    from ticket_comms.database import release_embedded_postgres, resolve_database_url
    from ticket_comms.realtime.broadcast import Broadcaster

    url = await asyncio.to_thread(resolve_database_url, settings)
    db = Database(url, max_size=max(4, min(settings.database_pool_size, 10)))
    await db.open()
    # In-app notifications raised here (digests) reach sockets through Redis when serve uses it.
    manager = socketio.AsyncRedisManager(settings.redis_url, write_only=True) if settings.redis_url else None
    sio = socketio.AsyncServer(client_manager=manager) if manager else socketio.AsyncServer()
    ctx = build_context(settings, db, Broadcaster(sio))
    relay = relay_for(ctx)
    if settings.email_provider.lower() != "ses" and not relay:
        log.error("no SMTP relay: set SMTP_URL (or start `serve` with SMTP_URL unset for the dev mailbox)")
        await db.close()
        await asyncio.to_thread(release_embedded_postgres)
        return 2
    worker = build_worker(ctx, relay)
    from ticket_comms.observability import Metrics
    from ticket_comms.push import worker as push_worker

    pusher = push_worker.Worker(settings, db, Metrics())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    worker.start()
    pusher.start()
    log.info("ticket-comms worker running")
    try:
        await stop.wait()
        await asyncio.gather(worker.stop(), pusher.stop())
    finally:
        await db.close()
        # Detach from the embedded PostgreSQL (when DATABASE_URL is unset); the last process stops it.
        await asyncio.to_thread(release_embedded_postgres)
    return 0


def run(settings: Any) -> int:
    """`ticket-comms worker`."""
    try:
        import uvloop

        return uvloop.run(_standalone(settings))
    except ImportError:
        return asyncio.run(_standalone(settings))
