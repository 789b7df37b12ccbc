"""Demo data: a handful of repair tickets with real conversations, so a fresh `make run` shows a live product.

Everything is written through the same services the API uses (tickets, chat, attachments,
notifications), so the data is what real use would leave behind: System messages, read marks,
unread counts, in-app notifications, emails queued for the worker (the dev mailbox shows them).

The conversations are then moved back in time, as if they had happened over the last days: each step
of a story runs inside a window of the database clock, and the timestamps written in that window are
set to the step's moment in the story. Only timestamps of the demo tickets' rows are touched.

Longer than 400 lines because most of it is the stories themselves (the conversations as data).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from ticket_comms.attachments import service as attachments
from ticket_comms.auth.service import CurrentUser
from ticket_comms.chat import service as chat
from ticket_comms.chat.schemas import EditMessage, MessageType, SendMessage
from ticket_comms.context import AppContext
from ticket_comms.demo import assets
from ticket_comms.demo.cast import CAST, JAMES, LINA, OMAR, PRIYA, SARA, DemoUser
from ticket_comms.notifications import events as notifications
from ticket_comms.notifications.schemas import RaiseEvent
from ticket_comms.tickets import service as tickets
from ticket_comms.tickets.schemas import CreateTicket, UpdateTicket

log = logging.getLogger(__name__)

# Held for the whole seed, so two processes started at once (two `serve`s, or `serve` and `seed`)
# do not both write the demo.
SEED_LOCK = 0x7E5EED

# The timestamp columns a story step may write, per table, and how to find the demo tickets' rows.
SHIFTED_COLUMNS: list[tuple[str, str, str]] = [
    ("tickets", "created_at", "id = ANY(%(tickets)s)"),
    ("tickets", "updated_at", "id = ANY(%(tickets)s)"),
    ("tickets", "last_activity_at", "id = ANY(%(tickets)s)"),
    ("messages", "created_at", "ticket_id = ANY(%(tickets)s)"),
    ("messages", "edited_at", "ticket_id = ANY(%(tickets)s)"),
    ("ticket_participants", "joined_at", "ticket_id = ANY(%(tickets)s)"),
    ("ticket_participants", "last_read_at", "ticket_id = ANY(%(tickets)s)"),
    (
        "message_reactions",
        "created_at",
        "message_id IN (SELECT id FROM messages WHERE ticket_id = ANY(%(tickets)s))",
    ),
    ("notifications", "created_at", "ticket_id = ANY(%(tickets)s)"),
]


@dataclass
class SeedResult:
    created: bool
    ticket_ids: list[UUID] = field(default_factory=list)


def _user(person: DemoUser) -> CurrentUser:
    return CurrentUser(person.id, person.role, person.email, person.name)


def _multipart(file_name: str, content_type: str, data: bytes) -> tuple[str, bytes]:
    boundary = f"demo-{uuid.uuid4().hex}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    return f"multipart/form-data; boundary={boundary}", head + data + f"\r\n--{boundary}--\r\n".encode()


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


class Story:
    """One ticket's story, told through the services; every step is stamped with its moment."""

    def __init__(self, ctx: AppContext, clock: Clock, started: datetime):
        self.ctx = ctx
        self.clock = clock
        self.at = started
        self.ticket_id: UUID | None = None

    def later(self, minutes: float) -> Story:
        self.at += timedelta(minutes=minutes)
        return self

    @property
    def tid(self) -> UUID:
        assert self.ticket_id is not None
        return self.ticket_id

    async def open(self, by: DemoUser, title: str, description: str, *others: DemoUser) -> None:
        async with self.clock.step(self.at):
            body = CreateTicket(title=title, description=description, participantIds=[p.id for p in others])
            ticket = await tickets.create_ticket(self.ctx, _user(by), body)
        self.ticket_id = UUID(ticket["id"])
        self.clock.tickets.append(self.ticket_id)

    async def change(self, by: DemoUser, **fields: Any) -> None:
        async with self.clock.step(self.at):
            await tickets.update_ticket(self.ctx, _user(by), self.tid, UpdateTicket.model_validate(fields))

    async def say(self, by: DemoUser, content: str, *, reply_to: str | None = None) -> str:
        body = SendMessage(content=content, replyToId=UUID(reply_to) if reply_to else None)
        async with self.clock.step(self.at):
            message, _ = await chat.send_message(self.ctx, _user(by), self.tid, body)
        return str(message["id"])

    async def attach(
        self,
        by: DemoUser,
        kind: MessageType,
        file_name: str,
        content_type: str,
        data: bytes,
        content: str = "",
    ) -> str:
        form_type, form = _multipart(file_name, content_type, data)
        async with self.clock.step(self.at):
            attachment = await attachments.upload(
                self.ctx, _user(by), self.tid, _chunks(form), form_type, len(form)
            )
            body = SendMessage(content=content, type=kind, attachmentId=UUID(attachment["id"]))
            message, _ = await chat.send_message(self.ctx, _user(by), self.tid, body)
        return str(message["id"])

    async def edit(self, by: DemoUser, message_id: str, content: str) -> None:
        async with self.clock.step(self.at):
            await chat.edit_message(
                self.ctx, _user(by), self.tid, UUID(message_id), EditMessage(content=content)
            )

    async def react(self, by: DemoUser, message_id: str, emoji: str) -> None:
        async with self.clock.step(self.at):
            await chat.set_reaction(self.ctx, _user(by), self.tid, UUID(message_id), emoji, on=True)

    async def read(self, by: DemoUser) -> None:
        async with self.clock.step(self.at):
            await chat.mark_read(self.ctx, _user(by), self.tid, None)


