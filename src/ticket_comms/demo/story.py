"""How a demo story is told: each step through the API's services, then moved back to its moment.

`Story` writes one ticket's steps through the same services the API uses; `Clock` records the
database-clock window each step ran in and, once every story is told, gives the timestamps written
in those windows the steps' moments (only the demo tickets' rows are touched).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from ticket_comms.attachments import service as attachments
from ticket_comms.auth.service import CurrentUser
from ticket_comms.chat import read_marks
from ticket_comms.chat import service as chat
from ticket_comms.chat.schemas import EditMessage, MessageType, SendMessage
from ticket_comms.context import AppContext
from ticket_comms.demo.cast import DemoUser
from ticket_comms.tickets import service as tickets
from ticket_comms.tickets.schemas import CreateTicket, UpdateTicket

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
            await read_marks.mark_read(self.ctx, _user(by), self.tid, None)


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
