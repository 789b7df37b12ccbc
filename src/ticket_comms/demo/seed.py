"""Demo data: writes the repair-ticket stories once (demo/stories.py), so a fresh `make run` shows a live product.

Everything is written through the same services the API uses (tickets, chat, attachments,
notifications), so the data is what real use would leave behind: System messages, read marks,
unread counts, in-app notifications, emails queued for the worker (the dev mailbox shows them).
The conversations are then moved back in time, as if they had happened over the last days
(demo/story.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from ticket_comms.context import AppContext
from ticket_comms.demo.cast import CAST
from ticket_comms.demo.stories import STORIES
from ticket_comms.demo.story import Clock

log = logging.getLogger(__name__)

# Held for the whole seed, so two processes started at once (two `serve`s, or `serve` and `seed`)
# do not both write the demo.
SEED_LOCK = 0x7E5EED


@dataclass
class SeedResult:
    created: bool
    ticket_ids: list[UUID] = field(default_factory=list)


async def _register_cast(ctx: AppContext) -> None:
    for person in CAST:
        await ctx.users.register(person.id, person.email, person.name, person.role)


async def already_seeded(ctx: AppContext) -> bool:
    row = await ctx.db.fetch_one(
        "SELECT 1 FROM tickets WHERE created_by = ANY(%s) LIMIT 1", ([p.id for p in CAST],)
    )
    return row is not None


async def seed(ctx: AppContext) -> SeedResult:
    """Write the demo data unless a demo ticket already exists (running it twice adds nothing)."""
    async with ctx.db.connection() as lock:
        await lock.execute("SELECT pg_advisory_lock(%s)", (SEED_LOCK,))
        try:
            if await already_seeded(ctx):
                return SeedResult(created=False)
            await _register_cast(ctx)
            clock = Clock(ctx)
            now = await clock.now()
            today = now.replace(hour=0, minute=0, second=0, microsecond=0)
            if now - today < timedelta(hours=12):
                today -= timedelta(days=1)  # early in the day: the stories' morning has not happened yet
            for tell in STORIES:
                await tell(ctx, clock, today)
            await clock.backdate()
            log.info("demo data written", extra={"fields": {"tickets": len(clock.tickets)}})
            return SeedResult(created=True, ticket_ids=list(clock.tickets))
        finally:
            await lock.execute("SELECT pg_advisory_unlock(%s)", (SEED_LOCK,))


async def seed_empty_development_database(ctx: AppContext) -> bool:
    """`serve` in development: seed a database that has no tickets at all, so the first look is alive."""
    if not (ctx.settings.using_dev_secret and ctx.settings.demo_data):
        return False
    if await ctx.db.fetch_one("SELECT 1 FROM tickets LIMIT 1") is not None:
        return False
    result = await seed(ctx)
    if result.created:
        log.warning("empty development database: demo tickets and users were added (sign in at /dev/login)")
    return result.created


async def run(settings: Any) -> int:
    """`ticket-comms seed`: apply migrations, then write the demo data (once) through the services."""
    import asyncio

    import socketio

    from ticket_comms import migrations
    from ticket_comms.attachments.imageworkers import ImageWorkers
    from ticket_comms.attachments.imageworkers import Limits as ImageLimits
    from ticket_comms.background import build_context
    from ticket_comms.database import Database, release_embedded_postgres, resolve_database_url
    from ticket_comms.realtime.broadcast import Broadcaster
    from ticket_comms.realtime.manager import client_manager

    url = await asyncio.to_thread(resolve_database_url, settings)
    try:
        await migrations.upgrade_in_child_process(url)
        db = Database(url, max_size=4)
        await db.open()
        # With Redis, the new tickets and messages reach sockets connected to a running `serve`.
        manager = client_manager(settings.redis_url, write_only=True)
        sio = socketio.AsyncServer(client_manager=manager)
        ctx = build_context(
            settings,
            db,
            Broadcaster(sio),
            # The demo photo goes through the same capped image workers as an upload.
            image_workers=ImageWorkers(
                ImageLimits(settings.image_workers, settings.image_memory_bytes, settings.image_cpu_seconds)
            ),
        )
        try:
            result = await seed(ctx)
        finally:
            if ctx.image_workers is not None:
                ctx.image_workers.close()
            await ctx.storage.close()
            await db.close()
    finally:
        await asyncio.to_thread(release_embedded_postgres)
    if result.created:
        print(
            f"demo data written: {len(result.ticket_ids)} tickets; sign in at {settings.base_url}/dev/login"
        )
    else:
        print("demo data already present: nothing written")
    return 0
