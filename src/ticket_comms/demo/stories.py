"""The demo's six repair-ticket stories (the conversations as data), told by `demo.story.Story`.

`today` is midnight of the latest day whose morning has passed; each story starts some days before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ticket_comms.auth.service import CurrentUser
from ticket_comms.context import AppContext
from ticket_comms.demo import assets
from ticket_comms.demo.cast import JAMES, LINA, OMAR, PRIYA, SARA
from ticket_comms.demo.story import Clock, Story
from ticket_comms.notifications import events as notifications
from ticket_comms.notifications.schemas import RaiseEvent


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
