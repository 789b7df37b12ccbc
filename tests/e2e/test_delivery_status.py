"""What a sender sees about each message: its time on hover or keyboard focus (grouped messages too), and
its delivery in words, Sent then Read, which screen readers announce as well."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import create_ticket, post
from .test_chat import log, message


def test_time_on_hover_and_focus_and_sent_then_read(people, pages):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "Leaking gutter", tom)
    post(alice, ticket, "First, grouped with the next")
    second = post(alice, ticket, "Second one")
    page = pages.open(alice, f"/tickets/{ticket}")
    expect(log(page)).to_be_visible()

    # The latest own message says "Sent" under it; an earlier one carries its status for screen readers.
    latest = message(page, "Second one")
    expect(latest.get_by_text("Sent", exact=True)).to_be_visible()
    earlier = message(page, "First, grouped")
    expect(earlier.locator(".sr-only", has_text="Sent")).to_have_count(1)

    # A grouped message has no time of its own on screen until hovered or focused.
    time_pattern = re.compile(r"\d{1,2}:\d{2}.*· Sent")
    expect(latest.get_by_text(time_pattern)).to_be_hidden()
    latest.hover()
    expect(latest.get_by_text(time_pattern)).to_be_visible()
    page.mouse.move(0, 0)
    earlier.focus()
    expect(earlier.get_by_text(time_pattern)).to_be_visible()
    expect(earlier).to_be_focused()

    # Tom reads: "Seen by" replaces "Sent", and the earlier message now reads "Read".
    tom.http.post(f"/api/v1/tickets/{ticket}/read", json={"upToSeq": second["seq"]}).raise_for_status()
    expect(latest.get_by_text("Seen by Tom Reyes")).to_be_visible()
    expect(latest.get_by_text("Sent", exact=True)).to_have_count(0)
    expect(earlier.locator(".sr-only", has_text="Read")).to_have_count(1)

    # A send not yet confirmed says so in words.
    page.context.set_offline(True)
    box = page.get_by_role("textbox", name="Message")
    box.fill("while offline")
    box.press("Enter")
    expect(log(page).get_by_role("article", name=re.compile("^You, (Waiting|Sending)"))).to_be_visible()
    page.context.set_offline(False)
    expect(message(page, "while offline").get_by_text("Sent", exact=True)).to_be_visible()