class Clock:
    """Records, for each story step, the database-clock window it ran in and the moment it stands for."""

    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        self.windows: list[tuple[datetime, datetime, datetime]] = []
        self.tickets: list[UUID] = []

    async def now(self) -> datetime:
        row = await self.ctx.db.fetch_one("SELECT clock_timestamp() AS now")
        assert row is not None
        return row["now"]

    def step(self, at: datetime) -> _Step:
        return _Step(self, at)

    async def backdate(self) -> None:
        """Give every timestamp written during a step the step's moment in the story."""
        if not self.windows:
            return
        lows, highs, moments = (list(column) for column in zip(*self.windows, strict=True))
        params = {"tickets": self.tickets, "lo": lows, "hi": highs, "at": moments}
        async with self.ctx.db.transaction() as conn:
            for table, column, demo_rows in SHIFTED_COLUMNS:
                await conn.execute(
                    f"UPDATE {table} SET {column} = w.at "
                    "FROM unnest(%(lo)s::timestamptz[], %(hi)s::timestamptz[], %(at)s::timestamptz[]) "
                    "AS w(lo, hi, at) "
                    f"WHERE {table}.{column} BETWEEN w.lo AND w.hi AND {table}.{demo_rows}",
                    params,
                )


class _Step:
    def __init__(self, clock: Clock, at: datetime):
        self.clock = clock
        self.at = at
        self.started: datetime | None = None

    async def __aenter__(self) -> None:
        self.started = await self.clock.now()

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert self.started is not None
            self.clock.windows.append((self.started, await self.clock.now(), self.at))


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


# ---------------------------------------------------------------------------------------------
# The stories. `today` is midnight of the latest day whose morning has passed; each starts some days before.


def _at(today: datetime, *, days_ago: int, time: tuple[int, int]) -> datetime:
    return today - timedelta(days=days_ago) + timedelta(hours=time[0], minutes=time[1])


