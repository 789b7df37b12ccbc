"""Two people chat in real time in two browsers: message, typing, read receipt, image, reaction, edit,
delete; offline sends go out exactly once on reconnect; history scrolls back to the first message."""

from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import Page, expect

from .conftest import create_ticket, post


def log(page: Page):
    return page.get_by_role("log", name="Messages")


def message(page: Page, text: str):
    return log(page).get_by_role("article").filter(has_text=text)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (59, 99, 214)).save(buffer, "PNG")
    return buffer.getvalue()


def test_two_people_chat_in_real_time(people, pages):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "Kitchen tap is leaking", tom)
    a = pages.open(alice, f"/tickets/{ticket}")
    t = pages.open(tom, f"/tickets/{ticket}")
    expect(log(a)).to_be_visible()
    expect(log(t)).to_be_visible()

    # Typing shows with the typer's name, and the message arrives live.
    box = a.get_by_role("textbox", name="Message")
    box.press_sequentially("Hello Tom")
    expect(t.get_by_role("status").filter(has_text="Alice Carter is typing…")).to_be_visible()
    box.press("Enter")
    expect(message(t, "Hello Tom")).to_be_visible()
    expect(box).to_have_value("")
    expect(t.get_by_role("status").filter(has_text="is typing")).to_have_count(0)

    # Tom had it on screen: Alice sees the read receipt.
    expect(a.get_by_text("Seen by Tom Reyes")).to_be_visible()

    # Shift+Enter is a new line, not a send.
    box.press_sequentially("line one")
    box.press("Shift+Enter")
    box.press_sequentially("line two")
    expect(box).to_have_value("line one\nline two")
    a.get_by_role("button", name="Send").click()
    expect(message(t, "line two")).to_be_visible()

    # An image attachment.
    a.get_by_label("Attach file").set_input_files(
        {"name": "leak.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    expect(log(t).get_by_role("img", name="leak.png")).to_be_visible()

    # Tom reacts; Alice sees the count.
    target = message(t, "Hello Tom")
    target.hover()
    target.get_by_role("button", name="Add reaction").click()
    t.get_by_role("button", name="React with 👍").click()
    expect(
        message(a, "Hello Tom").get_by_role("button", name=re.compile(r"👍 1, reacted by Tom Reyes"))
    ).to_be_visible()

    # Alice edits a message with ↑ (her last text message), then deletes one.
    box.click()
    box.press("ArrowUp")
    expect(a.get_by_text("Editing message")).to_be_visible()
    box.fill("line one, corrected")
    box.press("Enter")
    edited = message(t, "line one, corrected")
    expect(edited).to_be_visible()
    expect(edited.get_by_text("(edited)")).to_be_visible()

    mine = message(a, "Hello Tom")
    mine.hover()
    a.once("dialog", lambda d: d.accept())
    mine.get_by_role("button", name="Delete message").click()
    expect(log(t).get_by_text("This message was deleted")).to_be_visible()
    expect(message(t, "Hello Tom")).to_have_count(0)


def test_offline_send_is_delivered_exactly_once_after_reconnect(people, pages):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "Broken window", tom)
    a = pages.open(alice, f"/tickets/{ticket}")
    t = pages.open(tom, f"/tickets/{ticket}")
    expect(log(a)).to_be_visible()
    expect(log(t)).to_be_visible()

    a.context.set_offline(True)
    expect(a.get_by_role("status").filter(has_text="Offline")).to_be_visible()
    box = a.get_by_role("textbox", name="Message")
    box.fill("sent while offline")
    box.press("Enter")
    expect(message(a, "sent while offline")).to_be_visible()
    expect(a.get_by_text("Waiting for connection…")).to_be_visible()
    t.wait_for_timeout(500)
    expect(message(t, "sent while offline")).to_have_count(0)

    a.context.set_offline(False)
    expect(message(t, "sent while offline")).to_have_count(1)
    expect(a.get_by_role("status").filter(has_text=re.compile("Offline|Reconnecting"))).to_have_count(0)
    expect(a.get_by_text("Waiting for connection…")).to_have_count(0)
    expect(message(a, "sent while offline")).to_have_count(1)

    # The server holds exactly one copy, and a reload shows one.
    items = alice.http.get(f"/api/v1/tickets/{ticket}/messages").json()["items"]
    assert [m["content"] for m in items].count("sent while offline") == 1
    t.reload()
    expect(message(t, "sent while offline")).to_have_count(1)


def test_missed_messages_are_filled_in_after_reconnect(people, pages):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "Heating", tom)
    t = pages.open(tom, f"/tickets/{ticket}")
    expect(log(t)).to_be_visible()
    t.context.set_offline(True)
    expect(t.get_by_role("status").filter(has_text="Offline")).to_be_visible()
    for i in range(3):
        post(alice, ticket, f"while you were away {i}")
    t.context.set_offline(False)
    for i in range(3):
        expect(message(t, f"while you were away {i}")).to_have_count(1)


def test_history_scrolls_back_to_the_first_of_150_messages(people, pages):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "Long conversation", tom)
    for i in range(1, 151):
        post(alice if i % 2 else tom, ticket, f"Message number {i:03d}")
    page = pages.open(tom, f"/tickets/{ticket}")
    expect(message(page, "Message number 150")).to_be_visible()
    scroller = log(page)
    first = message(page, "Message number 001")
    for _ in range(60):
        # Older pages are prepended above what is on screen: keep scrolling up until the first is drawn.
        scroller.evaluate("el => { el.scrollTop = 0; }")
        page.wait_for_timeout(250)
        if first.count():
            break
    scroller.evaluate("el => { el.scrollTop = 0; }")
    expect(first).to_be_in_viewport()
    expect(page.get_by_text("This is the beginning of the conversation.")).to_be_in_viewport()


def test_new_messages_divider_marks_the_first_unread(people, pages):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "Unread", tom)
    first = post(tom, ticket, "read already")
    alice.http.post(f"/api/v1/tickets/{ticket}/read", json={"upToSeq": first["seq"]}).raise_for_status()
    post(tom, ticket, "brand new")
    page = pages.open(alice, f"/tickets/{ticket}")
    divider = page.get_by_role("separator", name="New messages")
    expect(divider).to_be_visible()
    box_divider = divider.bounding_box()
    box_new = message(page, "brand new").bounding_box()
    box_old = message(page, "read already").bounding_box()
    assert box_divider and box_new and box_old
    assert box_old["y"] < box_divider["y"] < box_new["y"]