async def _leaking_ac(ctx: AppContext, clock: Clock, today: datetime) -> None:
    """In progress; the customer has two unread messages from the technician."""
    s = Story(ctx, clock, _at(today, days_ago=2, time=(9, 48)))
    await s.open(
        SARA,
        "Air conditioner leaking water in the living room",
        "The split unit above the sofa started dripping this morning. There is a small puddle on the "
        "floor and the unit smells a bit musty.",
    )
    await s.later(25).change(LINA, assigneeId=OMAR.id, status="Assigned")
    await s.later(14).say(
        OMAR,
        "Hi Sara, I'm Omar and I'll be looking after this. Could you send a photo of the indoor unit, "
        "especially where the water comes out?",
    )
    photo = await s.later(9).attach(
        SARA,
        "Image",
        "living-room-ac.png",
        "image/png",
        assets.leaking_ac_photo(),
        "Here it is: the water runs down from the right-hand side.",
    )
    await s.later(6).react(OMAR, photo, "👍")
    await s.later(1).say(
        OMAR,
        "Thanks, that helps. It looks like a blocked **condensate drain line**. Please switch the unit off "
        "at the remote until I get there, and keep a towel under the drip.",
    )
    ask = await s.later(11).say(SARA, "Done. Would tomorrow morning work? I'm home until 1 pm.")
    await s.later(2).edit(
        SARA, ask, "Done. Would tomorrow morning work? I'm home until 1 pm, gate code 4471."
    )
    await s.later(20).read(OMAR)
    slot = await s.later(1).say(
        OMAR, "Tomorrow at 10:00 works. I'll bring a wet vac for the drain line.", reply_to=ask
    )
    await s.later(30).react(SARA, slot, "🙏")
    await s.read(SARA)
    await s.later(60 * 24 - 40).change(OMAR, status="InProgress")
    await s.later(50).say(
        OMAR,
        "All done here: the drain line was clogged with algae. I cleared it with the wet vac and put a "
        "cleaning tablet in the tray.",
    )
    await s.later(2).say(
        OMAR,
        "Please run the unit for an hour and tell me if you still see drips. Check:\n"
        "- the tray under the unit\n"
        "- the wall below the pipe\n\n"
        "If it's dry, I'll close the ticket.",
    )


async def _washing_machine(ctx: AppContext, clock: Clock, today: datetime) -> None:
    """Assigned; a PDF quote in the chat and a QuoteCreated event through the events API path."""
    s = Story(ctx, clock, _at(today, days_ago=1, time=(11, 20)))
    await s.open(
        JAMES,
        "Washing machine won't drain",
        "The machine stops mid-cycle with error **E21** and the drum is still full of water. "
        "It's a Bosch Serie 6, about four years old.",
    )
    await s.later(18).change(LINA, assigneeId=PRIYA.id, status="Assigned")
    await s.later(7).say(
        PRIYA,
        "Hi James, E21 on that model is a drain fault. Before I come out, could you check the filter "
        "behind the small flap at the bottom right? It's often a sock or a coin.",
    )
    await s.later(35).say(JAMES, "Checked the filter: there was a hair clip in it, but it still won't drain.")
    await s.later(12).say(
        PRIYA,
        "Then it's most likely the drain pump. Here is a quote for replacing it; the part is in stock "
        "and the job takes about an hour.",
    )
    quote = await s.later(1).attach(
        PRIYA,
        "File",
        "Quote Q-1042 drain pump.pdf",
        "application/pdf",
        assets.quote_pdf(
            [
                (20, "Quote Q-1042"),
                (11, "Washing machine drain pump replacement"),
                (11, "Customer: James Whitfield"),
                (11, "Drain pump (Bosch 00145787)              AED 240.00"),
                (11, "Labour, 1 hour                           AED 150.00"),
                (11, "VAT 5%                                    AED  19.50"),
                (14, "Total                                    AED 409.50"),
                (9, "Valid for 14 days. Parts carry a 12-month warranty."),
            ]
        ),
    )
    async with clock.step(s.at):
        service = CurrentUser("demo-billing", "service", None, "Billing")
        event = RaiseEvent(
            type="QuoteCreated",
            ticketId=s.tid,
            actorId=PRIYA.id,
            recipientIds=[JAMES.id],
            data={"quote": {"number": "Q-1042", "total": 409.5, "currency": "AED"}},
        )
        await notifications.submit_event(ctx, service, event)
    await s.later(25).react(JAMES, quote, "👍")
    await s.later(1).say(JAMES, "Looks fine, please go ahead. Friday afternoon would suit me best.")
    await s.later(40).read(PRIYA)
    await s.later(1).say(PRIYA, "Booked for Friday at 14:00. See you then!")
    await s.later(5).read(JAMES)


async def _boiler_service(ctx: AppContext, clock: Clock, today: datetime) -> None:
    """Completed, everything read."""
    s = Story(ctx, clock, _at(today, days_ago=6, time=(9, 35)))
    await s.open(
        SARA,
        "Annual boiler service",
        "The boiler is due for its yearly service. Mornings are best for me.",
    )
    await s.later(45).change(LINA, assigneeId=PRIYA.id, status="Assigned")
    when = await s.later(20).say(PRIYA, "I can come on Thursday between 9 and 11. Does that suit you?")
    await s.later(15).say(SARA, "Perfect, see you then.", reply_to=when)
    await s.later(60 * 24 * 2 - 30).change(PRIYA, status="InProgress")
    report = await s.later(70).say(
        PRIYA,
        "Service done:\n"
        "1. burner cleaned and inspected\n"
        "2. pressure topped up to 1.5 bar\n"
        "3. flue gas analysis within range\n\n"
        "Next service due in twelve months.",
    )
    await s.later(2).change(PRIYA, status="Completed")
    await s.later(40).react(SARA, report, "🎉")
    await s.later(1).say(SARA, "Thank you, Priya!")
    await s.later(30).read(PRIYA)


async def _dripping_tap(ctx: AppContext, clock: Clock, today: datetime) -> None:
    """Open and unassigned: waiting for the dispatcher."""
    s = Story(ctx, clock, _at(today, days_ago=0, time=(9, 47)))
    await s.open(
        JAMES,
        "Kitchen tap dripping",
        "The mixer tap in the kitchen keeps dripping even when it's fully closed.",
    )
    await s.later(3).say(JAMES, "About one drop a second. I've put a bowl under it for now.")


async def _circuit_breaker(ctx: AppContext, clock: Clock, today: datetime) -> None:
    """On hold for a part; the customer has not read the latest news."""
    s = Story(ctx, clock, _at(today, days_ago=3, time=(13, 0)))
    await s.open(
        SARA,
        "Kitchen circuit breaker keeps tripping",
        "The breaker for the kitchen sockets trips two or three times a day, usually when the kettle is on.",
    )
    await s.later(30).change(LINA, assigneeId=OMAR.id, status="Assigned")
    await s.later(60 * 20).change(OMAR, status="InProgress")
    await s.later(5).say(
        OMAR,
        "Tested the circuit: the wiring and sockets are fine, but the breaker itself is worn and trips "
        "below its rating.",
    )
    await s.later(1).say(SARA, "Good to know it's not the wiring. Can you replace it today?")
    await s.later(15).say(
        OMAR,
        "I don't have that model on the van. I've ordered one; it should arrive early next week. "
        "Until then, please don't run the kettle and the microwave at the same time.",
    )
    await s.later(1).change(OMAR, status="OnHold")


async def _noisy_fridge(ctx: AppContext, clock: Clock, today: datetime) -> None:
    """Cancelled by the customer while still open."""
    s = Story(ctx, clock, _at(today, days_ago=4, time=(15, 10)))
    await s.open(
        JAMES,
        "Fridge making a loud humming noise",
        "Since yesterday the fridge hums loudly every few minutes.",
    )
    await s.later(50).say(
        JAMES,
        "Never mind: the fridge wasn't level after we moved it. Adjusting the front feet fixed it.",
    )
    await s.later(1).change(JAMES, status="Cancelled")


STORIES = [_boiler_service, _noisy_fridge, _circuit_breaker, _leaking_ac, _washing_machine, _dripping_tap]


async def run(settings: Any) -> int:
    """`ticket-comms seed`: apply migrations, then write the demo data (once) through the services."""
    import asyncio

    import socketio

    from ticket_comms import migrations
    from ticket_comms.attachments.imageworkers import ImageWorkers
    from ticket_comms.attachments.imageworkers import Limits as ImageLimits
    from ticket_comms.attachments.storage import build_storage
    from ticket_comms.auth.service import Users
    from ticket_comms.auth.tokens import TokenVerifier
    from ticket_comms.database import Database, release_embedded_postgres, resolve_database_url
    from ticket_comms.realtime.broadcast import Broadcaster
    from ticket_comms.realtime.manager import LocalManager, RedisManager

    url = await asyncio.to_thread(resolve_database_url, settings)
    try:
        await migrations.upgrade_in_child_process(url)
        db = Database(url, max_size=4)
        await db.open()
        # With Redis, the new tickets and messages reach sockets connected to a running `serve`.
        manager: LocalManager | RedisManager = (
            RedisManager(settings.redis_url, write_only=True) if settings.redis_url else LocalManager()
        )
        sio = socketio.AsyncServer(client_manager=manager)
        ctx = AppContext(
            settings=settings,
            db=db,
            verifier=TokenVerifier(settings),
            users=Users(db),
            broadcast=Broadcaster(sio),
            storage=build_storage(settings),
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
